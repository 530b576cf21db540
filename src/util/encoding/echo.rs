//! Echoing untrusted text in error messages: short, with controls and bidirectional
//! formatting characters escaped, and never anything that may be key material.
//!
//! [`echo`] is the one function through which an error quotes its input (a name, a value, a
//! line of a file, a parser's message about it): a person who hands reg an age identity or a
//! private key where another file belongs must not see the secret printed, into a terminal, a
//! log or a ticket. What may be key material ([`mask_key_material`]):
//! - an age identity, `AGE-SECRET-KEY-1…` or a plugin's `AGE-PLUGIN-…`, in either case;
//! - a run of [`KEY_RUN_MIN`] or more base64 characters (`A-Z a-z 0-9 + / =`), as a PEM body or
//!   a raw key is, that is not all hex digits (ids, hashes and fingerprints stay readable) nor an
//!   age recipient (`age1…`, public), and has an upper-case letter, `+` or `=` (so lower-case
//!   words, paths and JSON pointers stay readable; a base64 line lacks all three with odds of
//!   about 1 in 4,000 at 16 characters and 1 in 10^14 at 64).
//!
//! Each such run is replaced by `[N characters not shown]`.

use std::borrow::Cow;

/// Shortest run of base64 characters [`echo`] hides when it may be key material: a 16-character
/// piece of a key is already too much to print.
pub const KEY_RUN_MIN: usize = 16;

/// Markers of an age identity, upper case (matched in either case): what follows is secret.
const AGE_SECRET_MARKERS: [&str; 2] = ["AGE-SECRET-KEY-", "AGE-PLUGIN-"];

/// `text` with every part that may be key material replaced by `[N characters not shown]`:
/// an age identity, and every run of `min_run` or more base64 characters that is neither hex
/// nor an age recipient and holds an upper-case letter, `+` or `=` (module docs). Borrowed when
/// nothing is hidden.
pub fn mask_key_material(text: &str, min_run: usize) -> Cow<'_, str> {
    let hidden = key_material_spans(text, min_run);
    if hidden.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in hidden {
        out.push_str(&text[at..start]);
        out.push_str(&format!("[{} characters not shown]", end - start));
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Whether `text` holds anything [`mask_key_material`] would hide at [`KEY_RUN_MIN`].
pub fn holds_key_material(text: &str) -> bool {
    !key_material_spans(text, KEY_RUN_MIN).is_empty()
}

/// The byte ranges of `text` that may be key material, in order, not overlapping.
fn key_material_spans(text: &str, min_run: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let upper = text.to_ascii_uppercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // age identities: from the marker to the end of its bech32 run (letters, digits, `-`).
    for marker in AGE_SECRET_MARKERS {
        for (start, _) in upper.match_indices(marker) {
            let end = start
                + bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
                    .count();
            spans.push((start, end));
        }
    }
    // Runs of base64 characters.
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let mut i = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() >= min_run
            && !run.iter().all(u8::is_ascii_hexdigit)
            && !(run.len() > 4 && run[..4].eq_ignore_ascii_case(b"age1"))
            && run
                .iter()
                .any(|b| b.is_ascii_uppercase() || matches!(b, b'+' | b'='))
            && !names_a_path_here(enclosing_token(bytes, start, i))
        {
            spans.push((start, i));
        }
    }
    // Merge overlapping spans (an age identity is also a base64 run).
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The word around `bytes[start..end]`, up to whitespace, quotes, backticks or brackets: a
/// path's `.`, `-` and `_` cut it into several base64 runs, and a path is judged whole.
fn enclosing_token(bytes: &[u8], start: usize, end: usize) -> &[u8] {
    let stop = |b: &u8| b.is_ascii_whitespace() || b"`'\"()[]{}<>,;".contains(b);
    let from = bytes[..start].iter().rposition(stop).map_or(0, |p| p + 1);
    let to = bytes[end..]
        .iter()
        .position(stop)
        .map_or(bytes.len(), |p| end + p);
    &bytes[from..to]
}

/// Whether a run with a `/` is a path whose directory (all of it before its last `/`) exists
/// on this host: a path an error names, such as `/srv/Models/ResNet50/Shard0001`, which must
/// stay readable. The whole directory must exist, not a prefix of it: to have a key's body
/// shown, whoever can plant files (the medium is often the current directory) would have to
/// plant the body itself up to its last `/`, that is, know the key.
fn names_a_path_here(run: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(run) else {
        return false;
    };
    match text.rsplit_once('/') {
        Some((dir, _)) if !dir.is_empty() => {
            std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())
        }
        _ => false,
    }
}

/// Most bytes of an input echoed in an error message: enough to recognise it, never a whole
/// oversized input (which could flood a terminal or a log).
pub const ECHO_LIMIT: usize = 160;

/// `text` for an error message: what may be key material hidden ([`mask_key_material`]), then
/// at most [`ECHO_LIMIT`] bytes (cut on a character boundary, with `…` and the full length when
/// cut), control and bidirectional-formatting characters escaped as `\u{…}`, so that an error
/// never prints a secret, rewrites the terminal or echoes a whole oversized input.
pub fn echo(text: &str) -> String {
    echo_within(text, ECHO_LIMIT)
}

/// [`echo`] with another length limit, in bytes.
pub fn echo_within(text: &str, limit: usize) -> String {
    echo_masking(text, limit, KEY_RUN_MIN)
}

/// Shortest base64 run [`echo_message`] hides: shorter than a PEM body line (64 characters) or a
/// raw 32-byte key in base64 (44), longer than the pieces of a path between dots and dashes.
pub const MESSAGE_KEY_RUN_MIN: usize = 40;

/// A whole error message made safe to print, the last line of defence behind [`echo`]: cut to
/// `limit` bytes, escaped, and with age identities and base64 runs of [`MESSAGE_KEY_RUN_MIN`] or
/// more hidden. The message also holds paths reg wrote itself, which must stay readable, hence
/// the longer run; what a message quotes from its input went through [`echo`] already.
pub fn echo_message(text: &str, limit: usize) -> String {
    echo_masking(text, limit, MESSAGE_KEY_RUN_MIN)
}

fn echo_masking(text: &str, limit: usize, min_run: usize) -> String {
    let full = text.len();
    // Hidden before the cut, so that a run is judged whole, not by the piece that fits.
    let masked = mask_key_material(text, min_run);
    let text = masked.as_ref();
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 16);
    for c in text[..end].chars() {
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    if end < text.len() {
        out.push_str(&format!("… ({full} bytes)"));
    }
    out
}

/// Whether `c` is a bidirectional-formatting character (ALM, LRM, RLM, the embeddings and
/// overrides U+202A..U+202E, the isolates U+2066..U+2069): invisible characters that reorder
/// how the text around them is displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// The first control (C0, DEL, C1) or bidirectional-formatting character of `text`, as
/// `U+XXXX`: such characters are refused in identifiers (paths, names) because they hide or
/// reorder what an operator reads.
pub fn forbidden_char(text: &str) -> Option<String> {
    text.chars()
        .find(|&c| c.is_control() || is_bidi_control(c))
        .map(|c| format!("U+{:04X}", c as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_starts_on_this_host_stays_readable_and_a_key_body_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let models = dir.path().join("Models/ResNetLarge/FinalVersion");
        std::fs::create_dir_all(&models).expect("mkdir");
        let path = format!("{}/WeightsShard0001.bin", models.display());
        assert_eq!(mask_key_material(&path, KEY_RUN_MIN), path);
        // A directory that does not exist (only its start does) proves nothing.
        let planted = format!("{}/NoSuchDirHere/AndNotThisOne/Shard", dir.path().display());
        assert_ne!(mask_key_material(&planted, KEY_RUN_MIN), planted);
        let body = "MC4CAQAwBQYDK2VwBCIEIH/9xQ3vT0Lk8W2aYpQz+1oV7sXbZcN4eRjFgH";
        assert_ne!(mask_key_material(body, KEY_RUN_MIN), body);
        let rooted = "/Kx9QwErTyUiOpAsDfGhJkLz/XcVbNm1234567890PoIuYtRe";
        assert_ne!(mask_key_material(rooted, KEY_RUN_MIN), rooted);
    }

    #[test]
    fn echo_never_quotes_what_may_be_key_material() {
        let identity = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ7Q";
        let body = "MC4CAQAwBQYDK2VwBCIEIKK0+HdayW0MczhYOokMt46b4SKr5LeZcjAaKNjV3LVx";
        for secret in [
            identity.to_string(),
            identity.to_lowercase(),
            body.to_string(),
            "AGE-PLUGIN-YUBIKEY-1QQQQQQQQ".into(),
        ] {
            for text in [
                secret.clone(),
                format!("unknown field `{secret}`, expected `pins`"),
                format!("x{secret}\ny"),
            ] {
                let e = echo(&text);
                assert!(e.contains("characters not shown]"), "{e}");
                let lower = e.to_lowercase();
                assert!(!lower.contains("secret-key-1"), "{e}");
                assert!(!lower.contains("yubikey"), "{e}");
                assert!(!e.contains("MC4CAQAwBQ") && !e.contains("4SKr5LeZ"), "{e}");
            }
        }
        // Exactly the run is hidden; the rest of the message stays.
        assert_eq!(
            echo(&format!("invalid type: string \"{body}\", expected u64")),
            "invalid type: string \"[64 characters not shown]\", expected u64"
        );
        // A 16-character run with an upper-case letter, `+` or `=` is enough; 15 is not.
        assert_eq!(echo("abcdefghijklmnoP"), "[16 characters not shown]");
        assert_eq!(echo("abcdefghijklm+op"), "[16 characters not shown]");
        assert_eq!(echo("abcdefghijklmnO"), "abcdefghijklmnO");
        // Judged whole, before the cut: a long run at the end is not shown in part.
        let e = echo(&format!("{}{body}{body}{body}", "a ".repeat(70)));
        assert!(!e.contains("MC4C") && e.ends_with("bytes)"), "{e}");
        // What must stay readable: hex ids and hashes, age recipients (public), lower-case names,
        // paths and JSON pointers, times.
        for plain in [
            "3a62f2dd8ba3036414c50b68095f6824c26e295c755ee4ec50d4d134dfb8118d",
            "778c2be2bd872c0cbfdb31f33a66d68c",
            "age1wu9z3emhy9etjnt893cv4des3x6cn84yq0mxzn7fkyvrylka8smq9uef2t",
            "/artifacts/10/path",
            "models/resnet50/weights.bin",
            "2026-01-01T00:00:00Z",
            "reg-drift-reports 1",
        ] {
            assert_eq!(echo(plain), plain);
            assert!(!holds_key_material(plain), "{plain}");
        }
        assert!(holds_key_material(body) && holds_key_material(&identity.to_lowercase()));
        // A whole message keeps paths with mixed case readable, and still hides a PEM line.
        let msg = format!("`/tmp/.tmpAbC123/host/trust.json`: {body}");
        assert_eq!(
            echo_message(&msg, 2048),
            "`/tmp/.tmpAbC123/host/trust.json`: [64 characters not shown]"
        );
        assert!(!echo_message(identity, 2048).contains("QYQSZ"));
    }
}
