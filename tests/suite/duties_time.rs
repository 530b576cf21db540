//! Governance for years: one role withdrawn from a key without revoking it, duties kept
//! apart under the policy's `separate_duties` (FORMAT.md §5.3, §5.5), entry times that only move
//! forward (§5.1 rule 5) and what fsck and `log` say of an older registry whose times go back,
//! a successor registry that records which history it continues (§5.2), and the root rotation
//! runbook: a new root, the old one retired, a new `--head` floor that refuses a copy the old
//! root extended (§8).
//!
//! Registries are built with the CLI; `separate_duties` is set through the library
//! (`reg::ops::config::set_policy`) until `reg policy set` takes it. Each rule that replay
//! enforces is also shown refusing an entry forged by hand with a real key.

use crate::util::{Sandbox, cp_a, pack_args};
use reg::crypto::envelope::{self, Kind};
use reg::crypto::keys::SecretKey;
use reg::format::entry::{Body, KeyRef, KeyTrust, Policy, PolicyDoc, Role, Transition};
use reg::format::formats::Format;
use reg::format::id::ObjectId;
use reg::format::lifecycle::LifecycleState;
use reg::ops::config::ConfigError;
use reg::repo::ledger::Checkpoint;
use reg::repo::registry::{Registry, RegistryError};
use reg::repo::store::Store;
use reg::state::{Duty, State, StateError};
use reg::util::encoding::b64_encode;
use std::fs;
use std::path::Path;

// ---- helpers ----

/// Opens the sandbox's registry as the CLI would, with its host trust file and state, and its
/// clock (`SOURCE_DATE_EPOCH`).
fn open(s: &Sandbox) -> Registry {
    let mut opts = s.options();
    opts.clock = reg::util::encoding::Clock::from_epoch_text(crate::util::EPOCH);
    Registry::open(&s.dot(), &opts).unwrap()
}

/// Turns the policy's `separate_duties` on (keeping the rest of the policy), signed by
/// `root.pem`, through the library.
fn separate_duties(s: &Sandbox) -> Result<(), ConfigError> {
    let reg = open(s);
    let current = reg.state().unwrap().policy().clone();
    let root = crate::craft::load(s, "root.pem");
    reg::ops::config::set_policy(
        &reg,
        &root,
        PolicyDoc {
            separate_duties: true,
            ..current
        },
        "duties kept apart",
    )
    .map(|_| ())
}

/// The duty a refused policy or entry names, from the library's typed error.
fn duty(e: ConfigError) -> Duty {
    match e {
        ConfigError::Registry(RegistryError::Refused(StateError::DutiesApart(d))) => d,
        other => panic!("expected a duties refusal, got {other:?}"),
    }
}

/// Writes one file into `dir` and packs it as `name@version`, signed by `key`; returns the tar.
fn pack(s: &Sandbox, key: &str, name: &str, version: &str) -> String {
    let dir = format!("m-{name}-{version}");
    fs::create_dir_all(s.join(&dir)).unwrap();
    fs::write(
        s.join(&format!("{dir}/rules.yar")),
        format!("rule {name} {{ condition: true }} // {version}\n"),
    )
    .unwrap();
    let out = format!("{dir}.tar");
    let args = pack_args(&dir, &out, key, name, version);
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out
}

/// The state `index/state.json` holds (the last write made it, and verified it).
fn current_state(s: &Sandbox) -> State {
    let mut state: State = crate::util::read_index(&s.dot());
    state.index_names();
    state
}

/// Appends `body` after the head, signed by `key` with its real signature and dated `time`,
/// with a checkpoint `key` signs over it: what whoever holds the medium and that key can write
/// without reg's writer. Returns the entry's seq and id.
fn forge(s: &Sandbox, key: &SecretKey, time: &str, body: Body) -> (u64, ObjectId) {
    let state = current_state(s);
    let entry = crate::util::next_entry(&state, key.public().fingerprint(), time, body);
    let bytes = envelope::sign_bytes(entry.body.kind(), &entry.to_payload().unwrap(), key).unwrap();
    let id = Store::new(&s.dot()).put_bytes(&bytes).unwrap();
    let mut ledger = fs::read(s.dot().join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(s.dot().join("ledger"), ledger).unwrap();
    let cp = Checkpoint {
        head: id,
        registry: state.registry(),
        seq: entry.header.seq,
        state: state.hash(),
        time: time.into(),
    };
    fs::write(
        s.dot().join("checkpoint"),
        envelope::sign(Kind::Checkpoint, &cp, key).unwrap(),
    )
    .unwrap();
    (entry.header.seq, id)
}

/// `reg ledger verify` and `reg fsck` refuse the forged entry `seq` (`id`), saying `detail`.
fn replay_refuses(s: &Sandbox, seq: u64, id: &ObjectId, detail: &str) {
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(
        err.contains(&format!("ledger entry {seq} ({id})")),
        "the entry is named: {err}"
    );
    assert!(err.contains(detail), "expected `{detail}` in: {err}");
    let out = s.reg().args(["fsck", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "fsck must FAIL");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["code"] == "ledger-invalid" && f["message"].as_str().unwrap().contains(detail)
        }),
        "{report}"
    );
}

/// A copy of the frozen format-3 registry (`tests/fixtures/format3`) with its keys, pinned.
fn format3() -> Sandbox {
    crate::util::fixture("format3", &["root.pem", "op.pem", "pub.pem", "rep.pem"])
}

/// `reg key list --json`'s entry for `fp`.
fn listed(s: &Sandbox, fp: &str) -> serde_json::Value {
    let keys: serde_json::Value = serde_json::from_str(&s.ok(&["key", "list", "--json"])).unwrap();
    keys.as_array()
        .unwrap()
        .iter()
        .find(|k| k["fingerprint"] == fp)
        .unwrap_or_else(|| panic!("{fp} is listed: {keys}"))
        .clone()
}

fn withdraw<'a>(fp: &'a str, role: &'a str, key: &'a str) -> [&'a str; 9] {
    [
        "key", "withdraw", fp, "--role", role, "--reason", "duties", "--key", key,
    ]
}

fn trust<'a>(public: &'a str, role: &'a str) -> [&'a str; 9] {
    [
        "key", "trust", public, "--role", role, "--key", "root.pem", "--reason", "grant",
    ]
}

// ---- withdrawing one role ----

#[test]
fn a_withdrawn_role_is_gone_and_the_key_keeps_its_others() {
    let s = Sandbox::new();
    let (_, op, _) = s.init_with_roles();
    s.trust("op.pem.pub", "reporter", "drift too");
    let out = s.ok(&withdraw(&op, "operator", "root.pem"));
    assert!(
        out.starts_with(&format!(
            "withdrew operator from {op}, which keeps reporter (ledger entry 4 "
        )),
        "{out}"
    );
    let key = listed(&s, &op);
    assert_eq!(key["roles"], serde_json::json!(["reporter"]), "{key}");
    assert_eq!(key["status"], "trusted", "{key}");
    let table = s.ok(&["key", "list"]);
    let row = table.lines().find(|l| l.starts_with(&op)).unwrap();
    assert!(
        row.contains(" reporter ") && !row.contains("operator"),
        "{row}"
    );

    // The key no longer signs what the role signed; its other role still works.
    let tar = pack(&s, "pub.pem", "det", "1.0.0");
    let before = s.snapshot();
    let err = s.fails(1, &["add", &tar, "--key", "op.pem"]);
    assert!(
        err.contains(&format!(
            "key {op} signed a add entry but does not hold the operator role"
        )),
        "{err}"
    );
    assert_eq!(before, s.snapshot(), "a refused add wrote something");

    // The ledger says what happened, and the role can be granted again.
    let log = s.ok(&["log"]);
    assert!(
        log.contains(&format!("key-withdraw: withdraw role operator from {op}")),
        "{log}"
    );
    let json: serde_json::Value = serde_json::from_str(&s.ok(&["log", "--json"])).unwrap();
    crate::ingest::validate("log.schema.json", &json);
    s.ok(&trust("op.pem.pub", "operator"));
    s.ok(&["add", &tar, "--key", "op.pem"]);
    assert_eq!(
        listed(&s, &op)["roles"],
        serde_json::json!(["operator", "reporter"])
    );
    s.ok(&["ledger", "verify"]);
}

#[test]
fn withdrawing_refuses_a_role_not_held_the_only_role_and_the_last_roots_root() {
    let s = Sandbox::new();
    let (root, op, publ) = s.init_with_roles();
    let before = s.snapshot();
    let refused = |args: &[&str], message: &str, hint: &str| {
        let err = s.fails(1, args);
        assert!(err.contains(message), "expected `{message}` in: {err}");
        assert!(err.contains(&format!("hint: {hint}")), "{err}");
        assert_eq!(before, s.snapshot(), "a refused withdrawal wrote something");
    };
    refused(
        &withdraw(&op, "publisher", "root.pem"),
        &format!("error: key {op} does not hold the publisher role"),
        "`reg key list` shows the keys and their roles",
    );
    refused(
        &withdraw(&publ, "publisher", "root.pem"),
        &format!("error: publisher is the only role of key {publ}: revoke the key instead"),
        &format!("`reg key revoke {publ}` revokes the key"),
    );
    // The root key also holds reporter: root is still not withdrawn from the last root.
    s.trust("root.pem.pub", "reporter", "drift");
    let before = s.snapshot();
    let err = s.fails(1, &withdraw(&root, "root", "root.pem"));
    assert!(
        err.contains(&format!(
            "error: refusing to withdraw root from {root}: it is the last unrevoked root key"
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: trust another root key first (`reg key trust NEW.pub --role root`), then withdraw root from this one"),
        "{err}"
    );
    assert_eq!(before, s.snapshot());
    // Only a root key withdraws.
    let err = s.fails(1, &withdraw(&op, "operator", "op.pem"));
    assert!(
        err.contains("signed a key-withdraw entry but does not hold the root role"),
        "{err}"
    );
    assert_eq!(before, s.snapshot());
    // With a second root, the first gives root up and keeps reporter.
    let root2 = s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "second root");
    s.ok(&withdraw(&root, "root", "root2.pem"));
    assert_eq!(listed(&s, &root)["roles"], serde_json::json!(["reporter"]));
    assert_eq!(listed(&s, &root2)["roles"], serde_json::json!(["root"]));
    s.ok(&["ledger", "verify"]);
}

// ---- duties kept apart ----

#[test]
fn separate_duties_is_refused_while_a_key_holds_publisher_and_operator() {
    let s = Sandbox::new();
    s.init_with_roles();
    // Before the policy, one key publishes and admits its own model.
    let k = s.key("k.pem");
    s.trust("k.pem.pub", "publisher", "team");
    s.trust("k.pem.pub", "operator", "and site");
    let tar = pack(&s, "k.pem", "det", "1.0.0");
    s.ok(&["add", &tar, "--key", "k.pem"]);

    let before = s.snapshot();
    let refused = separate_duties(&s).unwrap_err();
    let d = duty(refused);
    assert_eq!(d, Duty::BothHeld(k.parse().unwrap()));
    assert_eq!(
        StateError::DutiesApart(d).to_string(),
        format!(
            "the policy keeps duties apart: key {k} holds both publisher and operator; withdraw one of them first"
        )
    );
    assert_eq!(before, s.snapshot(), "a refused policy wrote something");

    s.ok(&withdraw(&k, "operator", "root.pem"));
    separate_duties(&s).unwrap();
    assert!(current_state(&s).policy().separate_duties);
    s.ok(&["ledger", "verify"]);
}

#[test]
fn under_separate_duties_no_key_is_granted_both_publisher_and_operator() {
    let s = Sandbox::new();
    let (_, op, publ) = s.init_with_roles();
    separate_duties(&s).unwrap();
    let before = s.snapshot();
    for (public, role, fp, held) in [
        ("pub.pem.pub", "operator", &publ, "publisher"),
        ("op.pem.pub", "publisher", &op, "operator"),
    ] {
        let err = s.fails(1, &trust(public, role));
        assert!(
            err.contains(&format!(
                "error: the policy keeps duties apart: key {fp} holds {held} and may not also hold {role}"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "hint: trust another key as {role}, or withdraw {held} from this one first (`reg key withdraw {fp} --role {held} --reason TEXT --key ROOT.pem`)"
            )),
            "{err}"
        );
        assert_eq!(before, s.snapshot(), "a refused grant wrote something");
    }
    // Other roles are granted as before.
    s.ok(&trust("pub.pem.pub", "reporter"));
}

/// A registry where key `k.pem` published `det@1.0.0` (admitted by `op.pem`), packed `det@2.0.0`
/// too, and since, under `separate_duties`, gave up publisher and became an operator. Returns
/// k's fingerprint and the record id of `det@1.0.0`.
fn publisher_turned_operator(s: &Sandbox) -> (String, ObjectId) {
    s.init_with_roles();
    let k = s.key("k.pem");
    s.trust("k.pem.pub", "publisher", "team");
    s.trust("k.pem.pub", "reporter", "monitoring");
    let one = pack(s, "k.pem", "det", "1.0.0");
    s.ok(&["add", &one, "--key", "op.pem"]);
    pack(s, "k.pem", "det", "2.0.0");
    separate_duties(s).unwrap();
    s.ok(&withdraw(&k, "publisher", "root.pem"));
    s.ok(&trust("k.pem.pub", "operator"));
    let state = current_state(s);
    let (record, _) = state.find("det", "1.0.0").unwrap();
    (k, *record)
}

#[test]
fn the_key_that_published_a_model_neither_promotes_nor_admits_it() {
    let s = Sandbox::new();
    let (k, _) = publisher_turned_operator(&s);
    let before = s.snapshot();
    let err = s.fails(
        1,
        &["promote", "det@1.0.0", "--reason", "ok", "--key", "k.pem"],
    );
    assert!(
        err.contains(&format!(
            "error: the policy keeps duties apart: key {k} published det@1.0.0 and may not promote it"
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: another operator key must sign this"),
        "{err}"
    );
    assert_eq!(before, s.snapshot(), "a refused promotion wrote something");

    // Its other bundle: refused on the manifest's signature, before any artifact is staged.
    let err = s.fails(1, &["add", "m-det-2.0.0.tar", "--key", "k.pem"]);
    assert!(
        err.contains(&format!(
            "key {k} is trusted as operator, reporter but not as publisher"
        )),
        "{err}"
    );
    assert_eq!(before, s.snapshot(), "a refused add staged something");

    // The gate still denies it, not approved; another operator approves it, and it allows.
    assert_eq!(
        gate(&s, "m-det-1.0.0/rules.yar"),
        (false, "not-approved".into())
    );
    s.ok(&[
        "promote",
        "det@1.0.0",
        "--reason",
        "reviewed",
        "--key",
        "op.pem",
    ]);
    assert_eq!(gate(&s, "m-det-1.0.0/rules.yar"), (true, "promoted".into()));
}

/// `reg check FILE --json`'s decision: allowed, and its code.
fn gate(s: &Sandbox, file: &str) -> (bool, String) {
    let out = s.reg().args(["check", file, "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    let allowed = v[0]["allowed"].as_bool().unwrap();
    assert_eq!(out.status.code(), Some(if allowed { 0 } else { 1 }), "{v}");
    (allowed, v[0]["code"].as_str().unwrap().to_string())
}

#[test]
fn replay_refuses_a_promotion_forged_by_the_models_publisher() {
    let s = Sandbox::new();
    let (k, record) = publisher_turned_operator(&s);
    let state = current_state(&s);
    let previous = state.models()[&record].entry;
    let (seq, id) = forge(
        &s,
        &crate::craft::load(&s, "k.pem"),
        "2026-01-01T00:00:00Z",
        Body::Transition(Transition {
            deny: false,
            from: LifecycleState::Registered,
            model: record,
            previous,
            reason: "my own".into(),
            slots: vec![],
            to: LifecycleState::Promoted,
        }),
    );
    replay_refuses(
        &s,
        seq,
        &id,
        &format!(
            "the policy keeps duties apart: key {k} published det@1.0.0 and may not promote it"
        ),
    );
    // Its bytes stay denied: the forged approval counts for nothing.
    let out = s
        .reg()
        .args(["check", "m-det-1.0.0/rules.yar", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"allowed\":true"));
}

#[test]
fn replay_refuses_a_grant_forged_to_join_publisher_and_operator() {
    let s = Sandbox::new();
    let (_, _, publ) = s.init_with_roles();
    separate_duties(&s).unwrap();
    let public = reg::crypto::keys::load_public(&s.join("pub.pem.pub")).unwrap();
    let (seq, id) = forge(
        &s,
        &crate::craft::load(&s, "root.pem"),
        "2026-01-01T00:00:00Z",
        Body::KeyTrust(KeyTrust {
            name: None,
            key: KeyRef {
                fingerprint: public.fingerprint().clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            reason: "both".into(),
            role: Role::Operator,
        }),
    );
    replay_refuses(
        &s,
        seq,
        &id,
        &format!("key {publ} holds publisher and may not also hold operator"),
    );
}

#[test]
fn a_format_3_registry_refuses_separate_duties() {
    let s = format3();
    let before = s.snapshot();
    let err = separate_duties(&s).unwrap_err();
    assert!(
        matches!(
            &err,
            ConfigError::Registry(RegistryError::Refused(StateError::NeedsFormat {
                what: "separate_duties",
                needs: 4,
                version: 3
            }))
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "separate_duties needs a registry of format 4 or later; this one is format 3"
    );
    assert_eq!(before, s.snapshot());
}

// ---- time only moves forward ----

#[test]
fn a_write_whose_clock_reads_before_the_last_entry_is_refused() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    let before = s.snapshot();
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", "1767139200") // 2025-12-31
        .args(trust("op.pem.pub", "operator"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: the entry is dated 2025-12-31T00:00:00Z, before the entry it follows (2026-01-01T00:00:00Z): entry times only move forward"),
        "{err}"
    );
    assert!(
        err.contains("hint: check this host's clock (`date`) and SOURCE_DATE_EPOCH"),
        "{err}"
    );
    assert_eq!(before, s.snapshot(), "a refused write wrote something");
    // The same second as the last entry is not earlier.
    s.ok(&trust("op.pem.pub", "operator"));
}

#[test]
fn replay_refuses_entries_dated_before_the_one_they_follow() {
    // An operator trusted in 1970, after a genesis of 2026.
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    let public = reg::crypto::keys::load_public(&s.join("op.pem.pub")).unwrap();
    let (seq, id) = forge(
        &s,
        &crate::craft::load(&s, "root.pem"),
        "1970-01-01T00:00:00Z",
        Body::KeyTrust(KeyTrust {
            name: None,
            key: KeyRef {
                fingerprint: public.fingerprint().clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            reason: "ops".into(),
            role: Role::Operator,
        }),
    );
    replay_refuses(
        &s,
        seq,
        &id,
        "the entry is dated 1970-01-01T00:00:00Z, before the entry it follows (2026-01-01T00:00:00Z): entry times only move forward",
    );

    // A policy change backdated to 2000, after a write of 2026.
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    s.ok(&trust("op.pem.pub", "operator"));
    let (seq, id) = forge(
        &s,
        &crate::craft::load(&s, "root.pem"),
        "2000-01-01T00:00:00Z",
        Body::Policy(Policy {
            policy: PolicyDoc {
                refuse_formats: vec![Format::Pickle],
                ..PolicyDoc::default()
            },
            reason: "backdated".into(),
        }),
    );
    replay_refuses(
        &s,
        seq,
        &id,
        "the entry is dated 2000-01-01T00:00:00Z, before the entry it follows (2026-01-01T00:00:00Z)",
    );
}

#[test]
fn fsck_and_log_mark_an_older_registrys_entry_dated_before_its_predecessor() {
    let s = format3();
    // Format 3 had no time rule: its writer still takes an entry dated 2023 after 2026.
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", "1700000000") // 2023-11-14T22:13:20Z
        .args(trust("rep.pem.pub", "operator"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Forward again from there: not marked.
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", "1700000060")
        .args(trust("op.pem.pub", "reporter"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let back = s.ledger_ids()[15].clone();

    let out = s.reg().args(["fsck", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a warning only: fsck passes");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("fsck-report.schema.json", &report);
    let found: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "time-backwards")
        .collect();
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["severity"], "warning");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "entry 15 is dated 2023-11-14T22:13:20Z, before entry 14 (2026-01-01T00:00:00Z)"
        ),
        "{message}"
    );
    assert!(
        found[0]["path"].as_str().unwrap().ends_with(&back[2..]),
        "{}",
        found[0]
    );
    let text = s.ok(&["fsck"]);
    assert!(text.contains("warning[time-backwards]"), "{text}");

    let log = s.ok(&["log"]);
    let marked: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("  warning: "))
        .collect();
    assert_eq!(
        marked,
        [
            "  warning: dated before entry 14 (2026-01-01T00:00:00Z): this registry's format did not refuse it"
        ],
        "{log}"
    );
    let entry15 = log.split(&format!("entry 15 {back}")).nth(1).unwrap();
    assert!(
        entry15
            .split("\nentry ")
            .next()
            .unwrap()
            .contains("  warning: dated before entry 14"),
        "the mark is on entry 15: {log}"
    );
    let json: serde_json::Value = serde_json::from_str(&s.ok(&["log", "--json"])).unwrap();
    crate::ingest::validate("log.schema.json", &json);
    let warned: Vec<u64> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("warning").is_some())
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(warned, [15]);
}

// ---- roots over the years ----

/// Entry 0's payload in `dot` (the genesis), as JSON.
fn genesis(dot: &Path) -> serde_json::Value {
    let ledger = fs::read_to_string(dot.join("ledger")).unwrap();
    let id = ledger.lines().next().unwrap();
    let bytes = fs::read(dot.join("objects").join(&id[..2]).join(&id[2..])).unwrap();
    let env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let payload = reg::util::encoding::b64_decode(env["payload"].as_str().unwrap()).unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn a_successor_records_which_registry_and_head_it_continues() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }".into())],
    );
    let old_id: String = serde_json::from_slice::<serde_json::Value>(
        &fs::read(s.dot().join("config.json")).unwrap(),
    )
    .unwrap()["registry_id"]
        .as_str()
        .unwrap()
        .to_string();
    let head = s.ledger_ids()[3].clone();
    let new_root = s.key("new.pem");
    let said = format!("succeeds registry {old_id} at entry 3 ({head})");

    let out = s.ok(&["init", "next", "--root-key", "new.pem", "--succeeds", "."]);
    assert!(out.contains(&said), "{out}");
    let g = genesis(&s.join("next/.registry"));
    assert_eq!(
        g["succeeds"],
        serde_json::json!({"head": head, "registry": old_id, "seq": 3}),
        "{g}"
    );
    assert_eq!(g["actor"], new_root.as_str());
    let next = ["--registry", "next"];
    s.ok(&[&next[..], &["ledger", "verify"]].concat());
    let status = s.ok(&[&next[..], &["status"]].concat());
    assert!(
        status.contains(&format!("this registry {said}")),
        "{status}"
    );
    let log = s.ok(&[&next[..], &["log"]].concat());
    assert!(log.contains(&format!("; {said}")), "{log}");

    // The same, named by hand as this site last verified it.
    let named = format!("{old_id}:3:{head}");
    s.ok(&[
        "init",
        "named",
        "--root-key",
        "new.pem",
        "--succeeds",
        &named,
    ]);
    assert_eq!(
        genesis(&s.join("named/.registry"))["succeeds"],
        g["succeeds"]
    );
}

#[test]
fn a_registry_this_host_has_not_pinned_is_not_succeeded() {
    let s = Sandbox::new();
    let root = s.init();
    s.key("new.pem");
    fs::remove_file(s.trust_file()).unwrap();
    let err = s.fails(
        1,
        &["init", "next", "--root-key", "new.pem", "--succeeds", "."],
    );
    assert!(
        err.contains(&format!(
            "(root {root}) is not pinned on this host: its history was checked only against itself, so a successor cannot name it"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("hint: pin it first, with the root fingerprint and head code its owner reads to you out of band: `reg --registry PATH trust add {root} --head CODE`")),
        "{err}"
    );
    assert!(!s.join("next").exists(), "nothing was created");
    // A registry whose ledger does not verify is not succeeded either.
    s.ok(&["trust", "add", &root]);
    let genesis_id = s.ledger_ids()[0].clone();
    crate::util::make_writable(&s.object_path(&genesis_id));
    fs::write(s.object_path(&genesis_id), b"{}").unwrap();
    s.fails(
        1,
        &["init", "next", "--root-key", "new.pem", "--succeeds", "."],
    );
    assert!(!s.join("next").exists(), "nothing was created");
}

#[test]
fn a_format_3_registry_can_be_succeeded() {
    let s = format3();
    let old_id = genesis(&s.dot());
    assert_eq!(old_id["format_version"], 3);
    let id = s.ledger_ids()[0].clone();
    let head = s.ledger_ids()[14].clone();
    s.key("new.pem");
    s.ok(&["init", "next", "--root-key", "new.pem", "--succeeds", "."]);
    let g = genesis(&s.join("next/.registry"));
    assert_eq!(g["format_version"], 5);
    assert_eq!(
        g["succeeds"],
        serde_json::json!({"head": head, "registry": id, "seq": 14})
    );
    s.ok(&["--registry", "next", "ledger", "verify"]);
    let status = s.ok(&["--registry", "next", "status"]);
    assert!(
        status.contains(&format!("succeeds registry {id} at entry 14 ({head})")),
        "{status}"
    );
}

/// Puts a copy of `from`'s registry in `to` (replacing any), as a medium is carried.
fn carry(from: &Sandbox, to: &Sandbox) {
    if to.dot().exists() {
        for e in walkdir::WalkDir::new(to.dot()) {
            crate::util::make_writable(e.unwrap().path());
        }
        fs::remove_dir_all(to.dot()).unwrap();
    }
    cp_a(&from.dot(), &to.dot());
}

#[test]
fn a_root_rotation_hands_out_a_head_floor_that_refuses_what_the_old_root_signs_since() {
    let home = Sandbox::new();
    let (root, _, _) = home.init_with_roles();
    home.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }".into())],
    );
    let code_before = home.ok(&["status", "--code"]).trim().to_string();
    // A copy made before the rotation, still writable by whoever holds the old root key.
    let stale = crate::util::copy_site(&home, &root);

    // The runbook: a new root, the old one retired, a new head code read to every host.
    let root2 = home.key("root2.pem");
    home.trust("root2.pem.pub", "root", "rotation: new root");
    home.ok(&[
        "key",
        "revoke",
        &root,
        "--key",
        "root2.pem",
        "--reason",
        "rotation: retired",
    ]);
    assert_eq!(listed(&home, &root)["status"], "revoked");
    assert_eq!(listed(&home, &root2)["roles"], serde_json::json!(["root"]));
    let code = home.ok(&["status", "--code"]).trim().to_string();
    assert!(code.starts_with("5-"), "{code}");
    assert_ne!(code, code_before);

    // The old root key extends its copy past the rotation: an operator of its choosing.
    home.key("evil.pem");
    fs::copy(home.join("evil.pem.pub"), stale.join("evil.pem.pub")).unwrap();
    stale.ok(&trust("evil.pem.pub", "operator"));
    stale.ok(&trust("evil.pem.pub", "reporter"));
    stale.ok(&trust("evil.pem.pub", "timestamp"));
    stale.ok(&["ledger", "verify"]);

    // A host that pins by fingerprint alone, on first contact, takes that copy: the floor is
    // what tells the two apart.
    let naive = Sandbox::new();
    carry(&stale, &naive);
    naive.ok(&["trust", "add", &root]);
    naive.ok(&["ledger", "verify"]);

    // A host pinned with the new floor, on the genuine medium.
    let host = Sandbox::new();
    carry(&home, &host);
    host.ok(&["trust", "add", &root, "--head", &code]);
    host.ok(&["ledger", "verify"]);
    // Shown the old root's copy, whatever this host recorded: its history lacks the floor's entry.
    let _ = fs::remove_dir_all(host.join("home/.local/state"));
    carry(&stale, &host);
    let before = host.snapshot();
    for args in [&["ledger", "verify"][..], &["key", "list"], &["status"]] {
        let err = host.fails(1, args);
        assert!(
            err.contains("which its pin on this host requires (it has "),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("refusing a truncated or diverging medium"),
            "{err}"
        );
    }
    // Nor does the old root key write through the pin.
    for key in ["root.pem", "evil.pem.pub"] {
        fs::copy(home.join(key), host.join(key)).unwrap();
    }
    let err = host.fails(1, &trust("evil.pem.pub", "publisher"));
    assert!(err.contains("which its pin on this host requires"), "{err}");
    assert_eq!(
        before,
        host.snapshot(),
        "a refused command changed the registry"
    );

    // Pinning that copy with the new code is refused too.
    let fresh = Sandbox::new();
    carry(&stale, &fresh);
    let out = fresh
        .reg()
        .args(["trust", "add", &root, "--head", &code])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!fresh.trust_file().exists(), "nothing was pinned");
}
