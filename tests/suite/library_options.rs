//! The library takes what it would otherwise read from the environment as explicit options:
//! where host state goes, the trust file, the lock timeout and the clock. Recording what a
//! replay verified is a call of its own.

use crate::util::Sandbox;
use reg::crypto::keys::SecretKey;
use reg::format::entry::{Body, KeyRef, KeyTrust, Role};
use reg::repo::registry::{OpenOptions, Registry, RegistryError};
use reg::repo::trust::{HostState, TrustFile, TrustOptions};
use reg::util::encoding::Clock;
use std::time::Duration;

/// 2030-01-01T00:00:00Z.
const CLOCK: u64 = 1_893_456_000;

fn options(s: &Sandbox, host: &str) -> OpenOptions {
    OpenOptions::new(TrustOptions::new(
        s.join(&format!("{host}/trust.json")),
        HostState::new(s.join(&format!("{host}/state"))),
    ))
    .with_lock_timeout(Duration::ZERO)
    .with_clock(Clock::fixed(CLOCK))
}

fn trust_body(key: &SecretKey) -> Body {
    Body::KeyTrust(KeyTrust {
        name: None,
        key: KeyRef {
            fingerprint: key.public().fingerprint().clone(),
            public_key: reg::util::encoding::b64_encode(&key.public().to_bytes()),
        },
        reason: "operator".into(),
        role: Role::Operator,
    })
}

#[test]
fn host_state_goes_where_the_options_say_and_entries_are_dated_by_the_given_clock() {
    let s = Sandbox::new();
    let opts = options(&s, "site-a");
    let root = SecretKey::from_seed(&[1; 32]).unwrap();
    let (reg, state) = Registry::init(&s.join("r"), &root, Vec::new(), None, &opts).unwrap();
    assert_eq!(state.seq(), 0);
    let pins = TrustFile::load(&s.join("site-a/trust.json")).unwrap().pins;
    assert_eq!(pins.len(), 1, "the pin went into the given trust file");
    assert_eq!(pins[0].registry, *reg.id());
    let record = s.join(&format!("site-a/state/{}.json", reg.id()));
    assert!(
        record.is_file(),
        "the checkpoint record went into the given state directory"
    );

    let op = SecretKey::from_seed(&[2; 32]).unwrap();
    let done = reg.commit(&root, trust_body(&op)).unwrap();
    assert_eq!(done.entry.header.time, "2030-01-01T00:00:00Z");
    let (_, cp) = reg::repo::ledger::read_checkpoint(&reg.path().join("checkpoint")).unwrap();
    assert_eq!(cp.time, "2030-01-01T00:00:00Z");
    assert_eq!(cp.seq, 1);
}

#[test]
fn verifying_records_nothing_until_record_is_called() {
    let s = Sandbox::new();
    let root = SecretKey::from_seed(&[1; 32]).unwrap();
    let (reg, _) =
        Registry::init(&s.join("r"), &root, Vec::new(), None, &options(&s, "a")).unwrap();
    // A second host that pinned the same registry has no record of it yet.
    let mut b = options(&s, "b");
    b.trust.explicit = Some(reg.root().clone());
    let reg = Registry::open(reg.path(), &b).unwrap();
    let record = s.join(&format!("b/state/{}.json", reg.id()));
    let mut seen = 0;
    let replay = reg.verify(&mut |_| seen += 1).unwrap();
    assert_eq!(seen, 1);
    assert!(!record.exists(), "verify wrote a host record");
    reg.record(&replay.state, &replay.checkpoint).unwrap();
    assert!(record.is_file(), "record wrote no host record");
}

#[test]
fn the_lock_timeout_is_the_one_given() {
    let s = Sandbox::new();
    let root = SecretKey::from_seed(&[1; 32]).unwrap();
    let (reg, _) =
        Registry::init(&s.join("r"), &root, Vec::new(), None, &options(&s, "a")).unwrap();
    let _held = reg.lock().unwrap();
    let other = Registry::open(reg.path(), &options(&s, "a")).unwrap();
    match other.begin() {
        Err(RegistryError::Busy(_, 0)) => {}
        other => panic!("expected busy after 0 s, got {other:?}"),
    }
}
