//! Help, man pages and README as an operator reads them: every `--help` ends
//! with an example, every man page has EXAMPLES, ENVIRONMENT, EXIT STATUS and SEE ALSO and
//! names only pages that exist, the global options are listed apart and only where a registry
//! is used, and the README says how to install and build reg for an air-gapped host.

use crate::util::Sandbox;
use std::collections::BTreeSet;
use std::fs;

/// The subcommands `reg PATH --help` lists under "Commands:" (`help` left out).
fn subcommands(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Commands:" {
            inside = true;
        } else if inside && line.starts_with("  ") {
            let name = line.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                out.push(name.to_string());
            }
        } else if inside && !line.starts_with(' ') {
            inside = false;
        }
    }
    out
}

/// Every command path of reg, found as a user would, through `--help`.
fn every_command(s: &Sandbox) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = s.ok(&args);
        for sub in subcommands(&help) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        out.push(path);
    }
    out
}

#[test]
fn every_help_ends_with_an_example() {
    let s = Sandbox::new();
    let all = every_command(&s);
    assert!(all.len() >= 50, "{}", all.len());
    for path in all {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let help = s.ok(&args);
            let (_, tail) = help
                .rsplit_once("\nExamples:\n")
                .unwrap_or_else(|| panic!("reg {args:?} has no example:\n{help}"));
            let lines: Vec<&str> = tail.lines().filter(|l| !l.is_empty()).collect();
            assert!(!lines.is_empty(), "reg {args:?}");
            for l in lines {
                assert!(
                    l.starts_with("  reg "),
                    "reg {args:?}: `{l}` after Examples:"
                );
            }
        }
    }
}

/// The `reg*(1)` pages a page refers to.
fn references(page: &str) -> Vec<String> {
    let text = page.replace("\\-", "-");
    let mut out = Vec::new();
    for (i, _) in text.match_indices("(1)") {
        let start = text[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .map_or(0, |j| j + 1);
        let name = &text[start..i];
        if name == "reg" || name.starts_with("reg-") {
            out.push(name.to_string());
        }
    }
    out
}

#[test]
fn man_pages_have_examples_environment_exit_status_and_see_also_naming_only_real_pages() {
    let s = Sandbox::new();
    s.ok(&["man", "-o", "man1"]);
    let pages: BTreeSet<String> = fs::read_dir(s.join("man1"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".1").unwrap().to_string()
        })
        .collect();
    assert!(
        pages.contains("reg") && pages.contains("reg-key-gen"),
        "{pages:?}"
    );
    for name in &pages {
        let page = fs::read_to_string(s.join(&format!("man1/{name}.1"))).unwrap();
        for section in [
            ".SH EXAMPLES",
            ".SH ENVIRONMENT",
            ".SH \"EXIT STATUS\"",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(page.contains(section), "{name}.1 lacks {section}");
        }
        let examples = page.split(".SH EXAMPLES").nth(1).unwrap();
        assert!(examples.contains("\nreg "), "{name}.1: {examples}");
        let refs = references(&page);
        if name != "reg" {
            assert!(
                refs.iter().any(|r| r == "reg"),
                "{name}.1 does not name reg(1)"
            );
        }
        for r in refs {
            assert!(
                pages.contains(&r),
                "{name}.1 names {r}(1), which is not generated"
            );
        }
    }
    let top = fs::read_to_string(s.join("man1/reg.1")).unwrap();
    assert!(top.contains("reg\\-key\\-gen(1)") || top.contains("reg\\-key(1)"));
    assert!(!top.contains("help(1)"), "reg.1 names a help page");
    // Every variable the sources read is documented, with the two conventions reg honours.
    let environment = top
        .split(".SH ENVIRONMENT")
        .nth(1)
        .unwrap()
        .split(".SH ")
        .next()
        .unwrap()
        .replace("\\-", "-");
    let mut vars = variables_read(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    vars.extend(["SOURCE_DATE_EPOCH".to_string(), "NO_COLOR".to_string()]);
    assert!(vars.len() >= 10, "{vars:?}");
    for v in vars {
        assert!(
            environment.contains(&v),
            "{v} not in ENVIRONMENT: {environment}"
        );
    }
    let exit = top.split(".SH \"EXIT STATUS\"").nth(1).unwrap();
    for code in ["\\fB0\\fR", "\\fB1\\fR", "\\fB2\\fR", "\\fB3\\fR"] {
        assert!(exit.contains(code), "{code}: {exit}");
    }
}

/// Every `REG_*` name in the sources under `dir`.
fn variables_read(dir: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("REG_") {
                    let name: String = text[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                        .collect();
                    if name.len() > 4 && !name.ends_with('_') {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn global_options_are_listed_apart_and_only_where_a_registry_is_used() {
    let s = Sandbox::new();
    let status = s.ok(&["status", "--help"]);
    let (own, global) = status.split_once("\nGlobal options:\n").expect(&status);
    assert!(!own.contains("--registry"), "{status}");
    for option in ["--registry", "--trust", "--skip-rollback-check", "--quiet"] {
        assert!(global.contains(option), "{option}: {status}");
    }
    for cmd in [
        &["key", "gen"][..],
        &["key", "fingerprint"],
        &["bundle"],
        &["bundle", "pack"],
        &["bundle", "verify"],
        &["completions"],
        &["man"],
    ] {
        let help = s.ok(&[cmd, &["--help"]].concat());
        for option in ["--registry", "--trust", "--skip-rollback-check"] {
            let listed = help.lines().any(|l| l.trim_start().starts_with(option));
            assert!(!listed, "reg {cmd:?} --help lists {option}:\n{help}");
        }
    }
    s.ok(&["man", "-o", "man1"]);
    let page = fs::read_to_string(s.join("man1/reg-bundle-pack.1")).unwrap();
    let options = page.split(".SH EXAMPLES").next().unwrap();
    assert!(
        !options.contains("\\-\\-registry"),
        "reg-bundle-pack.1 lists --registry"
    );
    // A global option before the command still works, where it is used and where it is not.
    s.init();
    let elsewhere = Sandbox::new();
    let at = s.path().to_str().unwrap();
    elsewhere.ok(&["--registry", at, "status"]);
    elsewhere.ok(&["--registry", at, "key", "gen", "k.pem"]);
}

/// The README's quick start is two commands; it says how to install a release binary, how to
/// build offline for an air-gapped host, and that a second host on one machine needs its own
/// trust file and state directory.
#[test]
fn the_readme_says_how_to_install_and_build_offline() {
    let readme = include_str!("../../README.md");
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .unwrap()
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert_eq!(
        quick.lines().filter(|l| !l.trim().is_empty()).count(),
        2,
        "{quick}"
    );
    for needle in [
        "cargo install --path . --locked",
        "cargo vendor",
        "replace-with = \"vendored-sources\"",
        "directory = \"vendor\"",
        "cargo build --release --offline --locked",
        "REG_TRUST_FILE",
        "REG_STATE_DIR",
        "second host",
    ] {
        assert!(readme.contains(needle), "README lacks `{needle}`");
    }
    let run = include_str!("../run");
    let say = run
        .find("will install")
        .expect("tests/run says what it installs");
    let install = run.find("apt-get install").unwrap();
    assert!(say < install, "tests/run installs before saying so");
}
