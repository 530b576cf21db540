//! `reg policy`: the root-signed ingestion policy.

use super::Context;
use super::error::CommandResult;
use super::sign::{RootEntry, Signing};
use reg::format::entry::PolicyDoc;
use reg::format::formats::Format;

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
    /// Days the registry stays valid after its last renewal: readers then refuse it until a
    /// timestamp key renews it (`reg renew`), so that a stale medium stops working by itself
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=i64::from(reg::format::entry::MAX_CHECKPOINT_AGE_DAYS)))]
    checkpoint_max_age: Option<u32>,
    #[command(flatten)]
    sign: Signing<RootEntry>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let all: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format; one of: {}", all.join(", "))
    })
}

pub fn run(ctx: &Context, cmd: PolicyCommand) -> CommandResult {
    match cmd {
        PolicyCommand::Show => {
            let state = ctx.open()?.state()?;
            let refused: Vec<&str> = state
                .policy()
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
            if let Some(d) = state.policy().checkpoint_max_age_days {
                outln!("checkpoint expires after: {d} days");
                match state.renewed() {
                    Some(t) => outln!("last renewed: {t} (`reg renew` with a timestamp key)"),
                    None => outln!(
                        "last renewed: never (a format {} registry: its checkpoint's time counts until a timestamp key runs `reg renew`)",
                        state.format_version()
                    ),
                }
            }
        }
        PolicyCommand::Set(args) => {
            let key = args.sign.load()?;
            let reg = ctx.open()?;
            let policy = PolicyDoc {
                refuse_formats: args.refuse_formats,
                checkpoint_max_age_days: args.checkpoint_max_age,
                ..PolicyDoc::default()
            };
            let done = reg::ops::config::set_policy(&reg, &key, policy, args.sign.reason())?;
            outln!("policy set (ledger entry {} {})", done.seq, done.entry);
        }
    }
    Ok(())
}
