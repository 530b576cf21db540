//! A model card: `reg show --card MODEL` prints Markdown made from the
//! verified record and ledger (title, metadata with owner and license, intended use,
//! provenance, artifacts, lifecycle history with signers, slots, drift, gate standing), with the
//! publisher's text made inert; `owner` and `license` are optional signed manifest fields
//! (`reg bundle pack --owner --license`) that only a format-4 registry admits.

use crate::util::{Sandbox, fixture, pack_args};
use serde_json::Value;
use std::fs;

/// Packs `m-NAME-VERSION/` (a rules file and a pickle, unless the directory exists) with `extra` flags, signed by `pub.pem`; returns the
/// bundle's file name.
fn pack(s: &Sandbox, name: &str, version: &str, extra: &[&str]) -> String {
    pack_with(s, "pub.pem", name, version, extra)
}

/// [`pack`], signed by `key`.
fn pack_with(s: &Sandbox, key: &str, name: &str, version: &str, extra: &[&str]) -> String {
    let dir = format!("m-{name}-{version}");
    if !s.join(&dir).exists() {
        fs::create_dir_all(s.join(&dir)).unwrap();
        fs::write(
            s.join(&format!("{dir}/rules.yar")),
            format!("rule {name} {{}}\n"),
        )
        .unwrap();
        fs::write(s.join(&format!("{dir}/model.pkl")), b"\x80\x04\x95\x00.").unwrap();
    }
    let out = format!("{dir}.tar");
    let mut args = pack_args(&dir, &out, key, name, version);
    if extra.contains(&"--description") {
        let at = args.iter().position(|a| a == "--description").unwrap();
        args.drain(at..at + 2);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out
}

/// A site where `det@2.0.0` (owner, license, framework, a label, provenance) is promoted,
/// active in `prod` and observed once, its operator key named "alice"; returns its
/// `show --json`.
fn site() -> (Sandbox, Value) {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    s.key("pub.pem");
    s.key("rep.pem");
    s.ok(&[
        "key",
        "trust",
        "op.pem.pub",
        "--role",
        "operator",
        "--name",
        "alice",
        "--key",
        "root.pem",
        "--reason",
        "duty operator",
    ]);
    s.trust("pub.pem.pub", "publisher", "model team");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    let tar = pack(
        &s,
        "det",
        "2.0.0",
        &[
            "--owner",
            "vision team",
            "--license",
            "Apache-2.0",
            "--framework",
            "yara 4.5",
            "--label",
            "team=dfir",
            "--provenance",
            "corpus-2026=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ],
    );
    s.ok(&["add", &tar, "--key", "op.pem"]);
    s.ok(&[
        "promote",
        "det@2.0.0",
        "--reason",
        "validated on the Q3 set",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "activate",
        "prod",
        "det@2.0.0",
        "--reason",
        "go live",
        "--key",
        "op.pem",
    ]);
    s.example_observation("obs.json");
    s.ok(&[
        "drift",
        "record",
        "det@2.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let v: Value = serde_json::from_str(&s.ok(&["show", "det@2.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &v);
    (s, v)
}

/// The lines of section `title` (up to the next heading).
fn section<'a>(card: &'a str, title: &str) -> Vec<&'a str> {
    let heading = format!("## {title}");
    let lines: Vec<&str> = card.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == heading)
        .unwrap_or_else(|| panic!("no section {title}:\n{card}"));
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("## "))
        .copied()
        .collect()
}

#[test]
fn the_card_holds_every_section_with_the_records_values() {
    let (s, v) = site();
    let card = s.ok(&["show", "--card", "det@2.0.0"]);
    let op = s.ok(&["key", "fingerprint", "op.pem"]).trim().to_string();
    let publ = s.ok(&["key", "fingerprint", "pub.pem"]).trim().to_string();
    let rep = s.ok(&["key", "fingerprint", "rep.pem"]).trim().to_string();
    assert!(card.starts_with("# det@2.0.0\n"), "{card}");
    assert!(card.contains(&format!("signed record `{}`", v["id"].as_str().unwrap())));

    let model = section(&card, "Model").join("\n");
    for row in [
        "| Name | det |",
        "| Version | 2.0.0 |",
        "| Type | ruleset |",
        "| Description | rules |",
        "| Framework | yara 4.5 |",
        "| Owner | vision team |",
        "| License | Apache-2.0 |",
        "| Label | team = dfir |",
        "| Lifecycle state | PROMOTED |",
    ] {
        assert!(model.contains(row), "{row}:\n{model}");
    }
    assert_eq!(
        section(&card, "Intended use").join("\n").trim(),
        "- detection"
    );
    let provenance = section(&card, "Provenance").join("\n");
    assert!(provenance.contains(
        "- corpus-2026: `sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`"
    ));
    assert!(provenance.contains(&format!(
        "- Published by {publ}, packed 2026-01-01T00:00:00Z"
    )));
    assert!(
        provenance.contains(&format!("by alice \\({op}\\)"))
            || provenance.contains(&format!("by alice ({op})")),
        "{provenance}"
    );

    let artifacts = section(&card, "Artifacts");
    for a in v["artifacts"].as_array().unwrap() {
        let row = format!(
            "| {} | {} | {} | `{}` | {} |",
            a["path"].as_str().unwrap(),
            a["size"],
            a["format"].as_str().unwrap(),
            a["blake3"].as_str().unwrap(),
            if a["runs_code_when_loaded"] == true {
                "**yes**"
            } else {
                "no"
            }
        );
        assert!(artifacts.contains(&row.as_str()), "{row}:\n{artifacts:#?}");
    }
    assert!(
        artifacts
            .iter()
            .any(|l| l.starts_with("| model.pkl |") && l.ends_with("| **yes** |"))
    );

    let history = section(&card, "Lifecycle history");
    let rows: Vec<&&str> = history
        .iter()
        .filter(|l| l.starts_with("| ") && l.as_bytes()[2].is_ascii_digit())
        .collect();
    assert_eq!(
        rows.len(),
        v["history"].as_array().unwrap().len(),
        "{history:#?}"
    );
    assert!(
        rows.iter()
            .any(|l| l.contains("| promote | PROMOTED | alice (")
                && l.contains(&op)
                && l.ends_with("| validated on the Q3 set |"))
    );
    assert!(
        rows.iter()
            .any(|l| l.contains("| activate | PROMOTED |") && l.contains("slot prod"))
    );
    assert!(
        rows.iter()
            .any(|l| l.contains("| drift |") && l.contains(&rep))
    );

    assert_eq!(
        section(&card, "Slots").join("\n").trim(),
        "- Active in slot prod"
    );
    let drift = section(&card, "Drift").join("\n");
    assert!(drift.contains("- Observations: 1"), "{drift}");
    assert!(drift.contains(&format!(
        "- Latest: entry `{}`",
        v["drift"]["last"].as_str().unwrap()
    )));
    assert!(drift.contains("- Latest window: 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z"));
    assert!(drift.contains("- Latest metrics: entropy-features, verdict-rate, analyst-confirmed"));
    assert!(
        section(&card, "Gate standing")
            .join("\n")
            .contains("Allowed: the gate allows its artifacts (PROMOTED)")
    );

    // The gate's standing follows the model.
    s.ok(&[
        "revoke",
        "det@2.0.0",
        "--deactivate",
        "--reason",
        "retired",
        "--key",
        "op.pem",
    ]);
    let card = s.ok(&["show", "--card", "det@2.0.0"]);
    assert!(
        section(&card, "Gate standing")
            .join("\n")
            .contains("**Denied (revoked)**")
    );
    assert!(
        section(&card, "Slots")
            .join("\n")
            .contains("Not the active model of any slot.")
    );
}

#[test]
fn markdown_in_signed_metadata_is_made_inert() {
    let s = Sandbox::new();
    s.init_with_roles();
    let tar = pack(
        &s,
        "evil",
        "1.0.0",
        &[
            "--description",
            "# Trusted\n| forged | row |\n<img src=x onerror=alert(1)> [click](http://x) **now** `code`",
            "--label",
            "note=a|b",
        ],
    );
    s.ok(&["add", &tar, "--key", "op.pem"]);
    let card = s.ok(&["show", "--card", "evil@1.0.0"]);
    let model = section(&card, "Model");
    let description = model
        .iter()
        .find(|l| l.starts_with("| Description |"))
        .unwrap();
    assert_eq!(
        *description,
        "| Description | \\# Trusted \\| forged \\| row \\| \\<img src=x onerror=alert(1)\\> \\[click\\](http://x) \\*\\*now\\*\\* \\`code\\` |"
    );
    assert!(model.contains(&"| Label | note = a\\|b |"), "{model:#?}");
    // No line of the card is a heading or table row the publisher wrote.
    assert!(
        !card
            .lines()
            .any(|l| l.starts_with("# Trusted") || l.starts_with("| forged"))
    );
    assert!(
        card.match_indices('<')
            .all(|(i, _)| card[..i].ends_with('\\')),
        "an unescaped `<`: {card}"
    );
}

#[test]
fn owner_and_license_are_signed_optional_and_refused_by_an_older_registry() {
    // Packed without them, the manifest has no such members: older bundles read as before.
    let s = Sandbox::new();
    s.init_with_roles();
    let plain = pack(&s, "plain", "1.0.0", &[]);
    s.ok(&["add", &plain, "--key", "op.pem"]);
    let v: Value = serde_json::from_str(&s.ok(&["show", "plain@1.0.0", "--json"])).unwrap();
    assert!(
        v.get("owner").is_none() && v.get("license").is_none(),
        "{v}"
    );
    let record = fs::read(s.object_path(v["id"].as_str().unwrap())).unwrap();
    let payload = reg::crypto::envelope::Unverified::parse(&record)
        .unwrap()
        .payload;
    let payload = String::from_utf8(payload).unwrap();
    assert!(
        !payload.contains("\"owner\"") && !payload.contains("\"license\""),
        "{payload}"
    );
    let card = s.ok(&["show", "--card", "plain@1.0.0"]);
    assert!(card.contains("| Owner | not stated |") && card.contains("| License | not stated |"));
    // Writers check what readers check: a control character is refused before signing.
    let err = s.fails(
        2,
        &pack_args("m-plain-1.0.0", "bad.tar", "pub.pem", "bad", "1.0.0")
            .iter()
            .map(String::as_str)
            .chain(["--owner", "eve\u{1b}[2J"])
            .collect::<Vec<_>>(),
    );
    assert!(
        err.contains("owner `") && err.contains("U+001B") && !err.contains("/owner"),
        "{err}"
    );
    assert!(!s.join("bad.tar").exists());

    // A format-3 registry refuses a record its readers could not parse, and is unchanged.
    let old = fixture("format3", &["root.pem", "op.pem", "pub.pem", "rep.pem"]);
    old.key("pub2.pem");
    old.trust("pub2.pem.pub", "publisher", "the new publisher key");
    // Its policy refuses pickles: a rules file alone.
    for v in ["9.0.0", "9.0.1"] {
        fs::create_dir_all(old.join(&format!("m-det-{v}"))).unwrap();
        fs::write(old.join(&format!("m-det-{v}/rules.yar")), "rule det {}\n").unwrap();
    }
    let tar = pack_with(
        &old,
        "pub2.pem",
        "det",
        "9.0.0",
        &["--owner", "vision team", "--license", "MIT"],
    );
    let before = old.snapshot();
    let err = old.fails(1, &["add", &tar, "--key", "op.pem"]);
    assert!(
        err.contains("a record with an owner or a license (`reg bundle pack --owner/--license`) needs a registry of format 4 or later; this one is format 3"),
        "{err}"
    );
    assert_eq!(before, old.snapshot(), "a refused add changed the registry");
    let tar = pack_with(&old, "pub2.pem", "det", "9.0.1", &[]);
    old.ok(&["add", &tar, "--key", "op.pem"]);
}
