//! The same commands with the same keys and the same `SOURCE_DATE_EPOCH` give a byte-identical
//! `.registry/`, wherever it is created.

use crate::util::Sandbox;
use std::fs;

fn run_sequence(s: &Sandbox) {
    s.ok(&[
        "init",
        "--root-key",
        "root.pem",
        // Genesis carries a random nonce unless one is given (FORMAT.md §5.2).
        "--nonce",
        "0000000000000000000000000000000000000000000000000000000000000001",
        "--recipient",
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    ]);
    s.trust("op.pem.pub", "operator", "site operator");
    s.trust("root2.pem.pub", "root", "second root");
    s.ok(&[
        "key",
        "revoke",
        s.ok(&["key", "fingerprint", "op.pem"]).trim(),
        "--key",
        "root2.pem",
        "--reason",
        "rotated",
    ]);
    s.ok(&[
        "recipients",
        "set",
        "--key",
        "root.pem",
        "--reason",
        "no encryption on this site",
    ]);
}

#[test]
fn same_commands_same_keys_same_clock_same_bytes() {
    let a = Sandbox::new();
    for k in ["root.pem", "op.pem", "root2.pem"] {
        a.key(k);
    }
    let b = Sandbox::new();
    for k in ["root.pem", "op.pem", "root2.pem"] {
        for f in [k.to_string(), format!("{k}.pub")] {
            fs::copy(a.join(&f), b.join(&f)).unwrap();
        }
    }
    run_sequence(&a);
    run_sequence(&b);
    let (sa, sb) = (a.snapshot(), b.snapshot());
    assert_eq!(sa.keys().collect::<Vec<_>>(), sb.keys().collect::<Vec<_>>());
    for (path, bytes) in &sa {
        assert_eq!(bytes, &sb[path], "{} differs", path.display());
    }
    assert!(sa.len() > 10);

    // And a different clock gives a different registry: the test can fail.
    let c = Sandbox::new();
    for f in ["root.pem", "root.pem.pub"] {
        fs::copy(a.join(f), c.join(f)).unwrap();
    }
    c.reg()
        .args(["init", "--root-key", "root.pem"])
        .env("SOURCE_DATE_EPOCH", "1767225601")
        .assert()
        .success();
    assert_ne!(
        fs::read(c.dot().join("config.json")).unwrap(),
        sa[&std::path::PathBuf::from("config.json")]
    );
}
