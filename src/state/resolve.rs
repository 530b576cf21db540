//! Resolving a model name (`name@version`, record id or unique prefix) against the state.

use super::{ModelState, State};
use crate::format::id::ObjectId;

/// Errors resolving a model name.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Nothing matches.
    #[error("no model `{0}` in this registry")]
    NotFound(String),
    /// A prefix matches several records.
    #[error("`{prefix}` is ambiguous: it matches {}", .candidates.join(", "))]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// `id (name@version)` of each match.
        candidates: Vec<String>,
    },
}

/// Finds a model by `name@version`, record id, or unique id prefix (at least 4 hex digits), like git.
pub fn resolve<'s>(
    state: &'s State,
    spec: &str,
) -> Result<(ObjectId, &'s ModelState), ResolveError> {
    if let Some((name, version)) = spec.split_once('@') {
        return state
            .find(name, version)
            .map(|(id, m)| (*id, m))
            .ok_or_else(|| ResolveError::NotFound(spec.to_string()));
    }
    if spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
        let prefix = spec.to_ascii_lowercase();
        let matches: Vec<(&ObjectId, &ModelState)> = state
            .models
            .iter()
            .filter(|(id, _)| id.to_string().starts_with(&prefix))
            .collect();
        return match matches.as_slice() {
            [(id, m)] => Ok((**id, m)),
            [] => Err(ResolveError::NotFound(spec.to_string())),
            many => Err(ResolveError::Ambiguous {
                prefix: spec.to_string(),
                candidates: many
                    .iter()
                    .map(|(id, m)| format!("{id} ({}@{})", m.name, m.version))
                    .collect(),
            }),
        };
    }
    Err(ResolveError::NotFound(spec.to_string()))
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
}
