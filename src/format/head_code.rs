//! The head code (FORMAT.md §8): a registry's head entry, short enough to read over a phone,
//! long enough that nobody can make another entry match it, and checked so that a misread is
//! caught before anything is pinned.
//!
//! ```text
//! code   = seq "-" group 6( "-" group )        ; 42-7KQ2X-M3PA9-0ZD4T-H6RWE-5NBCV-Q8XJ1-GT2M7
//! seq    = 1*20DIGIT                           ; the entry's seq, decimal
//! group  = 4symbol check                       ; four symbols of the id, then the group's check
//! symbol = DIGIT / "A"-"H" / "J" / "K" / "M" / "N" / "P"-"T" / "V"-"Z"   ; Crockford base32
//! ```
//!
//! The 28 symbols are the first 140 bits of the entry's id (its first 35 hex digits), 5 bits
//! each, most significant first: far beyond the 2^70 tries a search for another entry sharing
//! them would take. Read back, case does not matter, `I` and `L` are `1` and `O` is `0`
//! (Crockford's rule for what people misread), and dashes and spaces between symbols are
//! ignored; there must be exactly 35 symbols.
//!
//! Each group ends in its own check symbol, computed in GF(32) = GF(2)\[x\]/(x^5 + x^2 + 1) with
//! α = x:
//!
//! ```text
//! check(g) = α^1·d0 + α^2·d1 + α^3·d2 + α^4·d3 + α^((g + seq) mod 31)      ; g = 0..6
//! ```
//!
//! so that any one wrong symbol fails its group (α^j·e is never 0), two symbols swapped within a
//! group fail it, two groups swapped fail both (each check is tied to its position), a seq with
//! one wrong digit or two adjacent digits swapped fails every group (31, a prime, divides no
//! such change), and a group misread as a whole fails with odds of 31 in 32. A single check
//! symbol for the whole code could not catch every swap of two groups: there are far more pairs
//! of groups than values of one symbol.

use crate::format::id::ObjectId;
use std::fmt;
use std::str::FromStr;

/// The Crockford base32 alphabet: the value of a symbol is its position.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Groups in a code.
pub const GROUPS: usize = 7;

/// Symbols of the id in a group (each group adds its check symbol).
const DATA_PER_GROUP: usize = 4;

/// Symbols of a group as written: its data and its check.
const GROUP_LEN: usize = DATA_PER_GROUP + 1;

/// Bits of the entry id a code carries: 28 symbols of 5 bits.
pub const BITS: usize = GROUPS * DATA_PER_GROUP * 5;

/// Hex digits of the entry id a code carries ([`BITS`] / 4).
pub const HEX_DIGITS: usize = BITS / 4;

/// Hex digits of the codes reg wrote before this one (96 bits, no check): refused when read.
const OLD_HEX_DIGITS: usize = 24;

/// Why a text is not a head code. Each names the code as given (echoed, cut short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadCodeError {
    /// Not of the grammar at all.
    #[error(
        "`{0}` is not a head code: SEQ-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX (the entry's seq, then seven groups of five), as `reg status --code` prints it"
    )]
    Grammar(String),
    /// A 96-bit code of an older reg.
    #[error(
        "`{0}` is a 96-bit head code of an older reg: too short to prove the entry (whoever signs an entry can search for another that shares those bits), and without a check"
    )]
    Old(String),
    /// A character that is no symbol.
    #[error(
        "`{code}`: `{found}` in group {group} is not a head-code character (digits, and letters other than U)"
    )]
    Symbol {
        /// The code given.
        code: String,
        /// The group, from 1.
        group: usize,
        /// The character.
        found: String,
    },
    /// Too few or too many symbols.
    #[error(
        "`{code}` has {found} symbols after the seq, a head code has 35 (seven groups of five): a group was left out or read twice"
    )]
    Length {
        /// The code given.
        code: String,
        /// How many symbols it has.
        found: usize,
    },
    /// Some groups do not match their check symbol.
    #[error("`{code}`: {}", check_failure(.failed))]
    Check {
        /// The code given.
        code: String,
        /// The failing groups, from 1, each with its text.
        failed: Vec<(usize, String)>,
    },
}

/// The sentence for failed checks: which groups, or, when none matches, the seq.
fn check_failure(failed: &[(usize, String)]) -> String {
    if failed.len() == GROUPS {
        return "no group matches its check symbol: the seq before the first dash was misread, or the whole code".into();
    }
    let groups: Vec<String> = failed.iter().map(|(n, g)| format!("{n} (`{g}`)")).collect();
    if let [one] = groups.as_slice() {
        return format!("group {one} fails its check symbol: a symbol of it was misread");
    }
    format!(
        "groups {} fail their check symbols: misread, or read in another order",
        groups.join(", ")
    )
}

/// A head code: an entry's seq and the first [`BITS`] bits of its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadCode {
    /// The entry's seq.
    pub seq: u64,
    /// The 28 data symbols (values 0..32).
    symbols: [u8; GROUPS * DATA_PER_GROUP],
}

impl HeadCode {
    /// The code of entry `seq` whose id is `id`.
    pub fn of(seq: u64, id: &ObjectId) -> HeadCode {
        let bytes = id.as_bytes();
        let mut symbols = [0u8; GROUPS * DATA_PER_GROUP];
        for (i, s) in symbols.iter_mut().enumerate() {
            let mut v = 0u8;
            for bit in i * 5..i * 5 + 5 {
                v = (v << 1) | ((bytes[bit / 8] >> (7 - bit % 8)) & 1);
            }
            *s = v;
        }
        HeadCode { seq, symbols }
    }

    /// The first [`HEX_DIGITS`] lowercase hex digits of the entry's id.
    pub fn head_hex(&self) -> String {
        let mut bits = Vec::with_capacity(BITS);
        for s in self.symbols {
            bits.extend((0..5).rev().map(|k| (s >> k) & 1));
        }
        bits.chunks(4)
            .map(|n| {
                let v = n.iter().fold(0u8, |acc, b| (acc << 1) | b);
                char::from_digit(u32::from(v), 16).expect("a nibble is a hex digit")
            })
            .collect()
    }

    /// Whether `id` starts with the bits the code carries.
    pub fn matches(&self, id: &ObjectId) -> bool {
        HeadCode::of(self.seq, id) == *self
    }

    /// Group `g`'s four data symbols.
    fn group(&self, g: usize) -> &[u8] {
        &self.symbols[g * DATA_PER_GROUP..(g + 1) * DATA_PER_GROUP]
    }
}

/// The check symbol of group `g` (from 0) holding `data`, in a code for entry `seq`.
fn check(g: usize, seq: u64, data: &[u8]) -> u8 {
    let mut c = 0;
    for (j, d) in data.iter().enumerate() {
        c ^= gf_mul(alpha_pow(j as u64 + 1), *d);
    }
    c ^ alpha_pow(g as u64 + seq % 31)
}

/// α^k in GF(32); α has order 31.
fn alpha_pow(k: u64) -> u8 {
    (0..k % 31).fold(1, |acc, _| gf_mul(acc, 2))
}

/// Multiplication in GF(32) = GF(2)[x]/(x^5 + x^2 + 1).
fn gf_mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut out) = (a, b, 0u8);
    while b != 0 {
        if b & 1 == 1 {
            out ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    out
}

/// The value of a symbol as a person may have typed it (case, and Crockford's `I`, `L`, `O`).
fn symbol_value(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|a| char::from(*a) == c)
        .map(|p| p as u8)
}

impl fmt::Display for HeadCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seq)?;
        for g in 0..GROUPS {
            f.write_str("-")?;
            for d in self.group(g) {
                write!(f, "{}", char::from(ALPHABET[usize::from(*d)]))?;
            }
            let c = check(g, self.seq, self.group(g));
            write!(f, "{}", char::from(ALPHABET[usize::from(c)]))?;
        }
        Ok(())
    }
}

impl FromStr for HeadCode {
    type Err = HeadCodeError;

    /// Reads a code as [`HeadCode`]'s `Display` writes it, or as a person typed it back.
    fn from_str(text: &str) -> Result<HeadCode, HeadCodeError> {
        let shown = || crate::util::encoding::echo(text);
        // The seq's digits, then a dash or spaces (as a person reads a code aloud and types it).
        let text_t = text.trim();
        let digits = text_t.bytes().take_while(u8::is_ascii_digit).count();
        let (seq, rest) = text_t.split_at(digits);
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('-') {
            Some(r) => r,
            None if rest.len() < text_t.len() - digits => rest,
            None => return Err(HeadCodeError::Grammar(shown())),
        };
        if seq.is_empty() {
            return Err(HeadCodeError::Grammar(shown()));
        }
        let seq: u64 = seq.parse().map_err(|_| HeadCodeError::Grammar(shown()))?;
        let chars: Vec<char> = rest
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect();
        if chars.len() == OLD_HEX_DIGITS && chars.iter().all(char::is_ascii_hexdigit) {
            return Err(HeadCodeError::Old(shown()));
        }
        if chars.len() != GROUPS * GROUP_LEN {
            return Err(HeadCodeError::Length {
                code: shown(),
                found: chars.len(),
            });
        }
        let mut values = Vec::with_capacity(chars.len());
        for (i, c) in chars.iter().enumerate() {
            values.push(symbol_value(*c).ok_or_else(|| HeadCodeError::Symbol {
                code: shown(),
                group: i / GROUP_LEN + 1,
                found: crate::util::encoding::echo(&c.to_string()),
            })?);
        }
        let mut symbols = [0u8; GROUPS * DATA_PER_GROUP];
        let mut failed = Vec::new();
        for (g, group) in values.chunks(GROUP_LEN).enumerate() {
            let (data, c) = group.split_at(DATA_PER_GROUP);
            symbols[g * DATA_PER_GROUP..(g + 1) * DATA_PER_GROUP].copy_from_slice(data);
            if check(g, seq, data) != c[0] {
                let text: String = chars[g * GROUP_LEN..(g + 1) * GROUP_LEN].iter().collect();
                failed.push((g + 1, crate::util::encoding::echo(&text)));
            }
        }
        if !failed.is_empty() {
            return Err(HeadCodeError::Check {
                code: shown(),
                failed,
            });
        }
        Ok(HeadCode { seq, symbols })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> ObjectId {
        ObjectId::of(&n.to_le_bytes())
    }

    #[test]
    fn a_code_reads_back_as_written_and_carries_the_ids_first_140_bits() {
        for n in 0..200 {
            let id = id(n);
            let seq = u64::from(n) * 7919;
            let code = HeadCode::of(seq, &id);
            let text = code.to_string();
            assert_eq!(text.split('-').count(), 1 + GROUPS, "{text}");
            assert!(
                text.split('-').skip(1).all(|g| g.len() == GROUP_LEN),
                "{text}"
            );
            assert_eq!(text.parse::<HeadCode>(), Ok(code.clone()));
            assert_eq!(code.head_hex(), id.to_string()[..HEX_DIGITS]);
            assert!(code.matches(&id));
            assert!(!code.matches(&self::id(n + 1000)));
            // As a person types it back: lower case, spaces or no dashes, O for 0, I or L for 1.
            let (s, groups) = text.split_once('-').expect("seq");
            let groups = groups
                .to_lowercase()
                .replacen('-', " ", 3)
                .replacen('-', "", 2)
                .replace('0', "o")
                .replacen('1', "l", 1)
                .replace('1', "I");
            let typed = format!("{s}-{groups}");
            assert_eq!(typed.parse::<HeadCode>(), Ok(code.clone()), "{typed}");
            // A space, not a dash, after the seq, as FORMAT.md §8 allows.
            let spaced = format!("{s} {}", text.split_once('-').expect("seq").1);
            assert_eq!(spaced.parse::<HeadCode>(), Ok(code), "{spaced}");
        }
        // Known vectors, so that a change of the encoding shows: with no data, each check is
        // the position's α^g (1, x, ..., x^5 = x^2 + 1, x^6 = x^3 + x); a seq shifts them all.
        let zero = ObjectId::from_bytes([0; 32]);
        assert_eq!(
            HeadCode::of(0, &zero).to_string(),
            "0-00001-00002-00004-00008-0000G-00005-0000A"
        );
        assert_eq!(
            HeadCode::of(32, &zero).to_string(),
            "32-00002-00004-00008-0000G-00005-0000A-0000M"
        );
        let ones = ObjectId::from_bytes([0xff; 32]);
        assert_eq!(HeadCode::of(0, &ones).head_hex(), "f".repeat(HEX_DIGITS));
    }

    #[test]
    fn any_one_wrong_symbol_is_caught_naming_its_group() {
        for n in 0..20 {
            let text = HeadCode::of(u64::from(n) + 3, &id(n)).to_string();
            let (seq, groups) = text.split_once('-').expect("seq");
            let mut chars: Vec<char> = groups.chars().collect();
            for i in 0..chars.len() {
                if chars[i] == '-' {
                    continue;
                }
                let orig = chars[i];
                for &a in ALPHABET {
                    let a = char::from(a);
                    if a == orig {
                        continue;
                    }
                    chars[i] = a;
                    let bad = format!("{seq}-{}", chars.iter().collect::<String>());
                    match bad.parse::<HeadCode>() {
                        Err(HeadCodeError::Check { failed, .. }) => {
                            assert_eq!(failed.len(), 1, "{bad}");
                            assert_eq!(failed[0].0, i / (GROUP_LEN + 1) + 1, "{bad}");
                        }
                        other => panic!("{bad}: {other:?}"),
                    }
                }
                chars[i] = orig;
            }
        }
    }

    #[test]
    fn swapped_groups_symbols_and_seq_digits_are_caught() {
        for n in 0..50 {
            let seq = 1000 + u64::from(n) * 37;
            let text = HeadCode::of(seq, &id(n)).to_string();
            let parts: Vec<&str> = text.split('-').collect();
            // Any two groups swapped (adjacent or not), when they differ.
            for a in 1..=GROUPS {
                for b in a + 1..=GROUPS {
                    if parts[a] == parts[b] {
                        continue;
                    }
                    let mut p = parts.clone();
                    p.swap(a, b);
                    let bad = p.join("-");
                    assert!(
                        matches!(bad.parse::<HeadCode>(), Err(HeadCodeError::Check { ref failed, .. }) if failed.len() == 2),
                        "{bad}"
                    );
                }
            }
            // Two adjacent symbols swapped within a group's data.
            for g in 1..=GROUPS {
                for j in 0..DATA_PER_GROUP - 1 {
                    let mut group: Vec<char> = parts[g].chars().collect();
                    if group[j] == group[j + 1] {
                        continue;
                    }
                    group.swap(j, j + 1);
                    let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
                    p[g] = group.into_iter().collect();
                    assert!(p.join("-").parse::<HeadCode>().is_err(), "{}", p.join("-"));
                }
            }
            // The seq with one digit wrong, or two adjacent digits swapped: every group fails.
            let digits: Vec<char> = parts[0].chars().collect();
            let mut wrong = Vec::new();
            for i in 0..digits.len() {
                for d in '0'..='9' {
                    if d != digits[i] {
                        let mut s = digits.clone();
                        s[i] = d;
                        wrong.push(s.into_iter().collect::<String>());
                    }
                }
                if i + 1 < digits.len() && digits[i] != digits[i + 1] {
                    let mut s = digits.clone();
                    s.swap(i, i + 1);
                    wrong.push(s.into_iter().collect());
                }
            }
            for s in wrong {
                let bad = format!("{s}-{}", parts[1..].join("-"));
                let e = bad.parse::<HeadCode>().expect_err(&bad);
                assert!(
                    e.to_string()
                        .contains("the seq before the first dash was misread"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn what_is_not_a_code_is_refused_saying_why() {
        let code = HeadCode::of(42, &id(1)).to_string();
        let (seq, groups) = code.split_once('-').expect("seq");
        let old = format!(
            "{seq}-{}",
            id(1).to_string()[..24]
                .chars()
                .collect::<Vec<_>>()
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        );
        assert!(
            matches!(old.parse::<HeadCode>(), Err(HeadCodeError::Old(_))),
            "{old}"
        );
        let short = &code[..code.len() - 6];
        assert!(matches!(
            short.parse::<HeadCode>(),
            Err(HeadCodeError::Length { found: 30, .. })
        ));
        let long = format!("{code}-ABCDE");
        assert!(matches!(
            long.parse::<HeadCode>(),
            Err(HeadCodeError::Length { found: 40, .. })
        ));
        let u = format!("{seq}-U{}", &groups[1..]);
        let e = u.parse::<HeadCode>().expect_err("U");
        assert!(matches!(e, HeadCodeError::Symbol { group: 1, .. }), "{e:?}");
        for bad in ["", "42", "x-ABCDE", "-0000", "4 2-ABCD", groups] {
            assert!(bad.parse::<HeadCode>().is_err(), "{bad}");
        }
        let e = format!("99999999999999999999999-{groups}").parse::<HeadCode>();
        assert!(matches!(e, Err(HeadCodeError::Grammar(_))), "{e:?}");
        // The message names the check, the group and what was read.
        let mut bad: Vec<char> = code.chars().collect();
        let at = code.find('-').expect("dash") + 2;
        bad[at] = if bad[at] == '7' { '8' } else { '7' };
        let bad: String = bad.into_iter().collect();
        let e = bad.parse::<HeadCode>().expect_err("one wrong").to_string();
        assert!(
            e.contains("group 1 (`") && e.contains("fails its check symbol"),
            "{e}"
        );
    }
}
