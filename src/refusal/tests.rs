//! The class of representative refusals, from real errors of real library calls on real
//! registries in temporary directories: what the Python package raises and the CLI exits with.

use super::{Class, Refusal};
use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, KeyRef, KeyTrust, Role};
use crate::repo::registry::{OpenOptions, Registry};
use crate::repo::trust::{HostState, TrustOptions};
use crate::util::encoding::Clock;
use std::path::Path;
use std::time::Duration;

/// 2030-01-01T00:00:00Z.
const CLOCK: u64 = 1_893_456_000;

/// Options for a host whose trust file and state directory are under `dir/host`.
fn options(dir: &Path, host: &str) -> OpenOptions {
    OpenOptions::new(TrustOptions::new(
        dir.join(host).join("trust.json"),
        HostState::new(dir.join(host).join("state")),
    ))
    .with_lock_timeout(Duration::ZERO)
    .with_clock(Clock::fixed(CLOCK))
}

fn root() -> SecretKey {
    SecretKey::from_seed(&[1; 32]).unwrap()
}

/// A registry at `dir/r`, pinned by host `a`.
fn registry(dir: &Path) -> Registry {
    Registry::init(
        &dir.join("r"),
        &root(),
        Vec::new(),
        None,
        &options(dir, "a"),
    )
    .unwrap()
    .0
}

/// One more entry: trusts an operator key.
fn commit_one(reg: &Registry) {
    let op = SecretKey::from_seed(&[2; 32]).unwrap();
    let body = Body::KeyTrust(KeyTrust {
        name: None,
        key: KeyRef {
            fingerprint: op.public().fingerprint().clone(),
            public_key: crate::util::encoding::b64_encode(&op.public().to_bytes()),
        },
        reason: "operator".into(),
        role: Role::Operator,
    });
    reg.commit(&root(), body).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

fn refusal<T: std::fmt::Debug>(r: Result<T, impl Into<Refusal>>) -> Refusal {
    r.map_err(Into::into).expect_err("the call was refused")
}

#[test]
fn every_class_has_its_name_and_exit_code() {
    let table = [
        (Class::Refused, "Refused", 1),
        (Class::Denied, "Denied", 1),
        (Class::Tampered, "Tampered", 1),
        (Class::Unpinned, "Unpinned", 1),
        (Class::RollbackOrFork, "RollbackOrFork", 1),
        (Class::InvalidInput, "InvalidInput", 2),
        (Class::IoFailure, "IOFailure", 2),
        (Class::Busy, "Busy", 3),
        (Class::Closed, "Closed", 0),
    ];
    for (class, name, code) in table {
        assert_eq!((class.name(), class.exit_code()), (name, code));
        let r = Refusal::new(class, "m", None);
        assert_eq!((r.class(), r.exit_code()), (class, code));
    }
    let u = Refusal::usage_hint("bad", "do this");
    assert_eq!(
        (u.class(), u.message(), u.hint()),
        (Class::InvalidInput, "bad", Some("do this"))
    );
}

#[test]
fn an_altered_object_is_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path());
    let ledger = std::fs::read_to_string(reg.path().join("ledger")).unwrap();
    let genesis: crate::format::id::ObjectId = ledger.lines().next().unwrap().parse().unwrap();
    let object = reg.store().path(&genesis);
    let mut perms = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&object, perms).unwrap();
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&object, bytes).unwrap();
    let r = refusal(reg.verify(&mut |_| ()));
    assert_eq!(r.class(), Class::Tampered, "{r:?}");
    assert_eq!(r.exit_code(), 1);
    assert!(r.hint().is_some());
}

#[test]
fn a_root_other_than_the_pinned_one_is_unpinned() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path());
    let other = SecretKey::from_seed(&[9; 32]).unwrap();
    let b = options(dir.path(), "b").with_trust(other.public().fingerprint().clone());
    let r = refusal(Registry::open(reg.path(), &b).and_then(|r| r.state()));
    assert_eq!(r.class(), Class::Unpinned, "{r:?}");
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn an_older_copy_than_this_host_verified_is_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path());
    let old = dir.path().join("old");
    copy_dir(reg.path(), &old);
    commit_one(&reg);
    let dot = reg.path().to_path_buf();
    drop(reg);
    std::fs::remove_dir_all(&dot).unwrap();
    std::fs::rename(&old, &dot).unwrap();
    let r = refusal(Registry::open(&dot, &options(dir.path(), "a")).and_then(|r| r.state()));
    assert_eq!(r.class(), Class::RollbackOrFork, "{r:?}");
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn a_held_lock_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path());
    let _held = reg.lock().unwrap();
    let other = Registry::open(reg.path(), &options(dir.path(), "a")).unwrap();
    let r = refusal(other.begin().map(|_| ()));
    assert_eq!(r.class(), Class::Busy, "{r:?}");
    assert_eq!(r.exit_code(), 3);
}

#[test]
fn a_missing_file_is_an_io_failure_and_a_closed_reader_a_success() {
    let dir = tempfile::tempdir().unwrap();
    let r = refusal(crate::crypto::keys::load_public(
        &dir.path().join("none.pub"),
    ));
    assert_eq!(r.class(), Class::IoFailure, "{r:?}");
    assert_eq!(r.exit_code(), 2);
    let closed = Refusal::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
    assert_eq!((closed.class(), closed.exit_code()), (Class::Closed, 0));
}

#[test]
fn a_message_is_cut_and_key_material_in_it_hidden() {
    let long = "x".repeat(10_000);
    assert!(Refusal::usage(&long).message().len() <= 2 * super::MESSAGE_LIMIT);
    let pem = "a secret: MC4CAQAwBQYDK2VwBCIEIG5vdCBhIHJlYWwga2V5IGJ1dCBsb25nIGVub3VnaCE=";
    assert!(!Refusal::usage(pem).message().contains("MC4CAQAw"));
}

/// Every match in this module names each variant: no wildcard arm gives a new variant of a
/// library error a class nobody chose (each file also denies clippy's lint).
#[test]
fn the_mapping_has_no_wildcard_arm() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/refusal");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if path.ends_with("tests.rs") {
            continue;
        }
        assert!(
            text.contains("#![deny(clippy::wildcard_enum_match_arm)]"),
            "{} does not deny wildcard arms",
            path.display()
        );
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default().trim_start();
            assert!(
                !code.starts_with("_ =>") && !code.contains("| _ =>"),
                "{}:{}: a wildcard arm: {line}",
                path.display(),
                i + 1
            );
        }
        assert!(
            !text.contains("impl From<BundleError>"),
            "a bundle error needs its context"
        );
    }
}

#[test]
fn an_edited_decision_log_is_tampered_and_a_denied_file_denied() {
    use crate::gate::decision_log::{LogHost, append_log, verify_log};
    use crate::gate::{Gate, GateOptions, Scope};
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path());
    let gate = Gate::new(&reg, GateOptions::default()).unwrap();
    let file = dir.path().join("model.bin");
    std::fs::write(&file, b"weights nobody approved").unwrap();
    let denied = refusal(gate.open_verified(&file, &Scope::Any));
    assert_eq!(denied.class(), Class::Denied, "{denied:?}");
    let host = LogHost::at(&dir.path().join("a/state"));
    let log = dir.path().join("gate.log");
    let decisions = gate.check_path(&file, &Scope::Any);
    append_log(&host, &log, &decisions, "2030-01-01T00:00:00Z").unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("false", "true ", 1)).unwrap();
    let r = refusal(verify_log(&host, &log));
    assert_eq!(r.class(), Class::Tampered, "{r:?}");
    assert_eq!(r.exit_code(), 1);
    // A log this host has no record of (its anchors gone, its key kept: a reset state
    // directory) is refused, not called tampered: nothing says it was altered.
    let fresh = dir.path().join("fresh.log");
    append_log(&host, &fresh, &decisions, "2030-01-01T00:00:00Z").unwrap();
    std::fs::remove_dir_all(dir.path().join("a/state/gate-logs")).unwrap();
    let r = refusal(verify_log(&host, &fresh));
    assert_eq!(r.class(), Class::Refused, "{r:?}");
    assert!(
        r.hint()
            .is_some_and(|h| h.contains("no record of this log")),
        "{r:?}"
    );
}

/// The refusals of a transfer between sites, built as the import makes them (a real one needs
/// two sites and a forked replica; the suite's import and clone tests make those and check the
/// exit codes): the finer classes the Python package raises.
#[test]
fn an_import_refuses_an_unpinned_registry_and_a_forked_or_older_history() {
    use crate::format::id::ObjectId;
    use crate::ops::import::ImportError as I;
    let (a, b) = (ObjectId::of(b"a"), ObjectId::of(b"b"));
    let root = root().public().fingerprint().clone();
    let cases = [
        (I::Unpinned(a), Class::Unpinned),
        (I::NoPin { registry: a, root }, Class::Unpinned),
        (
            I::Fork {
                seq: 3,
                local: a,
                incoming: b,
                at_or_before: false,
                local_kind: Some("drift"),
            },
            Class::RollbackOrFork,
        ),
        (
            I::Rollback {
                incoming: 2,
                incoming_head: a,
                local: 5,
                local_head: b,
            },
            Class::RollbackOrFork,
        ),
        (
            I::Missing {
                kind: "record",
                id: a,
            },
            Class::Tampered,
        ),
        (I::Gap { base: 9, local: 3 }, Class::Refused),
    ];
    for (e, class) in cases {
        let r = Refusal::from(e);
        assert_eq!((r.class(), r.exit_code()), (class, 1), "{r:?}");
        assert!(r.hint().is_some(), "{r:?}");
    }
    let changed = Refusal::from(crate::ops::export::ExportError::Changed);
    assert_eq!(
        (changed.class(), changed.exit_code()),
        (Class::IoFailure, 2)
    );
}

#[test]
fn a_file_denied_because_nothing_pins_the_registry_is_unpinned_with_the_fix() {
    use crate::gate::{Gate, GateOptions, Scope};
    let dir = tempfile::tempdir().unwrap();
    let pinned_elsewhere = registry(dir.path());
    // Host `b` has no pin: the gate denies every file, and says why as `Unpinned`.
    let reg = Registry::open(pinned_elsewhere.path(), &options(dir.path(), "b")).unwrap();
    let gate = Gate::new(&reg, GateOptions::default()).unwrap();
    let file = dir.path().join("model.bin");
    std::fs::write(&file, b"any bytes").unwrap();
    let denied = refusal(gate.open_verified(&file, &Scope::Any));
    assert_eq!((denied.class(), denied.exit_code()), (Class::Unpinned, 1));
    assert!(
        denied.hint().is_some_and(|h| h.contains("reg trust add")),
        "{denied:?}"
    );
    // Where a pin is required up front, the same reason, and the CLI's fix naming the registry.
    let up_front = super::unpinned(&reg);
    assert_eq!(up_front.class(), Class::Unpinned);
    assert!(up_front.message().contains("is not pinned on this host"));
    assert!(
        up_front
            .hint()
            .is_some_and(|h| h.contains(&reg.root().to_string())),
        "{up_front:?}"
    );
}
