//! What reaches a person's terminal: every string reg prints may come from the medium (a
//! description, a label, a reason, a file name, a path inside an error), and whoever wrote the
//! medium must not be able to move the cursor, retitle the window, rewrite earlier lines or
//! reorder text on an operator's screen. So every line reg prints for people goes through
//! [`escape`]: `outln!` (stdout), `errln!` (stderr, warnings and errors), progress labels and
//! prompts. Nothing else in `src/cli` writes to a terminal (`reg completions`/`reg man` write
//! fixed text, `reg ledger export` writes canonical JSON, see below).
//!
//! Escaped, always, wherever they come from:
//! - every control character (Unicode class Cc: C0 `U+0000`–`U+001F` including newline, tab
//!   and carriage return, DEL `U+007F`, C1 `U+0080`–`U+009F`): `\n`, `\r`, `\t`, else `\x1b`
//!   style for C0 and DEL, `\u{9b}` style for C1;
//! - every format character (class Cf: the bidirectional controls U+061C, U+200E, U+200F,
//!   U+202A–U+202E, U+2066–U+2069, the zero-width and invisible characters U+200B–U+200D,
//!   U+2060–U+2064, U+FEFF, the soft hyphen, tag characters U+E0000–U+E007F, ...) and the line
//!   and paragraph separators U+2028, U+2029: `\u{202e}` style.
//!
//! One line of output is therefore always one line on the screen, in the order written. A
//! backslash is not doubled: the escaped text is for reading, `--json` is for exact data.
//! Zero-width joiners are escaped too (an emoji sequence in a description shows its parts):
//! invisible characters are how two different names are made to look the same.
//!
//! JSON output (`--json`, `drift export`) is exact: a JSON parser reads back every string as it
//! was stored. It is written with the same characters escaped as JSON `\uXXXX` escapes (serde
//! already escapes C0), so that JSON shown on a terminal is as safe as text and still decodes
//! to the same strings. `reg ledger export` writes each entry in its canonical form (FORMAT.md),
//! byte for byte, for machines; read it with a JSON tool.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// Whether `c` must not reach a terminal as is: a control (Cc), a format character (Cf,
/// Unicode 15.1), the line and paragraph separators, or any code point of the tag block
/// U+E0000–U+E007F (its unassigned ones are default-ignorable, so invisible, all the same).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}' | '\u{890}'..='\u{891}'
        | '\u{8e2}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}')
}

/// `s` with every unsafe character written as a visible escape (borrowed when there is none).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Displays a string escaped (for text built before it is printed, e.g. a prompt).
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// Writes one line for people: `args` rendered, escaped, then a newline. Used by `outln!` and
/// `errln!`; the only newline on the terminal is the one added here.
pub fn write_line(mut out: impl Write, args: fmt::Arguments<'_>) -> io::Result<()> {
    let line = match args.as_str() {
        Some(s) => escape(s).into_owned(),
        None => escape(&args.to_string()).into_owned(),
    };
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

/// Writes `value` as pretty JSON and a newline: exact for a parser, safe on a terminal.
pub fn write_json<T: serde::Serialize + ?Sized>(mut out: impl Write, value: &T) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        Safe(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser).map_err(io::Error::other)?;
    buf.push(b'\n');
    out.write_all(&buf)
}

/// Writes `value` as one line of compact JSON (JSON Lines), escaped as [`write_json`].
pub fn write_json_line<T: serde::Serialize + ?Sized>(
    mut out: impl Write,
    value: &T,
) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut buf, Safe(serde_json::ser::CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::other)?;
    buf.push(b'\n');
    out.write_all(&buf)
}

/// A JSON formatter that also writes DEL, C1, format characters and the line separators as
/// `\uXXXX` escapes (serde_json escapes only C0): the same strings for every parser.
struct Safe<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for Safe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    // Layout (indentation, separators) is the wrapped formatter's.
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_visibly() {
        assert_eq!(escape("plain é 模型"), "plain é 模型");
        assert_eq!(
            escape("a\x1b]0;t\x07b\rc\x08\nd\te\x7f"),
            "a\\x1b]0;t\\x07b\\rc\\x08\\nd\\te\\x7f"
        );
        assert_eq!(escape("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(escape("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        for c in [
            '\u{61c}',
            '\u{200b}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{2066}',
            '\u{2069}',
            '\u{feff}',
            '\u{e0041}',
        ] {
            assert!(is_unsafe(c), "{c:?}");
            assert!(!escape(&c.to_string()).contains(c));
        }
    }

    #[test]
    fn json_stays_exact_and_terminal_safe() {
        let s = "a\x1b[2J\u{7f}\u{9b}\u{202e}\u{e0041}\"\\é";
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({ "k\u{202e}": [s] })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["k\u{202e}"][0], s);
        let mut line = Vec::new();
        write_json_line(&mut line, &serde_json::json!([s])).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(back[0], s);
    }
}
