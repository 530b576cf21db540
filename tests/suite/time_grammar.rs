//! Every signed time is held to the grammar of FORMAT.md §2 where it is read: entries' `time`
//! (every kind shares the header, checked where entries are decoded), drift windows and the
//! checkpoint's `time` (tests/suite/input_rules.rs), and the manifest's `created`, here: a
//! trusted publisher's signature does not make an impossible date a time.

use crate::craft::{file, good_tar, load, manifest_for};
use crate::util::Sandbox;
use reg::crypto::envelope::{self, Kind};
use reg::util::encoding::to_canonical_vec;
use std::fs;

#[test]
fn a_signed_manifest_created_at_an_impossible_time_is_refused_at_add() {
    let s = Sandbox::new();
    s.init_with_roles();
    let key = load(&s, "pub.pem");
    let files = [file("m.yar", b"rule m { condition: true }\n")];
    for created in [
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "1969-12-31T23:59:59Z",
    ] {
        let mut m = manifest_for(&files, "when", "1.0.0", &key);
        m.created = created.into();
        let signed =
            envelope::sign_bytes(Kind::Manifest, &to_canonical_vec(&m).unwrap(), &key).unwrap();
        fs::write(s.join("b.tar"), good_tar(&signed, &files)).unwrap();
        let before = s.snapshot();
        let err = s.fails(1, &["add", "b.tar", "--key", "op.pem"]);
        assert!(
            err.contains("created ") && err.contains(created) && err.contains("not a time"),
            "{created}: {err}"
        );
        assert_eq!(s.snapshot(), before);
    }
}
