//! The bundle manifest, which signed and stored becomes the model record (FORMAT.md §7.1, §7.3).
//!
//! A manifest is checked in three layers, each listing every violation it finds: the embedded
//! JSON Schema (`schema/bundle-manifest.schema.json`), the rules a schema cannot say (sorted
//! lists, portable and unique paths), and the signature, checked by the caller against the keys
//! the registry trusts.

use crate::crypto::envelope::{EnvelopeError, Kind, Unverified};
use crate::crypto::keys::{Fingerprint, SecretKey};
use crate::format::formats::Format;
pub use crate::format::schema::{Problem, Step, Violation};
use crate::util::encoding::{
    EncodingError, check_typed, echo, forbidden_char, from_canonical_slice, parse_rfc3339,
    to_canonical_vec,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use unicode_normalization::UnicodeNormalization as _;

/// The manifest's file name in a bundle.
pub const MANIFEST_NAME: &str = "reg-manifest.json";

pub use crate::format::limits::MANIFEST_LIMIT;

/// Most artifacts in a bundle (`maxItems` of `artifacts` in the schema).
pub const MAX_ARTIFACTS: usize = 10_000;

/// Longest artifact path, in bytes (`maxLength` of a path in the schema, which counts
/// characters: the byte limit here is the stricter).
pub const MAX_PATH_LEN: usize = 1024;

/// Most components of an artifact path.
pub const MAX_PATH_COMPONENTS: usize = 32;

/// One artifact of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// BLAKE3 of the file, as `b3sum` prints it.
    pub blake3: String,
    /// Detected format.
    pub format: Format,
    /// Relative path in the bundle.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// A named hash reference to training data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// `algorithm:hex`.
    pub hash: String,
    /// What the data is.
    pub name: String,
}

/// The manifest payload (FORMAT.md §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The model's files, sorted by path.
    pub artifacts: Vec<Artifact>,
    /// When the bundle was packed.
    pub created: String,
    /// What the model is.
    pub description: String,
    /// Framework used (free text).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub framework: Option<String>,
    /// Free-form labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    /// The model's license, e.g. an SPDX expression (format 4 registries; FORMAT.md §7.1).
    /// Absent: the manifest's bytes are those of manifests before the field.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub license: Option<String>,
    /// Model name.
    pub name: String,
    /// Who answers for the model: a person or team (format 4 registries; FORMAT.md §7.1).
    /// Absent: the manifest's bytes are those of manifests before the field.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub owner: Option<String>,
    /// Training-data references.
    pub provenance: Vec<Provenance>,
    /// Fingerprint of the signer.
    pub publisher: Fingerprint,
    /// `ML`, `DL`, `LLM` or `ruleset`.
    #[serde(rename = "type")]
    pub model_type: String,
    /// Intended uses, sorted.
    pub uses: Vec<String>,
    /// Semantic version.
    pub version: String,
}

impl Manifest {
    /// `name@version`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Whether it carries a field only a format-4 registry admits (`owner`, `license`): an older
    /// registry's readers could not parse the record (FORMAT.md §7.1).
    pub fn needs_format_4(&self) -> bool {
        self.owner.is_some() || self.license.is_some()
    }
}

/// Errors about manifests.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The envelope or the JSON is malformed.
    #[error("manifest: {0}")]
    Envelope(#[from] EnvelopeError),
    /// JSON encoding failed.
    #[error("manifest: {0}")]
    Encoding(#[from] EncodingError),
    /// The manifest breaks the schema or the format's rules; every violation is listed, each
    /// naming its field, which a caller may name in its own terms (`reg bundle pack` names
    /// the flag that set it).
    #[error("manifest is invalid: {}", list(.0))]
    Invalid(Vec<Violation>),
}

/// The violations as one line, each naming its field as the manifest does (`uses[0]`).
fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.describe(&v.field("manifest")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A manifest parsed from a signed envelope; its signature is not checked yet.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The envelope bytes exactly as shipped (the future record object).
    pub bytes: Vec<u8>,
    /// The parsed envelope.
    pub envelope: Unverified,
    /// The validated manifest.
    pub manifest: Manifest,
}

impl SignedManifest {
    /// Parses envelope bytes, validating the payload against the schema and the rules of §7.
    ///
    /// Signature verification is the caller's: it needs to know which keys to trust.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, ManifestError> {
        let envelope = Self::parse_envelope(&bytes)?;
        Self::check_payload(bytes, envelope)
    }

    /// Parses the envelope of a manifest (canonical, of the manifest kind) without looking at
    /// its payload: what `reg add` verifies the signature of before the payload's schema and
    /// rules are checked (FORMAT.md §7.5), so that unsigned bytes are never interpreted.
    pub fn parse_envelope(bytes: &[u8]) -> Result<Unverified, ManifestError> {
        let envelope = Unverified::parse(bytes)?;
        if envelope.kind != Kind::Manifest {
            return Err(EnvelopeError::WrongKind {
                expected: Kind::Manifest.name(),
                found: envelope.kind.payload_type(),
            }
            .into());
        }
        Ok(envelope)
    }

    /// Checks the payload of a parsed manifest envelope ([`SignedManifest::parse_envelope`])
    /// against the schema and the rules of §7, listing every violation.
    pub fn check_payload(bytes: Vec<u8>, envelope: Unverified) -> Result<Self, ManifestError> {
        let value: serde_json::Value = from_canonical_slice(&envelope.payload)?;
        let mut problems = identifier_violations(&value);
        problems.extend(schema_violations(&value));
        if problems.is_empty() {
            let manifest: Manifest = serde_json::from_value(value).map_err(EncodingError::from)?;
            // One meaning, one encoding: the typed manifest re-encoded must be the signed bytes
            // (an empty `labels` map written out, say, is another id for the same record).
            if let Err(e) = check_typed(&manifest, &envelope.payload) {
                problems.push(Violation::new(&[], None, e.to_string()));
            }
            problems.extend(rule_violations(&manifest));
            if let Ok(keyid) = envelope.single_signer() {
                if *keyid != manifest.publisher {
                    problems.push(Violation::new(
                        &["publisher"],
                        Some(&manifest.publisher.to_string()),
                        format!("not the key that signed the manifest ({keyid})"),
                    ));
                }
            } else {
                problems.push(Violation::new(
                    &[],
                    None,
                    "a manifest has exactly one signature, the publisher's",
                ));
            }
            if problems.is_empty() {
                return Ok(SignedManifest {
                    bytes,
                    envelope,
                    manifest,
                });
            }
        }
        Err(ManifestError::Invalid(problems))
    }
}

/// Signs a manifest with the publisher's key (whose fingerprint must be `publisher`).
///
/// Everything a reader checks is checked first, the size included ([`crate::format::limits::sign_bytes`]):
/// a manifest that `reg add` would refuse is never signed.
pub fn sign(manifest: &Manifest, key: &SecretKey) -> Result<Vec<u8>, ManifestError> {
    let value = serde_json::to_value(manifest).map_err(EncodingError::from)?;
    let mut problems = identifier_violations(&value);
    problems.extend(rule_violations(manifest));
    if !problems.is_empty() {
        return Err(ManifestError::Invalid(problems));
    }
    let schema = schema_violations(&value);
    if !schema.is_empty() {
        return Err(ManifestError::Invalid(schema));
    }
    let body = to_canonical_vec(manifest)?;
    Ok(crate::format::limits::sign_bytes(
        Kind::Manifest,
        &body,
        key,
    )?)
}

/// Every schema violation, in words.
pub fn schema_violations(value: &serde_json::Value) -> Vec<Violation> {
    crate::format::schema::check(crate::format::schema::Schema::BundleManifest, value)
}

/// Control (C0, DEL, C1) and bidirectional-formatting characters in the manifest's identifiers
/// (name, version, owner, license, label keys, provenance names; paths are [`check_path`]'s), naming the field
/// and the code point. Identifiers are what an operator reads to decide; such characters hide
/// or reorder them. Free text (description, framework, label values) may hold them: output
/// escapes them. `owner` and `license` (format 4), which people read as key names are read,
/// also have no whitespace at either end, as key names (FORMAT.md §5.3), so that `DFIR` and
/// `DFIR ` are not two owners. Checked on the JSON value, so that it is said even where the
/// schema also refuses the field.
pub fn identifier_violations(value: &serde_json::Value) -> Vec<Violation> {
    use serde_json::Value;
    let mut fields: Vec<(Vec<Step>, &str)> = Vec::new();
    let mut out = Vec::new();
    for f in ["name", "version", "owner", "license"] {
        if let Some(s) = value.get(f).and_then(Value::as_str) {
            fields.push((vec![Step::Field(f.into())], s));
            if matches!(f, "owner" | "license") && s.trim() != s {
                out.push(Violation {
                    at: vec![Step::Field(f.into())],
                    value: Some(format!("`{}`", echo(s))),
                    problem: Problem::Expected(
                        "no whitespace at either end (as a key name)".into(),
                    ),
                });
            }
        }
    }
    if let Some(labels) = value.get("labels").and_then(Value::as_object) {
        for k in labels.keys() {
            fields.push((vec![Step::Field("labels".into())], k));
        }
    }
    if let Some(list) = value.get("provenance").and_then(Value::as_array) {
        for (i, p) in list.iter().enumerate() {
            if let Some(s) = p.get("name").and_then(Value::as_str) {
                let at = vec![
                    Step::Field("provenance".into()),
                    Step::Item(i),
                    Step::Field("name".into()),
                ];
                fields.push((at, s));
            }
        }
    }
    out.extend(fields.into_iter().filter_map(|(at, text)| {
        forbidden_char(text).map(|c| Violation {
            at,
            value: Some(format!("`{}`", echo(text))),
            problem: Problem::Expected(format!(
                "the character {c} (a control or bidirectional-formatting character) is not allowed"
            )),
        })
    }));
    out
}

/// Rules the schema cannot express: order, uniqueness after normalisation, portable paths.
pub fn rule_violations(m: &Manifest) -> Vec<Violation> {
    let mut out = Vec::new();
    if !is_sorted_unique(m.uses.iter()) {
        out.push(Violation::new(&["uses"], None, "must be sorted and unique"));
    }
    if !is_sorted_unique(m.provenance.iter().map(|p| &p.name)) {
        out.push(Violation::new(
            &["provenance"],
            None,
            "must be sorted by name, names unique",
        ));
    }
    if !is_sorted_unique(m.artifacts.iter().map(|a| &a.path)) {
        out.push(Violation::new(
            &["artifacts"],
            None,
            "must be sorted by path, paths unique",
        ));
    }
    if m.artifacts.len() > MAX_ARTIFACTS {
        out.push(Violation::new(
            &["artifacts"],
            None,
            format!("more than {MAX_ARTIFACTS} artifacts"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, a) in m.artifacts.iter().enumerate() {
        let path = |why: String| Violation {
            at: vec![
                Step::Field("artifacts".into()),
                Step::Item(i),
                Step::Field("path".into()),
            ],
            value: Some(format!("`{}`", echo(&a.path))),
            problem: Problem::Expected(why),
        };
        if let Err(why) = check_path(&a.path) {
            out.push(path(why));
        } else if !seen.insert(path_key(&a.path)) {
            out.push(path(
                "duplicates another path when case and Unicode normalisation are ignored".into(),
            ));
        }
    }
    if parse_rfc3339(&m.created).is_none() {
        out.push(Violation::new(
            &["created"],
            Some(&m.created),
            "not a time of the format (YYYY-MM-DDTHH:MM:SSZ, a real date, year 1970 to 9999)",
        ));
    }
    out
}

fn is_sorted_unique<'a>(mut items: impl Iterator<Item = &'a String>) -> bool {
    let Some(mut prev) = items.next() else {
        return true;
    };
    for item in items {
        if item <= prev {
            return false;
        }
        prev = item;
    }
    true
}

/// Checks an artifact path against FORMAT.md §7.3; the error says which rule it breaks.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.len() > MAX_PATH_LEN {
        return Err(format!("longer than {MAX_PATH_LEN} bytes"));
    }
    if path.starts_with('/') {
        return Err("absolute path".into());
    }
    if path.nfc().collect::<String>() != path {
        return Err("not in Unicode NFC form".into());
    }
    if let Some(c) = forbidden_char(path) {
        return Err(format!(
            "the character {c} (a control or bidirectional-formatting character) is not allowed"
        ));
    }
    if let Some(c) = path
        .chars()
        .find(|c| matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return Err(format!("character {c:?} is not allowed"));
    }
    let components: Vec<&str> = path.split('/').collect();
    if components.len() > MAX_PATH_COMPONENTS {
        return Err(format!("more than {MAX_PATH_COMPONENTS} components"));
    }
    for c in &components {
        match *c {
            "" => return Err("empty component".into()),
            "." | ".." => return Err(format!("`{c}` component")),
            _ => {}
        }
        if c.len() > 255 {
            return Err("a component is longer than 255 bytes".into());
        }
        if c.ends_with('.') || c.ends_with(' ') {
            return Err(format!(
                "component `{}` ends with a dot or a space",
                echo(c)
            ));
        }
        let lower = c.to_lowercase();
        if lower == ".registry" || lower == ".git" {
            return Err(format!("`{}` is a reserved name", echo(c)));
        }
        let stem = lower.split('.').next().unwrap_or_default();
        let device = matches!(stem, "con" | "prn" | "aux" | "nul")
            || ((stem.starts_with("com") || stem.starts_with("lpt"))
                && stem.len() == 4
                && matches!(stem.as_bytes()[3], b'1'..=b'9'));
        if device {
            return Err(format!("`{}` is a Windows device name", echo(c)));
        }
    }
    if components.len() == 1 && components[0].eq_ignore_ascii_case(MANIFEST_NAME) {
        return Err(format!("`{MANIFEST_NAME}` is the manifest's own name"));
    }
    Ok(())
}

/// The key under which two paths count as the same (FORMAT.md §7.3): NFC, then full Unicode
/// case folding (CaseFolding.txt statuses C and F, so that `ς` and `σ`, or `ß` and `ss`, fold
/// alike, as a case-insensitive medium may treat them), then NFC again. `to_lowercase` alone
/// is not enough: it maps `Σ` to `σ` but leaves `ς` as it is.
pub fn path_key(path: &str) -> String {
    let nfc: String = path.nfc().collect();
    unicase::UniCase::unicode(nfc.as_str())
        .to_folded_case()
        .nfc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_rules() {
        for ok in [
            "model.safetensors",
            "shards/model-00001-of-00002.safetensors",
            "tokenizer/vocab.json",
            "é/x",
        ] {
            assert_eq!(check_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "./a",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            "a\nb",
            ".registry/x",
            "x/.GIT/config",
            "CON",
            "aux.txt",
            "com1.bin",
            "a:b",
            "a?b",
            "trailing.",
            "sp ",
            "reg-manifest.json",
            "e\u{301}",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{202e}b",
            "a\u{2066}b",
            "a\u{061c}b",
            "a\u{200f}b",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_path("x/reg-manifest.json").is_ok());
        let e = check_path("model\u{202e}nib.exe").unwrap_err();
        assert!(e.contains("U+202E"), "{e}");
        assert_eq!(path_key("Model.BIN"), path_key("model.bin"));
        assert_eq!(
            path_key("\u{e9}"),
            path_key("E\u{301}".nfc().collect::<String>().as_str())
        );
    }
}
