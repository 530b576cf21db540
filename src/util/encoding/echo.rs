//! Echoing untrusted text in error messages: short, with controls and bidirectional
//! formatting characters escaped.

/// Most bytes of an input echoed in an error message: enough to recognise it, never a whole
/// oversized input (which could flood a terminal or a log).
pub const ECHO_LIMIT: usize = 160;

/// `text` for an error message: at most [`ECHO_LIMIT`] bytes (cut on a character boundary, with
/// `…` and the full length when cut), control and bidirectional-formatting characters escaped as
/// `\u{…}`, so that an error never rewrites the terminal nor echoes a whole oversized input.
pub fn echo(text: &str) -> String {
    echo_within(text, ECHO_LIMIT)
}

/// [`echo`] with another length limit, in bytes.
pub fn echo_within(text: &str, limit: usize) -> String {
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
        out.push_str(&format!("… ({} bytes)", text.len()));
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
