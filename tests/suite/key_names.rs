//! Keys people can tell apart (FORMAT.md §5.3): `reg key trust --name` signs
//! a name with the trust (format 4 only), `reg key list` shows name, roles, status, since when
//! and why, and `log` and `show` print names beside fingerprints. A name is unique, set once,
//! 1 to 64 bytes with no control character: every reader checks it, so a forged entry with a bad
//! name fails `reg ledger verify`.

use crate::util::{Sandbox, fixture};
use reg::crypto::envelope::{self, Kind};
use reg::format::entry::{Body, Entry, Header, KeyRef, KeyTrust, Role};
use reg::repo::ledger::read_ids;
use reg::repo::store::Store;
use reg::state::State;
use reg::util::encoding::{b64_encode, to_canonical_vec};
use serde_json::Value;
use std::fs;

const ALICE: &str = "alice, duty operator";

/// A format-4 registry whose operator key `op.pem` is named [`ALICE`] and whose publisher key
/// `pub.pem` has no name; returns (root, op, pub) fingerprints.
fn named_site() -> (Sandbox, String, String, String) {
    let s = Sandbox::new();
    let root = s.init();
    let op = s.key("op.pem");
    let publ = s.key("pub.pem");
    let out = s.ok(&[
        "key",
        "trust",
        "op.pem.pub",
        "--role",
        "operator",
        "--name",
        ALICE,
        "--key",
        "root.pem",
        "--reason",
        "site A duty operator",
    ]);
    assert!(
        out.contains(&format!("trusted {ALICE} ({op}) as operator")),
        "{out}"
    );
    s.trust("pub.pem.pub", "publisher", "model team");
    (s, root, op, publ)
}

fn key_list(s: &Sandbox) -> Vec<Value> {
    let v: Value = serde_json::from_str(&s.ok(&["key", "list", "--json"])).unwrap();
    crate::ingest::validate("key-list.schema.json", &v);
    v.as_array().unwrap().clone()
}

#[test]
fn a_named_key_is_listed_with_its_name_status_since_and_reason() {
    let (s, root, op, publ) = named_site();
    let keys = key_list(&s);
    let find = |fp: &str| {
        keys.iter()
            .find(|k| k["fingerprint"] == fp)
            .unwrap()
            .clone()
    };
    let alice = find(&op);
    assert_eq!(alice["name"], ALICE, "{alice}");
    assert_eq!(alice["roles"], serde_json::json!(["operator"]));
    assert_eq!(alice["status"], "trusted");
    assert_eq!(alice["since"], 1);
    assert_eq!(alice["since_time"], "2026-01-01T00:00:00Z");
    assert_eq!(alice["reason"], "site A duty operator");
    assert_eq!(alice["since_entry"], s.ledger_ids()[1]);
    let publisher = find(&publ);
    assert!(publisher.get("name").is_none(), "{publisher}");
    assert_eq!(publisher["reason"], "model team");
    let genesis = find(&root);
    assert_eq!(genesis["since"], 0);
    assert!(genesis.get("reason").is_none(), "{genesis}");

    // Withdrawn roles and a revocation are the key's status.
    s.trust("op.pem.pub", "reporter", "also reports drift");
    s.ok(&[
        "key",
        "withdraw",
        &op,
        "--role",
        "reporter",
        "--key",
        "root.pem",
        "--reason",
        "no longer",
    ]);
    s.ok(&[
        "key",
        "revoke",
        &publ,
        "--key",
        "root.pem",
        "--reason",
        "left the team",
    ]);
    // The log names the key a withdrawal is about.
    let log = s.ok(&["log"]);
    assert!(
        log.contains(&format!("withdraw role reporter from {ALICE} ({op})")),
        "{log}"
    );
    let keys = key_list(&s);
    let find = |fp: &str| {
        keys.iter()
            .find(|k| k["fingerprint"] == fp)
            .unwrap()
            .clone()
    };
    assert_eq!(find(&op)["withdrawn"], serde_json::json!(["reporter"]));
    assert_eq!(find(&publ)["revocation"], "retired");

    let text = s.ok(&["key", "list"]);
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with(&op))
        .take(5)
        .collect();
    assert!(block[0].ends_with("trusted"), "{text}");
    assert!(
        block.contains(&format!("    name:      {ALICE}").as_str()),
        "{text}"
    );
    assert!(
        block.contains(&"    trusted:   entry 1 at 2026-01-01T00:00:00Z"),
        "{text}"
    );
    assert!(
        block.contains(&"    reason:    site A duty operator"),
        "{text}"
    );
    assert!(block.contains(&"    withdrawn: reporter"), "{text}");
    let revoked = text.lines().find(|l| l.starts_with(&publ)).unwrap();
    assert!(revoked.ends_with("retired"), "{revoked}");
}

#[test]
fn log_and_show_print_the_name_beside_the_fingerprint() {
    let (s, _, op, publ) = named_site();
    s.add_model("det", "1.0.0", &[("rules.txt", "r\n".into())]);
    let named = format!("{ALICE} ({op})");
    let log = s.ok(&["log"]);
    assert!(log.contains(&format!("  actor:   {named}")), "{log}");
    assert!(log.contains(&format!("trust {named} as operator")), "{log}");
    let rows: Value = serde_json::from_str(&s.ok(&["log", "--json"])).unwrap();
    crate::ingest::validate("log.schema.json", &rows);
    let add = rows.as_array().unwrap().last().unwrap();
    assert_eq!(add["actor"], op.as_str());
    assert_eq!(add["actor_name"], ALICE);
    // `--actor` takes the name.
    let by_alice: Value =
        serde_json::from_str(&s.ok(&["log", "--actor", ALICE, "--json"])).unwrap();
    crate::ingest::validate("log.schema.json", &by_alice);
    // Names compare as the uniqueness rule compares them: any case.
    let upper = s.ok(&["log", "--actor", &ALICE.to_uppercase(), "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&upper).unwrap(), by_alice);
    let kinds: Vec<&str> = by_alice
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["add"]);
    let show = s.ok(&["show", "det@1.0.0"]);
    assert!(show.contains(&format!("by {named} at ")), "{show}");
    assert!(
        show.contains(&format!("publisher:   {publ} (packed")),
        "{show}"
    );
    let v: Value = serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &v);
    assert_eq!(v["added"]["operator_name"], ALICE);
    assert_eq!(v["history"][0]["actor_name"], ALICE);
    assert!(v["publisher"].get("name").is_none(), "{v}");
    // And the key a revocation is about.
    s.ok(&[
        "key", "revoke", &op, "--key", "root.pem", "--reason", "rotated",
    ]);
    let log = s.ok(&["log", "-n", "1"]);
    assert!(log.contains(&format!("revoke {named} (retired)")), "{log}");
}

#[test]
fn a_name_is_unique_and_set_once() {
    let (s, _, op, _) = named_site();
    s.key("op2.pem");
    let before = s.snapshot();
    let err = s.fails(
        1,
        &[
            "key",
            "trust",
            "op2.pem.pub",
            "--role",
            "operator",
            "--name",
            ALICE,
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
    );
    assert!(
        err.contains(&format!("key name `{ALICE}` is held by key {op}")),
        "{err}"
    );
    assert!(err.contains("hint: choose another --name"), "{err}");
    let err = s.fails(
        1,
        &[
            "key",
            "trust",
            "op.pem.pub",
            "--role",
            "reporter",
            "--name",
            "bob",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
    );
    assert!(
        err.contains(&format!("is named `{ALICE}` already")),
        "{err}"
    );
    assert_eq!(before, s.snapshot(), "a refused name changed the registry");
    // The same name again, or none, keeps it.
    s.ok(&[
        "key",
        "trust",
        "op.pem.pub",
        "--role",
        "reporter",
        "--name",
        ALICE,
        "--key",
        "root.pem",
        "--reason",
        "x",
    ]);
    s.trust("op2.pem.pub", "operator", "unnamed");
    let keys = key_list(&s);
    assert_eq!(keys.iter().filter(|k| k["name"] == ALICE).count(), 1);
}

#[test]
fn a_name_that_breaks_the_rule_is_refused_before_anything_is_signed() {
    let (s, ..) = named_site();
    s.key("op2.pem");
    let before = s.snapshot();
    for (name, needle) in [
        // Spaces in it: a long unbroken run is hidden by the key-material filter of clap's
        // errors, which is right, and says nothing of names.
        (
            "duty operator ".repeat(5).trim().to_string(),
            "a key name is 1 to 64 bytes",
        ),
        ("eve\u{1b}[2Jroot".to_string(), "U+001B"),
        ("bob\u{202e}kcab".to_string(), "U+202E"),
        (" bob".to_string(), "starts or ends with a space"),
        (String::new(), "empty"),
    ] {
        let out = s
            .reg()
            .args([
                "key",
                "trust",
                "op2.pem.pub",
                "--role",
                "operator",
                "--name",
                &name,
                "--key",
                "root.pem",
                "--reason",
                "x",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name:?}");
        assert!(err.contains(needle), "{name:?}: {err}");
        assert!(
            !err.contains('\u{1b}'),
            "a terminal escape reached stderr: {err}"
        );
    }
    assert_eq!(before, s.snapshot(), "a refused name changed the registry");
}

#[test]
fn a_name_needs_a_format_4_registry() {
    let s = fixture("format3", &["root.pem", "op.pem", "pub.pem", "rep.pem"]);
    s.key("op2.pem");
    let before = s.snapshot();
    let err = s.fails(
        1,
        &[
            "key",
            "trust",
            "op2.pem.pub",
            "--role",
            "operator",
            "--name",
            "bob",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
    );
    assert!(
        err.contains("naming a key needs a registry of format 4 or later; this one is format 3"),
        "{err}"
    );
    assert_eq!(before, s.snapshot());
    // Without a name the older format trusts the key as before.
    s.trust("op2.pem.pub", "operator", "unnamed");
}

/// Appends `payload` (a key-trust of `op.pem.pub` as reporter), signed by `root.pem`, with the
/// checkpoint and index a root-key holder would write, the state taking the name as given:
/// everything is consistent but what the payload says.
fn append_trust(s: &Sandbox, payload: &[u8], name: &str) {
    let dot = s.dot();
    let root = reg::crypto::keys::load_secret(&s.join("root.pem"), &mut |_| None).unwrap();
    let (ids, _) = read_ids(&dot.join("ledger")).unwrap();
    let state: State = crate::util::read_index(&dot);
    let signed = envelope::sign_bytes(Kind::KeyTrust, payload, &root).unwrap();
    let id = Store::new(&dot).put_bytes(&signed).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    let fp = reg::crypto::keys::load_public(&s.join("op.pem.pub"))
        .unwrap()
        .fingerprint()
        .clone();
    let state = crate::util::forge_state(&state, |v| {
        crate::util::edit_key(v, &fp, |k| {
            k.roles.insert(Role::Reporter);
            k.name = Some(name.to_string());
        });
        v["head"] = serde_json::json!(id.to_string());
        v["seq"] = serde_json::json!(ids.len());
    });
    let canonical = crate::util::write_index(&dot, &state);
    let cp = reg::repo::ledger::sign_checkpoint(
        &state,
        reg::format::id::ObjectId::of(&canonical),
        "2026-01-01T00:00:00Z".into(),
        &root,
    )
    .unwrap();
    fs::write(dot.join("checkpoint"), cp).unwrap();
}

/// The key-trust of `op.pem.pub` as reporter that follows the head, named `name`: its payload
/// as a root-key holder would sign it, with no writer's check in the way.
fn trust_payload(s: &Sandbox, name: &str) -> Vec<u8> {
    let dot = s.dot();
    let (ids, _) = read_ids(&dot.join("ledger")).unwrap();
    let root = reg::crypto::keys::load_secret(&s.join("root.pem"), &mut |_| None).unwrap();
    let public = reg::crypto::keys::load_public(&s.join("op.pem.pub")).unwrap();
    let entry = Entry {
        header: Header {
            actor: root.public().fingerprint().clone(),
            prev: Some(*ids.last().unwrap()),
            registry: Some(ids[0]),
            seq: ids.len() as u64,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body: Body::KeyTrust(KeyTrust {
            key: KeyRef {
                fingerprint: public.fingerprint().clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            name: None,
            reason: "forged".into(),
            role: Role::Reporter,
        }),
    };
    let mut v: Value = serde_json::from_slice(&entry.to_payload().unwrap()).unwrap();
    v["name"] = Value::String(name.into());
    to_canonical_vec(&v).unwrap()
}

/// Golden-vector style: an entry without a name has exactly the bytes of a format before names
/// (no `name` member), a named one replays, and one whose name breaks the rule, forged by a
/// root-key holder past the writer's check, fails `reg ledger verify` naming the rule.
#[test]
fn a_named_key_trust_replays_and_a_forged_bad_name_fails_ledger_verify() {
    let (s, root, ..) = named_site();
    let unnamed = {
        let mut v: Value = serde_json::from_slice(&trust_payload(&s, "x")).unwrap();
        v.as_object_mut().unwrap().remove("name");
        to_canonical_vec(&v).unwrap()
    };
    let typed: Entry = {
        let (ids, _) = read_ids(&s.dot().join("ledger")).unwrap();
        let env = envelope::Unverified::parse(&Store::new(&s.dot()).get(&ids[2], 1 << 20).unwrap())
            .unwrap();
        Entry::from_envelope(&env).unwrap()
    };
    // The unnamed publisher trust round-trips without a `name` member.
    assert!(
        !String::from_utf8(typed.to_payload().unwrap())
            .unwrap()
            .contains("\"name\"")
    );
    assert!(!String::from_utf8_lossy(&unnamed).contains("\"name\""));

    // A good name, written by hand, replays (the writer is not what makes it valid).
    let good = crate::util::copy_site(&s, &root);
    append_trust(&good, &trust_payload(&good, ALICE), ALICE);
    let out = good.ok(&["ledger", "verify"]);
    assert!(out.starts_with("ledger OK: 4 entries"), "{out}");

    for (name, needle) in [
        ("n".repeat(65), "a key name is 1 to 64 bytes"),
        ("ali\u{7}ce".to_string(), "U+0007"),
    ] {
        let bad = crate::util::copy_site(&s, &root);
        append_trust(&bad, &trust_payload(&bad, &name), &name);
        let before = bad.snapshot();
        let err = bad.fails(1, &["ledger", "verify"]);
        assert!(err.contains("ledger entry 3"), "{err}");
        assert!(err.contains(needle), "{name:?}: {err}");
        assert_eq!(before, bad.snapshot());
    }
}

#[test]
fn show_names_the_compromised_key_a_model_rests_on() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    let publ = s.key("pub.pem");
    s.trust("op.pem.pub", "operator", "duty operator");
    s.ok(&[
        "key",
        "trust",
        "pub.pem.pub",
        "--role",
        "publisher",
        "--name",
        "model team",
        "--key",
        "root.pem",
        "--reason",
        "model engineering",
    ]);
    s.add_model("det", "1.0.0", &[("w.bin", "weights".into())]);
    s.ok(&[
        "key",
        "revoke",
        &publ,
        "--compromised",
        "--key",
        "root.pem",
        "--reason",
        "leaked",
    ]);
    let out = s.ok(&["show", "det@1.0.0"]);
    let named = format!("model team ({publ})");
    assert!(
        out.contains(&format!("suspended:   key {named} it rests on")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "revoked key: publisher key {named}, compromised at entry"
        )),
        "{out}"
    );
}

/// `reg key trust PUB --role R --name N` on a key that holds `R` already and has no name.
fn name_key(public: &str, role: &str, name: &str) -> Vec<String> {
    vec![
        "key".into(),
        "trust".into(),
        public.into(),
        "--role".into(),
        role.into(),
        "--name".into(),
        name.into(),
        "--key".into(),
        "root.pem".into(),
        "--reason".into(),
        format!("{public} is {name}"),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// FORMAT.md §5.3: a key trusted before names (the publisher here, the
/// genesis root key) is named by a key-trust of a role it holds, once; its roles are unchanged.
/// Renaming it, or naming it again, stays refused, and so does naming in a format-3 registry.
#[test]
fn an_existing_key_and_the_genesis_root_are_named_once_by_a_trust_of_a_role_they_hold() {
    let (s, root, _, publ) = named_site();
    let out = s.ok(&args(&name_key("pub.pem.pub", "publisher", "model team")));
    assert!(
        out.starts_with(&format!("named {publ} as model team (ledger entry 3 ")),
        "{out}"
    );
    let v: Value = serde_json::from_str(&s.ok(&[
        "key",
        "trust",
        "root.pem.pub",
        "--role",
        "root",
        "--name",
        "site root",
        "--key",
        "root.pem",
        "--reason",
        "the genesis root key, named",
        "--json",
    ]))
    .unwrap();
    crate::ingest::validate("write-result.schema.json", &v);
    assert_eq!(v["action"], "key-trust");
    assert_eq!(v["seq"], 4);
    assert_eq!(v["key"]["fingerprint"], root.as_str());
    assert_eq!(v["key"]["name"], "site root");
    assert_eq!(v["key"]["name_only"], true);
    assert_eq!(v["key"]["new"], false);
    assert_eq!(v["key"]["roles"], serde_json::json!(["root"]));
    let keys = key_list(&s);
    let by = |fp: &str| {
        keys.iter()
            .find(|k| k["fingerprint"] == fp)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&publ)["name"], "model team");
    assert_eq!(by(&publ)["roles"], serde_json::json!(["publisher"]));
    assert_eq!(by(&root)["name"], "site root");
    assert_eq!(by(&root)["roles"], serde_json::json!(["root"]));
    // The key's since and reason stay those of its first trust.
    assert_eq!(by(&publ)["reason"], "model team");
    assert!(
        s.ok(&["ledger", "verify"])
            .starts_with("ledger OK: 5 entries")
    );
    let log = s.ok(&["log"]);
    assert!(
        log.contains(&format!("name {publ} as model team (publisher)")),
        "{log}"
    );
    assert!(
        log.contains(&format!("name {root} as site root (root)")),
        "{log}"
    );
    // The first trust of the publisher still reads as a trust, with the name it has now.
    assert!(
        log.contains(&format!("trust model team ({publ}) as publisher")),
        "{log}"
    );

    // Set once: neither renamed nor named again.
    let before = s.snapshot();
    let err = s.fails(1, &args(&name_key("pub.pem.pub", "publisher", "models")));
    assert!(err.contains("is named `model team` already"), "{err}");
    let err = s.fails(
        1,
        &args(&name_key("pub.pem.pub", "publisher", "model team")),
    );
    assert!(
        err.contains(&format!("key {publ} already holds the publisher role")),
        "{err}"
    );
    // A trust of a held role without a name is refused as before.
    let err = s.fails(
        1,
        &[
            "key",
            "trust",
            "root.pem.pub",
            "--role",
            "root",
            "--key",
            "root.pem",
            "--reason",
            "again",
        ],
    );
    assert!(err.contains("already holds the root role"), "{err}");
    assert_eq!(before, s.snapshot(), "a refused name changed the registry");

    // Format 3 has no names, not even this way.
    let old = fixture("format3", &["root.pem", "op.pem", "pub.pem", "rep.pem"]);
    let before = old.snapshot();
    let err = old.fails(1, &args(&name_key("root.pem.pub", "root", "site root")));
    assert!(
        err.contains("naming a key needs a registry of format 4 or later; this one is format 3"),
        "{err}"
    );
    assert_eq!(before, old.snapshot());
}

/// FORMAT.md §5.3: two names that differ only in case (Unicode lowercase)
/// are one name, refused for a second key with the holder's spelling.
#[test]
fn names_are_unique_whatever_their_case() {
    let (s, _, op, _) = named_site();
    s.key("op2.pem");
    s.trust("op2.pem.pub", "operator", "night shift");
    let before = s.snapshot();
    for name in ["Alice, Duty Operator", "ALICE, DUTY OPERATOR"] {
        let err = s.fails(1, &args(&name_key("op2.pem.pub", "operator", name)));
        assert!(
            err.contains(&format!(
                "key name `{name}` is held by key {op} already (as `{ALICE}`)"
            )),
            "{err}"
        );
    }
    s.ok(&args(&name_key("pub.pem.pub", "publisher", "Émile")));
    let err = s.fails(1, &args(&name_key("op2.pem.pub", "operator", "éMILE")));
    assert!(err.contains("(as `Émile`)"), "{err}");
    let after = s.snapshot();
    assert_ne!(before, after);
    // Another name is fine.
    s.ok(&args(&name_key("op2.pem.pub", "operator", "bob")));
}

/// A key-trust of `public` as `role` named `name` following the head, as a root-key holder
/// would sign it past the writer's checks, appended with the checkpoint and state that say what
/// the forger wants (the key holding `role` and `name`): only replay can refuse it.
fn forge_trust(s: &Sandbox, public: &str, role: Role, name: &str) {
    let dot = s.dot();
    let root = reg::crypto::keys::load_secret(&s.join("root.pem"), &mut |_| None).unwrap();
    let public = reg::crypto::keys::load_public(&s.join(public)).unwrap();
    let fp = public.fingerprint().clone();
    let (ids, _) = read_ids(&dot.join("ledger")).unwrap();
    let entry = Entry {
        header: Header {
            actor: root.public().fingerprint().clone(),
            prev: Some(*ids.last().unwrap()),
            registry: Some(ids[0]),
            seq: ids.len() as u64,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body: Body::KeyTrust(KeyTrust {
            key: KeyRef {
                fingerprint: fp.clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            name: Some(name.into()),
            reason: "forged".into(),
            role,
        }),
    };
    let payload = entry.to_payload().unwrap();
    let state: State = crate::util::read_index(&dot);
    let signed = envelope::sign_bytes(Kind::KeyTrust, &payload, &root).unwrap();
    let id = Store::new(&dot).put_bytes(&signed).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    let state = crate::util::forge_state(&state, |v| {
        crate::util::edit_key(v, &fp, |k| {
            k.roles.insert(role);
            k.name = Some(name.to_string());
        });
        v["head"] = serde_json::json!(id.to_string());
        v["seq"] = serde_json::json!(ids.len());
    });
    let canonical = crate::util::write_index(&dot, &state);
    let cp = reg::repo::ledger::sign_checkpoint(
        &state,
        reg::format::id::ObjectId::of(&canonical),
        "2026-01-01T00:00:00Z".into(),
        &root,
    )
    .unwrap();
    fs::write(dot.join("checkpoint"), cp).unwrap();
}

/// Replay holds the naming rule and the case rule as the writer does: a hand-written entry
/// naming the unnamed publisher by its role replays; one naming a named key again by a role it
/// holds, one renaming it, and one giving a second key a name differing only in case each fail
/// `reg ledger verify` at that entry.
#[test]
fn a_forged_trust_breaking_the_naming_or_the_case_rule_fails_ledger_verify() {
    let (s, root, ..) = named_site();
    let good = crate::util::copy_site(&s, &root);
    forge_trust(&good, "pub.pem.pub", Role::Publisher, "model team");
    let out = good.ok(&["ledger", "verify"]);
    assert!(out.starts_with("ledger OK: 4 entries"), "{out}");

    for (public, role, name, needle) in [
        (
            "op.pem.pub",
            Role::Operator,
            ALICE,
            "already holds the operator role",
        ),
        (
            "op.pem.pub",
            Role::Operator,
            "bob",
            "is named `alice, duty operator` already",
        ),
        (
            "pub.pem.pub",
            Role::Publisher,
            "Alice, duty operator",
            "is held by key",
        ),
        (
            "pub.pem.pub",
            Role::Operator,
            "ALICE, duty operator",
            "is held by key",
        ),
    ] {
        let bad = crate::util::copy_site(&s, &root);
        forge_trust(&bad, public, role, name);
        let before = bad.snapshot();
        let err = bad.fails(1, &["ledger", "verify"]);
        assert!(err.contains("ledger entry 3"), "{name:?}: {err}");
        assert!(err.contains(needle), "{name:?}: {err}");
        assert_eq!(before, bad.snapshot());
    }
}

/// `reg import --dry-run` names the keys whose trust the file changes, with
/// the reason of the entry that changes it, in text and JSON (schema/import.schema.json), so an
/// operator reads who a medium would let in before letting it in.
#[test]
fn import_dry_run_names_the_keys_it_would_trust_and_why() {
    let (a, root, _, publ) = named_site();
    let b = crate::util::copy_site(&a, &root);
    let op2 = a.key("op2.pem");
    a.ok(&[
        "key",
        "trust",
        "op2.pem.pub",
        "--role",
        "operator",
        "--name",
        "bob",
        "--key",
        "root.pem",
        "--reason",
        "night shift",
    ]);
    a.ok(&args(&name_key("pub.pem.pub", "publisher", "model team")));
    let cp = a.join("b.checkpoint");
    fs::copy(b.dot().join("checkpoint"), &cp).unwrap();
    a.ok(&["export", "t.regx", "--since", cp.to_str().unwrap()]);
    fs::copy(a.join("t.regx"), b.join("t.regx")).unwrap();
    let before = b.snapshot();
    let out = b.ok(&["import", "t.regx", "--dry-run"]);
    assert!(
        out.contains(&format!(
            "  key bob ({op2}): trusted as operator: night shift"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  key model team ({publ}): trusted as publisher: pub.pem.pub is model team"
        )),
        "{out}"
    );
    let v: Value =
        serde_json::from_str(&b.ok(&["import", "t.regx", "--dry-run", "--json"])).unwrap();
    crate::ingest::validate("import.schema.json", &v);
    let keys = v["keys"].as_array().unwrap();
    let by = |fp: &str| {
        keys.iter()
            .find(|k| k["fingerprint"] == fp)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&op2)["name"], "bob");
    assert_eq!(by(&op2)["reason"], "night shift");
    assert_eq!(by(&op2)["roles"], serde_json::json!(["operator"]));
    assert_eq!(by(&publ)["name"], "model team");
    assert_eq!(by(&publ)["reason"], "pub.pem.pub is model team");
    assert_eq!(before, b.snapshot(), "a dry run changed the registry");
}

/// `reg drift list` (one model, and `--all`) names the reporter beside its
/// fingerprint, in text and in JSON (`reporter_name`, schema/drift-list.schema.json).
#[test]
fn drift_list_names_the_reporter() {
    let (s, ..) = named_site();
    let rep = s.key("rep.pem");
    s.ok(&[
        "key",
        "trust",
        "rep.pem.pub",
        "--role",
        "reporter",
        "--name",
        "monitoring",
        "--key",
        "root.pem",
        "--reason",
        "monitoring pipeline",
    ]);
    s.add_model("det", "1.0.0", &[("a.yar", "rule a {}".into())]);
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    s.example_observation("obs.json");
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let out = s.ok(&["drift", "list", "det@1.0.0"]);
    assert!(out.contains(&format!("by monitoring ({rep})")), "{out}");
    let out = s.ok(&["drift", "list", "--all"]);
    assert!(
        out.contains(&format!("det@1.0.0 by monitoring ({rep})")),
        "{out}"
    );
    let v: Value = serde_json::from_str(&s.ok(&["drift", "list", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("drift-list.schema.json", &v);
    assert_eq!(v[0]["reporter"], rep.as_str());
    assert_eq!(v[0]["reporter_name"], "monitoring");
}

/// `owner` and `license` (FORMAT.md §7.1) refuse whitespace at either end
/// as key names do, in the one identifier check: `reg bundle pack` before signing (exit 2, as a
/// control character), and `reg add` of a manifest signed past that check (exit 1), unchanged.
#[test]
fn owner_and_license_refuse_whitespace_at_either_end_as_key_names_do() {
    use crate::craft::{file, good_tar, load, manifest_for};
    let s = Sandbox::new();
    s.init_with_roles();
    fs::create_dir_all(s.join("m")).unwrap();
    fs::write(s.join("m/rules.yar"), "rule m {}\n").unwrap();
    for (flag, value) in [("--owner", " DFIR"), ("--license", "MIT ")] {
        let err = s.fails(
            2,
            &crate::util::pack_args("m", "bad.tar", "pub.pem", "m", "1.0.0")
                .iter()
                .map(String::as_str)
                .chain([flag, value])
                .collect::<Vec<_>>(),
        );
        assert!(
            err.contains(&format!("`{value}`")) && err.contains("no whitespace at either end"),
            "{err}"
        );
        assert!(!s.join("bad.tar").exists());
    }
    let publisher = load(&s, "pub.pem");
    let files = vec![file("model.bin", b"weights")];
    let mut m = manifest_for(&files, "m", "1.0.0", &publisher);
    m.owner = Some("DFIR team ".into());
    let signed =
        envelope::sign_bytes(Kind::Manifest, &to_canonical_vec(&m).unwrap(), &publisher).unwrap();
    fs::write(s.join("x.tar"), good_tar(&signed, &files)).unwrap();
    let before = s.snapshot();
    let err = s.fails(1, &["add", "x.tar", "--key", "op.pem"]);
    assert!(
        err.contains("owner `DFIR team") && err.contains("no whitespace at either end"),
        "{err}"
    );
    assert_eq!(before, s.snapshot());
}

#[test]
fn a_name_of_hex_digits_that_could_pass_for_a_fingerprint_is_refused() {
    let (s, root, op, _) = named_site();
    s.key("k7.pem");
    let before = s.snapshot();
    // A reporter named as the operator's fingerprint (or a prefix of it) would hide the
    // operator's entries from `reg log --actor`.
    for name in [op.as_str(), &op[..8], "DEADBEEF"] {
        let err = s.fails(
            2,
            &[
                "key",
                "trust",
                "k7.pem.pub",
                "--role",
                "reporter",
                "--name",
                name,
                "--key",
                "root.pem",
                "--reason",
                "monitoring",
            ],
        );
        assert!(err.contains("hex digits only"), "{err}");
    }
    assert_eq!(before, s.snapshot());
    // The root's entries are still found by a prefix of its fingerprint.
    let rows: Value =
        serde_json::from_str(&s.ok(&["log", "--actor", &root[..8], "--json"])).unwrap();
    assert!(!rows.as_array().unwrap().is_empty());
}
