//! First contact: a host that has never seen a registry can be handed a truncated history (an
//! older genuine copy, or one cut and re-checkpointed by any single key that signed its head).
//! A pin that carries a minimum head, read between the sites out of band (`reg status --code`
//! into `reg trust add --head`), refuses it; and the checkpoint is believed only when signed by
//! its head entry's signer, on the fast path as in the full replay.

use crate::util::Sandbox;
use std::fs;
use std::path::{Path, PathBuf};

fn op(s: &Sandbox, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--key", "op.pem"]);
    s.ok(&a)
}

/// A copy of the sandbox's `.registry` at `name`, as carried on a medium.
fn carry(s: &Sandbox, name: &str) -> PathBuf {
    let dest = s.join(name);
    fs::create_dir(&dest).unwrap();
    crate::util::cp_a(&s.dot(), &dest);
    dest
}

/// Site A: a promoted, active model; a copy of the medium after an operator's entry, another
/// after a reporter's; then the model is revoked. Returns the site, its root fingerprint and the
/// two older copies.
fn site_a() -> (Sandbox, String, PathBuf, PathBuf) {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
    );
    let by_operator = carry(&s, "old-op"); // its checkpoint is signed by the operator
    let obs = crate::util::observation(
        ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"],
        100,
        "psi-main",
        0.5,
    );
    fs::write(s.join("obs.json"), obs.to_string()).unwrap();
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let by_reporter = carry(&s, "old-rep"); // signed by the reporter
    op(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "backdoored",
            "--deactivate",
        ],
    );
    (s, root, by_operator, by_reporter)
}

/// `reg` as a second host: its own trust file and state directory.
fn host_b(s: &Sandbox, state: &str, args: &[&str]) -> std::process::Output {
    s.reg()
        .env("REG_TRUST_FILE", s.join("host-b/trust.json"))
        .env("REG_STATE_DIR", s.join(state))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn at(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn status_code_read_back_into_trust_add_refuses_truncated_media_on_first_contact() {
    let (s, root, by_operator, by_reporter) = site_a();
    // Site A reads its head code to site B over the phone.
    let code = s.ok(&["status", "--code"]).trim().to_string();
    assert!(
        code.starts_with(&format!("{}-", s.ledger_ids().len() - 1)),
        "{code}"
    );
    // Without the code, a first-contact host accepts the truncated history: the revoked model
    // is still active there. That is what first contact cannot know.
    for old in [&by_operator, &by_reporter] {
        let o = host_b(
            &s,
            "b-naive",
            &["--trust", &root, "--registry", at(old), "status"],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("det@1.0.0"));
        let _ = fs::remove_dir_all(s.join("b-naive"));
    }
    // With the code, trust add refuses to pin either truncated medium, and pins nothing.
    for old in [&by_operator, &by_reporter] {
        let o = host_b(
            &s,
            "b1",
            &[
                "--registry",
                at(old),
                "trust",
                "add",
                &root,
                "--head",
                &code,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("older or was cut"), "{}", text(&o));
        assert!(
            !s.join("host-b/trust.json").exists() || {
                let t = fs::read_to_string(s.join("host-b/trust.json")).unwrap();
                !t.contains(&code[..4])
            }
        );
    }
    // The current medium pins, with the floor.
    let current = carry(&s, "current");
    let o = host_b(
        &s,
        "b2",
        &[
            "--registry",
            at(&current),
            "trust",
            "add",
            &root,
            "--head",
            &code,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("history contains entry"), "{}", text(&o));
    let list = host_b(&s, "b2", &["trust", "list", "--json"]);
    let pins: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        pins[0]["floor"]["seq"].as_u64().unwrap() as usize,
        s.ledger_ids().len() - 1
    );
    // A truncated copy of the same registry handed to this host later, even with a fresh
    // state directory (no rollback record), is refused by the pin's floor.
    for (i, old) in [&by_operator, &by_reporter].into_iter().enumerate() {
        let before = crate::util::snapshot(old);
        let state = format!("b-fresh-{i}");
        let o = host_b(&s, &state, &["--registry", at(old), "status"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("its pin on this host requires"),
            "{}",
            text(&o)
        );
        let o = host_b(
            &s,
            &state,
            &[
                "--registry",
                at(old),
                "check",
                "--slot",
                "ransomware",
                at(&s.join("m-det-1.0.0/rules.yar")),
            ],
        );
        assert_ne!(o.status.code(), Some(0), "{}", text(&o));
        let o = host_b(&s, &state, &["--registry", at(old), "ledger", "verify"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_eq!(crate::util::snapshot(old), before);
    }
    // The current medium reads.
    let o = host_b(&s, "b3", &["--registry", at(&current), "status"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn trust_add_with_a_full_head_id_sets_the_floor_and_a_seq_alone_pins_nothing() {
    let (s, root, by_operator, _) = site_a();
    let ids = s.ledger_ids();
    let head = ids.last().unwrap().clone();
    let current = carry(&s, "current");
    // A full id is looked up in the verified ledger.
    let o = host_b(
        &s,
        "b1",
        &[
            "--registry",
            at(&by_operator),
            "trust",
            "add",
            &root,
            "--head",
            &head,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not in this registry's history (no entry has that id)"),
        "{}",
        text(&o)
    );
    let o = host_b(
        &s,
        "b1",
        &[
            "--registry",
            at(&current),
            "trust",
            "add",
            &root,
            "--head",
            &head,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let list = host_b(&s, "b1", &["trust", "list", "--json"]);
    let pins: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(pins[0]["floor"]["head"], head.as_str());
    assert_eq!(pins[0]["floor"]["seq"], ids.len() - 1);
    let o = host_b(&s, "b-fresh", &["--registry", at(&by_operator), "list"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("only"), "{}", text(&o));
    // `--seq` alone would be satisfied by any history of that length: it says so and pins
    // nothing.
    let host = |s: &Sandbox| {
        (
            crate::util::snapshot(&s.join("host-c")),
            crate::util::snapshot(&s.join("c")),
        )
    };
    fs::create_dir_all(s.join("host-c")).unwrap();
    fs::create_dir_all(s.join("c")).unwrap();
    let before = host(&s);
    let o = s
        .reg()
        .env("REG_TRUST_FILE", s.join("host-c/trust.json"))
        .env("REG_STATE_DIR", s.join("c"))
        .args(["--registry", at(&current), "trust", "add", &root, "--seq"])
        .arg(format!("{}", ids.len() - 1))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error: `--seq {}` proves only a history's length, not which history: any history that long passes (one cut before a revocation and padded with new entries); nothing was pinned\n\
             hint: pin with `--head CODE`: the head code the sending site's `reg status --code` prints, read to you out of band\n",
            ids.len() - 1
        )
    );
    assert!(before == host(&s));
}

/// `trust add --head CODE` on host B, with its trust file and state directory (`host-b`,
/// `state`) asserted unchanged when it fails; returns the output.
fn pin_with_code(s: &Sandbox, registry: &Path, root: &str, code: &str) -> std::process::Output {
    let host = || {
        (
            crate::util::snapshot(&s.join("host-b")),
            crate::util::snapshot(&s.join("b-pin")),
        )
    };
    fs::create_dir_all(s.join("host-b")).unwrap();
    fs::create_dir_all(s.join("b-pin")).unwrap();
    let before = host();
    let o = host_b(
        s,
        "b-pin",
        &[
            "--registry",
            at(registry),
            "trust",
            "add",
            root,
            "--head",
            code,
        ],
    );
    if !o.status.success() {
        assert!(
            before == host(),
            "a refused pin changed host state: {}",
            text(&o)
        );
    }
    o
}

#[test]
fn a_head_code_with_a_misread_symbol_or_swapped_groups_is_refused_naming_the_check() {
    let (s, root, _, _) = site_a();
    let current = carry(&s, "current");
    let code = s.ok(&["status", "--code"]).trim().to_string();
    // SEQ, then seven groups of five symbols: 35 symbols, 28 of them (140 bits) the head's id.
    let parts: Vec<&str> = code.split('-').collect();
    assert_eq!(parts.len(), 8, "{code}");
    assert_eq!(parts[0], format!("{}", s.ledger_ids().len() - 1));
    assert!(parts[1..].iter().all(|g| g.len() == 5), "{code}");
    // One symbol misread, in each group in turn.
    for g in 1..parts.len() {
        let mut p: Vec<String> = parts.iter().map(|x| x.to_string()).collect();
        let first = p[g].remove(0);
        p[g].insert(0, if first == '7' { '8' } else { '7' });
        let bad = p.join("-");
        let o = pin_with_code(&s, &current, &root, &bad);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).starts_with(&format!(
                "error: `{bad}`: group {g} (`{}`) fails its check symbol: a symbol of it was misread\n\
                 hint: ask the sending site to read the code `reg status --code` prints again, group by group; nothing was pinned",
                p[g]
            )),
            "{}",
            text(&o)
        );
    }
    // Two adjacent groups swapped.
    for g in 1..parts.len() - 1 {
        let mut p = parts.clone();
        p.swap(g, g + 1);
        let bad = p.join("-");
        let o = pin_with_code(&s, &current, &root, &bad);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains(&format!(
                "groups {g} (`{}`), {} (`{}`) fail their check symbols",
                p[g],
                g + 1,
                p[g + 1]
            )),
            "{}",
            text(&o)
        );
    }
    // The seq misread: no group matches.
    let bad = format!(
        "{}-{}",
        parts[0].parse::<u64>().unwrap() + 1,
        parts[1..].join("-")
    );
    let o = pin_with_code(&s, &current, &root, &bad);
    assert!(
        text(&o).contains("no group matches its check symbol"),
        "{}",
        text(&o)
    );
    // A group left out.
    let o = pin_with_code(&s, &current, &root, &parts[..7].join("-"));
    assert!(
        text(&o).contains("has 30 symbols after the seq"),
        "{}",
        text(&o)
    );
    // The code reg wrote before (96 bits in hex, no check) is refused as too short.
    let head = s.ledger_ids().last().unwrap().clone();
    let old = format!(
        "{}-{}-{}-{}-{}-{}-{}",
        parts[0],
        &head[0..4],
        &head[4..8],
        &head[8..12],
        &head[12..16],
        &head[16..20],
        &head[20..24]
    );
    let o = pin_with_code(&s, &current, &root, &old);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is a 96-bit head code of an older reg"),
        "{}",
        text(&o)
    );
    // As read back over the phone: lower case, spaces for dashes. It pins, with the whole id.
    let spoken = format!("{}-{}", parts[0], parts[1..].join(" ").to_lowercase());
    let o = pin_with_code(&s, &current, &root, &spoken);
    assert!(o.status.success(), "{}", text(&o));
    let pins = fs::read_to_string(s.join("host-b/trust.json")).unwrap();
    assert!(pins.contains(&format!("\"head\":\"{head}\"")), "{pins}");
}

#[test]
fn a_history_cut_before_a_revocation_and_padded_to_the_same_length_is_refused_by_its_head() {
    let (s, root, by_operator, _) = site_a();
    let code = s.ok(&["status", "--code"]).trim().to_string();
    let len = s.ledger_ids().len();
    // The operator key's holder pads the copy made before the revocation with slot entries
    // until it is as long as the genuine history, and re-checkpoints it: it verifies.
    let attacker = |args: &[&str]| {
        let o = s
            .reg()
            .env("REG_TRUST_FILE", s.join("host-x/trust.json"))
            .env("REG_STATE_DIR", s.join("x"))
            .args(["--trust", &root, "--registry", at(&by_operator)])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    };
    let lines = || {
        fs::read_to_string(by_operator.join(".registry/ledger"))
            .unwrap()
            .lines()
            .count()
    };
    let mut n = 0;
    while lines() < len {
        n += 1;
        let slot = format!("pad-{n}");
        attacker(&[
            "activate",
            &slot,
            "det@1.0.0",
            "--reason",
            "pad",
            "--key",
            "op.pem",
        ]);
    }
    attacker(&["ledger", "verify"]);
    // The head code refuses it: the entry at that seq is another.
    let o = pin_with_code(&s, &by_operator, &root, &code);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not in this registry's history (it lists "),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!("at entry {})", len - 1)),
        "{}",
        text(&o)
    );
    assert!(!s.join("host-b/trust.json").exists());
    // And the revoked model is active there: what a pin by length would have let in.
    let o = host_b(
        &s,
        "b-naive",
        &["--trust", &root, "--registry", at(&by_operator), "status"],
    );
    assert!(text(&o).contains("det@1.0.0"), "{}", text(&o));
}

#[test]
fn a_checkpoint_re_signed_by_another_trusted_key_is_refused_on_the_fast_path() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    // This host verified the registry: reads now take the fast path.
    s.ok(&["list"]);
    let path = s.dot().join("checkpoint");
    let (_, cp) = reg::repo::ledger::read_checkpoint(&path).unwrap();
    // The publisher key is trusted, but it did not sign the head entry (the operator did).
    let publisher = crate::craft::load(&s, "pub.pem");
    let forged =
        reg::crypto::envelope::sign(reg::crypto::envelope::Kind::Checkpoint, &cp, &publisher)
            .unwrap();
    fs::write(&path, forged).unwrap();
    for args in [&["list"][..], &["status"], &["ledger", "verify"]] {
        let err = s.fails(1, args);
        assert!(
            err.contains("checkpoint: signature does not verify")
                || err.contains("head entry's signer"),
            "{args:?}: {err}"
        );
    }
}
