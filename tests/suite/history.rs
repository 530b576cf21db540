//! History that is complete: `reg log MODEL` and `reg show` list every entry
//! that concerns a model (add, transitions, re-approval, each slot it entered or left, drift,
//! purge, the key revocation that suspended it, the lifting of its denial); `reg log --slot`
//! gives a slot's history; ledger lines name models as `name@version (id8)`; `reg log` filters
//! by `-n`, `--since`, `--actor`, combinable, and its `--json` says kind, model, slot, states,
//! actor, reason, seq, entry id and time.

use crate::util::Sandbox;
use serde_json::Value;

/// The time `SOURCE_DATE_EPOCH` + `n` hours (within the day a reader's clock may lag the
/// ledger), as `SOURCE_DATE_EPOCH` and as entries write it.
fn day(n: u64) -> (String, String) {
    let secs = 1_767_225_600 + n * 3600;
    (secs.to_string(), reg::util::encoding::rfc3339(secs))
}

/// `reg ARGS --key op.pem` at hour `days` (entries of a format-4 registry only move forward).
fn op_on(s: &Sandbox, hours: u64, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--key", "op.pem"]);
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", day(hours).0)
        .args(&a)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{a:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A site with `det@1.0.0` and `det@1.1.0` (and `other@1.0.0`, in slot `canary`): at hour 1
/// all promoted, hour 2 1.0.0 activated in `prod`, hour 3 1.1.0 displaces it, hour 4 a drift
/// observation of 1.0.0, hour 5 1.1.0 revoked with its slot handed back to 1.0.0 and its bytes
/// denied, hour 6 1.1.0 purged, hour 7 `prod` cleared. Returns the sandbox and the record ids of
/// det@1.0.0 and det@1.1.0.
fn site() -> (Sandbox, String, String) {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.example_observation("obs.json");
    for (name, v) in [("det", "1.0.0"), ("det", "1.1.0"), ("other", "1.0.0")] {
        s.add_model(name, v, &[("rules.txt", format!("{name} {v}\n"))]);
    }
    op_on(&s, 1, &["promote", "det@1.0.0", "--reason", "validated"]);
    op_on(&s, 1, &["promote", "det@1.1.0", "--reason", "validated"]);
    op_on(&s, 1, &["promote", "other@1.0.0", "--reason", "validated"]);
    op_on(
        &s,
        1,
        &["activate", "canary", "other@1.0.0", "--reason", "trial"],
    );
    op_on(
        &s,
        2,
        &["activate", "prod", "det@1.0.0", "--reason", "go live"],
    );
    op_on(
        &s,
        3,
        &["activate", "prod", "det@1.1.0", "--reason", "upgrade"],
    );
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", day(4).0)
        .args([
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    op_on(
        &s,
        5,
        &[
            "revoke",
            "det@1.1.0",
            "--replace",
            "det@1.0.0",
            "--deny-bytes",
            "--reason",
            "false positives",
        ],
    );
    op_on(
        &s,
        6,
        &["purge", "det@1.1.0", "--reason", "bytes destroyed"],
    );
    op_on(&s, 7, &["deactivate", "prod", "--reason", "maintenance"]);
    let id = |spec: &str| {
        let v: Value = serde_json::from_str(&s.ok(&["show", spec, "--json"])).unwrap();
        v["id"].as_str().unwrap().to_string()
    };
    let (a, b) = (id("det@1.0.0"), id("det@1.1.0"));
    (s, a, b)
}

/// `reg log ARGS --json`, validated against its schema.
fn log_json(s: &Sandbox, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["log"];
    a.extend_from_slice(args);
    a.push("--json");
    let v: Value = serde_json::from_str(&s.ok(&a)).unwrap();
    crate::ingest::validate("log.schema.json", &v);
    v.as_array().unwrap().clone()
}

/// Each row's (kind, summary) in order.
fn kinds(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_models_log_lists_every_entry_that_concerns_it_by_name() {
    let (s, a, b) = site();
    let (a8, b8) = (&a[..8], &b[..8]);
    let rows = log_json(&s, &["det@1.0.0"]);
    let got = kinds(&rows);
    let want = [
        ("add", format!("add det@1.0.0 ({a8}); bundle ")),
        (
            "transition",
            format!("promote det@1.0.0 ({a8}) (REGISTERED -> PROMOTED)"),
        ),
        ("slot", format!("activate det@1.0.0 ({a8}) in slot prod")),
        (
            "slot",
            format!("activate det@1.1.0 ({b8}) in slot prod, displacing det@1.0.0 ({a8})"),
        ),
        ("drift", format!("drift observation of det@1.0.0 ({a8}) (")),
        (
            "transition",
            format!(
                "revoke det@1.1.0 ({b8}) (PROMOTED -> REVOKED); its artifact hashes denied; slot prod handed to det@1.0.0 ({a8})"
            ),
        ),
        (
            "slot",
            format!("deactivate slot prod (was det@1.0.0 ({a8}))"),
        ),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for ((kind, summary), (k, prefix)) in got.iter().zip(&want) {
        assert_eq!(kind, k, "{got:#?}");
        assert!(summary.starts_with(prefix.as_str()), "{summary} / {prefix}");
    }
    // The JSON carries the model, slot, states, actor, reason, seq, id and time.
    let promote = &rows[1];
    assert_eq!(promote["model"], "det@1.0.0");
    assert_eq!(promote["record"], a.as_str());
    assert_eq!(
        (promote["from"].as_str(), promote["to"].as_str()),
        (Some("REGISTERED"), Some("PROMOTED"))
    );
    assert_eq!(promote["reason"], "validated");
    assert_eq!(promote["time"], day(1).1);
    assert_eq!(
        promote["id"],
        s.ledger_ids()[promote["seq"].as_u64().unwrap() as usize].as_str()
    );
    let displaced = &rows[3];
    assert_eq!(displaced["slot"], "prod");
    assert_eq!(displaced["slots"][0]["from"]["model"], "det@1.0.0");
    assert_eq!(displaced["slots"][0]["to"]["record"], b.as_str());
    // The revoked model's own history ends "purged", and its text names no bare record id.
    let text = s.ok(&["log", "det@1.1.0"]);
    assert!(
        text.contains(&format!(
            "purge det@1.1.0 ({b8}): purged, 1 artifact object(s) deleted"
        )),
        "{text}"
    );
    for line in text.lines().filter(|l| l.contains(&b[..])) {
        assert!(line.starts_with("entry "), "a bare record id: {line}");
    }
    // `show` lists the same entries, with what each did to the model.
    let v: Value = serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &v);
    let actions: Vec<(&str, &str, Option<&str>)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap(),
                h["state"].as_str().unwrap(),
                h["slot"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("add", "REGISTERED", None),
            ("promote", "PROMOTED", None),
            ("activate", "PROMOTED", Some("prod")),
            ("displaced", "PROMOTED", Some("prod")),
            ("drift", "PROMOTED", None),
            ("activate", "PROMOTED", Some("prod")),
            ("deactivate", "PROMOTED", Some("prod")),
        ]
    );
    let show = s.ok(&["show", "det@1.1.0"]);
    assert!(
        show.contains(&format!("left slot prod, handed to det@1.0.0 ({a8}); its artifact hashes denied: false positives")),
        "{show}"
    );
    assert!(show.contains("purge     -> REVOKED"), "{show}");
    assert!(
        show.contains("purged: 1 artifact object(s) deleted"),
        "{show}"
    );
}

#[test]
fn a_slots_log_is_each_activation_deactivation_and_replacement_in_it() {
    let (s, a, b) = site();
    let rows = log_json(&s, &["--slot", "prod"]);
    let moves: Vec<(Option<&str>, Option<&str>, &str)> = rows
        .iter()
        .map(|r| {
            let m = &r["slots"][0];
            assert_eq!(m["slot"], "prod", "{r}");
            (
                m["from"]["model"].as_str(),
                m["to"]["model"].as_str(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (None, Some("det@1.0.0"), "go live"),
            (Some("det@1.0.0"), Some("det@1.1.0"), "upgrade"),
            (Some("det@1.1.0"), Some("det@1.0.0"), "false positives"),
            (Some("det@1.0.0"), None, "maintenance"),
        ]
    );
    let op = s.ok(&["key", "fingerprint", "op.pem"]).trim().to_string();
    assert!(
        rows.iter()
            .all(|r| r["actor"] == op.as_str() && r["slot"] == "prod")
    );
    assert_eq!(rows[2]["slots"][0]["from"]["record"], b.as_str());
    assert_eq!(rows[2]["slots"][0]["to"]["record"], a.as_str());
    // Newest first in text; the other slot's entries are not there.
    let text = s.ok(&["log", "--slot", "prod"]);
    assert!(text.starts_with("entry "), "{text}");
    assert!(text.find("maintenance").unwrap() < text.find("go live").unwrap());
    assert!(
        !text.contains("canary") && !text.contains("other@"),
        "{text}"
    );
    let canary = log_json(&s, &["--slot", "canary"]);
    assert_eq!(canary.len(), 1);
    assert_eq!(canary[0]["model"], "other@1.0.0");
    // A slot no entry ever set is a typo, not an empty history; prod, cleared, still has one.
    let before = s.snapshot();
    let err = s.fails(2, &["log", "--slot", "prdo"]);
    assert!(
        err.contains("slot `prdo` has no history")
            && err.contains("hint: the slots set now: canary"),
        "{err}"
    );
    assert_eq!(before, s.snapshot());
    // With a filter, nothing found is an answer.
    let none = s.ok(&[
        "log",
        "--slot",
        "prdo",
        "--since",
        "2030-01-01T00:00:00Z",
        "--json",
    ]);
    assert_eq!(none.trim(), "[]");
}

#[test]
fn log_filters_newest_since_and_actor_combine_with_a_model_or_slot() {
    let (s, ..) = site();
    let rep = s.ok(&["key", "fingerprint", "rep.pem"]).trim().to_string();
    // -n: the newest N of what the other filters keep.
    let last2 = log_json(&s, &["det@1.0.0", "-n", "2"]);
    assert_eq!(
        kinds(&last2)
            .iter()
            .map(|k| k.0.as_str())
            .collect::<Vec<_>>(),
        ["transition", "slot"]
    );
    assert_eq!(s.ok(&["log", "-n", "1"]).matches("\nentry ").count(), 0);
    // --since: entries dated at or after the time.
    let since = log_json(&s, &["--slot", "prod", "--since", &day(3).1]);
    assert_eq!(since.len(), 3, "{since:#?}");
    assert!(
        since
            .iter()
            .all(|r| r["time"].as_str().unwrap() >= day(3).1.as_str())
    );
    // --actor: by fingerprint, by prefix, with a model.
    let by_rep = log_json(&s, &["--actor", &rep]);
    assert_eq!(
        kinds(&by_rep)
            .iter()
            .map(|k| k.0.as_str())
            .collect::<Vec<_>>(),
        ["drift"]
    );
    assert_eq!(log_json(&s, &["det@1.0.0", "--actor", &rep[..6]]).len(), 1);
    assert!(log_json(&s, &["det@1.1.0", "--actor", &rep]).is_empty());
    let all = log_json(&s, &["--since", &day(5).1, "--actor", &rep, "-n", "3"]);
    assert!(all.is_empty(), "{all:#?}");
    // Bad filters are usage errors, and read nothing.
    let err = s.fails(2, &["log", "--since", "yesterday"]);
    assert!(
        err.contains("--since `yesterday`: expected a time such as"),
        "{err}"
    );
    let err = s.fails(2, &["log", "--actor", "nobody"]);
    assert!(
        err.contains("--actor `nobody`: no key is named so"),
        "{err}"
    );
    // An empty prefix names no key (not every key), nor does one under 4 digits.
    let err = s.fails(2, &["log", "--actor", ""]);
    assert!(err.contains("--actor ``: no key is named so"), "{err}");
    let err = s.fails(2, &["log", "--actor", &rep[..3]]);
    assert!(err.contains("(4 hex digits or more)"), "{err}");
}

#[test]
fn an_actor_prefix_several_keys_start_with_is_ambiguous() {
    use reg::crypto::keys::{SecretKey, write_key_pair};
    let s = Sandbox::new();
    s.init();
    // Two keys whose fingerprints share their first 4 hex digits, found by seed (deterministic).
    let mut seen = std::collections::HashMap::new();
    let (a, b) = (0u32..)
        .find_map(|n| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&n.to_le_bytes());
            let key = SecretKey::from_seed(&seed).unwrap();
            let prefix = key.public().fingerprint().to_string()[..4].to_string();
            seen.insert(prefix, seed)
                .map(|other| (SecretKey::from_seed(&other).unwrap(), key))
        })
        .unwrap();
    for (key, file) in [(&a, "a.pem"), (&b, "b.pem")] {
        write_key_pair(key, &s.join(file), None).unwrap();
        s.trust(&format!("{file}.pub"), "reporter", "monitoring");
    }
    let shared = &a.public().fingerprint().to_string()[..4];
    let err = s.fails(2, &["log", "--actor", shared]);
    assert!(
        err.contains("is ambiguous")
            && err.contains(&a.public().fingerprint().to_string())
            && err.contains(&b.public().fingerprint().to_string()),
        "{err}"
    );
}

#[test]
fn a_compromised_keys_revocation_and_a_lifted_denial_are_in_the_history_of_the_models_they_touch() {
    let (s, a, b) = site();
    let publ = s.ok(&["key", "fingerprint", "pub.pem"]).trim().to_string();
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", day(8).0)
        .args([
            "key",
            "revoke",
            &publ,
            "--compromised",
            "--key",
            "root.pem",
            "--reason",
            "stolen",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&s.ok(&["show", "det@1.1.0", "--json"])).unwrap();
    let hash = v["artifacts"][0]["blake3"].as_str().unwrap().to_string();
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", day(9).0)
        .args([
            "deny",
            "lift",
            &hash,
            "--key",
            "root.pem",
            "--reason",
            "false alarm",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    op_on(
        &s,
        10,
        &[
            "reapprove",
            "det@1.0.0",
            "--reason",
            "diffed against the source",
        ],
    );

    let rows = log_json(&s, &["det@1.0.0", "-n", "2"]);
    assert_eq!(rows[0]["kind"], "key-revoke");
    assert!(
        rows[0]["suspended"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["record"] == a.as_str()),
        "{rows:#?}"
    );
    assert!(
        rows[0]["summary"]
            .as_str()
            .unwrap()
            .contains("as compromised; suspends ")
            && rows[0]["summary"]
                .as_str()
                .unwrap()
                .contains(&format!("det@1.0.0 ({})", &a[..8])),
        "{rows:#?}"
    );
    assert_eq!(rows[1]["kind"], "reapprove");
    // The revoked model is not suspended (nothing serves it): its history has the lift instead.
    let rows = log_json(&s, &["det@1.1.0", "-n", "1"]);
    assert_eq!(rows[0]["kind"], "deny-lift");
    assert!(
        !kinds(&log_json(&s, &["det@1.1.0"]))
            .iter()
            .any(|(kind, _)| kind == "key-revoke"),
        "a revocation that suspended other models is not in its history"
    );
    assert_eq!(rows[0]["lifted"][0]["record"], b.as_str());
    let v: Value = serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &v);
    let actions: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[actions.len() - 2..], ["suspend", "reapprove"]);
    let show = s.ok(&["show", "det@1.1.0"]);
    assert!(show.contains("deny-lift"), "{show}");
}

#[test]
fn show_reads_the_committed_chain_and_refuses_an_entry_changed_on_disk() {
    let (s, ..) = site();
    // The complete history shows the slot entries outside the model's own chain.
    let shown = s.ok(&["show", "det@1.0.0", "--json"]);
    let v: Value = serde_json::from_str(&shown).unwrap();
    let actions: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"activate") && actions.contains(&"deactivate"),
        "{actions:?}"
    );
    // An entry outside the model's chain (the genesis' successor) changed on disk: the fast
    // path of the state does not read it, the history does, and refuses it by its hash.
    let ids = s.ledger_ids();
    let path = s.object_path(&ids[1]);
    crate::util::make_writable(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = s.fails(1, &["show", "det@1.0.0"]);
    assert!(err.contains(&ids[1]), "names the entry: {err}");
}
