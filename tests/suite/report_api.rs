//! `reg::report` is what the CLI prints with `--json`: the library's documents, serialized,
//! equal the CLI's output on the same registry (status, list with a filter, show by spec and
//! by slot, log with a filter and its usage refusal, drift list, write results), so that the
//! CLI and every other caller (the Python package) cannot drift apart.

use crate::util::{EPOCH, Sandbox, copy_site};
use reg::Registry;
use reg::format::lifecycle::LifecycleState;
use reg::query::list::Filter;
use reg::report::{self, DriftQuery, LogQuery, Target, Written};
use serde_json::Value;

/// Opens the sandbox's registry as the CLI does in it: its host trust file and state, the
/// tests' clock.
fn open(s: &Sandbox) -> Registry {
    let opts = s
        .options()
        .with_clock(reg::util::encoding::Clock::from_epoch_text(EPOCH));
    Registry::open(&s.dot(), &opts).unwrap()
}

/// The CLI's `--json` output of `args`, parsed.
fn cli(s: &Sandbox, args: &[&str]) -> Value {
    serde_json::from_str(&s.ok(args)).unwrap()
}

/// The library's document as JSON.
fn lib(doc: impl serde::Serialize) -> Value {
    serde_json::to_value(doc).unwrap()
}

/// A site with `det@1.0.0`, `det@1.1.0` and `other@1.0.0` promoted, `det@1.0.0` active in
/// `prod`, `other@1.0.0` left registered, and one drift observation of `det@1.0.0`. Returns the
/// sandbox and the root key's fingerprint.
fn site() -> (Sandbox, String) {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.example_observation("obs.json");
    for (name, v) in [("det", "1.0.0"), ("det", "1.1.0"), ("other", "1.0.0")] {
        s.add_model(name, v, &[("rules.txt", format!("{name} {v}\n"))]);
    }
    for spec in ["det@1.0.0", "det@1.1.0"] {
        s.ok(&["promote", spec, "--reason", "validated", "--key", "op.pem"]);
    }
    s.ok(&[
        "activate",
        "prod",
        "det@1.0.0",
        "--reason",
        "go live",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    (s, root)
}

#[test]
fn the_reads_equal_the_cli_json() {
    let (s, _) = site();
    let reg = open(&s);

    assert_eq!(
        lib(report::status(&reg).unwrap()),
        cli(&s, &["status", "--json"])
    );

    let filter = Filter {
        states: vec![LifecycleState::Promoted],
        name: Some("det".into()),
        ..Filter::default()
    };
    let listed = lib(report::models(&reg, &filter).unwrap());
    assert_eq!(
        listed,
        cli(
            &s,
            &["list", "--json", "--state", "promoted", "--name", "det"]
        )
    );
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "the filter keeps det's two"
    );
    assert_eq!(
        lib(report::models(&reg, &Filter::default()).unwrap()),
        cli(&s, &["list", "--json"])
    );

    let by_spec = lib(report::show(&reg, &Target::Spec("det@1.0.0".into())).unwrap());
    assert_eq!(by_spec, cli(&s, &["show", "det@1.0.0", "--json"]));
    let by_slot = lib(report::show(&reg, &Target::Slot("prod".into())).unwrap());
    assert_eq!(by_slot, cli(&s, &["show", "--slot", "prod", "--json"]));
    assert_eq!(by_spec, by_slot, "prod runs det@1.0.0");

    let query = LogQuery {
        model: Some("det@1.0.0".into()),
        max_count: Some(2),
        ..LogQuery::default()
    };
    assert_eq!(
        lib(report::log(&reg, &query).unwrap()),
        cli(&s, &["log", "det@1.0.0", "-n", "2", "--json"])
    );
    let query = LogQuery {
        slot: Some("prod".into()),
        ..LogQuery::default()
    };
    assert_eq!(
        lib(report::log(&reg, &query).unwrap()),
        cli(&s, &["log", "--slot", "prod", "--json"])
    );
    assert_eq!(
        lib(report::log(&reg, &LogQuery::default()).unwrap()),
        cli(&s, &["log", "--json"])
    );

    let observed =
        lib(report::drift(&reg, &Target::Slot("prod".into()), &DriftQuery::default()).unwrap());
    assert_eq!(observed, cli(&s, &["drift", "list", "det@1.0.0", "--json"]));
    assert_eq!(observed.as_array().unwrap().len(), 1);
    assert_eq!(
        lib(report::drift_all(&reg).unwrap()),
        cli(&s, &["drift", "list", "--all", "--json"])
    );
}

/// A refusal of what was asked is the CLI's, message and hint: the CLI prints the library's.
#[test]
fn a_refused_query_says_what_the_cli_says() {
    let (s, _) = site();
    let reg = open(&s);
    for (query, args) in [
        (
            LogQuery {
                slot: Some("nosuch".into()),
                ..LogQuery::default()
            },
            vec!["log", "--slot", "nosuch", "--json"],
        ),
        (
            LogQuery {
                since: Some("yesterday".into()),
                ..LogQuery::default()
            },
            vec!["log", "--since", "yesterday", "--json"],
        ),
    ] {
        let Err(report::ReportError::Input(e)) = report::log(&reg, &query) else {
            panic!("{args:?}: the library refuses it as input");
        };
        let mut said = format!("error: {e}\n");
        if let Some(hint) = e.hint() {
            said.push_str(&format!("hint: {hint}\n"));
        }
        assert_eq!(s.fails(2, &args), said, "{args:?}");
    }
}

/// A write made through the library on one copy of a site and by the CLI on another writes the
/// same entry, and the library's write result is what the CLI prints.
#[test]
fn write_results_equal_the_cli_json() {
    let (s, root) = site();
    let copy = copy_site(&s, &root);
    let reg = open(&copy);
    let key = reg::crypto::keys::load_secret(&copy.join("op.pem"), &mut |_| None).unwrap();

    let done = reg::ops::lifecycle::transition(
        &reg,
        &key,
        "det@1.0.0",
        LifecycleState::Deprecated,
        "superseded",
        reg::ops::lifecycle::SlotPlan::Unspecified,
    )
    .unwrap();
    let deprecated = lib(Written::transition(&done));
    // `into_value` is how the Python package takes the document: the same object.
    assert_eq!(Written::transition(&done).into_value(), deprecated);
    assert_eq!(
        deprecated,
        cli(
            &s,
            &[
                "deprecate",
                "det@1.0.0",
                "--reason",
                "superseded",
                "--key",
                "op.pem",
                "--json",
            ]
        )
    );
    assert_eq!(deprecated["still_active"], serde_json::json!(["prod"]));

    let done = reg::ops::lifecycle::activate(&reg, &key, "prod", "det@1.1.0", "upgrade").unwrap();
    assert_eq!(
        lib(Written::activated(&done)),
        cli(
            &s,
            &[
                "activate",
                "prod",
                "det@1.1.0",
                "--reason",
                "upgrade",
                "--key",
                "op.pem",
                "--json",
            ]
        )
    );
}
