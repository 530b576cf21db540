//! `reg key trust`: a root key grants a key a role.

use crate::cli::prelude::*;
use crate::cli::sign::RootEntry;
use reg::format::entry::Role;
use reg::ops::keys::Gathered;
use std::path::PathBuf;

/// Trust a public key for a role (root, publisher, operator, reporter, timestamp); signed by a root key
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The public key to trust (SubjectPublicKeyInfo PEM, as `reg key gen` or `openssl pkey -pubout` write)
    #[arg(value_name = "PUB")]
    public_key: PathBuf,
    /// The role to grant
    #[arg(long, value_enum)]
    role: RoleArg,
    /// What people call the key, e.g. "alice, duty operator": signed with the trust, shown
    /// beside its fingerprint by `key list`, `log` and `show` (format 4; 1 to 64 bytes, no
    /// control character nor space at either end, unique ignoring case, set once). A key that
    /// holds --role already and has no name (the genesis root key, a key trusted before names)
    /// is named by this and keeps its roles
    #[arg(long, value_name = "NAME", value_parser = key_name)]
    name: Option<String>,
    #[command(flatten)]
    sign: Signing<RootEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

/// A `--name` that breaks the rule of a key name is a bad argument (exit 2, as a blank
/// `--reason`), refused before anything is read or signed; the rule is the library's, which
/// every reader applies to the entry as well.
fn key_name(text: &str) -> Result<String, String> {
    reg::format::entry::check_key_name(text)?;
    Ok(text.to_string())
}

/// Roles on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Root,
    Publisher,
    Operator,
    Reporter,
    /// Renews the registry's freshness (`reg renew`)
    Timestamp,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Root => Role::Root,
            RoleArg::Publisher => Role::Publisher,
            RoleArg::Operator => Role::Operator,
            RoleArg::Reporter => Role::Reporter,
            RoleArg::Timestamp => Role::Timestamp,
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let public = reg::crypto::keys::load_public(&args.public_key)?;
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = reg::ops::keys::trust_named(
        &reg,
        &key,
        &public,
        Role::from(args.role),
        args.name.as_deref(),
        args.sign.reason(),
    )?;
    if args.json {
        if !done.name_only {
            warn_gathered(&done);
        }
        let mut key = serde_json::json!({
            "fingerprint": done.fingerprint.to_string(),
            "role": done.role,
            "roles": done.roles,
            "new": done.new_key,
            "name_only": done.name_only,
        });
        if let Some(name) = &args.name {
            key["name"] = serde_json::Value::from(name.as_str());
        }
        return Written::new("key-trust", Some((&done.entry, done.seq)))
            .with("key", key)
            .print();
    }
    if let (true, Some(name)) = (done.name_only, &args.name) {
        // Roles unchanged: nothing to warn of that was not true before.
        outln!(
            "named {} as {} (ledger entry {} {})",
            done.fingerprint,
            name,
            done.seq,
            done.entry
        );
        return Ok(());
    }
    let named = match &args.name {
        Some(name) => format!("{name} ({})", done.fingerprint),
        None => done.fingerprint.to_string(),
    };
    outln!(
        "trusted {} as {} (ledger entry {} {})",
        named,
        done.role,
        done.seq,
        done.entry
    );
    warn_gathered(&done);
    Ok(())
}

/// Warns when the key now holds roles that one key should not hold together.
fn warn_gathered(done: &reg::ops::keys::Trusted) {
    let why = done.gathered();
    if !why.is_empty() {
        let roles: Vec<&str> = done.roles.iter().map(|r| r.name()).collect();
        errln!(
            "warning: key {} now holds the roles {}",
            done.fingerprint,
            roles.join(", ")
        );
    }
    for w in why {
        errln!("warning: {}", gathered(w));
    }
}

/// What a key holding these roles can do alone, for the warning.
fn gathered(why: Gathered) -> &'static str {
    match why {
        Gathered::PublishAndAdmit => {
            "as publisher and operator it can publish a model and admit, promote and activate it itself, with no second key ever looking at it (`reg policy set --separate-duties` forbids this)"
        }
        Gathered::RootAndDuty => {
            "a root key that also signs everyday entries is kept at hand and exposed every day, and whoever holds it can grant itself any role; keep root keys offline, for root's entries only"
        }
        Gathered::Several => {
            "losing this key, or its theft, costs all of these duties at once; one key per role limits what one key can do"
        }
    }
}
