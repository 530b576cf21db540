//! FORMAT.md §7.5: `reg add` verifies the manifest's signature before it interprets the payload
//! (schema, rules): bytes no trusted publisher signed are refused as such, whatever they hold.

use crate::craft::{file, good_tar, load, manifest_for};
use crate::util::Sandbox;
use reg::crypto::envelope::{self, Kind};
use reg::crypto::keys::SecretKey;
use reg::util::encoding::to_canonical_vec;
use std::fs;

/// A bundle whose manifest breaks the schema (an unknown model type, no uses), signed by `key`.
fn invalid_bundle(key: &SecretKey) -> Vec<u8> {
    let files = [file("m.yar", b"rule m { condition: true }\n")];
    let mut m = manifest_for(&files, "bad", "1.0.0", key);
    m.model_type = "NOT-A-TYPE".into();
    m.uses = vec![];
    let signed = envelope::sign_bytes(Kind::Manifest, &to_canonical_vec(&m).unwrap(), key).unwrap();
    good_tar(&signed, &files)
}

#[test]
fn an_untrusted_signer_is_refused_before_the_schema_is_read() {
    let s = Sandbox::new();
    s.init_with_roles();
    let stranger = SecretKey::from_seed(&[77u8; 32]).unwrap();
    fs::write(s.join("b.tar"), invalid_bundle(&stranger)).unwrap();
    let before = s.snapshot();
    let out = s
        .reg()
        .args(["add", "b.tar", "--key", "op.pem"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("not trusted"), "{err}");
    assert!(
        !err.contains("NOT-A-TYPE") && !err.contains("/type"),
        "schema read first: {err}"
    );
    assert_eq!(s.snapshot(), before);

    // A trusted publisher's valid signature on the same kind of payload: now the schema speaks.
    fs::write(s.join("c.tar"), invalid_bundle(&load(&s, "pub.pem"))).unwrap();
    let out = s
        .reg()
        .args(["add", "c.tar", "--key", "op.pem"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("/type") || err.contains("NOT-A-TYPE"), "{err}");
    assert_eq!(s.snapshot(), before);
}

/// A trusted publisher's key id over a signature that key did not make: refused as a signature
/// that does not verify, on the envelope alone, before the schema is read.
#[test]
fn a_forged_signature_in_a_trusted_publishers_name_is_refused_before_the_schema_is_read() {
    let s = Sandbox::new();
    s.init_with_roles();
    let publisher = load(&s, "pub.pem");
    let stranger = SecretKey::from_seed(&[77u8; 32]).unwrap();
    let files = [file("m.yar", b"rule m { condition: true }\n")];
    let mut m = manifest_for(&files, "bad", "1.0.0", &publisher);
    m.model_type = "NOT-A-TYPE".into();
    m.uses = vec![];
    let signed = crate::util::forged_envelope(
        Kind::Manifest,
        &to_canonical_vec(&m).unwrap(),
        publisher.public().fingerprint(),
        &stranger,
    );
    fs::write(s.join("b.tar"), good_tar(&signed, &files)).unwrap();
    let before = s.snapshot();
    let out = s
        .reg()
        .args(["add", "b.tar", "--key", "op.pem"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("does not verify"), "{err}");
    assert!(
        !err.contains("NOT-A-TYPE") && !err.contains("/type"),
        "schema read first: {err}"
    );
    assert_eq!(s.snapshot(), before);
}
