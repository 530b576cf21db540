//! How a consumer (a detection engine) loads a model file through reg's load gate.
//!
//! Usage: cargo run --example gate -- REGISTRY SLOT FILE
//!
//! The gate copies FILE into a private, unlinked temporary file while hashing it, and hands back
//! that copy only if its bytes are an artifact of SLOT's active model: a file swapped on disk
//! after the check can never be what the consumer reads. Trust, host state, the lock timeout and
//! the clock come from the environment exactly as for the CLI (`REG_TRUST`, the host trust
//! file: `reg trust add`, `REG_STATE_DIR`, ...): a registry this host has not pinned denies
//! every file.

use reg::{Gate, GateError, GateOptions, OpenOptions, Registry, Scope};
use std::io::Read as _;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(registry), Some(slot), Some(file)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: gate REGISTRY SLOT FILE");
    };
    // 1. Open the registry as the CLI does: its genesis root is checked against this host's pin.
    let opts = OpenOptions::from_env()?.with_registry(Some(PathBuf::from(registry)));
    let reg = Registry::find(&opts)?;
    // 2. The gate: the verified state (one hash and one signature check when the host verified
    //    it before). It denies everything if this host has not pinned the registry.
    let gate = Gate::new(&reg, GateOptions::default())?;
    // 3. Ask the gate, for this slot's active model only.
    match gate.open_verified(file.as_ref(), &Scope::Slot(slot.clone())) {
        Ok(mut verified) => {
            // 4. Load from the handle the gate returned, never from the path again.
            let mut bytes = Vec::new();
            verified.file.read_to_end(&mut bytes)?;
            println!(
                "ALLOW {} ({}): {} bytes handed over, BLAKE3 {}",
                file,
                verified.decision.model.as_deref().unwrap_or("?"),
                bytes.len(),
                verified
                    .decision
                    .hash
                    .map(|h| h.to_string())
                    .unwrap_or_default()
            );
            Ok(())
        }
        Err(GateError::Denied(d)) => {
            println!("DENY {file}: {} [{}]", d.reason, d.code.as_str());
            std::process::exit(1);
        }
        Err(e) => Err(e.into()),
    }
}
