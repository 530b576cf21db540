//! `reg diff A B`: what changed from one model record to another (GUIDE §4.1), typically two
//! versions of one name: the signed metadata field by field (labels key by key), the artifacts
//! by path (added, removed, changed in hash, size or format, and how many are unchanged), and
//! each side's lifecycle state and slots.
//!
//! The records are compared, not the models' standing: two records differ when a metadata
//! field or an artifact does ([`Diff::differ`]); their states and slots are reported beside.

use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::{Artifact, Manifest};
use crate::repo::records::read_record;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{ModelState, State};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One side of a diff: the model and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Record id.
    pub id: ObjectId,
    /// Model name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Lifecycle state.
    pub state: LifecycleState,
    /// The slots it is the active model of, sorted.
    pub slots: Vec<String>,
    /// Whether its artifacts were purged (its record stays).
    pub purged: bool,
}

/// A metadata field whose value differs; `null` on the side that does not have it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// The manifest field (`type`, `uses`, …), or `labels.KEY` for one label.
    pub field: String,
    /// Its value in A.
    pub a: Value,
    /// Its value in B.
    pub b: Value,
}

/// An artifact as a diff shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactSide {
    /// BLAKE3.
    pub blake3: String,
    /// Size in bytes.
    pub size: u64,
    /// Detected format.
    pub format: crate::format::formats::Format,
}

/// An artifact path and its bytes on each side that has it.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactChange {
    /// Path in the bundle.
    pub path: String,
    /// In A, if A has the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<ArtifactSide>,
    /// In B, if B has the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<ArtifactSide>,
}

/// The artifacts compared by path.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArtifactsDiff {
    /// Paths only B has.
    pub added: Vec<ArtifactChange>,
    /// Paths only A has.
    pub removed: Vec<ArtifactChange>,
    /// Paths both have, with other bytes, size or format.
    pub changed: Vec<ArtifactChange>,
    /// How many paths both have alike.
    pub unchanged: usize,
}

/// What changed from A to B (`schema/diff.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The first model.
    pub a: Side,
    /// The second model.
    pub b: Side,
    /// Whether the records differ (a field or an artifact); states and slots do not count.
    pub differ: bool,
    /// The metadata fields that differ, in manifest order.
    pub fields: Vec<FieldChange>,
    /// The artifacts, by path.
    pub artifacts: ArtifactsDiff,
}

/// The manifest fields compared whole, in the order a diff lists them (labels follow, key by
/// key).
const FIELDS: [&str; 11] = [
    "name",
    "version",
    "type",
    "uses",
    "description",
    "framework",
    "provenance",
    "owner",
    "license",
    "publisher",
    "created",
];

/// Compares model `a` with model `b`, reading both records.
pub fn diff(
    reg: &Registry,
    state: &State,
    a: (&ObjectId, &ModelState),
    b: (&ObjectId, &ModelState),
) -> Result<Diff, RegistryError> {
    let ma = read_record(reg.store(), a.0)?.manifest;
    let mb = read_record(reg.store(), b.0)?.manifest;
    let fields = fields(&ma, &mb);
    let artifacts = artifacts(&ma.artifacts, &mb.artifacts);
    let side = |(id, m): (&ObjectId, &ModelState)| Side {
        id: *id,
        name: m.name.clone(),
        version: m.version.clone(),
        state: m.state,
        slots: state.slots_of(id),
        purged: m.purged,
    };
    Ok(Diff {
        a: side(a),
        b: side(b),
        differ: !fields.is_empty()
            || !artifacts.added.is_empty()
            || !artifacts.removed.is_empty()
            || !artifacts.changed.is_empty(),
        fields,
        artifacts,
    })
}

/// Field `name` of [`FIELDS`] in manifest `m`, as its JSON value (`null` when absent).
fn field(m: &Manifest, name: &str) -> Value {
    let text = |s: &str| Value::String(s.to_string());
    match name {
        "name" => text(&m.name),
        "version" => text(&m.version),
        "type" => text(&m.model_type),
        "uses" => Value::Array(m.uses.iter().map(|u| text(u)).collect()),
        "description" => text(&m.description),
        "framework" => m.framework.as_deref().map_or(Value::Null, text),
        "provenance" => Value::Array(
            m.provenance
                .iter()
                .map(|p| serde_json::json!({"name": p.name, "hash": p.hash}))
                .collect(),
        ),
        "owner" => m.owner.as_deref().map_or(Value::Null, text),
        "license" => m.license.as_deref().map_or(Value::Null, text),
        "publisher" => text(&m.publisher.to_string()),
        "created" => text(&m.created),
        _ => Value::Null,
    }
}

/// The metadata fields that differ: [`FIELDS`] whole, then each label whose value differs.
fn fields(a: &Manifest, b: &Manifest) -> Vec<FieldChange> {
    let mut out: Vec<FieldChange> = FIELDS
        .iter()
        .map(|f| FieldChange {
            field: (*f).to_string(),
            a: field(a, f),
            b: field(b, f),
        })
        .filter(|c| c.a != c.b)
        .collect();
    let keys: BTreeSet<&String> = a.labels.keys().chain(b.labels.keys()).collect();
    for k in keys {
        let (x, y) = (a.labels.get(k), b.labels.get(k));
        if x != y {
            let value = |v: Option<&String>| v.map_or(Value::Null, |s| Value::String(s.clone()));
            out.push(FieldChange {
                field: format!("labels.{k}"),
                a: value(x),
                b: value(y),
            });
        }
    }
    out
}

/// The artifacts of A and B compared by path.
fn artifacts(a: &[Artifact], b: &[Artifact]) -> ArtifactsDiff {
    let side = |x: &Artifact| ArtifactSide {
        blake3: x.blake3.clone(),
        size: x.size,
        format: x.format,
    };
    let by_path = |list: &[Artifact]| -> BTreeMap<String, ArtifactSide> {
        list.iter().map(|x| (x.path.clone(), side(x))).collect()
    };
    let (pa, pb) = (by_path(a), by_path(b));
    let mut out = ArtifactsDiff::default();
    let paths: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
    for path in paths {
        let (x, y) = (pa.get(path), pb.get(path));
        let change = ArtifactChange {
            path: path.clone(),
            a: x.cloned(),
            b: y.cloned(),
        };
        match (x, y) {
            (Some(x), Some(y))
                if x.blake3 == y.blake3 && x.size == y.size && x.format == y.format =>
            {
                out.unchanged += 1;
            }
            (Some(_), Some(_)) => out.changed.push(change),
            (Some(_), None) => out.removed.push(change),
            (None, _) => out.added.push(change),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::artifacts;
    use crate::format::formats::Format;
    use crate::format::manifest::Artifact;

    fn a(path: &str, hash: char, size: u64) -> Artifact {
        Artifact {
            blake3: hash.to_string().repeat(64),
            format: Format::Ruleset,
            path: path.to_string(),
            size,
        }
    }

    #[test]
    fn artifacts_compare_by_path_hash_and_size() {
        let d = artifacts(
            &[
                a("same", '1', 1),
                a("gone", '2', 2),
                a("bytes", '3', 3),
                a("size", '4', 4),
            ],
            &[
                a("same", '1', 1),
                a("new", '2', 2),
                a("bytes", '5', 3),
                a("size", '4', 5),
            ],
        );
        let paths = |v: &[super::ArtifactChange]| -> Vec<String> {
            v.iter().map(|c| c.path.clone()).collect()
        };
        assert_eq!(paths(&d.added), ["new"]);
        assert_eq!(paths(&d.removed), ["gone"]);
        assert_eq!(paths(&d.changed), ["bytes", "size"]);
        assert_eq!(d.unchanged, 1);
        assert!(d.added[0].a.is_none() && d.removed[0].b.is_none());
    }
}
