//! `reg recipients`: the age recipients publishers encrypt bundles to (root-signed).

use super::Context;
use super::error::CommandResult;
use super::sign::{RootEntry, Signing};
use reg::ops::config::{RecipientList, set_recipients};

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
    #[command(flatten)]
    sign: Signing<RootEntry>,
}

pub fn run(ctx: &Context, cmd: RecipientsCommand) -> CommandResult {
    match cmd {
        RecipientsCommand::List => {
            for r in ctx.open()?.state()?.recipients() {
                outln!("{r}");
            }
        }
        RecipientsCommand::Set(args) => {
            let recipients = RecipientList::parse(args.recipients)?;
            let key = args.sign.load()?;
            let reg = ctx.open()?;
            let done = set_recipients(&reg, &key, recipients, args.sign.reason())?;
            outln!(
                "set {} recipient(s) (ledger entry {} {})",
                done.recipients.len(),
                done.seq,
                done.entry
            );
        }
    }
    Ok(())
}
