//! `reg bundle`: what publishers do (pack) and anyone can check (verify), without a registry.

mod pack;
mod verify;

use crate::cli::prelude::*;

/// Pack and check model bundles
// Parsed once per run: the size of the enum does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    Pack(pack::Args),
    Verify(verify::Args),
}

pub fn run(cmd: BundleCommand) -> CommandResult {
    match cmd {
        BundleCommand::Pack(a) => pack::run(a),
        BundleCommand::Verify(a) => verify::run(a),
    }
}
