//! `reg recipients`: the age recipients publishers encrypt bundles to (root-signed).

use super::{Context, load_key};
use reg::format::entry::{Body, Recipients};
use reg::state::normalize_recipients;
use std::path::PathBuf;

/// Show or change the registry's age recipients
#[derive(Debug, clap::Subcommand)]
pub enum RecipientsCommand {
    /// Print the registry's age recipients, one per line
    List,
    /// Replace the registry's age recipients; signed by a root key
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The new recipients (age1...); none clears the list
    #[arg(value_name = "AGE_RECIPIENT")]
    recipients: Vec<String>,
    /// A root private key of the registry, which signs the entry
    #[arg(long, value_name = "ROOT.pem")]
    key: PathBuf,
    /// Why (recorded in the ledger)
    #[arg(long)]
    reason: String,
}

pub fn run(ctx: &Context, cmd: RecipientsCommand) -> anyhow::Result<()> {
    match cmd {
        RecipientsCommand::List => {
            for r in &ctx.open()?.state()?.recipients {
                outln!("{r}");
            }
        }
        RecipientsCommand::Set(args) => {
            let recipients = normalize_recipients(args.recipients)?;
            let key = load_key(&args.key)?;
            let reg = ctx.open()?;
            let n = recipients.len();
            let done = reg.commit(
                &key,
                Body::Recipients(Recipients {
                    reason: args.reason,
                    recipients,
                }),
            )?;
            outln!(
                "set {n} recipient(s) (ledger entry {} {})",
                done.seq,
                done.id
            );
        }
    }
    Ok(())
}
