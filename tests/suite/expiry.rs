//! Freshness (FORMAT.md §6.1): under a policy, a registry expires a set number of days after its
//! last renewal; readers refuse it, and refuse a time dated past their clock; only a key the root
//! trusts as `timestamp` renews it (`reg renew`), and an expired registry takes no other write
//! but the root's, so no other key, and no medium holder with one, makes a stale medium fresh.

use crate::util::{EPOCH, Sandbox, copy_site, snapshot};
use reg::crypto::envelope::Kind;
use reg::format::entry::{Body, Drift, Entry};
use reg::format::id::ObjectId;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// `SOURCE_DATE_EPOCH` `days` after the sandbox's clock.
fn later(days: u64) -> String {
    (EPOCH.parse::<u64>().unwrap() + days * 86_400).to_string()
}

fn at(s: &Sandbox, days: u64, args: &[&str]) -> std::process::Output {
    s.reg()
        .env("SOURCE_DATE_EPOCH", later(days))
        .args(args)
        .output()
        .unwrap()
}

fn ok_at(s: &Sandbox, days: u64, args: &[&str]) -> String {
    let o = at(s, days, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{args:?} at day {days}: {err}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts `args` at day `days` exits 1 with `needle` in its message, changing nothing in the
/// registry or this host's state; returns stderr.
fn refused_at(s: &Sandbox, days: u64, args: &[&str], needle: &str) -> String {
    s.refusal(1, args)
        .env("SOURCE_DATE_EPOCH", &later(days))
        .unchanged(s.join("home"))
        .unchanged(s.join("host"))
        .says(needle)
}

/// The registry and this host's state (trust file, records).
fn site(s: &Sandbox) -> [BTreeMap<PathBuf, Vec<u8>>; 3] {
    for dir in ["home", "host"] {
        fs::create_dir_all(s.join(dir)).unwrap();
    }
    [
        s.snapshot(),
        snapshot(&s.join("home")),
        snapshot(&s.join("host")),
    ]
}

const EXPIRED: &str = "more than the 30 days its policy allows";
const HINT: &str = "hint: renew it at its home site: `reg renew --key TIMESTAMP.pem`";

/// Root, operator, publisher, reporter and timestamp keys; a 30-day policy; `det@1.0.0` added
/// and promoted; an observation file. All at day 0.
fn site_with_policy() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "drift reporter");
    s.key("ts.pem");
    s.trust("ts.pem.pub", "timestamp", "renews the registry weekly");
    s.ok(&[
        "policy",
        "set",
        "--checkpoint-max-age",
        "30",
        "--key",
        "root.pem",
        "--reason",
        "media older than a month must not be used",
    ]);
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    s.example_observation("obs.json");
    s
}

#[test]
fn an_expired_registry_is_refused_until_a_timestamp_key_renews_it() {
    let s = site_with_policy();
    let shown = s.ok(&["policy", "show"]);
    assert!(
        shown.contains("checkpoint expires after: 30 days"),
        "{shown}"
    );
    assert!(
        shown.contains("last renewed: 2026-01-01T00:00:00Z"),
        "{shown}"
    );
    // Within the limit: readable. Writes on days 0..30 do not move the renewal (genesis).
    ok_at(
        &s,
        29,
        &[
            "deprecate",
            "det@1.0.0",
            "--reason",
            "old",
            "--key",
            "op.pem",
        ],
    );
    ok_at(&s, 30, &["list"]);
    // Past it: every reader refuses, naming the renewal, and fsck fails naming the checkpoint.
    for args in [
        &["list"][..],
        &["status"],
        &["show", "det@1.0.0"],
        &["log"],
        &["ledger", "verify"],
        &["ledger", "export"],
    ] {
        let err = refused_at(&s, 31, args, EXPIRED);
        assert!(
            err.contains("the registry was last renewed at 2026-01-01T00:00:00Z"),
            "{err}"
        );
        assert!(err.contains(HINT), "{err}");
    }
    let o = at(&s, 31, &["fsck", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"checkpoint-expired"), "{codes:?}");
    // The operator who signed the head entry renews nothing: it holds no timestamp role.
    refused_at(
        &s,
        31,
        &["renew", "--key", "op.pem"],
        "does not hold the timestamp role",
    );
    let out = ok_at(&s, 31, &["renew", "--key", "ts.pem"]);
    assert!(out.contains("renewed at 2026-02-01T00:00:00Z"), "{out}");
    ok_at(&s, 31, &["list"]);
    ok_at(&s, 31, &["ledger", "verify"]);
    ok_at(&s, 31, &["fsck"]);
    assert!(ok_at(&s, 31, &["log"]).contains("renew: fresh from 2026-02-01T00:00:00Z"));
    // Thirty days after the renewal, not after the last write, it expires again.
    ok_at(
        &s,
        60,
        &[
            "promote",
            "det@1.0.0",
            "--reason",
            "back",
            "--key",
            "op.pem",
        ],
    );
    refused_at(
        &s,
        62,
        &["list"],
        "was last renewed at 2026-02-01T00:00:00Z",
    );
}

#[test]
fn an_expired_registry_takes_no_write_but_a_renewal_or_the_roots() {
    let s = site_with_policy();
    s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "second root");
    s.trust("root.pem.pub", "timestamp", "the first root renews too");
    // Every write of a key that is not the root's is refused, naming `reg renew`, and changes
    // nothing: the reporter's drift (whose checkpoint would look fresh), the operator's.
    for args in [
        &[
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ][..],
        &["deprecate", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
        &[
            "activate",
            "prod",
            "det@1.0.0",
            "--reason",
            "x",
            "--key",
            "op.pem",
        ],
        &["revoke", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
    ] {
        let err = refused_at(&s, 31, args, "the registry expired before this");
        assert!(err.contains(HINT), "{err}");
    }
    // A replica's report into its outbox reads the registry, which is stale.
    refused_at(
        &s,
        31,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
            "--outbox",
        ],
        EXPIRED,
    );
    let m2 = s.join("m2");
    fs::create_dir(&m2).unwrap();
    fs::write(m2.join("r.yar"), "rule b { condition: true }\n").unwrap();
    let args = crate::util::pack_args("m2", "m2.tar", "pub.pem", "det", "2.0.0");
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    refused_at(
        &s,
        31,
        &["add", "m2.tar", "--key", "op.pem"],
        "the registry expired before this add entry",
    );
    // The root keeps governing: its entries are taken, and make nothing fresh.
    ok_at(
        &s,
        31,
        &[
            "policy",
            "set",
            "--refuse-format",
            "pickle",
            "--key",
            "root2.pem",
            "--reason",
            "no pickles",
        ],
    );
    refused_at(&s, 31, &["list"], EXPIRED);
    // A root key that revoked itself renews nothing, though it holds the timestamp role.
    ok_at(
        &s,
        31,
        &[
            "key",
            "revoke",
            &crate::craft::load(&s, "root.pem")
                .public()
                .fingerprint()
                .to_string(),
            "--key",
            "root.pem",
            "--reason",
            "retired",
        ],
    );
    refused_at(&s, 31, &["renew", "--key", "root.pem"], "revoked");
    refused_at(&s, 31, &["list"], EXPIRED);
    ok_at(&s, 31, &["renew", "--key", "ts.pem"]);
    ok_at(
        &s,
        31,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ],
    );
    ok_at(&s, 31, &["list"]);
}

/// Signs `body` as the next entry after `state` with `key`, at `time`, stores it and lists it in
/// the ledger: what a medium holder with that key can write without reg.
fn forge(
    s: &Sandbox,
    state: &reg::state::State,
    key: &reg::crypto::keys::SecretKey,
    time: &str,
    body: Body,
) -> (ObjectId, Entry) {
    let entry = crate::util::next_entry(state, key.public().fingerprint(), time, body);
    let bytes = crate::util::forged_entry(&entry, key);
    (crate::forged_entries::store_and_list(s, &bytes), entry)
}

#[test]
fn a_write_forged_after_expiry_does_not_make_a_stale_medium_fresh() {
    let s = site_with_policy();
    let root = crate::craft::load(&s, "root.pem")
        .public()
        .fingerprint()
        .to_string();
    // On day 31 the reporter, holding the expired medium, appends a drift entry dated now and
    // signs a checkpoint for it, committing to the state a replay without the rule would give.
    let state = crate::forged_entries::replayed(&s);
    let model = *state.models().keys().next().unwrap();
    let obs: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fs::read(s.join("obs.json")).unwrap()).unwrap();
    let rep = crate::craft::load(&s, "rep.pem");
    let (id, entry) = forge(
        &s,
        &state,
        &rep,
        "2026-02-01T00:00:00Z",
        Body::Drift(Drift {
            model,
            observation: obs,
            previous: None,
            legacy_numbers: false,
        }),
    );
    let unruled = crate::util::forge_state(&state, |v| v["policy"] = serde_json::json!({}));
    let mut after = unruled.clone();
    after.apply(id, &entry).unwrap();
    let after = crate::util::forge_state(&after, |v| {
        v["policy"] = serde_json::json!({"checkpoint_max_age_days": 30})
    });
    let cp = reg::repo::ledger::sign_checkpoint(
        &after,
        after.hash(),
        "2026-02-01T00:00:00Z".into(),
        &rep,
    )
    .unwrap();
    fs::write(s.dot().join("checkpoint"), cp).unwrap();
    crate::util::write_index(&s.dot(), &after);
    // This host refuses it, naming the entry; so does a host meeting the medium first.
    let fresh_host = Sandbox::new();
    crate::util::cp_a(&s.dot(), fresh_host.path());
    let needle = "the registry expired before this drift entry at 2026-02-01T00:00:00Z";
    for args in [
        &["list"][..],
        &["ledger", "verify"],
        &["check", "m-det-1.0.0/rules.yar"],
    ] {
        let err = refused_at(&s, 31, args, needle);
        assert!(err.contains(&format!("ledger entry 8 ({id})")), "{err}");
    }
    refused_at(&fresh_host, 31, &["trust", "add", &root], needle);
}

#[test]
fn a_checkpoint_or_a_renewal_dated_past_the_clock_is_refused() {
    let s = site_with_policy();
    ok_at(&s, 0, &["list"]);
    // The head entry's signer (the operator) re-signs the checkpoint dated 9999-12-31: it used
    // to pass every reader at any clock.
    let path = s.dot().join("checkpoint");
    let (_, mut cp) = reg::repo::ledger::read_checkpoint(&path).unwrap();
    let original = fs::read(&path).unwrap();
    cp.time = "9999-12-31T23:59:59Z".into();
    let op = crate::craft::load(&s, "op.pem");
    fs::write(
        &path,
        reg::crypto::envelope::sign(Kind::Checkpoint, &cp, &op).unwrap(),
    )
    .unwrap();
    for days in [0, 31, 3000] {
        let err = refused_at(
            &s,
            days,
            &["list"],
            "has its checkpoint dated 9999-12-31T23:59:59Z, more than a day after this host's clock",
        );
        assert!(err.contains("hint: check this host's clock"), "{err}");
    }
    let o = at(&s, 0, &["fsck", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"checkpoint-future\""));
    fs::write(&path, original).unwrap();
    // A timestamp key's renewal dated two days ahead is refused until the clock is within a day
    // of it; one dated less than a day ahead passes.
    ok_at(&s, 2, &["renew", "--key", "ts.pem"]);
    refused_at(
        &s,
        0,
        &["status"],
        "is renewed at 2026-01-03T00:00:00Z, more than a day after this host's clock (2026-01-01T00:00:00Z)",
    );
    ok_at(&s, 1, &["status"]);
    ok_at(&s, 32, &["status"]);
    refused_at(&s, 33, &["status"], EXPIRED);
}

#[test]
fn an_expired_replica_takes_the_home_sites_renewal_by_import_and_refuses_a_stale_transfer() {
    let home = site_with_policy();
    let root = crate::craft::load(&home, "root.pem")
        .public()
        .fingerprint()
        .to_string();
    let replica = copy_site(&home, &root);
    let carry = |name: &str, days: u64| {
        let cp = home.join(&format!("{name}.checkpoint"));
        fs::copy(replica.dot().join("checkpoint"), &cp).unwrap();
        let out = home.join(name);
        ok_at(
            &home,
            days,
            &[
                "export",
                out.to_str().unwrap(),
                "--since",
                cp.to_str().unwrap(),
            ],
        );
        let there = replica.join(name);
        fs::copy(&out, &there).unwrap();
        there
    };
    // A transfer exported on day 20 and carried for too long: the replica refuses it, naming the
    // transfer file's history, not this registry's.
    ok_at(
        &home,
        20,
        &[
            "deprecate",
            "det@1.0.0",
            "--reason",
            "old",
            "--key",
            "op.pem",
        ],
    );
    let stale = carry("stale.regx", 20);
    let err = refused_at(
        &replica,
        31,
        &["import", stale.to_str().unwrap()],
        "the transfer file's history was last renewed at 2026-01-01T00:00:00Z, more than the 30 days",
    );
    assert!(err.contains(HINT), "{err}");
    // The home site renews; the expired replica imports the renewal and is readable again.
    refused_at(&replica, 31, &["list"], EXPIRED);
    ok_at(&home, 31, &["renew", "--key", "ts.pem"]);
    let fresh = carry("fresh.regx", 31);
    ok_at(&replica, 31, &["import", fresh.to_str().unwrap()]);
    ok_at(&replica, 31, &["list"]);
    ok_at(&replica, 31, &["fsck"]);
}

/// The format-2 fixture, copied into a sandbox and pinned there.
fn format2() -> Sandbox {
    crate::util::fixture("format2", &["root.pem", "op.pem", "rep.pem"])
}

#[test]
fn a_format_2_registry_keeps_its_checkpoint_rule_until_a_timestamp_key_renews_it() {
    let s = format2();
    let state: serde_json::Value = serde_json::to_value(crate::util::read_index(&s.dot())).unwrap();
    assert_eq!(state["format_version"], 2);
    assert!(state.get("renewed").is_none());
    assert!(ok_at(&s, 0, &["policy", "show"]).contains("last renewed: never (a format 2 registry"));
    ok_at(&s, 30, &["ledger", "verify"]);
    ok_at(&s, 30, &["fsck"]);
    // Expired by its checkpoint's time; its reporter can no longer make it fresh by writing.
    refused_at(
        &s,
        31,
        &["status"],
        "the registry has its checkpoint signed at 2026-01-01T00:00:00Z, more than the 30 days",
    );
    refused_at(
        &s,
        31,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ]
        .map(|a| {
            if a == "obs.json" {
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/examples/drift-observation.json"
                )
            } else {
                a
            }
        }),
        "the registry expired before this drift entry",
    );
    refused_at(
        &s,
        31,
        &["renew", "--key", "op.pem"],
        "does not hold the timestamp role",
    );
    // Its root names a timestamp key (a root's entry is taken), which renews it: from then on
    // it has a renewal, and the format-3 rule.
    s.key("ts.pem");
    ok_at(
        &s,
        31,
        &[
            "key",
            "trust",
            "ts.pem.pub",
            "--role",
            "timestamp",
            "--key",
            "root.pem",
            "--reason",
            "renewals",
        ],
    );
    ok_at(&s, 31, &["renew", "--key", "ts.pem"]);
    ok_at(&s, 31, &["status"]);
    ok_at(&s, 31, &["ledger", "verify"]);
    let state: serde_json::Value = serde_json::to_value(crate::util::read_index(&s.dot())).unwrap();
    assert_eq!(state["format_version"], 2);
    assert_eq!(state["renewed"], "2026-02-01T00:00:00Z");
    ok_at(
        &s,
        40,
        &[
            "deprecate",
            "det@1.0.0",
            "--reason",
            "old",
            "--key",
            "op.pem",
        ],
    );
    refused_at(
        &s,
        62,
        &["status"],
        "was last renewed at 2026-02-01T00:00:00Z",
    );
}

#[test]
fn the_policy_refuses_a_zero_or_absurd_age() {
    let s = Sandbox::new();
    s.init();
    for days in ["0", "36501"] {
        let o = s
            .reg()
            .args([
                "policy",
                "set",
                "--checkpoint-max-age",
                days,
                "--key",
                "root.pem",
                "--reason",
                "x",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{days}");
    }
}

#[test]
fn a_reader_records_no_checkpoint_it_refuses_as_stale() {
    let s = site_with_policy();
    let root = crate::craft::load(&s, "root.pem")
        .public()
        .fingerprint()
        .to_string();
    ok_at(&s, 0, &["status"]);
    // Whoever holds the medium, with an operator key, writes an entry dated before expiry on a
    // copy and brings the copy back once it expired: valid, but stale.
    let forger = copy_site(&s, &root);
    ok_at(
        &forger,
        29,
        &["deprecate", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
    );
    fs::remove_dir_all(s.dot()).unwrap();
    crate::util::cp_a(&forger.dot(), s.path());
    // Every reader refuses it and records nothing: the host's record stays the genuine
    // checkpoint, so the home site's renewal is not later refused as a fork.
    for args in [
        &["status"][..],
        &["ledger", "verify"],
        &["log"],
        &["export", "x.regx"],
        &["deprecate", "det@1.0.0", "--reason", "y", "--key", "op.pem"],
    ] {
        refused_at(&s, 40, args, "more than the 30 days its policy allows");
    }
    // fsck, which reports it, records nothing either.
    let before = site(&s);
    let o = at(&s, 40, &["fsck"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("checkpoint-expired"));
    assert!(site(&s) == before, "fsck recorded a stale checkpoint");
}
