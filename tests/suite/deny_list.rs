//! Destroyed bytes stay denied (FORMAT.md §5.15), tried on registries the CLI builds: a model
//! revoked as malicious and purged cannot be packed again under another name, added, promoted
//! or allowed by the gate; a revocation denying bytes binds every model holding them, and its
//! replacement is held to what `reg activate` refuses; only a revocation or a purge denies
//! bytes; an add of denied bytes, or a lifting of bytes not denied, forged by hand is refused by
//! replay; checkout writes out nothing the gate denies.

use crate::policy::{evil_files, fsck, gate, hash_of, pack, set_policy, with_code};
use crate::util::Sandbox;
use reg::format::entry::{Add, Body, DenyLift, PolicyDoc};
use reg::format::id::ObjectId;
use serde_json::Value;
use std::fs;

#[test]
fn a_malicious_model_purged_with_its_bytes_denied_cannot_come_back_under_another_name() {
    let s = Sandbox::new();
    s.init_with_roles();
    let dir = s.add_model("evil", "1.0.0", &evil_files());
    s.ok(&["promote", "evil@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let out = s.ok(&[
        "revoke",
        "evil@1.0.0",
        "--reason",
        "malicious: exfiltrates",
        "--key",
        "op.pem",
    ]);
    assert!(
        !out.contains("denied"),
        "a plain revocation denies nothing: {out}"
    );
    let out = s.ok(&[
        "purge",
        "evil@1.0.0",
        "--deny-bytes",
        "--reason",
        "destroy it",
        "--key",
        "op.pem",
    ]);
    assert!(out.contains("denied 2 artifact hash(es)"), "{out}");
    let evil = hash_of(&s, &format!("{dir}/evil.yar"));
    let helper = hash_of(&s, &format!("{dir}/helper.yar"));
    let purge_seq = s.ledger_ids().len() - 1;

    // The same bytes packed by the same publisher as another model: refused before anything
    // is staged, the registry unchanged, pointing at the deny list and at who lifts it.
    let other = pack(&s, &dir, ("other", "9.9.9"), "other.tar", &[]);
    let err = s.refused(
        1,
        &["add", &other, "--key", "op.pem"],
        "other@9.9.9 holds 2 denied artifact hash(es)",
    );
    assert!(
        err.contains(&format!("denied at entry {purge_seq}")),
        "{err}"
    );
    assert!(err.contains("hint: `reg deny list`"), "{err}");
    assert!(err.contains("reg deny lift"), "{err}");
    // Refused on the manifest alone, before an artifact byte is read: a bundle whose files do
    // not even match it is refused as denied, not as damaged.
    let publisher = crate::craft::load(&s, "pub.pem");
    let files: Vec<_> = evil_files()
        .iter()
        .map(|(p, body)| crate::craft::file(p, body.as_bytes()))
        .collect();
    let signed = crate::craft::sign(
        &crate::craft::manifest_for(&files, "other", "9.9.8", &publisher),
        &publisher,
    );
    let garbled: Vec<_> = evil_files()
        .iter()
        .map(|(p, _)| crate::craft::file(p, b"not the signed bytes"))
        .collect();
    fs::write(
        s.join("garbled.tar"),
        crate::craft::good_tar(&signed, &garbled),
    )
    .unwrap();
    s.refused(
        1,
        &["add", "garbled.tar", "--key", "op.pem"],
        "other@9.9.8 holds 2 denied artifact hash(es)",
    );
    // The gate denies the bytes themselves, whatever claims them.
    assert_eq!(
        gate(&s, &format!("{dir}/evil.yar"), &[]),
        (false, "denied".into())
    );

    let list = s.ok(&["deny", "list"]);
    assert_eq!(
        list,
        {
            let mut rows = [
                format!("{evil}  evil@1.0.0  (entry {purge_seq})\n"),
                format!("{helper}  evil@1.0.0  (entry {purge_seq})\n"),
            ];
            rows.sort();
            rows.concat()
        },
        "one line per hash, sorted"
    );
    let json: Value = serde_json::from_str(&s.ok(&["deny", "list", "--json"])).unwrap();
    crate::ingest::validate("deny-list.schema.json", &json);
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[0]["spec"], "evil@1.0.0");
    assert_eq!(json[0]["seq"], purge_seq);

    // Only a root key lifts a denial, and only of a hash that is denied.
    s.refused(
        1,
        &["deny", "lift", &evil, "--reason", "x", "--key", "op.pem"],
        "root",
    );
    let innocent = ObjectId::of(b"never denied").to_string();
    let err = s.refused(
        1,
        &[
            "deny", "lift", &evil, &innocent, "--reason", "x", "--key", "root.pem",
        ],
        &format!("artifact hash {innocent} is not denied"),
    );
    assert!(err.contains("hint: `reg deny list`"), "{err}");
    // Given in any order and twice: the entry lists them sorted, once each.
    let out = s.ok(&[
        "deny",
        "lift",
        &helper,
        &evil,
        &helper,
        "--reason",
        "false positive, confirmed by the vendor",
        "--key",
        "root.pem",
    ]);
    assert!(out.contains("2 denial(s) lifted"), "{out}");
    assert!(out.contains("no model was re-admitted"), "{out}");
    let export = s.ok(&["ledger", "export"]);
    let last: Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    let mut sorted = vec![evil.clone(), helper.clone()];
    sorted.sort();
    assert_eq!(last["payload"]["artifacts"], serde_json::json!(sorted));
    assert_eq!(s.ok(&["deny", "list"]), "no artifact hash is denied\n");
    assert_eq!(
        s.ok(&["deny", "list", "--json"]).trim(),
        "[]",
        "an empty list is an empty array"
    );

    // Lifted: the same bytes under the other name are admitted, and can be approved.
    s.ok(&["add", &other, "--key", "op.pem"]);
    s.ok(&[
        "promote",
        "other@9.9.9",
        "--reason",
        "ok",
        "--key",
        "op.pem",
    ]);
    assert_eq!(
        gate(&s, &format!("{dir}/evil.yar"), &[]),
        (true, "promoted".into())
    );
    // Lifting re-admitted nothing: the revoked model stays revoked.
    assert!(s.ok(&["list", "--state", "revoked"]).contains("evil"));
    s.ok(&["ledger", "verify"]);
}

#[test]
fn a_revocation_denying_bytes_binds_every_model_holding_them() {
    let s = Sandbox::new();
    s.init_with_roles();
    let shared = (
        "shared.yar",
        "rule shared { condition: true }\n".to_string(),
    );
    let a = s.add_model(
        "a",
        "1.0.0",
        &[
            shared.clone(),
            ("a.yar", "rule a { condition: true }\n".into()),
        ],
    );
    let b = s.add_model(
        "b",
        "1.0.0",
        &[
            shared.clone(),
            ("b.yar", "rule b { condition: true }\n".into()),
        ],
    );
    s.add_model("c", "1.0.0", std::slice::from_ref(&shared));
    for m in ["a@1.0.0", "b@1.0.0"] {
        s.ok(&["promote", m, "--reason", "ok", "--key", "op.pem"]);
    }
    s.ok(&[
        "activate", "prod", "b@1.0.0", "--reason", "go", "--key", "op.pem",
    ]);
    assert_eq!(
        gate(&s, &format!("{b}/shared.yar"), &[]),
        (true, "promoted".into())
    );

    let out = s.ok(&[
        "revoke",
        "a@1.0.0",
        "--deny-bytes",
        "--reason",
        "malicious",
        "--key",
        "op.pem",
    ]);
    assert!(out.contains("a@1.0.0: PROMOTED -> REVOKED"), "{out}");
    assert!(out.contains("denied 2 artifact hash(es)"), "{out}");
    let seq = s.ledger_ids().len() - 1;

    // b holds a's shared bytes: the gate denies them (in the slot too), not b's own.
    for extra in [&[][..], &["--slot", "prod"], &["--model", "b@1.0.0"]] {
        assert_eq!(
            gate(&s, &format!("{b}/shared.yar"), extra),
            (false, "denied".into()),
            "{extra:?}"
        );
    }
    assert_eq!(
        gate(&s, &format!("{b}/b.yar"), &[]),
        (true, "promoted".into())
    );
    assert_eq!(
        gate(&s, &format!("{a}/a.yar"), &[]),
        (false, "denied".into())
    );
    // Neither promoted nor made active while it holds them.
    s.refused(
        1,
        &["promote", "c@1.0.0", "--reason", "ok", "--key", "op.pem"],
        "c@1.0.0 holds 1 denied artifact hash(es)",
    );
    s.refused(
        1,
        &[
            "activate", "canary", "b@1.0.0", "--reason", "go", "--key", "op.pem",
        ],
        &format!("denied at entry {seq}"),
    );
    // fsck lists each model that is not revoked and holds them (a warning: valid history).
    let (pass, findings) = fsck(&s);
    assert!(pass, "{findings:?}");
    let mut held = with_code(&findings, "denied-held");
    held.sort();
    assert_eq!(held.len(), 2, "{held:?}");
    for ((sev, msg), spec) in held
        .iter()
        .zip(["b@1.0.0 (PROMOTED)", "c@1.0.0 (REGISTERED)"])
    {
        assert_eq!(sev, "warning");
        assert!(msg.contains(spec), "{msg}");
        assert!(
            msg.contains(&format!("denied with a@1.0.0 at entry {seq}")),
            "{msg}"
        );
    }
    // A purge with --deny-bytes of a model whose bytes are denied already denies nothing new.
    let out = s.ok(&[
        "purge",
        "a@1.0.0",
        "--deny-bytes",
        "--reason",
        "destroy",
        "--key",
        "op.pem",
    ]);
    assert!(
        out.contains("denied 0 artifact hash(es) (2 more denied already)"),
        "{out}"
    );
    // Revoking the holders leaves nothing for fsck to list.
    s.ok(&[
        "revoke",
        "b@1.0.0",
        "--deactivate",
        "--reason",
        "r",
        "--key",
        "op.pem",
    ]);
    s.ok(&["revoke", "c@1.0.0", "--reason", "r", "--key", "op.pem"]);
    assert!(with_code(&fsck(&s).1, "denied-held").is_empty());
}

#[test]
fn deny_bytes_goes_only_with_a_revocation_or_a_purge() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("a", "1.0.0", &evil_files());
    for verb in ["promote", "deprecate"] {
        let err = s.fails(
            2,
            &[
                verb,
                "a@1.0.0",
                "--deny-bytes",
                "--reason",
                "r",
                "--key",
                "op.pem",
            ],
        );
        assert!(err.contains("--deny-bytes"), "{err}");
    }
    assert!(
        s.ok(&["deny", "list"])
            .contains("no artifact hash is denied")
    );
}

/// Signs `body` as the next entry after the replayed state with `key`, stores and lists it, and
/// writes a checkpoint and index over the state a replay without the rule under test would
/// compute (`unruled` edits the state's JSON to take the rule's ground away, `ruled` puts it
/// back): what whoever holds the medium and `key` can write. Returns the entry's seq and id.
fn forge(
    s: &Sandbox,
    key: &str,
    body: Body,
    unruled: impl FnOnce(&mut Value),
    ruled: impl FnOnce(&mut Value),
) -> (u64, ObjectId) {
    let key = crate::craft::load(s, key);
    let state = crate::forged_entries::replayed(s);
    let entry = crate::util::next_entry(
        &state,
        key.public().fingerprint(),
        "2026-01-02T00:00:00Z",
        body,
    );
    let bytes = crate::util::forged_entry(&entry, &key);
    let id = crate::forged_entries::store_and_list(s, &bytes);
    let mut after = crate::util::forge_state(&state, unruled);
    after.apply(id, &entry).unwrap();
    let after = crate::util::forge_state(&after, ruled);
    // Signed by the head entry's signer, as a writer signs it.
    let cp = reg::repo::ledger::sign_checkpoint(
        &after,
        after.hash(),
        "2026-01-02T00:00:00Z".into(),
        &key,
    )
    .unwrap();
    fs::write(s.dot().join("checkpoint"), cp).unwrap();
    crate::util::write_index(&s.dot(), &after);
    (entry.header.seq, id)
}

/// `ledger verify` refuses the registry, naming the entry and saying `why`.
fn verify_refuses(s: &Sandbox, (seq, id): (u64, ObjectId), why: &str) {
    let err = s.refused(1, &["ledger", "verify"], why);
    assert!(err.contains(&format!("ledger entry {seq} ({id})")), "{err}");
}

#[test]
fn an_add_of_denied_bytes_forged_by_hand_is_refused_by_replay() {
    let s = Sandbox::new();
    s.init_with_roles();
    let dir = s.add_model("evil", "1.0.0", &evil_files());
    s.ok(&[
        "revoke",
        "evil@1.0.0",
        "--deny-bytes",
        "--reason",
        "malicious",
        "--key",
        "op.pem",
    ]);
    // The publisher signed the same bytes as another model (or the medium holder has such a
    // manifest); the operator key writes the `add` that `reg add` refuses.
    let publisher = crate::craft::load(&s, "pub.pem");
    let files: Vec<_> = evil_files()
        .iter()
        .map(|(p, _)| crate::craft::file(p, &fs::read(s.join(&format!("{dir}/{p}"))).unwrap()))
        .collect();
    let manifest = crate::craft::manifest_for(&files, "other", "9.9.9", &publisher);
    let record_bytes = crate::craft::sign(&manifest, &publisher);
    let record = reg::repo::store::Store::new(&s.dot())
        .put_bytes(&record_bytes)
        .unwrap();
    let mut artifacts: Vec<ObjectId> = files.iter().map(|f| ObjectId::of(&f.data)).collect();
    artifacts.sort();
    let add = Body::Add(Add {
        artifacts,
        bundle: record,
        encrypted: false,
        name: "other".into(),
        publisher: Some(publisher.public().fingerprint().clone()),
        record,
        version: "9.9.9".into(),
    });
    let denied = std::cell::RefCell::new(Value::Null);
    let forged = forge(
        &s,
        "op.pem",
        add,
        |v| *denied.borrow_mut() = v.as_object_mut().unwrap().remove("denied").unwrap(),
        |v| v["denied"] = denied.take(),
    );
    verify_refuses(&s, forged, "other@9.9.9 holds 2 denied artifact hash(es)");
}

#[test]
fn a_deny_lift_of_bytes_not_denied_forged_by_hand_is_refused_by_replay() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("a", "1.0.0", &evil_files());
    s.ok(&[
        "revoke",
        "a@1.0.0",
        "--deny-bytes",
        "--reason",
        "malicious",
        "--key",
        "op.pem",
    ]);
    let denied: Vec<ObjectId> = crate::forged_entries::replayed(&s)
        .denied()
        .keys()
        .copied()
        .collect();
    let innocent = ObjectId::of(b"never denied");
    let mut listed = vec![denied[0], innocent];
    listed.sort();
    let lift = Body::DenyLift(DenyLift {
        artifacts: listed,
        reason: "smuggle".into(),
    });
    let forged = forge(
        &s,
        "root.pem",
        lift,
        |v| v["denied"][innocent.to_string()] = v["denied"][denied[0].to_string()].clone(),
        |_| {},
    );
    verify_refuses(
        &s,
        forged,
        &format!("artifact hash {innocent} is not denied"),
    );
}

/// The gate and the writers around a revocation: a revocation's replacement is
/// held to what `reg activate` refuses (bytes this same revocation denies, a model out of
/// policy); `fsck --scan` counts what the gate denies as denied, not approved; with a file held
/// by several models, a model in policy vouches for it even when another holding it is not; and
/// `--deny-bytes` names the other models it takes out of service.
#[test]
fn replacements_scans_shared_bytes_and_denials_follow_the_gate() {
    let s = Sandbox::new();
    s.init_with_roles();
    let shared = ("shared.json", "{\"vocab\": 1}\n".to_string());
    s.add_model(
        "f",
        "1.0.0",
        &[
            shared.clone(),
            ("f.yar", "rule f { condition: true }\n".into()),
        ],
    );
    s.add_model(
        "g",
        "1.0.0",
        &[
            shared.clone(),
            ("g.yar", "rule g { condition: true }\n".into()),
        ],
    );
    // p holds the shared file and a pickle.
    fs::create_dir_all(s.join("p")).unwrap();
    fs::write(s.join("p/shared.json"), &shared.1).unwrap();
    fs::write(
        s.join("p/model.pkl"),
        b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.",
    )
    .unwrap();
    pack(&s, "p", ("p", "4.0.0"), "p.tar", &[]);
    s.ok(&["add", "p.tar", "--key", "op.pem"]);
    for m in ["f@1.0.0", "g@1.0.0", "p@4.0.0"] {
        s.ok(&["promote", m, "--reason", "ok", "--key", "op.pem"]);
    }
    s.ok(&[
        "activate", "u1", "g@1.0.0", "--reason", "go", "--key", "op.pem",
    ]);
    s.ok(&[
        "activate", "u2", "g@1.0.0", "--reason", "go", "--key", "op.pem",
    ]);
    set_policy(
        &s,
        PolicyDoc {
            refuse_formats: vec![reg::format::formats::Format::Pickle],
            ..PolicyDoc::default()
        },
    );
    // The shared file: p is out of policy, f and g vouch for it (whatever the record ids' order).
    assert_eq!(
        gate(&s, "m-f-1.0.0/shared.json", &[]),
        (true, "promoted".into())
    );
    assert_eq!(gate(&s, "p/model.pkl", &[]), (false, "policy".into()));
    // A replacement out of policy is refused; one sharing bytes this revocation denies too.
    s.refused(
        1,
        &[
            "revoke",
            "g@1.0.0",
            "--replace",
            "p@4.0.0",
            "--reason",
            "r",
            "--key",
            "op.pem",
        ],
        "policy",
    );
    s.refused(
        1,
        &[
            "revoke",
            "g@1.0.0",
            "--replace",
            "f@1.0.0",
            "--deny-bytes",
            "--reason",
            "r",
            "--key",
            "op.pem",
        ],
        "f@1.0.0 holds 1 denied artifact hash(es)",
    );
    // fsck --scan counts the pickle as denied, with the gate's code, and fails.
    fs::create_dir_all(s.join("scan")).unwrap();
    fs::copy(s.join("p/model.pkl"), s.join("scan/model.pkl")).unwrap();
    let out = s
        .reg()
        .args(["fsck", "--scan", "scan", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("fsck-report.schema.json", &v);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["checked"]["verdicts"]["denied"], 1, "{v}");
    assert_eq!(v["checked"]["verdicts"]["approved"], 0, "{v}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "scan-denied"
                && f["message"].as_str().unwrap().contains("(policy)")),
        "{v}"
    );
    // Revoking g with its bytes denied (its slots cleared) names f and p, which hold them too.
    let out = s
        .reg()
        .args([
            "revoke",
            "g@1.0.0",
            "--deactivate",
            "--deny-bytes",
            "--reason",
            "r",
            "--key",
            "op.pem",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: f@1.0.0, p@4.0.0 hold(s) some of these bytes too"),
        "{err}"
    );
    assert_eq!(
        gate(&s, "m-f-1.0.0/shared.json", &[]),
        (false, "denied".into())
    );
}

/// `reg checkout` (how some sites deploy) writes out nothing the gate denies, and `list`,
/// `status` and `show` say why the gate denies a model that is still PROMOTED: denied bytes,
/// or a format the policy refuses. Nor is anything written inside `.registry/`.
#[test]
fn checkout_writes_out_nothing_the_gate_denies_and_the_listings_say_why() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("det.yar", "rule det { condition: true }\n".into())],
    );
    s.add_model(
        "twin",
        "1.0.0",
        &[("twin.yar", "rule det { condition: true }\n".into())],
    );
    s.add_model("pk", "1.0.0", &[("model.pkl", "\u{80}\u{4}K\u{1}.".into())]);
    for m in ["det@1.0.0", "twin@1.0.0", "pk@1.0.0"] {
        s.ok(&["promote", m, "--reason", "ok", "--key", "op.pem"]);
    }
    s.ok(&[
        "activate",
        "prod",
        "det@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    // twin holds det's bytes under another name; denying them with twin's revocation takes det
    // out of service too.
    s.ok(&[
        "revoke",
        "twin@1.0.0",
        "--deny-bytes",
        "--reason",
        "malicious",
        "--key",
        "op.pem",
    ]);
    set_policy(
        &s,
        PolicyDoc {
            refuse_formats: vec![reg::format::formats::Format::Pickle],
            ..PolicyDoc::default()
        },
    );
    assert_eq!(
        gate(&s, "m-det-1.0.0/det.yar", &["--slot", "prod"]),
        (false, "denied".into())
    );
    for args in [
        &["checkout", "--slot", "prod", "-o", "out"][..],
        &["checkout", "det@1.0.0", "--bundle", "det.tar"],
    ] {
        let err = s.refused(
            1,
            args,
            "det@1.0.0 is not written out: 1 of its artifact hashes denied",
        );
        assert!(err.contains("hint: `reg deny list`"), "{err}");
    }
    let err = s.refused(1, &["checkout", "pk@1.0.0", "-o", "out"],
        "pk@1.0.0 is not written out: out of policy: the registry policy refuses `model.pkl` (pickle)",
    );
    assert!(err.contains("hint: `reg policy show`"), "{err}");
    assert!(!s.join("out").exists() && !s.join("det.tar").exists());
    // The listings say it, in words and in JSON.
    let status = s.ok(&["status"]);
    assert!(
        status.contains("DENIED by the gate: 1 of its artifact hashes denied"),
        "{status}"
    );
    let list = s.ok(&["list"]);
    assert!(list.contains("DENIED by the gate: out of policy"), "{list}");
    let v: Value = serde_json::from_str(&s.ok(&["list", "--json"])).unwrap();
    crate::ingest::validate("model-list.schema.json", &v);
    let show = s.ok(&["show", "det@1.0.0"]);
    assert!(
        show.contains("gate denies:  1 of its artifact hashes denied"),
        "{show}"
    );
    let v: Value = serde_json::from_str(&s.ok(&["show", "pk@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &v);
    assert!(v["blocked"].as_str().unwrap().contains("pickle"), "{v}");
    let v: Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    crate::ingest::validate("status.schema.json", &v);
    // Nothing is written inside the registry, even for a model in service.
    s.add_model(
        "fine",
        "1.0.0",
        &[("fine.yar", "rule fine { condition: false }\n".into())],
    );
    for args in [
        &["checkout", "fine@1.0.0", "--bundle", ".registry/x.tar"][..],
        &["checkout", "fine@1.0.0", "-o", ".registry/objects/zz"],
    ] {
        let before = s.snapshot();
        let err = s.fails(2, args);
        assert!(err.contains("is inside the registry"), "{err}");
        assert_eq!(before, s.snapshot());
    }
    s.ok(&["checkout", "fine@1.0.0", "--bundle", "fine.tar"]);
}
