//! Recognising a pickle from its first bytes (FORMAT.md §7.4), by walking its opcodes.
//!
//! A pickle has no required header: protocols 0 and 1 start with any opcode, protocol 2 and
//! later with PROTO (`\x80`) only by custom, and an opcode's argument can hold another format's
//! magic bytes. Matching prefixes therefore misses pickles and takes text for one. Instead the
//! first bytes are read as Python's pickle machine would: every byte must be an opcode, every
//! argument well formed. They are a pickle if that walk reaches STOP having read the whole
//! stream, or, when the file is longer than what was read, if it reached the end of what was
//! read after an opcode that looks up or calls an object (what makes a pickle run code).
//! Nothing is executed; no stack is kept.

/// How an opcode's argument is written.
#[derive(Clone, Copy)]
enum Arg {
    /// None.
    No,
    /// A decimal (or `True`/`False` spelled `00`/`01`) number ending in `\n`.
    Number,
    /// A float in text ending in `\n`.
    Float,
    /// A quoted string ending in `\n` (STRING).
    Quoted,
    /// Any printable text ending in `\n` (UNICODE, PERSID).
    Line,
    /// Two identifier lines, module then name (GLOBAL, INST).
    Global,
    /// `n` bytes.
    Fixed(usize),
    /// A little-endian length of `n` bytes, then that many bytes.
    Counted(usize),
}

/// The argument of `op`, and whether the opcode looks up or calls an object; `None` if `op` is
/// no opcode of protocols 0 to 5.
fn opcode(op: u8) -> Option<(Arg, bool)> {
    use Arg::*;
    Some(match op {
        b'(' | b'.' | b'0' | b'1' | b'2' | b'N' | b'a' | b'd' | b'}' | b'e' | b'l' | b']'
        | b's' | b't' | b')' | b'u' | b'Q' | b'\x85' | b'\x86' | b'\x87' | b'\x88' | b'\x89'
        | b'\x94' | b'\x8f' | b'\x90' | b'\x91' | b'\x97' | b'\x98' => (No, false),
        b'R' | b'b' | b'o' | b'\x81' | b'\x92' | b'\x93' => (No, true),
        b'I' | b'L' | b'g' | b'p' => (Number, false),
        b'F' => (Float, false),
        b'S' => (Quoted, false),
        b'V' | b'P' => (Line, false),
        b'c' | b'i' => (Global, true),
        b'K' | b'h' | b'q' | b'\x80' => (Fixed(1), false),
        b'M' => (Fixed(2), false),
        b'J' | b'j' | b'r' => (Fixed(4), false),
        b'G' | b'\x95' => (Fixed(8), false),
        b'\x82' => (Fixed(1), true),
        b'\x83' => (Fixed(2), true),
        b'\x84' => (Fixed(4), true),
        b'U' | b'C' | b'\x8c' | b'\x8a' => (Counted(1), false),
        b'T' | b'X' | b'B' | b'\x8b' => (Counted(4), false),
        b'\x8d' | b'\x8e' | b'\x96' => (Counted(8), false),
        _ => return None,
    })
}

/// What reading one argument at the start of `rest` found.
enum Read {
    /// It is well formed and this long.
    Len(usize),
    /// It runs past the bytes read.
    Truncated,
    /// It is not well formed.
    Bad,
}

fn line(rest: &[u8]) -> Option<&[u8]> {
    rest.iter().position(|&b| b == b'\n').map(|n| &rest[..n])
}

fn read(arg: Arg, rest: &[u8]) -> Read {
    let text_line = |ok: &dyn Fn(&[u8]) -> bool| match line(rest) {
        Some(l) if ok(l) => Read::Len(l.len() + 1),
        Some(_) => Read::Bad,
        None if rest.len() > 256 => Read::Bad,
        None => Read::Truncated,
    };
    let number = |l: &[u8]| {
        let digits = l.strip_prefix(b"-").unwrap_or(l);
        let digits = digits.strip_suffix(b"L").unwrap_or(digits);
        !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
    };
    let ident = |s: &[u8]| {
        !s.is_empty()
            && s.len() <= 256
            && !s[0].is_ascii_digit()
            && s.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
    };
    match arg {
        Arg::No => Read::Len(0),
        Arg::Number => text_line(&number),
        Arg::Float => text_line(&|l| {
            !l.is_empty()
                && l.iter()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        }),
        Arg::Quoted => {
            text_line(&|l| l.len() >= 2 && matches!(l[0], b'\'' | b'"') && l[l.len() - 1] == l[0])
        }
        Arg::Line => text_line(&|l| l.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\\')),
        Arg::Global => match line(rest) {
            Some(module) if ident(module) => match line(&rest[module.len() + 1..]) {
                Some(name) if ident(name) => Read::Len(module.len() + name.len() + 2),
                Some(_) => Read::Bad,
                None => Read::Truncated,
            },
            Some(_) => Read::Bad,
            None if rest.len() > 256 => Read::Bad,
            None => Read::Truncated,
        },
        Arg::Fixed(n) if rest.len() < n => Read::Truncated,
        Arg::Fixed(n) => Read::Len(n),
        Arg::Counted(n) if rest.len() < n => Read::Truncated,
        Arg::Counted(n) => {
            let mut len = [0u8; 8];
            len[..n].copy_from_slice(&rest[..n]);
            match usize::try_from(u64::from_le_bytes(len)) {
                Ok(l) if rest.len() - n >= l => Read::Len(n + l),
                Ok(_) => Read::Truncated,
                Err(_) => Read::Bad,
            }
        }
    }
}

/// Whether `head`, the first bytes of a file (all of it when `whole`), is a pickle: see the
/// module documentation.
pub fn is_pickle(head: &[u8], whole: bool) -> bool {
    let (mut at, mut calls, mut ops) = (0, false, 0usize);
    while at < head.len() {
        let Some((arg, call)) = opcode(head[at]) else {
            return false;
        };
        if head[at] == b'.' {
            // STOP: the end of a pickle; bytes after it would be another object or trailing
            // data, which Python reads no further (a pickle of one opcode is no evidence).
            return ops > 0;
        }
        calls |= call;
        ops += 1;
        match read(arg, &head[at + 1..]) {
            Read::Len(n) => at += 1 + n,
            Read::Truncated => return !whole && calls,
            Read::Bad => return false,
        }
    }
    !whole && calls
}
