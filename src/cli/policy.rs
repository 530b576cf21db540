//! `reg policy`: the root-signed ingestion policy.

use super::{Context, load_key};
use reg::format::entry::{Body, Policy, PolicyDoc};
use reg::format::formats::Format;
use std::path::PathBuf;

/// Show or set the registry's policy
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the policy
    Show,
    /// Replace the policy; signed by a root key
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// A format `reg add` must refuse (repeatable), e.g. pickle, joblib, pytorch
    #[arg(long = "refuse-format", value_name = "FORMAT", value_parser = parse_format)]
    refuse_formats: Vec<Format>,
    /// Days after which the checkpoint expires: readers then refuse the registry until it is
    /// re-signed (`reg renew` or any write), so that a stale medium stops working by itself
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=i64::from(reg::format::entry::MAX_CHECKPOINT_AGE_DAYS)))]
    checkpoint_max_age: Option<u32>,
    /// A root private key of the registry, which signs the entry
    #[arg(long, value_name = "ROOT.pem")]
    key: PathBuf,
    /// Why (recorded in the ledger)
    #[arg(long)]
    reason: String,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let all: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format; one of: {}", all.join(", "))
    })
}

pub fn run(ctx: &Context, cmd: PolicyCommand) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::Show => {
            let state = ctx.open()?.state()?;
            let refused: Vec<&str> = state
                .policy
                .refuse_formats
                .iter()
                .map(|f| f.name())
                .collect();
            outln!(
                "refuse formats: {}",
                if refused.is_empty() {
                    "(none)".to_string()
                } else {
                    refused.join(", ")
                }
            );
            if let Some(d) = state.policy.checkpoint_max_age_days {
                outln!("checkpoint expires after: {d} days");
            }
        }
        PolicyCommand::Set(mut args) => {
            args.refuse_formats.sort();
            args.refuse_formats.dedup();
            let key = load_key(&args.key)?;
            let reg = ctx.open()?;
            let done = reg.commit(
                &key,
                Body::Policy(Policy {
                    policy: PolicyDoc {
                        refuse_formats: args.refuse_formats,
                        checkpoint_max_age_days: args.checkpoint_max_age,
                    },
                    reason: args.reason,
                }),
            )?;
            outln!("policy set (ledger entry {} {})", done.seq, done.id);
        }
    }
    Ok(())
}
