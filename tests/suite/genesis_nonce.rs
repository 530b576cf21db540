//! Registry ids are unique (FORMAT.md §5.2): genesis carries 32 random bytes, so two `reg init`
//! runs with the same root key in the same second make two registries, and registries written
//! before the nonce existed still verify and accept writes.

use crate::util::Sandbox;
use reg::crypto::envelope::Envelope;
use reg::util::encoding::b64_decode;
use std::fs;
use std::path::Path;

fn registry_id(dot: &Path) -> String {
    let config: serde_json::Value =
        serde_json::from_slice(&fs::read(dot.join("config.json")).unwrap()).unwrap();
    config["registry_id"].as_str().unwrap().to_string()
}

fn genesis_payload(dot: &Path) -> serde_json::Value {
    let id = registry_id(dot);
    let bytes = fs::read(dot.join("objects").join(&id[..2]).join(&id[2..])).unwrap();
    let env: Envelope = serde_json::from_slice(&bytes).unwrap();
    serde_json::from_slice(&b64_decode(&env.payload).unwrap()).unwrap()
}

#[test]
fn two_inits_with_one_root_key_in_the_same_second_get_different_ids_and_both_pins_survive() {
    let s = Sandbox::new();
    let root = s.key("root.pem");
    // The sandbox fixes SOURCE_DATE_EPOCH: both genesis entries carry the same time.
    s.ok(&["init", "a", "--root-key", "root.pem"]);
    s.ok(&["init", "b", "--root-key", "root.pem"]);
    let (a, b) = (s.join("a/.registry"), s.join("b/.registry"));
    let (ida, idb) = (registry_id(&a), registry_id(&b));
    assert_ne!(ida, idb, "two registries share an id");
    let (ga, gb) = (genesis_payload(&a), genesis_payload(&b));
    assert_eq!(ga["time"], gb["time"]);
    for g in [&ga, &gb] {
        let nonce = g["nonce"].as_str().unwrap();
        assert!(
            nonce.len() == 64 && reg::util::encoding::is_lower_hex(nonce, 64),
            "{g}"
        );
    }
    assert_ne!(ga["nonce"], gb["nonce"]);
    // Both pins are on the host, each naming its own registry.
    let pins = fs::read_to_string(s.trust_file()).unwrap();
    assert!(pins.contains(&ida) && pins.contains(&idb), "{pins}");
    for dir in ["a", "b"] {
        let out = s
            .reg()
            .args(["ledger", "verify", "--registry", dir])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Each pin names its registry and the same root: neither overwrote the other.
    let pins: serde_json::Value = serde_json::from_str(&pins).unwrap();
    let text = pins.to_string();
    assert_eq!(text.matches(&root).count(), 2, "{text}");
}

#[test]
fn a_fixed_nonce_reproduces_the_registry_id_and_a_bad_one_is_refused() {
    let nonce = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let a = Sandbox::new();
    a.key("root.pem");
    let b = Sandbox::new();
    for f in ["root.pem", "root.pem.pub"] {
        fs::copy(a.join(f), b.join(f)).unwrap();
    }
    for s in [&a, &b] {
        s.ok(&["init", "--root-key", "root.pem", "--nonce", nonce]);
    }
    assert_eq!(registry_id(&a.dot()), registry_id(&b.dot()));
    assert_eq!(genesis_payload(&a.dot())["nonce"], nonce);
    let c = Sandbox::new();
    c.key("root.pem");
    let err = c.fails(2, &["init", "--root-key", "root.pem", "--nonce", "abc"]);
    assert!(err.contains("64 hex digits"), "{err}");
    assert!(!c.dot().exists());
}

#[test]
fn a_genesis_nonce_that_is_not_64_lowercase_hex_digits_is_refused() {
    let root = reg::crypto::keys::SecretKey::from_seed(&[7u8; 32]).unwrap();
    let mut body = reg::state::genesis_body(root.public(), vec![], &[1u8; 32], None);
    let reg::format::entry::Body::Genesis(g) = &mut body else {
        unreachable!()
    };
    g.nonce = Some("AB".repeat(32));
    let entry = reg::format::entry::Entry {
        header: reg::format::entry::Header {
            actor: root.public().fingerprint().clone(),
            prev: None,
            registry: None,
            seq: 0,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body,
    };
    let id = reg::format::id::ObjectId::of(b"x");
    let err = reg::state::State::from_genesis(id, &entry).unwrap_err();
    assert!(err.to_string().contains("genesis nonce"), "{err}");
}

/// The fixture: a registry made by `reg` before genesis nonces (commit e6d9018, `reg init`,
/// two `key trust`, one `add`, with SOURCE_DATE_EPOCH=1767225600); see its README.
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/legacy-genesis");
const FIXTURE_ROOT: &str = "5c55429c43d550e9d45dc3455a764067";

/// Copies the fixture into `s` as `s/.registry` (writes must never touch the committed copy);
/// git keeps no empty directories, so the empty ones are made here.
fn copy_fixture(s: &Sandbox) {
    let src = Path::new(FIXTURE);
    for e in walkdir::WalkDir::new(src.join("dot-registry")) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(src.join("dot-registry")).unwrap();
        let to = s.dot().join(rel);
        if e.file_type().is_dir() {
            fs::create_dir_all(&to).unwrap();
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
    for d in ["tmp", "refs/slots", "refs/models", "index"] {
        fs::create_dir_all(s.dot().join(d)).unwrap();
    }
    for f in ["op.pem", "op.pem.pub", "pub.pem.pub", "root.pem.pub"] {
        fs::copy(src.join(f), s.join(f)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(s.join("op.pem"), fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_registry_written_before_genesis_nonces_verifies_passes_fsck_and_accepts_writes() {
    let s = Sandbox::new();
    copy_fixture(&s);
    let genesis = genesis_payload(&s.dot());
    assert!(
        genesis.get("nonce").is_none(),
        "the fixture predates nonces: {genesis}"
    );
    assert_eq!(
        s.ok(&["key", "fingerprint", "root.pem.pub"]).trim(),
        FIXTURE_ROOT
    );
    let trust = ["--trust", FIXTURE_ROOT];
    let out = s.ok(&[&["ledger", "verify"][..], &trust].concat());
    assert!(out.starts_with("ledger OK: 4 entries"), "{out}");
    s.ok(&[&["fsck"][..], &trust].concat());
    let out = s.ok(&[
        &[
            "promote",
            "legacy@1.0.0",
            "--key",
            "op.pem",
            "--reason",
            "still works",
        ][..],
        &trust,
    ]
    .concat());
    assert!(out.contains("PROMOTED"), "{out}");
    let out = s.ok(&[&["ledger", "verify"][..], &trust].concat());
    assert!(out.starts_with("ledger OK: 5 entries"), "{out}");
    // The registry id is the fixture's: nothing was migrated.
    assert_eq!(
        registry_id(&s.dot()),
        "6971e4afd270878aec2a0f984c0f950edd0f58b80436c35c8658f02b5572db0a"
    );
}
