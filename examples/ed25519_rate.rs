//! The ceiling `reg ledger verify` is measured against (`examples/bench.sh`): how many strict
//! ed25519 verifications (`verify_strict`, what reg does for every signature; never the batch
//! API, which is not strict) one core does per second on this machine, measured in the same run
//! as reg, so that "% of 2 cores" compares like with like on a shared, noisy machine.
//!
//! Messages are distinct (a verifier cannot cache) and of a ledger entry's size; one key signs
//! them all, as one operator key signs most of a registry.
//!
//! Usage: cargo run --release --example ed25519_rate -- [SECONDS] [MESSAGE_BYTES]
//! Prints one number: verifications per second on one thread (the best of three rounds, since
//! other processes on the machine can only slow a round down).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(1.0), |a| a.parse())?;
    let size: usize = args.next().map_or(Ok(400), |a| a.parse())?;
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public: VerifyingKey = key.verifying_key();
    // 1,024 distinct messages and their signatures, made before the clock starts.
    let signed: Vec<(Vec<u8>, Signature)> = (0..1024u32)
        .map(|i| {
            let mut m = vec![b'x'; size];
            m[..4].copy_from_slice(&i.to_le_bytes());
            let s = key.sign(&m);
            (m, s)
        })
        .collect();
    let round = Duration::from_secs_f64(seconds / 3.0);
    let mut best = 0.0f64;
    for _ in 0..3 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < round {
            for (m, s) in &signed {
                // A failure here would make every rate meaningless: stop loudly.
                public
                    .verify_strict(m, s)
                    .map_err(|e| anyhow::anyhow!("verify_strict failed: {e}"))?;
            }
            n += signed.len() as u64;
        }
        best = best.max(n as f64 / start.elapsed().as_secs_f64());
    }
    println!("{best:.0}");
    Ok(())
}
