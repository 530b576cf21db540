//! One private key is one trusted key (FORMAT.md §4.1, §5.3): a non-canonical encoding of a
//! point (y ≥ p) and a mixed-order key (A + a small-order point) are refused in key files, in
//! `key-trust` entries signed by a root key, and in genesis; a fingerprint already trusted must
//! come with the same key bytes.

use crate::util::Sandbox;
use reg::crypto::envelope::{self, Kind};
use reg::crypto::keys::{Fingerprint, SecretKey};
use reg::format::entry::{Body, Entry, Header, KeyRef, KeyTrust, Role};
use reg::repo::ledger::read_ids;
use reg::repo::store::Store;
use reg::state::{KeyState, State};
use reg::util::encoding::{b64_encode, to_canonical_vec};
use std::collections::BTreeSet;
use std::fs;

/// y = p + 3 (p = 2^255 − 19): a point on the curve written in its non-canonical form (the same
/// point as y = 3; decompression reduces y modulo p). It is not of small order, so the weak-key
/// check alone lets it through.
fn non_canonical() -> [u8; 32] {
    let mut b = [0xffu8; 32];
    b[0] = 0xf0;
    b[31] = 0x7f;
    b
}

/// A point of order 8 (from the C2SP ed25519 vectors), canonical.
const ORDER_8: &str = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";

/// `key` + a point of order 8: whoever holds `key`'s private key can sign for it whenever the
/// signature's hash is a multiple of 8 (one message in eight).
fn mixed_order(key: &SecretKey) -> [u8; 32] {
    let t: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&ORDER_8[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let a = ed25519_dalek::VerifyingKey::from_bytes(&key.public().to_bytes()).unwrap();
    let t = ed25519_dalek::VerifyingKey::from_bytes(&t).unwrap();
    let sum = (a.to_edwards() + t.to_edwards()).compress().to_bytes();
    // It is a different, non-weak, canonical encoding: only the subgroup check refuses it.
    let v = ed25519_dalek::VerifyingKey::from_bytes(&sum).unwrap();
    assert!(!v.is_weak() && v.to_edwards().compress().to_bytes() == sum);
    sum
}

/// The SubjectPublicKeyInfo PEM of 32 raw key bytes, as `openssl pkey -pubout` would write it.
fn spki_pem(bytes: &[u8; 32]) -> String {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(bytes);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        b64_encode(&der)
    )
}

fn load(s: &Sandbox, name: &str) -> SecretKey {
    reg::crypto::keys::load_secret(&s.join(name), &mut |_| None).unwrap()
}

/// Both crafted keys, with the phrase the refusal must contain.
fn crafted(s: &Sandbox) -> Vec<([u8; 32], &'static str)> {
    s.key("op.pem");
    vec![
        (non_canonical(), "not the canonical encoding"),
        (mixed_order(&load(s, "op.pem")), "small-order component"),
    ]
}

#[test]
fn a_non_canonical_or_mixed_order_key_file_is_refused_at_key_trust() {
    let s = Sandbox::new();
    s.init();
    for (bytes, needle) in crafted(&s) {
        fs::write(s.join("crafted.pub"), spki_pem(&bytes)).unwrap();
        let before = s.snapshot();
        let err = s.fails(
            1,
            &[
                "key",
                "trust",
                "crafted.pub",
                "--role",
                "operator",
                "--key",
                "root.pem",
                "--reason",
                "crafted",
            ],
        );
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(before, s.snapshot(), "the registry changed");
        let err = s.fails(1, &["key", "fingerprint", "crafted.pub"]);
        assert!(err.contains(needle), "{err}");
    }
}

/// Appends a `key-trust` entry for `bytes`, signed by `root.pem`, with the checkpoint and index
/// a root-key holder would write: everything is consistent except the key itself.
fn append_root_signed_trust(s: &Sandbox, bytes: &[u8; 32]) {
    let dot = s.dot();
    let root = load(s, "root.pem");
    let store = Store::new(&dot);
    let (ids, _) = read_ids(&dot.join("ledger")).unwrap();
    let state: State = crate::util::read_index(&dot);
    let fingerprint = Fingerprint::of(bytes);
    let entry = Entry {
        header: Header {
            actor: root.public().fingerprint().clone(),
            prev: Some(*ids.last().unwrap()),
            registry: Some(ids[0]),
            seq: ids.len() as u64,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body: Body::KeyTrust(KeyTrust {
            name: None,
            key: KeyRef {
                fingerprint: fingerprint.clone(),
                public_key: b64_encode(bytes),
            },
            reason: "crafted".into(),
            role: Role::Operator,
        }),
    };
    let signed = envelope::sign_bytes(Kind::KeyTrust, &entry.to_payload().unwrap(), &root).unwrap();
    let id = store.put_bytes(&signed).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    let state = crate::util::forge_state(&state, |v| {
        v["keys"][fingerprint.to_string()] = serde_json::to_value(KeyState {
            compromised: false,
            name: None,
            public_key: b64_encode(bytes),
            roles: BTreeSet::from([Role::Operator]),
            revoked: None,
            since: entry.header.seq,
        })
        .unwrap();
        v["head"] = serde_json::json!(id.to_string());
        v["seq"] = serde_json::json!(entry.header.seq);
    });
    let canonical = crate::util::write_index(&dot, &state);
    let cp = reg::repo::ledger::sign_checkpoint(
        &state,
        reg::format::id::ObjectId::of(&canonical),
        entry.header.time.clone(),
        &root,
    )
    .unwrap();
    fs::write(dot.join("checkpoint"), cp).unwrap();
}

#[test]
fn a_root_signed_key_trust_entry_with_a_non_canonical_or_mixed_order_key_fails_replay() {
    for (i, needle) in ["not the canonical encoding", "small-order component"]
        .into_iter()
        .enumerate()
    {
        let s = Sandbox::new();
        s.init();
        let (bytes, _) = crafted(&s)[i];
        append_root_signed_trust(&s, &bytes);
        let before = s.snapshot();
        let err = s.fails(1, &["ledger", "verify"]);
        assert!(err.contains(needle), "{err}");
        assert!(err.contains("entry 1"), "{err}");
        let out = s.reg().arg("fsck").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains(needle), "{text}");
        assert_eq!(before, s.snapshot(), "a reader changed the registry");
    }
}

fn genesis(actor: Fingerprint, key: &[u8; 32]) -> Entry {
    let root = SecretKey::from_seed(&[3u8; 32]).unwrap();
    let mut body = reg::state::genesis_body(root.public(), vec![], &[5u8; 32], None);
    let Body::Genesis(g) = &mut body else {
        unreachable!()
    };
    g.keys[0].fingerprint = actor.clone();
    g.keys[0].public_key = b64_encode(key);
    Entry {
        header: Header {
            actor,
            prev: None,
            registry: None,
            seq: 0,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body,
    }
}

#[test]
fn a_genesis_listing_a_non_canonical_or_mixed_order_root_is_refused() {
    let s = Sandbox::new();
    let id = reg::format::id::ObjectId::of(b"genesis");
    for (bytes, needle) in crafted(&s) {
        let err = State::from_genesis(id, &genesis(Fingerprint::of(&bytes), &bytes)).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    // The same entry with a real key is accepted: the test can tell.
    let real = load(&s, "op.pem");
    let bytes = real.public().to_bytes();
    State::from_genesis(id, &genesis(Fingerprint::of(&bytes), &bytes)).unwrap();
}

#[test]
fn a_key_trust_naming_a_trusted_fingerprint_with_other_key_bytes_is_refused() {
    // A 128-bit fingerprint collision cannot be made in a test: the state below holds, under
    // the operator's fingerprint, other key bytes, which is what a collision would give.
    let root = SecretKey::from_seed(&[3u8; 32]).unwrap();
    let op = SecretKey::from_seed(&[4u8; 32]).unwrap();
    let other = SecretKey::from_seed(&[5u8; 32]).unwrap();
    let g = genesis(
        root.public().fingerprint().clone(),
        &root.public().to_bytes(),
    );
    let gid = reg::format::id::ObjectId::of(b"genesis");
    let (state, _) = State::from_genesis(gid, &g).unwrap();
    let mut state = crate::util::forge_state(&state, |v| {
        v["keys"][op.public().fingerprint().to_string()] = serde_json::to_value(KeyState {
            compromised: false,
            name: None,
            public_key: b64_encode(&other.public().to_bytes()),
            roles: BTreeSet::from([Role::Reporter]),
            revoked: None,
            since: 1,
        })
        .unwrap();
    });
    let entry = |seq: u64, key: &SecretKey| Entry {
        header: Header {
            actor: root.public().fingerprint().clone(),
            prev: Some(gid),
            registry: Some(gid),
            seq,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body: Body::KeyTrust(KeyTrust {
            name: None,
            key: KeyRef {
                fingerprint: key.public().fingerprint().clone(),
                public_key: b64_encode(&key.public().to_bytes()),
            },
            reason: "r".into(),
            role: Role::Operator,
        }),
    };
    let before = state.clone();
    let err = state
        .apply(reg::format::id::ObjectId::of(b"e2"), &entry(2, &op))
        .unwrap_err();
    assert!(err.to_string().contains("other public key bytes"), "{err}");
    assert_eq!(state, before);
}

#[test]
fn the_same_key_bytes_may_gain_a_second_role_as_before() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    s.trust("op.pem.pub", "operator", "site operator");
    s.trust("op.pem.pub", "reporter", "also reports drift");
    let list = s.ok(&["key", "list"]);
    assert!(
        list.contains("operator") && list.contains("reporter"),
        "{list}"
    );
}

// Encrypted private keys (FORMAT.md §4.1): the PBES2 schemes OpenSSL writes are read; the ones
// reg does not read are named, with the command that re-encrypts them; KDF costs are bounded
// before any derivation runs.

const PASS: &str = "correct horse battery staple";

fn openssl(s: &Sandbox, args: &[&str]) {
    let out = std::process::Command::new(crate::util::tool("openssl", "openssl"))
        .current_dir(s.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chmod600(s: &Sandbox, name: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(s.join(name), fs::Permissions::from_mode(0o600)).unwrap();
}

/// `plain.pem` (an OpenSSL ed25519 key) re-encrypted by `openssl pkcs8 -topk8 EXTRA...`.
fn encrypted(s: &Sandbox, name: &str, extra: &[&str]) {
    let pass = format!("pass:{PASS}");
    let mut args = vec![
        "pkcs8",
        "-topk8",
        "-in",
        "plain.pem",
        "-out",
        name,
        "-passout",
        &pass,
    ];
    args.extend_from_slice(extra);
    openssl(s, &args);
    chmod600(s, name);
}

fn fingerprint(s: &Sandbox, name: &str) -> std::process::Output {
    s.reg()
        .env("REG_KEY_PASSPHRASE", PASS)
        .args(["key", "fingerprint", name])
        .output()
        .unwrap()
}

#[test]
fn openssl_encrypted_keys_in_the_schemes_reg_reads_give_the_same_key() {
    let s = Sandbox::new();
    openssl(
        &s,
        &["genpkey", "-algorithm", "ed25519", "-out", "plain.pem"],
    );
    chmod600(&s, "plain.pem");
    let want = s.ok(&["key", "fingerprint", "plain.pem"]);
    let pass = format!("pass:{PASS}");
    // What `openssl genpkey -aes-256-cbc` writes: PBES2, PBKDF2 with hmacWithSHA256.
    openssl(
        &s,
        &[
            "pkey",
            "-in",
            "plain.pem",
            "-aes-256-cbc",
            "-passout",
            &pass,
            "-out",
            "default.pem",
        ],
    );
    chmod600(&s, "default.pem");
    encrypted(&s, "scrypt.pem", &["-scrypt"]);
    encrypted(
        &s,
        "sha512.pem",
        &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512"],
    );
    for name in ["default.pem", "scrypt.pem", "sha512.pem"] {
        let out = fingerprint(&s, name);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{name}");
    }
}

#[test]
fn openssl_keys_with_hmac_sha1_des3_or_pbes1_are_named_with_the_command_that_re_encrypts_them() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    openssl(
        &s,
        &["genpkey", "-algorithm", "ed25519", "-out", "plain.pem"],
    );
    chmod600(&s, "plain.pem");
    encrypted(
        &s,
        "sha1.pem",
        &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"],
    );
    encrypted(&s, "des3.pem", &["-v2", "des3"]);
    encrypted(&s, "pbes1.pem", &["-v1", "PBE-SHA1-3DES"]);
    for (name, needle) in [
        ("sha1.pem", "PRF hmacWithSHA1"),
        ("des3.pem", "des-ede3-cbc"),
        ("pbes1.pem", "PBES1"),
    ] {
        let out = fingerprint(&s, name);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(
            err.contains("openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256"),
            "{err}"
        );
        assert!(!err.contains("wrong passphrase"), "{err}");
        // As a signing key for a write: refused, the registry unchanged.
        let before = s.snapshot();
        let out = s
            .reg()
            .env("REG_KEY_PASSPHRASE", PASS)
            .args([
                "key",
                "trust",
                "op.pem.pub",
                "--role",
                "operator",
                "--key",
                name,
                "--reason",
                "r",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle));
        assert_eq!(before, s.snapshot());
    }
}

/// An encrypted key whose KDF parameters are written by hand (`openssl asn1parse -genconf`):
/// nothing derives a key while making it.
fn crafted_kdf(s: &Sandbox, name: &str, kdf: &str) {
    let conf = format!(
        "asn1=SEQUENCE:epki\n[epki]\nalg=SEQUENCE:alg\ndata=FORMAT:HEX,OCTETSTRING:{data}\n\
         [alg]\noid=OID:1.2.840.113549.1.5.13\nparams=SEQUENCE:pbes2\n\
         [pbes2]\nkdf=SEQUENCE:kdf\nenc=SEQUENCE:enc\n\
         [enc]\noid=OID:aes-256-cbc\niv=FORMAT:HEX,OCTETSTRING:{iv}\n{kdf}",
        data = "ab".repeat(48),
        iv = "cd".repeat(16),
    );
    fs::write(s.join("gen.conf"), conf).unwrap();
    openssl(
        s,
        &[
            "asn1parse",
            "-genconf",
            "gen.conf",
            "-out",
            "key.der",
            "-noout",
        ],
    );
    let der = fs::read(s.join("key.der")).unwrap();
    let b64 = b64_encode(&der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
        lines.join("\n")
    );
    fs::write(s.join(name), pem).unwrap();
    chmod600(s, name);
}

fn scrypt(n: u64, r: u32, p: u32) -> String {
    format!(
        "[kdf]\noid=OID:1.3.6.1.4.1.11591.4.11\nparams=SEQUENCE:sp\n[sp]\nsalt=FORMAT:HEX,OCTETSTRING:{}\nn=INTEGER:{n}\nr=INTEGER:{r}\np=INTEGER:{p}\n",
        "ef".repeat(16)
    )
}

fn pbkdf2(iterations: u64) -> String {
    format!(
        "[kdf]\noid=OID:1.2.840.113549.1.5.12\nparams=SEQUENCE:pp\n[pp]\nsalt=FORMAT:HEX,OCTETSTRING:{}\niter=INTEGER:{iterations}\nprf=SEQUENCE:prf\n[prf]\noid=OID:hmacWithSHA256\nnull=NULL\n",
        "ef".repeat(16)
    )
}

#[test]
fn oversized_kdf_parameters_are_refused_before_any_key_derivation() {
    let s = Sandbox::new();
    for (i, (kdf, needle)) in [
        (pbkdf2(2_147_483_647), "2147483647 PBKDF2 iterations"),
        (pbkdf2(2_000_001), "2000001 PBKDF2 iterations"),
        (scrypt(1 << 30, 8, 1), "scrypt N = 1073741824"),
        (scrypt(1 << 14, 8, 4096), "p = 4096"),
        (scrypt(1 << 20, 64, 1), "r = 64"),
        (scrypt(1 << 20, 8, 2), "p = 2"),
        (scrypt(3, 8, 1), "N = 3"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("k{i}.pem");
        crafted_kdf(&s, &name, &kdf);
        let started = std::time::Instant::now();
        let out = fingerprint(&s, &name);
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(needle) && err.contains("over reg's limit"),
            "{err}"
        );
        assert!(
            took < std::time::Duration::from_secs(5),
            "{needle}: {took:?}"
        );
    }
    // Within the limits, the same crafted form is parsed and only the (made-up) ciphertext
    // fails: the test's files are well-formed.
    crafted_kdf(&s, "ok.pem", &pbkdf2(2048));
    let out = fingerprint(&s, "ok.pem");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
}

#[test]
fn kdf_parameters_below_their_minimum_are_refused() {
    let s = Sandbox::new();
    openssl(
        &s,
        &["genpkey", "-algorithm", "ed25519", "-out", "plain.pem"],
    );
    chmod600(&s, "plain.pem");
    let pass = format!("pass:{PASS}");
    // A real key encrypted with one PBKDF2 iteration, relabelled 0: PBKDF2 code runs one
    // iteration for a count of 0, so it decrypted, and a count RFC 8018 forbids was accepted.
    openssl(
        &s,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "plain.pem",
            "-v2",
            "aes-256-cbc",
            "-v2prf",
            "hmacWithSHA256",
            "-iter",
            "1",
            "-passout",
            &pass,
            "-outform",
            "DER",
            "-out",
            "one.der",
        ],
    );
    let mut der = fs::read(s.join("one.der")).unwrap();
    let pbkdf2_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c,
    ];
    let at = der
        .windows(pbkdf2_oid.len())
        .position(|w| w == pbkdf2_oid)
        .unwrap();
    let count = at
        + der[at..]
            .windows(3)
            .position(|w| w == [0x02, 0x01, 0x01])
            .unwrap();
    der[count + 2] = 0;
    let pem = |der: &[u8]| {
        let b64 = b64_encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
            lines.join("\n")
        )
    };
    fs::write(s.join("zero.pem"), pem(&der)).unwrap();
    chmod600(&s, "zero.pem");
    der[count + 2] = 1;
    fs::write(s.join("one.pem"), pem(&der)).unwrap();
    chmod600(&s, "one.pem");
    // With its true count, the key reads (the crafted file is a real key).
    let out = fingerprint(&s, "one.pem");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fingerprint(&s, "zero.pem");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: `zero.pem` is encrypted with PBKDF2 with 0 iterations (RFC 8018 requires at least 1), which reg does not read; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in OLD.pem -out NEW.pem`\n"
    );
    assert!(out.stdout.is_empty());
    // The same for every KDF parameter under its minimum, before any derivation.
    for (i, (kdf, needle)) in [
        (pbkdf2(0), "PBKDF2 with 0 iterations"),
        (scrypt(1, 8, 1), "scrypt with N = 1, r = 8, p = 1"),
        (scrypt(1 << 14, 0, 1), "scrypt with N = 16384, r = 0, p = 1"),
        (scrypt(1 << 14, 8, 0), "scrypt with N = 16384, r = 8, p = 0"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("low{i}.pem");
        crafted_kdf(&s, &name, &kdf);
        let out = fingerprint(&s, &name);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(needle) && err.contains("which reg does not read"),
            "{err}"
        );
    }
}

// Artifact paths (FORMAT.md §7.3): duplicates are found with full Unicode case folding.

#[test]
fn paths_equal_under_full_case_folding_are_duplicates_at_pack_and_at_add() {
    use crate::craft::{file, good_tar, manifest_for};
    let s = Sandbox::new();
    s.init_with_roles();
    // Final sigma and sigma: `to_lowercase` leaves both as they are, case folding makes them one.
    let pairs = [
        ("x\u{3c2}.bin", "x\u{3c3}.bin"),
        ("stra\u{df}e.bin", "strasse.bin"),
    ];
    for (i, (a, b)) in pairs.into_iter().enumerate() {
        let files = vec![file(a, b"one"), file(b, b"two")];
        let publisher = load(&s, "pub.pem");
        let m = manifest_for(&files, &format!("fold{i}"), "1.0.0", &publisher);
        // reg's own writer refuses to sign it (so the pack below is refused too); a hostile
        // publisher signs the canonical bytes directly.
        assert!(reg::format::manifest::sign(&m, &publisher).is_err());
        let signed = envelope::sign_bytes(
            Kind::Manifest,
            &reg::util::encoding::to_canonical_vec(&m).unwrap(),
            &publisher,
        )
        .unwrap();
        fs::write(s.join("fold.tar"), good_tar(&signed, &files)).unwrap();
        let before = s.snapshot();
        let err = s.fails(1, &["add", "fold.tar", "--key", "op.pem"]);
        assert!(
            err.contains("duplicates another path when case and Unicode normalisation are ignored"),
            "{err}"
        );
        assert_eq!(before, s.snapshot(), "the refused add changed the registry");

        let dir = format!("dir{i}");
        fs::create_dir(s.join(&dir)).unwrap();
        fs::write(s.join(&format!("{dir}/{a}")), b"one").unwrap();
        fs::write(s.join(&format!("{dir}/{b}")), b"two").unwrap();
        let out = s
            .reg()
            .args([
                "bundle",
                "pack",
                &dir,
                "-o",
                "packed.tar",
                "--key",
                "pub.pem",
                "--name",
                "f",
                "--version",
                "1.0.0",
                "--type",
                "ruleset",
                "--use",
                "detection",
                "--description",
                "d",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(!s.join("packed.tar").exists());
    }
}

/// Signs `kind`'s `payload` for the mixed-order key `a_prime` (= A + T) with A's secret
/// `seed`, as `raw_sign` does: the signature verifies under A' (strictly) exactly when its hash
/// is a multiple of 8, so the caller varies the payload until it does.
fn sign_for_mixed(
    kind: Kind,
    payload: &[u8],
    seed: &[u8; 32],
    a_prime: &[u8; 32],
) -> Option<Vec<u8>> {
    use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
    let esk = ExpandedSecretKey::from(seed);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(a_prime).unwrap();
    let pae = envelope::pae(&kind.payload_type(), payload);
    let sig = raw_sign::<ed25519_dalek::Sha512>(&esk, &pae, &vk);
    vk.verify_strict(&pae, &sig).ok()?;
    Some(
        envelope::Envelope {
            payload: b64_encode(payload),
            payload_type: kind.payload_type(),
            signatures: vec![envelope::SignatureEntry {
                keyid: Fingerprint::of(a_prime),
                sig: b64_encode(&sig.to_bytes()),
            }],
        }
        .to_canonical(),
    )
}

#[test]
fn a_registry_whose_genesis_root_is_a_mixed_order_key_is_refused() {
    // A registry made by hand whose genesis lists A' = A + T as its root and is validly signed
    // for A' (as is its checkpoint): without the subgroup check it verifies, and its holder
    // appears as a root key other than A.
    let s = Sandbox::new();
    s.init();
    let seed = [0x51u8; 32];
    let a = SecretKey::from_seed(&seed).unwrap();
    let a_prime = mixed_order(&a);
    let fp = Fingerprint::of(&a_prime);
    let dot = s.dot();
    // The genesis `init` wrote is replaced: its object goes too.
    fs::remove_dir_all(dot.join("objects")).unwrap();
    fs::create_dir(dot.join("objects")).unwrap();
    let store = Store::new(&dot);
    // A genesis in the form written before nonces (still valid), so that the same registry
    // can be shown to verify with the reg of before this change.
    let (id, genesis) = (0..60)
        .find_map(|sec| {
            let mut body = reg::state::genesis_body(a.public(), vec![], &[0; 32], None);
            let Body::Genesis(g) = &mut body else {
                unreachable!()
            };
            g.keys[0].fingerprint = fp.clone();
            g.keys[0].public_key = b64_encode(&a_prime);
            g.nonce = None;
            // Format 1, as its config.json and state say.
            g.format_version = 1;
            let entry = Entry {
                header: Header {
                    actor: fp.clone(),
                    prev: None,
                    registry: None,
                    seq: 0,
                    time: format!("2026-01-01T00:00:{sec:02}Z"),
                },
                body,
            };
            let bytes =
                sign_for_mixed(Kind::Genesis, &entry.to_payload().unwrap(), &seed, &a_prime)?;
            Some((store.put_bytes(&bytes).unwrap(), bytes))
        })
        .unwrap();
    assert!(!genesis.is_empty());
    fs::write(
        dot.join("config.json"),
        format!("{{\"format_version\":1,\"registry_id\":\"{id}\"}}"),
    )
    .unwrap();
    fs::write(dot.join("ledger"), format!("{id}\n")).unwrap();
    let state: State = serde_json::from_str(&format!(
        "{{\"format_version\":1,\"head\":\"{id}\",\"keys\":{{\"{fp}\":{{\"public_key\":\"{}\",\"roles\":[\"root\"],\"since\":0}}}},\"models\":{{}},\"policy\":{{}},\"recipients\":[],\"registry\":\"{id}\",\"root\":\"{fp}\",\"seq\":0,\"slots\":{{}}}}",
        b64_encode(&a_prime)
    ))
    .unwrap();
    let canonical = crate::util::write_index(&dot, &state);
    let checkpoint = (0..60)
        .find_map(|sec| {
            let cp = reg::repo::ledger::Checkpoint {
                head: id,
                registry: id,
                seq: 0,
                state: reg::format::id::ObjectId::of(&canonical),
                time: format!("2026-01-01T00:01:{sec:02}Z"),
            };
            sign_for_mixed(
                Kind::Checkpoint,
                &to_canonical_vec(&cp).unwrap(),
                &seed,
                &a_prime,
            )
        })
        .unwrap();
    fs::write(dot.join("checkpoint"), checkpoint).unwrap();
    let before = s.snapshot();
    let err = s.fails(1, &["ledger", "verify", "--trust", fp.as_str()]);
    assert!(err.contains("small-order component"), "{err}");
    let err = s.fails(1, &["list", "--trust", fp.as_str()]);
    assert!(err.contains("small-order component"), "{err}");
    assert_eq!(before, s.snapshot());
}
