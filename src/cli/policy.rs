//! `reg policy`: the root-signed ingestion policy.
//!
//! `set` changes only the fields it is given, starting from the policy as it is, and prints
//! each field it changes, before and after: an operator sees what a change did, and cannot lift
//! a refusal by leaving its flag out.

use super::sign::RootEntry;
use crate::cli::prelude::*;
use reg::format::entry::PolicyDoc;
use reg::format::formats::Format;
use reg::ops::config::{PolicyChange, PolicyChanged};

/// Show or set the registry's policy
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the policy, every field
    Show,
    /// Change the fields given, keep the others; signed by a root key
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Also refuse this format at `reg add` (repeatable), e.g. pickle, joblib, pytorch
    #[arg(long = "refuse-format", value_name = "FORMAT", value_parser = parse_format)]
    refuse_formats: Vec<Format>,
    /// No longer refuse this format (repeatable)
    #[arg(long = "allow-format", value_name = "FORMAT", value_parser = parse_format)]
    allow_formats: Vec<Format>,
    /// Days the registry stays valid after its last renewal: readers then refuse it until a
    /// timestamp key renews it (`reg renew`), so that a stale medium stops working by itself
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=i64::from(reg::format::entry::MAX_CHECKPOINT_AGE_DAYS)))]
    checkpoint_max_age: Option<u32>,
    /// The registry no longer expires
    #[arg(long, conflicts_with = "checkpoint_max_age")]
    no_checkpoint_max_age: bool,
    /// `reg add` admits only age-encrypted bundles, sealed to a recipient the registry lists
    #[arg(long)]
    require_encrypted: bool,
    /// `reg add` admits plaintext bundles too
    #[arg(long, conflicts_with = "require_encrypted")]
    no_require_encrypted: bool,
    /// Keep duties apart: no key holds publisher and operator, and the key that published a
    /// model neither admits nor approves it
    #[arg(long)]
    separate_duties: bool,
    /// Stop keeping duties apart
    #[arg(long, conflicts_with = "separate_duties")]
    no_separate_duties: bool,
    #[command(flatten)]
    sign: Signing<RootEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

impl SetArgs {
    /// The change the flags ask for; a field whose flags are absent is left as it is.
    fn change(&self) -> PolicyChange {
        let flag = |on: bool, off: bool| match (on, off) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        PolicyChange {
            refuse_formats: self.refuse_formats.clone(),
            allow_formats: self.allow_formats.clone(),
            checkpoint_max_age_days: match (self.checkpoint_max_age, self.no_checkpoint_max_age) {
                (Some(days), _) => Some(Some(days)),
                (None, true) => Some(None),
                (None, false) => None,
            },
            require_encrypted: flag(self.require_encrypted, self.no_require_encrypted),
            separate_duties: flag(self.separate_duties, self.no_separate_duties),
        }
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let all: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format; one of: {}", all.join(", "))
    })
}

/// Each field of a policy, named as `show` and `set` print it, with its value.
fn fields(p: &PolicyDoc) -> [(&'static str, String); 4] {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let formats: Vec<&str> = p.refuse_formats.iter().map(|f| f.name()).collect();
    [
        ("refuse formats", format!("[{}]", formats.join(", "))),
        (
            "checkpoint expires after",
            p.checkpoint_max_age_days
                .map_or("never".to_string(), |d| format!("{d} days")),
        ),
        ("require encrypted bundles", yes_no(p.require_encrypted)),
        ("separate duties", yes_no(p.separate_duties)),
    ]
}

pub fn run(ctx: &Context, cmd: PolicyCommand) -> CommandResult {
    match cmd {
        PolicyCommand::Show => {
            let state = ctx.open()?.state()?;
            for (name, value) in fields(state.policy()) {
                outln!("{name}: {value}");
            }
            if state.policy().checkpoint_max_age_days.is_some() {
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
            let change = args.change();
            // Before the key is loaded: a change that names nothing asks for no passphrase.
            change.check()?;
            let key = args.sign.load()?;
            let reg = ctx.open()?;
            let changed = reg::ops::config::change_policy(&reg, &key, &change, args.sign.reason())?;
            if args.json {
                return json(&changed);
            }
            match changed {
                PolicyChanged::Unchanged(_) => {
                    outln!("policy unchanged: it already is as asked; nothing was written");
                }
                PolicyChanged::Set(done) => {
                    let before = fields(&done.previous);
                    for ((name, old), (_, new)) in before.iter().zip(fields(&done.policy)) {
                        if *old != new {
                            outln!("policy: {name} {old} -> {new}");
                        }
                    }
                    outln!("policy set (ledger entry {} {})", done.seq, done.entry);
                }
            }
        }
    }
    Ok(())
}

/// A policy as `--json` shows it: every field, defaults included.
fn policy_json(p: &PolicyDoc) -> serde_json::Value {
    serde_json::json!({
        "refuse_formats": p.refuse_formats.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "checkpoint_max_age_days": p.checkpoint_max_age_days,
        "require_encrypted": p.require_encrypted,
        "separate_duties": p.separate_duties,
    })
}

/// `policy set --json` (schema/write-result.schema.json): `written` is false when the policy
/// already was as asked.
fn json(changed: &PolicyChanged) -> CommandResult {
    let (written, before, after) = match changed {
        PolicyChanged::Unchanged(p) => (Written::new("policy-set", None), p, p),
        PolicyChanged::Set(done) => (
            Written::new("policy-set", Some((&done.entry, done.seq))),
            &done.previous,
            &done.policy,
        ),
    };
    written
        .with(
            "policy",
            serde_json::json!({"before": policy_json(before), "after": policy_json(after)}),
        )
        .print()
}
