//! The order of versions (semver.org 2.0.0, §11): how `reg list`, `reg show NAME` and every other
//! listing sort the versions of a name, and which one `NAME@latest` names.
//!
//! ```text
//! 2.0.0 < 2.1.0 < 2.9.0 < 2.10.0-rc.1 < 2.10.0 < 10.0.0
//! ```
//!
//! MAJOR, MINOR and PATCH compare as numbers; a pre-release comes before its release; the
//! identifiers of two pre-releases compare one by one, numbers as numbers and below words, words
//! in ASCII order, a shorter list first when all before are equal; build metadata does not
//! count. The order is total, so that every host lists the same way: two versions of equal
//! precedence (`1.0.0+a`, `1.0.0+b`) are then ordered by their bytes, and a version that is not
//! a semantic version (the add rule refuses them, FORMAT.md §5.6, so only a damaged or foreign
//! state holds one) sorts before every semantic version, by its bytes: `NAME@latest` never
//! names one while a real version exists.

use std::cmp::Ordering;

/// A parsed semantic version; the build metadata is dropped (it has no precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SemVer<'a> {
    core: [u64; 3],
    pre: Vec<&'a str>,
}

/// Parses `v` if it passes [`super::names::check_version`] and its numbers fit in 64 bits.
fn parse(v: &str) -> Option<SemVer<'_>> {
    super::names::check_version(v).ok()?;
    let rest = v.split_once('+').map_or(v, |(r, _)| r);
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, p.split('.').collect()),
        None => (rest, Vec::new()),
    };
    let mut numbers = core.split('.').map(|n| n.parse::<u64>().ok());
    let mut next = || numbers.next().flatten();
    Some(SemVer {
        core: [next()?, next()?, next()?],
        pre,
    })
}

/// Compares two pre-release identifiers (semver §11.4): numeric ones as numbers and before
/// alphanumeric ones, which compare in ASCII order.
fn compare_identifier(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        // No leading zeros (checked): a longer number is a larger one, whatever its size.
        (true, true) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

/// The precedence of two semantic versions (semver §11), build metadata ignored.
fn precedence(a: &SemVer<'_>, b: &SemVer<'_>) -> Ordering {
    a.core.cmp(&b.core).then_with(|| {
        match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            // A release comes after its pre-releases.
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (x, y) in a.pre.iter().zip(&b.pre) {
                    let o = compare_identifier(x, y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.pre.len().cmp(&b.pre.len())
            }
        }
    })
}

/// Whether `v` is a semantic version with a pre-release part (`2.10.0-rc.1`): what `@latest`
/// passes over while the name has a release, as cargo and npm do.
pub fn is_prerelease(v: &str) -> bool {
    parse(v).is_some_and(|s| !s.pre.is_empty())
}

/// The order of two versions: semantic-version precedence, then bytes (see the module doc); a
/// total order, equal only for equal strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let by_precedence = match (parse(a), parse(b)) {
        (Some(x), Some(y)) => precedence(&x, &y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_precedence.then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// The order of two `(name, version)` pairs as listings show them: by name (bytes), then by
/// version ([`compare`]).
pub fn compare_specs(a: (&str, &str), b: (&str, &str)) -> Ordering {
    a.0.cmp(b.0).then_with(|| compare(a.1, b.1))
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering;

    /// Each version strictly before the next.
    fn assert_ascending(versions: &[&str]) {
        for w in versions.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(
                compare(w[1], w[0]),
                Ordering::Greater,
                "{} > {}",
                w[1],
                w[0]
            );
        }
        let mut shuffled: Vec<&str> = versions.iter().rev().copied().collect();
        shuffled.sort_by(|a, b| compare(a, b));
        assert_eq!(shuffled, versions);
    }

    #[test]
    fn the_issues_list_sorts_in_semantic_order() {
        assert_ascending(&["2.0.0", "2.1.0", "2.9.0", "2.10.0-rc.1", "2.10.0", "10.0.0"]);
    }

    #[test]
    fn semver_org_precedence_examples() {
        // semver.org §11.2 and §11.4, verbatim.
        assert_ascending(&["1.0.0", "2.0.0", "2.1.0", "2.1.1"]);
        assert_ascending(&[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ]);
    }

    #[test]
    fn numbers_compare_as_numbers_of_any_length() {
        assert_ascending(&["0.0.9", "0.0.10", "0.9.0", "0.10.0", "9.0.0", "10.0.0"]);
        assert_ascending(&["1.0.0-2", "1.0.0-10", "1.0.0-99999999999999999999999"]);
        // Past u64: not a version this order can read, so before the real ones.
        assert_ascending(&["99999999999999999999999.0.0", "0.0.0"]);
    }

    #[test]
    fn build_metadata_has_no_precedence_but_the_order_stays_total() {
        assert_ascending(&["1.0.0-rc.1+zzz", "1.0.0+aaa", "1.0.0+bbb", "1.0.1+aaa"]);
        assert_eq!(compare("1.0.0+a", "1.0.0+a"), Ordering::Equal);
    }

    #[test]
    fn non_semantic_versions_sort_first_by_bytes() {
        assert_ascending(&["1.0", "latest", "v2.0.0", "0.0.0", "1.0.0"]);
    }
}
