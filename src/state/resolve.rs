//! Resolving a model name against the state, the one resolver of every command that takes a
//! model: `name@version`; `name@latest`, the highest version of the name
//! ([`crate::format::version::compare`]); a bare `name` that has exactly one version; a record
//! id or a unique id prefix (at least 4 hex digits), like git; and a slot's active model
//! ([`resolve_slot`]).
//!
//! `@latest` is the highest release the state holds, whatever its lifecycle state (a
//! pre-release only when the name has no release, as cargo and npm pick the newest): the gate
//! and the lifecycle rules still judge the model it names (a revoked latest is denied, not
//! skipped). A spec that is both a model name and an id
//! prefix is ambiguous, never silently one of them; a full record id is always that record.

use super::{ModelState, State};
use crate::format::id::ObjectId;
use crate::format::version;

/// The version that names the highest version of a name: `NAME@latest`.
pub const LATEST: &str = "latest";

/// Errors resolving a model name.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Nothing matches.
    #[error("no model `{0}` in this registry")]
    NotFound(String),
    /// A prefix matches several records, or is also a model name.
    #[error("`{prefix}` is ambiguous: it matches {}", .candidates.join(", "))]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// `id (name@version)` of each match.
        candidates: Vec<String>,
    },
    /// A bare name that has several versions.
    #[error("`{name}` has {} versions: {}", .versions.len(), .versions.join(", "))]
    Versions {
        /// The name given.
        name: String,
        /// Each `name@version`, in version order.
        versions: Vec<String>,
    },
    /// A slot with no active model: never set, or deactivated.
    #[error("slot `{slot}` has no active model")]
    NoActiveModel {
        /// The slot given.
        slot: String,
        /// The slots that have an active model, sorted.
        active: Vec<String>,
    },
}

/// Finds a model by `name@version`, `name@latest`, a name with one version, a record id, or a
/// unique id prefix (see the module doc).
pub fn resolve<'s>(
    state: &'s State,
    spec: &str,
) -> Result<(ObjectId, &'s ModelState), ResolveError> {
    let not_found = || ResolveError::NotFound(spec.to_string());
    if let Some((name, version)) = spec.split_once('@') {
        if version == LATEST {
            return latest(state, name).ok_or_else(not_found);
        }
        return state
            .find(name, version)
            .map(|(id, m)| (*id, m))
            .ok_or_else(not_found);
    }
    let hex = spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit());
    if hex
        && let Ok(id) = spec.parse::<ObjectId>()
        && let Some((id, m)) = state.models().get_key_value(&id)
    {
        return Ok((*id, m));
    }
    let named = versions(state, spec);
    let prefixed: Vec<(ObjectId, &ModelState)> = if hex {
        let prefix = spec.to_ascii_lowercase();
        state
            .models()
            .with_prefix(&prefix)
            .map(|(id, m)| (*id, m))
            .collect()
    } else {
        Vec::new()
    };
    match (named.as_slice(), prefixed.as_slice()) {
        ([], []) => Err(not_found()),
        ([], [one]) | ([one], []) => Ok(*one),
        (_, []) => Err(ResolveError::Versions {
            name: spec.to_string(),
            versions: named
                .iter()
                .map(|(_, m)| format!("{}@{}", m.name, m.version))
                .collect(),
        }),
        _ => Err(ResolveError::Ambiguous {
            prefix: spec.to_string(),
            candidates: prefixed
                .iter()
                .map(|(id, m)| format!("{id} ({}@{})", m.name, m.version))
                .chain(
                    named
                        .iter()
                        .map(|(_, m)| format!("model {}@{}", m.name, m.version)),
                )
                .collect(),
        }),
    }
}

/// Every version of `name` in the state, in version order (lowest first).
pub fn versions<'s>(state: &'s State, name: &str) -> Vec<(ObjectId, &'s ModelState)> {
    let mut out: Vec<(ObjectId, &ModelState)> = match state.ids_named(name) {
        Some(ids) => ids
            .iter()
            .filter_map(|id| state.models().get_key_value(id))
            .map(|(id, m)| (*id, m))
            .collect(),
        None => state
            .models()
            .iter()
            .filter(|(_, m)| m.name == name)
            .map(|(id, m)| (*id, m))
            .collect(),
    };
    out.sort_by(|a, b| version::compare(&a.1.version, &b.1.version));
    out
}

/// The highest release of `name` the state holds, whatever its lifecycle state; the highest
/// pre-release only when the name has no release (as cargo and npm pick the newest: a release
/// candidate is never taken for the version in service by accident).
pub fn latest<'s>(state: &'s State, name: &str) -> Option<(ObjectId, &'s ModelState)> {
    let all = versions(state, name);
    let release = all
        .iter()
        .rev()
        .find(|(_, m)| !version::is_prerelease(&m.version))
        .copied();
    release.or_else(|| all.last().copied())
}

/// The active model of `slot`; a slot with none (never set, or deactivated) is an error that
/// lists the slots that have one.
pub fn resolve_slot<'s>(
    state: &'s State,
    slot: &str,
) -> Result<(ObjectId, &'s ModelState), ResolveError> {
    state
        .slots()
        .get(slot)
        .and_then(|s| state.models().get_key_value(&s.model))
        .map(|(id, m)| (*id, m))
        .ok_or_else(|| ResolveError::NoActiveModel {
            slot: slot.to_string(),
            active: state.slots().keys().cloned().collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state with two models whose record ids share the prefix `abcd`.
    fn state() -> State {
        let model = |name: &str| {
            serde_json::json!({"added": "0".repeat(64), "artifacts": [], "entry": "0".repeat(64),
                "name": name, "state": "REGISTERED", "version": "1.0.0"})
        };
        let a = format!("abcd{}", "1".repeat(60));
        let b = format!("abcd{}", "2".repeat(60));
        let mut models = serde_json::Map::new();
        models.insert(a, model("alpha"));
        models.insert(b, model("beta"));
        serde_json::from_value(serde_json::json!({
            "format_version": 1, "head": "0".repeat(64), "keys": {}, "models": models,
            "policy": {}, "recipients": [], "registry": "0".repeat(64),
            "root": "0".repeat(32), "seq": 3, "slots": {}
        }))
        .unwrap()
    }

    #[test]
    fn resolves_like_git() {
        let s = state();
        assert_eq!(resolve(&s, "alpha@1.0.0").unwrap().1.name, "alpha");
        assert_eq!(resolve(&s, "abcd1").unwrap().1.name, "alpha");
        assert_eq!(
            resolve(&s, &format!("abcd{}", "2".repeat(60)))
                .unwrap()
                .1
                .name,
            "beta"
        );
        match resolve(&s, "abcd") {
            Err(ResolveError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2);
                assert!(
                    candidates[0].contains("(alpha@1.0.0)")
                        && candidates[1].contains("(beta@1.0.0)")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(resolve(&s, "abc"), Err(ResolveError::NotFound(_))),
            "too short a prefix"
        );
        assert!(matches!(
            resolve(&s, "gamma@1.0.0"),
            Err(ResolveError::NotFound(_))
        ));
        assert!(matches!(
            resolve(&s, "ffff"),
            Err(ResolveError::NotFound(_))
        ));
    }

    /// A state holding `models` (record id's first hex digit, name, version, state) and `slots`.
    fn state_of(models: &[(char, &str, &str, &str)], slots: &[(&str, char)]) -> State {
        let id = |c: char| c.to_string().repeat(64);
        let mut map = serde_json::Map::new();
        for (c, name, version, st) in models {
            map.insert(
                id(*c),
                serde_json::json!({"added": "0".repeat(64), "artifacts": [], "entry": "0".repeat(64),
                    "name": name, "state": st, "version": version}),
            );
        }
        let slots: serde_json::Map<String, serde_json::Value> = slots
            .iter()
            .map(|(s, c)| {
                (
                    s.to_string(),
                    serde_json::json!({"entry": "0".repeat(64), "model": id(*c)}),
                )
            })
            .collect();
        let mut s: State = serde_json::from_value(serde_json::json!({
            "format_version": 1, "head": "0".repeat(64), "keys": {}, "models": map,
            "policy": {}, "recipients": [], "registry": "0".repeat(64),
            "root": "0".repeat(32), "seq": 3, "slots": slots
        }))
        .unwrap();
        s.index_names();
        s
    }

    fn spec(r: Result<(ObjectId, &ModelState), ResolveError>) -> String {
        let (_, m) = r.unwrap();
        format!("{}@{}", m.name, m.version)
    }

    #[test]
    fn latest_is_the_highest_release_whatever_its_state() {
        let s = state_of(
            &[
                ('1', "det", "2.9.0", "PROMOTED"),
                ('2', "det", "2.10.0-rc.1", "REGISTERED"),
                ('3', "det", "10.0.0", "REVOKED"),
                ('4', "det", "2.10.0", "REGISTERED"),
                ('5', "other", "1.0.0", "REGISTERED"),
                ('6', "det", "11.0.0-rc.1", "REGISTERED"),
                ('7', "rc", "1.0.0-rc.1", "REGISTERED"),
                ('8', "rc", "1.0.0-rc.2", "REGISTERED"),
            ],
            &[],
        );
        assert_eq!(
            spec(resolve(&s, "det@latest")),
            "det@10.0.0",
            "a release over an rc"
        );
        assert_eq!(
            spec(resolve(&s, "rc@latest")),
            "rc@1.0.0-rc.2",
            "no release yet"
        );
        assert_eq!(spec(resolve(&s, "other@latest")), "other@1.0.0");
        assert_eq!(spec(resolve(&s, "other")), "other@1.0.0", "one version");
        assert!(matches!(
            resolve(&s, "nope@latest"),
            Err(ResolveError::NotFound(_))
        ));
        match resolve(&s, "det") {
            Err(ResolveError::Versions { name, versions }) => {
                assert_eq!(name, "det");
                assert_eq!(
                    versions,
                    [
                        "det@2.9.0",
                        "det@2.10.0-rc.1",
                        "det@2.10.0",
                        "det@10.0.0",
                        "det@11.0.0-rc.1"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_name_that_is_also_an_id_prefix_is_ambiguous_but_a_full_id_is_not() {
        let s = state_of(
            &[
                ('a', "aaaa", "1.0.0", "REGISTERED"),
                ('b', "x", "1.0.0", "REGISTERED"),
            ],
            &[],
        );
        match resolve(&s, "aaaa") {
            Err(ResolveError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2, "{candidates:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(spec(resolve(&s, &"b".repeat(64))), "x@1.0.0");
        assert_eq!(spec(resolve(&s, "bbbb")), "x@1.0.0");
    }

    #[test]
    fn a_slot_names_its_active_model_or_lists_the_slots_that_have_one() {
        let s = state_of(
            &[
                ('1', "det", "1.0.0", "PROMOTED"),
                ('2', "det", "2.0.0", "PROMOTED"),
            ],
            &[("prod", '2'), ("canary", '1')],
        );
        assert_eq!(spec(resolve_slot(&s, "prod")), "det@2.0.0");
        match resolve_slot(&s, "staging") {
            Err(ResolveError::NoActiveModel { slot, active }) => {
                assert_eq!(slot, "staging");
                assert_eq!(active, ["canary", "prod"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
