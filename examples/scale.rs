//! Builds a large registry deterministically through the library's real commit path, for the
//! benchmark harness (`examples/bench.sh`): N models, each a signed manifest over one small
//! artifact, admitted with `add` entries, then moved through the lifecycle until the ledger holds
//! M entries, and a few slots set. Batches use `Transaction::commit_batch`, the same path as any
//! write (every entry is signed, checked against the state and committed), with one checkpoint
//! per batch.
//!
//! Usage: cargo run --release --example scale -- DIR [MODELS] [ENTRIES] [OBSERVATIONS]
//! OBSERVATIONS drift observations are then recorded, spread evenly over the models.
//! Writes DIR/.registry and the keys DIR/{root,op,pub,rep}.pem; prints what it built.
//!
//! What the harness relies on (deterministic, whatever the clock): model `i` is named
//! `model-{i:05}@1.0.0` and holds one artifact, `rules.yar`, whose bytes are
//! `rule scale_{i} { condition: true }\n`; lifecycle rounds take the models in order, so with
//! ENTRIES = MODELS + 4 + K (K <= MODELS) models 0 .. K are PROMOTED and the rest REGISTERED, and
//! with more rounds the models of the last round's prefix alternate PROMOTED / DEPRECATED; 20
//! slots name promoted models.
//!
//! Speed: the build is bound by the store's fsync per object (several per model), not by CPU;
//! the harness runs it under `eatmydata` and syncs once at the end, which writes the same bytes:
//! 100,000 models in about a minute on 2 cores. Batches are large (BATCH entries per commit)
//! because a commit's cost includes the whole derived state today.

use reg::crypto::keys::{SecretKey, write_key_pair};
use reg::format::entry::{Add, Body, KeyRef, KeyTrust, Role, SlotChange, Transition};
use reg::format::formats::Format;
use reg::format::id::ObjectId;
use reg::format::lifecycle::LifecycleState;
use reg::format::manifest::{self, Artifact, Manifest};
use reg::repo::registry::Registry;
use std::path::PathBuf;
use std::time::Instant;

const BATCH: usize = 25_000;

fn seed(n: u8) -> [u8; 32] {
    [n; 32]
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir =
        PathBuf::from(args.next().ok_or_else(|| {
            anyhow::anyhow!("usage: scale DIR [MODELS] [ENTRIES] [OBSERVATIONS]")
        })?);
    let models: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let entries: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let observations: usize = args.next().map_or(Ok(0), |a| a.parse())?;
    let start = Instant::now();
    std::fs::create_dir_all(&dir)?;
    let root = SecretKey::from_seed(&seed(1))?;
    let op = SecretKey::from_seed(&seed(2))?;
    let publ = SecretKey::from_seed(&seed(3))?;
    let reporter = SecretKey::from_seed(&seed(4))?;
    for (name, key) in [
        ("root.pem", &root),
        ("op.pem", &op),
        ("pub.pem", &publ),
        ("rep.pem", &reporter),
    ] {
        if !dir.join(name).exists() {
            write_key_pair(key, &dir.join(name), None)?;
        }
    }
    // Host paths, trust and clock exactly as the CLI takes them from the environment.
    let opts = reg::OpenOptions::from_env()?;
    let (reg, _) = Registry::init(&dir, &root, Vec::new(), None, &opts)?;
    let trust = |key: &SecretKey, role| {
        Body::KeyTrust(KeyTrust {
            key: KeyRef {
                fingerprint: key.public().fingerprint().clone(),
                public_key: reg::util::encoding::b64_encode(&key.public().to_bytes()),
            },
            name: None,
            reason: "scale benchmark".into(),
            role,
        })
    };
    reg.begin()?.commit_batch(
        &root,
        vec![
            trust(&op, Role::Operator),
            trust(&publ, Role::Publisher),
            trust(&reporter, Role::Reporter),
        ],
    )?;

    // Models: one small artifact each, a manifest signed by the publisher, an `add` entry.
    let mut ids = Vec::with_capacity(models);
    for chunk_start in (0..models).step_by(BATCH) {
        let mut bodies = Vec::new();
        for i in chunk_start..(chunk_start + BATCH).min(models) {
            let artifact = format!("rule scale_{i} {{ condition: true }}\n");
            let (art_id, size) = reg.store().put(&mut artifact.as_bytes())?;
            let m = Manifest {
                artifacts: vec![Artifact {
                    blake3: art_id.to_string(),
                    format: Format::Ruleset,
                    path: "rules.yar".into(),
                    size,
                }],
                created: "2026-01-01T00:00:00Z".into(),
                description: format!("scale model {i}"),
                framework: None,
                labels: Default::default(),
                license: None,
                name: format!("model-{:05}", i),
                owner: None,
                provenance: vec![],
                publisher: publ.public().fingerprint().clone(),
                model_type: "ruleset".into(),
                uses: vec!["detection".into()],
                version: "1.0.0".into(),
            };
            let signed = manifest::sign(&m, &publ)?;
            let record = reg.store().put_bytes(&signed)?;
            ids.push(record);
            bodies.push(Body::Add(Add {
                artifacts: vec![art_id],
                bundle: record,
                encrypted: false,
                name: m.name,
                publisher: Some(m.publisher.clone()),
                record,
                version: m.version,
            }));
        }
        reg.begin()?.commit_batch(&op, bodies)?;
    }

    // Lifecycle rounds: promote, deprecate, promote, ... one entry per model per round.
    let mut written = 4 + models;
    let mut round = 0usize;
    while written < entries {
        let to = if round.is_multiple_of(2) {
            LifecycleState::Promoted
        } else {
            LifecycleState::Deprecated
        };
        let take = (entries - written).min(models);
        for chunk in ids[..take].chunks(BATCH) {
            let tx = reg.begin()?;
            let state = tx.state();
            let bodies: Vec<Body> = chunk
                .iter()
                .map(|id| {
                    let m = &state.models()[id];
                    Body::Transition(Transition {
                        deny: false,
                        from: m.state,
                        model: *id,
                        previous: m.entry,
                        reason: format!("scale round {round}"),
                        slots: Vec::new(),
                        to,
                    })
                })
                .collect();
            tx.commit_batch(&op, bodies)?;
        }
        written += take;
        round += 1;
    }
    // A few slots, each set to a promoted model.
    let tx = reg.begin()?;
    let promoted: Vec<ObjectId> = tx
        .state()
        .models()
        .iter()
        .filter(|(_, m)| m.state == LifecycleState::Promoted)
        .map(|(id, _)| *id)
        .take(20)
        .collect();
    let bodies = promoted
        .iter()
        .enumerate()
        .map(|(i, id)| {
            Body::Slot(SlotChange {
                model: Some(*id),
                previous: None,
                reason: "scale benchmark".into(),
                slot: format!("slot-{i:02}"),
            })
        })
        .collect();
    let (_, mut state) = tx.commit_batch(&op, bodies)?;

    // Drift observations, one per model per round.
    let mut recorded = 0usize;
    let mut round = 0usize;
    while recorded < observations {
        let take = (observations - recorded).min(models);
        for chunk in ids[..take].chunks(BATCH) {
            let tx = reg.begin()?;
            let st = tx.state();
            let bodies: Vec<Body> = chunk
                .iter()
                .map(|id| {
                    let observation = serde_json::json!({
                        "window": {"start": "2026-01-01T00:00:00Z", "end": reg::util::encoding::rfc3339(1_767_225_600 + 3600 * round as u64)},
                        "baseline": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        "samples": 1000 + round,
                        "metrics": [{"name": "psi-main", "kind": "psi", "value": (round % 100) as f64 / 400.0, "threshold": 0.2}]
                    });
                    let serde_json::Value::Object(observation) = observation else { unreachable!() };
                    Body::Drift(reg::format::entry::Drift {
                        model: *id,
                        observation,
                        previous: st.models()[id].drift.as_ref().map(|d| d.last),
                        legacy_numbers: false,
                    })
                })
                .collect();
            state = tx.commit_batch(&reporter, bodies)?.1;
        }
        recorded += take;
        round += 1;
    }
    println!(
        "built {} models, {} ledger entries ({} drift observations), {} slots in {:.1} s at {}",
        state.models().len(),
        state.seq() + 1,
        recorded,
        state.slots().len(),
        start.elapsed().as_secs_f64(),
        reg.path().display()
    );
    Ok(())
}
