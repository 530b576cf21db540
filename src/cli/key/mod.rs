//! `reg key`: create keys, and manage which keys the registry trusts for which role.

mod fingerprint;
mod gen_;
mod list;
mod revoke;
mod trust;
mod withdraw;

use crate::cli::prelude::*;

/// Create keys and manage the registry's trusted keys
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    #[command(name = "gen")]
    Gen(gen_::Args),
    Fingerprint(fingerprint::Args),
    List(list::Args),
    Trust(trust::Args),
    Revoke(revoke::Args),
    Withdraw(withdraw::Args),
}

pub fn run(ctx: &Context, cmd: KeyCommand) -> CommandResult {
    match cmd {
        KeyCommand::Gen(a) => gen_::run(a),
        KeyCommand::Fingerprint(a) => fingerprint::run(a),
        KeyCommand::List(a) => list::run(ctx, a),
        KeyCommand::Trust(a) => trust::run(ctx, a),
        KeyCommand::Revoke(a) => revoke::run(ctx, a),
        KeyCommand::Withdraw(a) => withdraw::run(ctx, a),
    }
}
