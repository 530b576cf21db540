//! `--ignore` patterns of `reg fsck --scan`: a deliberately small glob language, matched against
//! a path relative to the scanned directory, component by component (docs/FSCK.md).
//!
//! | pattern | matches |
//! | --- | --- |
//! | `*` | any run of characters within one path component (a leading `.` included) |
//! | `?` | exactly one character within one component |
//! | `**` | a whole component only: zero or more components |
//! | anything else | itself (no classes, no escapes: `[`, `]` and `\` are literal) |
//!
//! `cache/**` and `cache` both ignore the directory `cache` and everything under it, since a
//! file is ignored when a pattern matches its path or the path of a directory above it;
//! `*.txt` matches top-level files only, `**/*.txt` at any depth.

use std::fmt;
use std::str::FromStr;

/// One parsed `--ignore` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// `**`: any number of components, none included.
    AnyDepth,
    /// A component pattern, as characters (`*` and `?` are wildcards).
    Component(Vec<char>),
}

/// Why a pattern was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GlobError {
    /// Nothing to match.
    #[error("an empty pattern matches nothing; name what to ignore, e.g. `cache/**`")]
    Empty,
    /// Patterns are relative to the scanned directory.
    #[error(
        "`{0}` is absolute: patterns match the path relative to the scanned directory, e.g. `cache/**`"
    )]
    Absolute(String),
    /// `a//b`, `.` or `..`: components a relative path under the scanned directory never has.
    #[error(
        "`{0}` has an empty, `.` or `..` component, which no path under the scanned directory has"
    )]
    BadComponent(String),
    /// `**` inside a component.
    #[error("`{0}`: `**` must be a whole component (`a/**/b`); use `*` within a name")]
    DoubleStar(String),
}

impl FromStr for Glob {
    type Err = GlobError;
    fn from_str(text: &str) -> Result<Self, GlobError> {
        if text.starts_with('/') {
            return Err(GlobError::Absolute(text.into()));
        }
        // `./x` and `x/` are written often and mean `x`.
        let body = text.strip_prefix("./").unwrap_or(text);
        let body = body.strip_suffix('/').unwrap_or(body);
        if body.is_empty() {
            return Err(GlobError::Empty);
        }
        let mut parts = Vec::new();
        for c in body.split('/') {
            if c.is_empty() || c == "." || c == ".." {
                return Err(GlobError::BadComponent(text.into()));
            }
            if c == "**" {
                // `**/**` means `**`; keeping one bounds the backtracking.
                if parts.last() != Some(&Part::AnyDepth) {
                    parts.push(Part::AnyDepth);
                }
            } else if c.contains("**") {
                return Err(GlobError::DoubleStar(text.into()));
            } else {
                parts.push(Part::Component(c.chars().collect()));
            }
        }
        Ok(Glob {
            text: text.into(),
            parts,
        })
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Glob {
    /// Whether the pattern matches the relative path given as its components.
    pub fn matches(&self, path: &[&str]) -> bool {
        match_parts(&self.parts, path)
    }
}

fn match_parts(parts: &[Part], path: &[&str]) -> bool {
    match parts.split_first() {
        None => path.is_empty(),
        Some((Part::AnyDepth, rest)) => {
            (0..=path.len()).any(|skip| match_parts(rest, &path[skip..]))
        }
        Some((Part::Component(p), rest)) => match path.split_first() {
            Some((name, tail)) => {
                let name: Vec<char> = name.chars().collect();
                match_component(p, &name) && match_parts(rest, tail)
            }
            None => false,
        },
    }
}

/// `*` and `?` within one component, by backtracking to the last `*` (linear in practice).
fn match_component(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == '?' || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        let g: Glob = pattern.parse().expect("a valid pattern");
        let comps: Vec<&str> = path.split('/').collect();
        g.matches(&comps)
    }

    #[test]
    fn star_and_question_mark_stay_within_a_component() {
        assert!(m("*.txt", "notes.txt"));
        assert!(m("*.txt", ".hidden.txt"));
        assert!(!m("*.txt", "docs/notes.txt"));
        assert!(m("*/*.txt", "docs/notes.txt"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(!m("a?c", "abbc"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("*", "x"));
        assert!(!m("*", "x/y"));
        assert!(m("x.bin", "x.bin"));
        assert!(!m("x.bin", "y.bin"));
        assert!(m("[x]\\", "[x]\\"), "no classes, no escapes");
    }

    #[test]
    fn double_star_is_any_number_of_components() {
        assert!(m("**", "a"));
        assert!(m("**", "a/b/c"));
        assert!(m("**/*.txt", "a.txt"));
        assert!(m("**/*.txt", "a/b/c.txt"));
        assert!(!m("**/*.txt", "a/b/c.bin"));
        assert!(m("cache/**", "cache"));
        assert!(m("cache/**", "cache/x/y"));
        assert!(!m("cache/**", "other/cache/x"));
        assert!(m("a/**/z", "a/z"));
        assert!(m("a/**/z", "a/b/c/z"));
        assert!(!m("a/**/z", "a/b/c/y"));
        assert!(m("./cache/", "cache"));
        assert!(m("**/**/**/x", "x"));
        assert!(m("**/**/**/x", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/x"));
    }

    #[test]
    fn a_pattern_shows_as_it_was_written() {
        // What a report or an error shows is what the operator typed, `./` and all.
        for p in ["./cache/", "**/**/*.txt", "a?c"] {
            assert_eq!(p.parse::<Glob>().expect("a valid pattern").to_string(), p);
        }
    }

    #[test]
    fn patterns_that_can_match_no_relative_path_are_refused() {
        for (p, e) in [
            ("", GlobError::Empty),
            ("./", GlobError::Empty),
            ("/etc/*", GlobError::Absolute("/etc/*".into())),
            ("a//b", GlobError::BadComponent("a//b".into())),
            ("../x", GlobError::BadComponent("../x".into())),
            ("a/./b", GlobError::BadComponent("a/./b".into())),
            ("a**", GlobError::DoubleStar("a**".into())),
        ] {
            assert_eq!(p.parse::<Glob>(), Err(e), "{p}");
        }
    }
}
