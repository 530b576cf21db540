//! Shell completions and man pages are generated from the CLI definition, for every command.

use crate::util::Sandbox;

/// Whether `word` occurs in `text` with no letter, digit, `-` or `_` on either side.
fn has_word(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(part)
            && !text[i + word.len()..].chars().next().is_some_and(part)
    })
}

#[test]
fn completions_cover_every_command_in_every_shell() {
    assert!(!has_word("reg deactivate --reason", "activate"));
    assert!(has_word("reg activate deactivate", "activate"));
    let s = Sandbox::new();
    let commands = [
        "init",
        "key",
        "bundle",
        "add",
        "promote",
        "deprecate",
        "revoke",
        "activate",
        "deactivate",
        "list",
        "show",
        "status",
        "fsck",
        "check",
        "verify",
        "checkout",
        "export",
        "repair",
        "drift",
        "gc",
        "purge",
        "policy",
        "recipients",
        "ledger",
        "log",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let script = s.ok(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        for c in commands {
            // As a word of its own: "activate" inside "deactivate" does not count.
            assert!(has_word(&script, c), "{shell} completions lack `{c}`");
        }
    }
}

#[test]
fn a_man_page_is_written_for_every_command() {
    let s = Sandbox::new();
    let out = s.ok(&["man", "-o", "man1"]);
    let pages: Vec<std::path::PathBuf> = std::fs::read_dir(s.join("man1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        out.contains(&format!("wrote {} man pages", pages.len())),
        "{out}"
    );
    for name in [
        "reg.1",
        "reg-add.1",
        "reg-key-gen.1",
        "reg-drift-record.1",
        "reg-fsck.1",
        "reg-check.1",
        "reg-bundle-pack.1",
    ] {
        assert!(s.join(&format!("man1/{name}")).exists(), "{name}");
    }
    for p in &pages {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            text.contains(".TH") && text.contains(".SH NAME"),
            "{}",
            p.display()
        );
        assert!(text.len() > 200, "{} is nearly empty", p.display());
    }
    assert!(pages.len() >= 40, "{}", pages.len());
}
