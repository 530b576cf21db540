//! `reg recipients`: the age recipients publishers encrypt bundles to (root-signed).

use super::sign::RootEntry;
use crate::cli::prelude::*;
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
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
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
            if args.json {
                return super::written::Written::new(
                    "recipients-set",
                    Some((&done.entry, done.seq)),
                )
                .with(
                    "recipients",
                    serde_json::json!({"before": done.previous, "after": done.recipients}),
                )
                .print();
            }
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
