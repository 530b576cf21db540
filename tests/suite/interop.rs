//! Interoperability with standard tools: OpenSSL keys work with reg, reg's keys and signatures
//! work with OpenSSL, and fingerprints and ids can be recomputed with `b3sum`.

use crate::util::{Sandbox, tool};
use reg::util::encoding::b64_decode;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

fn openssl(s: &Sandbox, args: &[&str]) -> String {
    let out = Command::new(tool("openssl", "openssl"))
        .current_dir(s.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `openssl genpkey` for ed25519, made private like any key file.
fn openssl_key(s: &Sandbox, name: &str) {
    openssl(s, &["genpkey", "-algorithm", "ed25519", "-out", name]);
    fs::set_permissions(s.join(name), fs::Permissions::from_mode(0o600)).unwrap();
    openssl(
        s,
        &[
            "pkey",
            "-in",
            name,
            "-pubout",
            "-out",
            &format!("{name}.pub"),
        ],
    );
}

#[test]
fn openssl_keys_sign_ledger_entries_through_key() {
    let s = Sandbox::new();
    openssl_key(&s, "root.pem");
    openssl_key(&s, "op.pem");
    s.ok(&["init", "--root-key", "root.pem"]);
    s.trust("op.pem.pub", "operator", "openssl keys");
    assert_eq!(
        s.ok(&["key", "fingerprint", "op.pem"]),
        s.ok(&["key", "fingerprint", "op.pem.pub"])
    );
    let list = s.ok(&["key", "list"]);
    assert!(
        list.contains(s.ok(&["key", "fingerprint", "op.pem"]).trim()),
        "{list}"
    );
    assert!(
        s.ok(&["ledger", "verify"])
            .starts_with("ledger OK: 2 entries")
    );
}

#[test]
fn reg_signatures_verify_with_openssl_on_the_documented_payload() {
    let s = Sandbox::new();
    s.init_with_roles();
    let export = s.ok(&["ledger", "export"]);
    let lines: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        let env = &line["envelope"];
        let ptype = env["payloadType"].as_str().unwrap();
        let payload = b64_decode(env["payload"].as_str().unwrap()).unwrap();
        // FORMAT.md §4.3, computed here independently of reg's code.
        let mut pae = format!("DSSEv1 {} {} {} ", ptype.len(), ptype, payload.len()).into_bytes();
        pae.extend_from_slice(&payload);
        fs::write(s.join("pae.bin"), &pae).unwrap();
        let sig = b64_decode(env["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        fs::write(s.join("sig.bin"), sig).unwrap();
        let out = openssl(
            &s,
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "root.pem.pub",
                "-rawin",
                "-in",
                "pae.bin",
                "-sigfile",
                "sig.bin",
            ],
        );
        assert!(out.contains("Signature Verified Successfully"), "{out}");
        // The same signature over another payload type (domain separation) fails.
        let mut relabelled =
            format!("DSSEv1 {} {ptype}x {} ", ptype.len() + 1, payload.len()).into_bytes();
        relabelled.extend_from_slice(&payload);
        fs::write(s.join("pae.bin"), relabelled).unwrap();
        let status = Command::new("openssl")
            .current_dir(s.path())
            .args([
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "root.pem.pub",
                "-rawin",
                "-in",
                "pae.bin",
                "-sigfile",
                "sig.bin",
            ])
            .output()
            .unwrap();
        assert!(!status.status.success());
    }
}

#[test]
fn openssl_reads_the_keys_reg_writes() {
    let s = Sandbox::new();
    s.key("plain.pem");
    let pubout = openssl(&s, &["pkey", "-in", "plain.pem", "-pubout"]);
    assert_eq!(pubout, fs::read_to_string(s.join("plain.pem.pub")).unwrap());
    s.reg()
        .args(["key", "gen", "--passphrase", "enc.pem"])
        .env("REG_KEY_PASSPHRASE", "s3cret")
        .assert()
        .success();
    let pubout = openssl(
        &s,
        &[
            "pkey",
            "-in",
            "enc.pem",
            "-passin",
            "pass:s3cret",
            "-pubout",
        ],
    );
    assert_eq!(pubout, fs::read_to_string(s.join("enc.pem.pub")).unwrap());
}

#[test]
fn reg_reads_keys_openssl_encrypts() {
    let s = Sandbox::new();
    openssl(
        &s,
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            "pass:s3cret",
            "-out",
            "enc.pem",
        ],
    );
    fs::set_permissions(s.join("enc.pem"), fs::Permissions::from_mode(0o600)).unwrap();
    openssl(
        &s,
        &[
            "pkey",
            "-in",
            "enc.pem",
            "-passin",
            "pass:s3cret",
            "-pubout",
            "-out",
            "enc.pub",
        ],
    );
    let out = s
        .reg()
        .args(["key", "fingerprint", "enc.pem"])
        .env("REG_KEY_PASSPHRASE", "s3cret")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        s.ok(&["key", "fingerprint", "enc.pub"])
    );
}

#[test]
fn fingerprints_recompute_with_b3sum_as_documented() {
    let s = Sandbox::new();
    let fp = s.key("k.pem");
    let der = Command::new(tool("openssl", "openssl"))
        .current_dir(s.path())
        .args(["pkey", "-pubin", "-in", "k.pem.pub", "-outform", "DER"])
        .output()
        .unwrap()
        .stdout;
    // SubjectPublicKeyInfo for ed25519 ends with the 32 raw key bytes.
    fs::write(s.join("k.raw"), &der[der.len() - 32..]).unwrap();
    let out = Command::new(tool("b3sum", "b3sum"))
        .current_dir(s.path())
        .args([
            "--derive-key",
            reg::crypto::keys::FINGERPRINT_CONTEXT,
            "--length",
            "16",
            "--no-names",
            "k.raw",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), fp);
}

#[test]
fn ledger_export_lines_validate_and_re_encode_to_the_stored_bytes() {
    let s = Sandbox::new();
    s.init_with_roles();
    let export = s.ok(&["ledger", "export"]);
    let ids = s.ledger_ids();
    for (line, id) in export.lines().zip(&ids) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        crate::ingest::validate("ledger-export.schema.json", &v);
        assert_eq!(v["id"], id.as_str());
        // An external ledger can recompute the id from the exported envelope alone.
        let bytes = reg::util::encoding::to_canonical_vec(&v["envelope"]).unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().to_string(), *id);
    }
    assert_eq!(export.lines().count(), ids.len());
}
