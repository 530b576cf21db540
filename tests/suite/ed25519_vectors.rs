//! Pins reg's one verification rule against the C2SP ed25519 edge-case vectors: reg accepts a
//! signature only when `verify_strict` does and the key is a canonical point of the prime-order
//! subgroup (FORMAT.md §4.1), i.e. when the vector's only flag is `low_order_component_R`;
//! everything else (small-order or mixed-order keys, small-order R, non-canonical encodings,
//! cofactored-only signatures) is refused.

use reg::crypto::keys::PublicKey;

#[derive(serde::Deserialize)]
struct Vector {
    number: u32,
    key: String,
    sig: String,
    msg: String,
    flags: Option<Vec<String>>,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn strict_rule_matches_every_vector() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/ed25519/ed25519vectors.json"
    ))
    .unwrap();
    let vectors: Vec<Vector> = serde_json::from_str(&text).unwrap();
    assert!(vectors.len() > 900);
    let (mut accepted, mut refused) = (0, 0);
    for v in vectors {
        let flags = v.flags.unwrap_or_default();
        let expect_ok = flags.iter().all(|f| f == "low_order_component_R");
        let key: [u8; 32] = unhex(&v.key).try_into().unwrap();
        let got_ok = PublicKey::from_bytes(&key)
            .and_then(|k| k.verify(v.msg.as_bytes(), &unhex(&v.sig)))
            .is_ok();
        assert_eq!(
            got_ok, expect_ok,
            "vector {} with flags {flags:?}",
            v.number
        );
        if got_ok {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    // Both outcomes occur, so the test can tell a rule that accepts or refuses everything.
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}
