//! `reg key trust`: a root key grants a key a role.

use super::super::{Context, load_key};
use reg::format::entry::{Body, KeyRef, KeyTrust, Role};
use reg::util::encoding::b64_encode;
use std::path::PathBuf;

/// Trust a public key for a role (root, publisher, operator, reporter); signed by a root key
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The public key to trust (SubjectPublicKeyInfo PEM, as `reg key gen` or `openssl pkey -pubout` write)
    #[arg(value_name = "PUB")]
    public_key: PathBuf,
    /// The role to grant
    #[arg(long, value_enum)]
    role: RoleArg,
    /// A root private key of the registry, which signs the entry
    #[arg(long, value_name = "ROOT.pem")]
    key: PathBuf,
    /// Why (recorded in the ledger)
    #[arg(long)]
    reason: String,
}

/// Roles on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Root,
    Publisher,
    Operator,
    Reporter,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Root => Role::Root,
            RoleArg::Publisher => Role::Publisher,
            RoleArg::Operator => Role::Operator,
            RoleArg::Reporter => Role::Reporter,
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let public = reg::crypto::keys::load_public(&args.public_key)?;
    let key = load_key(&args.key)?;
    let reg = ctx.open()?;
    let role = Role::from(args.role);
    let done = reg.commit(
        &key,
        Body::KeyTrust(KeyTrust {
            key: KeyRef {
                fingerprint: public.fingerprint().clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            reason: args.reason,
            role,
        }),
    )?;
    outln!(
        "trusted {} as {role} (ledger entry {} {})",
        public.fingerprint(),
        done.seq,
        done.id
    );
    Ok(())
}
