//! `reg key revoke`: a root key revokes a key, for good, as retired or as compromised
//! (FORMAT.md §5.3, §5.14).

use crate::cli::prelude::*;
use crate::cli::sign::RootEntry;
use reg::crypto::keys::Fingerprint;
use reg::format::entry::Role;
use reg::ops::keys::{RevocationKind, Revoked};

/// Revoke a key: its signatures made after this entry are invalid; signed by a root key
///
/// Without --compromised the key is retired (lost, rotated, its holder left): what it signed
/// before stays valid. With --compromised, what it signed before no longer stands on its own:
/// every model it published, admitted or approved is suspended, denied by the gate and neither
/// promoted nor activated, until an operator re-approves it (`reg reapprove`) or revokes it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fingerprint of the key to revoke (`reg key list` shows them)
    fingerprint: Fingerprint,
    /// The key was compromised, not retired: suspend every model resting on it (format 4)
    #[arg(long)]
    compromised: bool,
    #[command(flatten)]
    sign: Signing<RootEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let kind = if args.compromised {
        RevocationKind::Compromised
    } else {
        RevocationKind::Retired
    };
    let done = reg::ops::keys::revoke(&reg, &key, &args.fingerprint, kind, args.sign.reason())?;
    if args.json {
        let suspended: Vec<_> = done
            .suspended
            .iter()
            .map(|m| {
                serde_json::json!({
                    "model": m.spec,
                    "record": m.model.to_string(),
                    "state": m.state,
                    "slots": m.slots,
                })
            })
            .collect();
        warn_root(&reg, &done);
        return Written::new("key-revoke", Some((&done.entry, done.seq)))
            .with(
                "key",
                serde_json::json!({
                    "fingerprint": done.fingerprint.to_string(),
                    "roles": done.roles,
                    "kind": done.kind,
                }),
            )
            .with("suspended", suspended)
            .print();
    }
    match done.kind {
        RevocationKind::Retired => outln!(
            "revoked {}, retired: its earlier signatures stay valid (ledger entry {} {})",
            done.fingerprint,
            done.seq,
            done.entry
        ),
        RevocationKind::Compromised => {
            outln!(
                "revoked {} as compromised (ledger entry {} {})",
                done.fingerprint,
                done.seq,
                done.entry
            );
            print_suspended(&done)?;
            print_slots_it_set(&reg, &done)?;
        }
    }
    warn_root(&reg, &done);
    Ok(())
}

/// Warns, when the key held root, of what its revocation does not undo.
fn warn_root(reg: &reg::repo::registry::Registry, done: &Revoked) {
    // A root signs no model, so its revocation suspends nothing; but its holder (a thief, or
    // whoever finds a lost key) can extend an older copy of the registry that a host which
    // never sees this revocation accepts: the new floor is what every host needs.
    if done.roles.contains(&Role::Root) {
        let code = reg::repo::trust::Floor::code(done.seq, &done.entry);
        errln!(
            "warning: {} held root: whoever holds it can still sign a copy of this registry that a host which never sees this revocation accepts; follow the root-rotation runbook (docs/GUIDE.md §8.3): hand every host the new floor, `reg trust add {} --head {code}`",
            done.fingerprint,
            reg.root()
        );
        if done.kind == RevocationKind::Compromised {
            // What a root signed is trust, not models: nothing is suspended, so say where the
            // review is (every key it trusted stays trusted until revoked).
            errln!(
                "warning: the keys, recipients, policies and deny-lifts {} signed stay in force: review its entries in `reg log` and revoke any key it should not have trusted (with --compromised, to suspend what that key signed)",
                done.fingerprint
            );
        }
    }
}

/// What a compromised key's revocation suspended, the slots the gate now denies, and the next
/// step.
fn print_suspended(done: &Revoked) -> CommandResult {
    if done.suspended.is_empty() {
        errln!(
            "note: no model that is not revoked rests on {}: nothing was suspended",
            done.fingerprint
        );
        return Ok(());
    }
    for m in &done.suspended {
        outln!("suspended {} ({})", m.spec, m.state);
    }
    for m in &done.suspended {
        for slot in &m.slots {
            outln!(
                "slot {slot}: its active model {} is suspended; the gate denies it",
                m.spec
            );
        }
    }
    errln!(
        "next: check each suspended model, then re-approve it (`reg reapprove MODEL --reason TEXT --key OPERATOR.pem`) or revoke it (`reg revoke MODEL --reason TEXT --key OPERATOR.pem`); a slot can also be given another model (`reg activate SLOT MODEL`); `reg fsck` lists what is suspended"
    );
    Ok(())
}

/// The slots whose current setting a compromised key signed: a slot change approves nothing, so
/// it suspends nothing, but the key chose what those slots run (FORMAT.md §5.14), and that
/// choice is for an operator to review.
fn print_slots_it_set(reg: &reg::repo::registry::Registry, done: &Revoked) -> CommandResult {
    let state = reg.state()?;
    for s in reg::query::status::status(reg, &state)? {
        if s.actor == done.fingerprint {
            errln!(
                "review: slot {} runs {}@{}, set by this key at {} (entry {}); `reg activate` gives it another model",
                s.slot,
                s.name,
                s.version,
                s.since,
                s.entry
            );
        }
    }
    Ok(())
}
