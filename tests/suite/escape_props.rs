//! Property tests: no control or bidirectional-formatting character, from any field, reaches the
//! terminal. First the escape function itself over many generated strings, then the CLI over
//! generated strings in every free-text field a record, an entry, an observation or a file name
//! carries, through `show`, `log`, `list`, `status`, `drift list` and error messages.
//!
//! The strings come from a small seeded generator (proptest is not in the offline registry
//! cache): each failure prints its seed and case, and `REG_PROP_SEED` replays a run.

use crate::craft;
use crate::forged_entries::{checkpoint, replayed, store_and_list};
use crate::util::Sandbox;
use reg::crypto::envelope::Kind;
use std::fs;

/// The very escape code `src/cli` prints through (`outln!`, `errln!`, `--json`), compiled here
/// so that it can be called directly.
#[path = "../../src/cli/sanitize.rs"]
#[allow(dead_code)]
mod sanitize;

use sanitize::{escape, is_unsafe, write_json_line, write_line};

/// splitmix64: small, seeded, good enough to spread cases over the character classes.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn seed() -> u64 {
    std::env::var("REG_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0f11)
}

/// The bidirectional controls (Unicode's Bidi_Control property, UAX #9).
const BIDI_CONTROLS: [char; 12] = [
    '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// What must never reach a terminal, written independently of `is_unsafe`: the standard
/// library's control characters (Unicode Cc), the bidirectional controls, the line and
/// paragraph separators, and the invisible characters that make two strings look alike.
fn forbidden(c: char) -> bool {
    c.is_control()
        || BIDI_CONTROLS.contains(&c)
        || matches!(c,
            '\u{2028}' | '\u{2029}' | '\u{ad}' | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}'
            | '\u{feff}' | '\u{e0000}'..='\u{e007f}')
}

/// A character from one of the classes that matter, or anywhere in Unicode.
fn gen_char(rng: &mut Rng, nul: bool) -> char {
    let c = match rng.below(12) {
        0..=2 => char::from(b' ' + rng.below(95) as u8),
        3 => rng.pick(&['\\', '{', '}', 'x', 'u', '[', ']', ';', '=', '`']),
        4 => char::from(rng.below(0x20) as u8),
        5 => char::from_u32(0x7f + rng.below(0x21) as u32).unwrap(),
        6 => rng.pick(&BIDI_CONTROLS),
        7 => rng.pick(&[
            '\u{ad}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{2064}',
            '\u{feff}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
            '\u{600}',
            '\u{6dd}',
            '\u{180e}',
            '\u{fff9}',
            '\u{1d173}',
            '\u{13430}',
        ]),
        8 => rng.pick(&['é', '模', '型', '\u{301}', '😀', 'ß', 'Ω', '\u{fffd}']),
        // Any scalar value.
        _ => loop {
            if let Some(c) = char::from_u32(rng.below(0x11_0000) as u32) {
                break c;
            }
        },
    };
    if c == '\0' && !nul { '?' } else { c }
}

fn gen_string(rng: &mut Rng, max: u64, nul: bool) -> String {
    let len = 1 + rng.below(max);
    (0..len).map(|_| gen_char(rng, nul)).collect()
}

/// Reads back what [`escape`] wrote: `\n`, `\r`, `\t`, `\xHH`, `\u{H...}`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let hex: String = [it.next().unwrap(), it.next().unwrap()].iter().collect();
                out.push(char::from(u8::from_str_radix(&hex, 16).unwrap()));
            }
            Some('u') => {
                assert_eq!(it.next(), Some('{'));
                let hex: String = it.by_ref().take_while(|c| *c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => panic!("`\\{other:?}` is not an escape reg writes"),
        }
    }
    out
}

const CASES: usize = 20_000;

#[test]
fn escaped_text_holds_no_control_bidi_or_invisible_character() {
    let mut rng = Rng::new(seed());
    for case in 0..CASES {
        let s = gen_string(&mut rng, 40, true);
        let out = escape(&s);
        if let Some(c) = out.chars().find(|c| forbidden(*c) || is_unsafe(*c)) {
            panic!(
                "case {case} (seed {}): {c:?} survives in {out:?} from {s:?}",
                seed()
            );
        }
        // A line written for people is one line on the screen: its only newline is the last byte.
        let mut line = Vec::new();
        write_line(&mut line, format_args!("x: {s}")).unwrap();
        let line = String::from_utf8(line).unwrap();
        assert_eq!(
            line.find('\n'),
            Some(line.len() - 1),
            "case {case}: {line:?}"
        );
        assert_eq!(line, format!("x: {out}\n"), "case {case}");
    }
}

#[test]
fn escaping_is_per_character_and_reads_back_when_there_is_no_backslash() {
    let mut rng = Rng::new(seed() ^ 1);
    for case in 0..CASES {
        let a = gen_string(&mut rng, 20, true);
        let b = gen_string(&mut rng, 20, true);
        // Each character is escaped on its own: no context changes how a character is shown.
        assert_eq!(
            escape(&format!("{a}{b}")),
            format!("{}{}", escape(&a), escape(&b)),
            "case {case}"
        );
        // Text with nothing to escape is shown exactly as it is.
        if !a.chars().any(|c| forbidden(c) || is_unsafe(c)) {
            assert_eq!(escape(&a), a.as_str(), "case {case}");
        }
        // Escapes are visible and unambiguous except against a literal backslash, which is
        // not doubled (documented in src/cli/sanitize.rs: the escaped text is for reading,
        // `--json` for exact data): without one, the escaped text reads back to the original,
        // so two different strings never look the same.
        let plain: String = a.chars().filter(|c| *c != '\\').collect();
        assert_eq!(unescape(&escape(&plain)), plain, "case {case}: {plain:?}");
    }
    // The documented ambiguity, pinned: a literal `\n` and a newline show the same.
    assert_eq!(escape("a\\nb"), escape("a\nb"));
}

#[test]
fn json_output_is_exact_and_holds_no_unsafe_character() {
    let mut rng = Rng::new(seed() ^ 2);
    for case in 0..CASES {
        let s = gen_string(&mut rng, 40, true);
        let mut out = Vec::new();
        write_json_line(&mut out, &serde_json::json!([s, { &s: 1 }])).unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = text.strip_suffix('\n').unwrap();
        if let Some(c) = body.chars().find(|c| forbidden(*c) || is_unsafe(*c)) {
            panic!("case {case}: {c:?} in JSON {body:?}");
        }
        let back: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(back[0], s.as_str(), "case {case}");
        assert_eq!(back[1][&s], 1, "case {case}");
    }
}

/// Runs reg; every byte it wrote to stdout and stderr must be free of forbidden characters
/// (newline aside). Returns (exit code, stdout, stderr).
fn clean(s: &Sandbox, case: usize, args: &[&str]) -> (i32, String, String) {
    let out = s.reg().args(args).output().unwrap();
    let mut texts = Vec::new();
    for (stream, bytes) in [("stdout", out.stdout), ("stderr", out.stderr)] {
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|_| panic!("case {case}: reg {args:?}: {stream} is not UTF-8"));
        if let Some(c) = text.chars().find(|c| *c != '\n' && forbidden(*c)) {
            panic!(
                "case {case} (seed {}): reg {args:?}: {c:?} reached {stream}: {text:?}",
                seed()
            );
        }
        texts.push(text);
    }
    let err = texts.pop().unwrap();
    (out.status.code().unwrap(), texts.pop().unwrap(), err)
}

/// A policy entry whose reason is `reason`, signed with the root key but built by hand: a
/// ledger written before writers refused controls in reasons, or by another tool, holds any
/// character there, and readers accept it.
fn raw_policy_entry(s: &Sandbox, reason: &str) {
    let root = craft::load(s, "root.pem");
    let mut state = replayed(s);
    let payload = serde_json::json!({
        "actor": root.public().fingerprint().as_str(),
        "policy": {},
        "prev": state.head().to_string(),
        "reason": reason,
        "registry": state.registry().to_string(),
        "seq": state.seq() + 1,
        "time": "2026-01-01T00:00:00Z",
    });
    let payload = reg::util::encoding::to_canonical_vec(&payload).unwrap();
    let bytes = reg::crypto::envelope::sign_bytes(Kind::Policy, &payload, &root).unwrap();
    let id = store_and_list(s, &bytes);
    let env = reg::crypto::envelope::Unverified::parse(&bytes).unwrap();
    let entry = reg::format::entry::Entry::from_envelope(&env).unwrap();
    state.apply(id, &entry).unwrap();
    checkpoint(s, &state, &root);
}

/// Whether `value` holds the string `s` anywhere.
fn holds(value: &serde_json::Value, s: &str) -> bool {
    match value {
        serde_json::Value::String(v) => v == s,
        serde_json::Value::Array(a) => a.iter().any(|v| holds(v, s)),
        serde_json::Value::Object(m) => m.values().any(|v| holds(v, s)),
        _ => false,
    }
}

#[test]
fn no_generated_field_text_reaches_the_terminal_unescaped() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    let mut rng = Rng::new(seed() ^ 3);
    const CLI_CASES: usize = 20;
    for case in 0..CLI_CASES {
        // Arguments cannot hold NUL; files and hand-built entries can.
        let description = gen_string(&mut rng, 24, false);
        let label = gen_string(&mut rng, 12, false);
        let framework = gen_string(&mut rng, 12, false);
        // Writers refuse C0 controls but newline and tab in a reason.
        let reason: String = gen_string(&mut rng, 24, false)
            .chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    '_'
                } else {
                    c
                }
            })
            .collect::<String>()
            + "r";
        let notes = gen_string(&mut rng, 24, true);
        let raw_reason = gen_string(&mut rng, 24, true);
        let file_name = gen_string(&mut rng, 16, false).replace('/', "_");
        let name = format!("p{case}");
        let spec = format!("{name}@1.0.0");

        let dir = format!("m{case}");
        fs::create_dir(s.join(&dir)).unwrap();
        fs::write(
            s.join(&format!("{dir}/r.yar")),
            "rule r { condition: true }\n",
        )
        .unwrap();
        let tar = format!("{dir}.tar");
        let label_arg = format!("note={label}");
        s.ok(&[
            "bundle",
            "pack",
            &dir,
            "-o",
            &tar,
            "--key",
            "pub.pem",
            "--name",
            &name,
            "--version",
            "1.0.0",
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            &description,
            "--framework",
            &framework,
            "--label",
            &label_arg,
        ]);
        s.ok(&["add", &tar, "--key", "op.pem"]);
        s.ok(&["promote", &spec, "--key", "op.pem", "--reason", &reason]);
        let mut obs = crate::util::observation(
            ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"],
            10,
            "psi",
            0.1,
        );
        obs["metrics"][0]["notes"] = notes.clone().into();
        obs["notes"] = notes.clone().into();
        fs::write(s.join("obs.json"), obs.to_string()).unwrap();
        s.ok(&["drift", "record", &spec, "obs.json", "--key", "rep.pem"]);
        raw_policy_entry(&s, &raw_reason);

        let (_, show, _) = clean(&s, case, &["show", &spec]);
        for line in [
            format!("description: {}", escape(&description)),
            format!("framework:   {}", escape(&framework)),
            format!("label:       note={}", escape(&label)),
        ] {
            assert!(
                show.lines().any(|l| l == line),
                "case {case}: `{line}` not in {show}"
            );
        }
        let (_, log, _) = clean(&s, case, &["log"]);
        for r in [&reason, &raw_reason] {
            let line = format!("  reason:  {}", escape(r));
            assert!(
                log.lines().any(|l| l == line),
                "case {case}: `{line}` not in {log}"
            );
        }
        clean(&s, case, &["log", &spec]);
        clean(&s, case, &["list"]);
        clean(&s, case, &["status"]);
        clean(&s, case, &["drift", "list", &spec]);
        // Notes are shown only as JSON, which is escaped the same way and reads back exactly.
        let (_, json, _) = clean(&s, case, &["drift", "list", &spec, "--json"]);
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(holds(&json, &notes), "case {case}: {notes:?} not in {json}");
        clean(&s, case, &["policy", "show"]);
        // Errors: an unknown model named by the caller, and a bundle file named by the medium.
        let (code, _, err) = clean(&s, case, &["show", &format!("{description}@1")]);
        assert_ne!(code, 0, "case {case}");
        assert!(err.starts_with("error: "), "case {case}: {err}");
        let publisher = craft::load(&s, "pub.pem");
        let files = [craft::file("r.yar", b"rule r { condition: true }\n")];
        let signed = craft::sign(
            &craft::manifest_for(&files, &format!("q{case}"), "1.0.0", &publisher),
            &publisher,
        );
        let hostile = craft::Tar::new()
            .manifest(&signed)
            .file("r.yar", &files[0].data)
            .file(&file_name, b"x")
            .end();
        fs::write(s.join("hostile.tar"), hostile).unwrap();
        let before = s.snapshot();
        let (code, _, err) = clean(&s, case, &["add", "hostile.tar", "--key", "op.pem"]);
        assert_eq!(code, 1, "case {case}: {err}");
        assert!(err.starts_with("error: "), "case {case}: {err}");
        assert_eq!(before, s.snapshot(), "case {case}");
    }
}
