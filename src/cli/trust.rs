//! `reg trust`: the registries this host pins, like ssh's known hosts (FORMAT.md §8).

use crate::cli::prelude::*;
use reg::crypto::keys::Fingerprint;
use reg::repo::registry::{Registry, discover};
use reg::repo::trust::{
    HeadWanted, PinKey, PinSelector, PinStatus, RevokedGenesis, TrustError, TrustFile, absolute,
    pin_checked, revoked_genesis,
};

/// Manage the registries this host trusts (the host trust file)
#[derive(Debug, clap::Subcommand)]
pub enum TrustCommand {
    Add(AddArgs),
    List(ListArgs),
    Remove(RemoveArgs),
}

/// Pin a registry on this host: trust it only while its genesis root key is FINGERPRINT
///
/// Get FINGERPRINT from the registry's owner out of band (in person, by phone, on paper: they
/// run `reg key fingerprint ROOT.pem.pub`), never from the medium. reg shows the registry's own
/// fingerprint, and pins nothing unless the two are equal.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The genesis root key fingerprint, as checked with the registry's owner
    fingerprint: Fingerprint,

    /// The least history to accept, as the sending site read it to you: its head code
    /// (`reg status --code` prints SEQ-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX, each group
    /// ending in a check symbol) or a full entry id. A medium whose history does not contain
    /// that entry is refused, now and later, on this host
    #[arg(long, value_name = "CODE|ENTRY_ID")]
    head: Option<String>,

    /// Refused: a number of entries proves only a length, which any history cut and padded to
    /// it has; kept so that it says so (use --head)
    #[arg(long, value_name = "N", hide = true)]
    seq: Option<String>,

    /// Print what was pinned as JSON (schema/trust-change.schema.json); what pinning means and
    /// the checks made go to standard error
    #[arg(long)]
    json: bool,
}

/// List the registries this host pins
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print JSON (schema/trust-list.schema.json)
    #[arg(long)]
    json: bool,
}

/// Remove pins: every pin of a root key fingerprint, or the pin of a registry id
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// A root key fingerprint (32 hex digits) or a registry id (64)
    #[arg(value_parser = parse_key)]
    key: PinKey,

    /// Print the pins removed as JSON (schema/trust-change.schema.json)
    #[arg(long)]
    json: bool,
}

fn parse_key(s: &str) -> Result<PinKey, String> {
    s.parse()
}

pub fn run(ctx: &Context, cmd: TrustCommand) -> CommandResult {
    match cmd {
        TrustCommand::Add(a) => add(ctx, a),
        TrustCommand::List(a) => list(ctx, a),
        TrustCommand::Remove(a) => remove(ctx, a),
    }
}

fn add(ctx: &Context, args: AddArgs) -> CommandResult {
    if let Some(seq) = args.seq {
        return Err(TrustError::LengthOnly(reg::util::encoding::echo(&seq)).into());
    }
    let floor = args
        .head
        .as_deref()
        .map(str::parse::<HeadWanted>)
        .transpose()?;
    // Opened against the host trust file only (not --trust): the registry is not trusted here,
    // only read for its id and genesis root; a path already pinned to another registry is
    // refused by the open itself.
    let dot = discover(ctx.registry())?;
    let host = ctx.opts.clone().without_explicit_trust();
    let reg = Registry::open(&dot, &host)?;
    // With --json, standard output carries the object: the lines for people go to standard
    // error, where the operator still reads them before anything is pinned.
    let say = |line: String| -> CommandResult {
        if args.json {
            errln!("{line}");
        } else {
            outln!("{line}");
        }
        Ok(())
    };
    print_what_pinning_means(&reg, &say)?;
    if let PinStatus::HostFile(root) = reg.pin()
        && *root == args.fingerprint
        && floor.is_none()
    {
        if args.json {
            jsonln!(&serde_json::json!({
                "action": "trust-add",
                "pinned": false,
                "already": true,
                "registry": reg.id().to_string(),
                "root": root.to_string(),
                "path": absolute(reg.path()).display().to_string(),
                "trust_file": ctx.opts.trust.file.display().to_string(),
                "floor": null,
                "entries": null,
                "genesis_revoked": null,
            }));
            return Ok(());
        }
        return say(format!(
            "already pinned in {}; nothing to do",
            ctx.opts.trust.file.display()
        ));
    }
    // The fingerprint named in the genesis header is only a claim until the ledger verifies:
    // its genesis signature by that very key, and every entry after it.
    // Verify the whole ledger (never the fast path: nothing about this registry is trusted yet)
    // and find the floor's entry in it.
    let mut ids = Vec::new();
    // Checked, not recorded: this host records the registry only once it is pinned.
    let replay = reg.verify(&mut |v| ids.push(v.id))?.into_inner();
    let checkpoint = replay.checkpoint;
    let state = replay.state;
    say(format!(
        "ledger verified: {} entries, genesis signed by the root key above",
        state.seq() + 1
    ))?;
    let revoked = revoked_genesis(&state);
    if let Some(revoked) = &revoked {
        warn_revoked_genesis(revoked, reg.root(), floor.is_some());
    }
    let floor = match floor {
        Some(f) => {
            let (floor, id) = f.place(&ids)?;
            say(format!("history contains entry {}: {id}", floor.seq))?;
            Some(floor)
        }
        None => None,
    };
    let pin = pin_checked(
        &ctx.opts.trust.file,
        reg.path(),
        reg.id(),
        reg.root(),
        &args.fingerprint,
        floor,
    )?;
    // Pinned: from now on this host remembers the checkpoint it verified. Opened again so that
    // the registry is seen pinned, with its floor.
    Registry::open(&dot, &host)?.record(&state, &checkpoint)?;
    if args.json {
        jsonln!(&serde_json::json!({
            "action": "trust-add",
            "pinned": true,
            "already": false,
            "registry": pin.registry.to_string(),
            "root": pin.root.to_string(),
            "path": pin.path,
            "trust_file": ctx.opts.trust.file.display().to_string(),
            "floor": pin.floor,
            "entries": state.seq() + 1,
            "genesis_revoked": revoked.map(|r| serde_json::json!({
                "at": r.at,
                "roots": r.roots.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })),
        }));
        return Ok(());
    }
    outln!(
        "pinned registry {} (root {}) in {}",
        pin.registry,
        pin.root,
        ctx.opts.trust.file.display()
    );
    Ok(())
}

/// Warns that the genesis root, which the pin names, is revoked: the current roots, and why a
/// head floor matters. The pin is still the operator's decision: nothing is refused.
fn warn_revoked_genesis(revoked: &RevokedGenesis, genesis: &Fingerprint, has_floor: bool) {
    let roots: Vec<String> = revoked.roots.iter().map(ToString::to_string).collect();
    errln!(
        "warning: this registry's genesis root key {genesis} was revoked at entry {}; its current root keys are {}",
        revoked.at,
        if roots.is_empty() {
            "none".to_string()
        } else {
            roots.join(", ")
        }
    );
    if has_floor {
        errln!(
            "note: the --head given makes this host refuse any history that does not contain it, such as a copy the old root extended"
        );
    } else {
        errln!(
            "warning: a host that never saw that revocation can be shown a copy the old root extended: pin with `reg trust add {genesis} --head CODE`, the head code the registry's owner reads to you from `reg status --code`, so that this host refuses any history without it"
        );
    }
}

/// Prints (through `say`) the registry's id, path and genesis root, and what pinning it means:
/// the operator reads this before anything is pinned.
fn print_what_pinning_means(
    reg: &Registry,
    say: &dyn Fn(String) -> CommandResult,
) -> CommandResult {
    say(format!("registry       {}", reg.id()))?;
    say(format!("path           {}", absolute(reg.path()).display()))?;
    say(format!("genesis root   {}", reg.root()))?;
    for line in [
        "Pinning makes this host trust this registry only while its genesis entry is signed by",
        "the root key above: a medium whose registry was replaced, even by a perfectly valid one",
        "made with another key, is then refused by every command and every gate. The registry",
        "itself cannot prove who made it: compare the fingerprint with the one its owner gives",
        "you out of band (`reg key fingerprint ROOT.pem.pub` on their side), not with anything",
        "on the medium.",
    ] {
        say(line.to_string())?;
    }
    Ok(())
}

fn list(ctx: &Context, args: ListArgs) -> CommandResult {
    let file = TrustFile::load(&ctx.opts.trust.file)?;
    if args.json {
        jsonln!(&file.pins);
        return Ok(());
    }
    if file.pins.is_empty() {
        outln!("no registry is pinned in {}", ctx.opts.trust.file.display());
        return Ok(());
    }
    for pin in &file.pins {
        match &pin.floor {
            Some(f) => outln!(
                "{}  root {}  {}  at least {f}",
                pin.registry,
                pin.root,
                pin.path
            ),
            None => outln!("{}  root {}  {}", pin.registry, pin.root, pin.path),
        }
    }
    Ok(())
}

fn remove(ctx: &Context, args: RemoveArgs) -> CommandResult {
    // --registry (or REG_DIR) narrows the removal to the pin of that registry's path.
    let path = match ctx.registry() {
        Some(p) => Some(absolute(&discover(Some(p))?)),
        None => None,
    };
    let removed = TrustFile::remove_pins(
        &ctx.opts.trust.file,
        &PinSelector {
            key: args.key,
            path,
        },
    )?;
    if args.json {
        jsonln!(&serde_json::json!({
            "action": "trust-remove",
            "trust_file": ctx.opts.trust.file.display().to_string(),
            "removed": removed,
        }));
        return Ok(());
    }
    for pin in removed {
        outln!(
            "removed the pin of registry {} (root {}, {})",
            pin.registry,
            pin.root,
            pin.path
        );
    }
    Ok(())
}
