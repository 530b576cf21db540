//! The JSON Schemas reg enforces, embedded in the binary so that validation never reaches for a
//! file or a network (`jsonschema` is built without its remote-reference features).

use std::sync::OnceLock;

/// The schemas reg enforces on input.
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// `schema/bundle-manifest.schema.json`.
    BundleManifest,
    /// `schema/drift-observation.schema.json`.
    DriftObservation,
}

const BUNDLE_MANIFEST: &str = include_str!("../../schema/bundle-manifest.schema.json");
const DRIFT_OBSERVATION: &str = include_str!("../../schema/drift-observation.schema.json");

fn compile(text: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(text).expect("the embedded schema is JSON (tested)");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the embedded schema compiles (tested)")
}

fn validator(schema: Schema) -> &'static jsonschema::Validator {
    static MANIFEST: OnceLock<jsonschema::Validator> = OnceLock::new();
    static DRIFT: OnceLock<jsonschema::Validator> = OnceLock::new();
    match schema {
        Schema::BundleManifest => MANIFEST.get_or_init(|| compile(BUNDLE_MANIFEST)),
        Schema::DriftObservation => DRIFT.get_or_init(|| compile(DRIFT_OBSERVATION)),
    }
}

/// Longest quoted value in a violation, in bytes: the validator hands back the offending value,
/// which may be a whole oversized input (a 100 KB name, 4096 characters of notes).
const VALUE_LIMIT: usize = 80;

/// Longest violation message, in bytes.
const VIOLATION_LIMIT: usize = 300;

/// One step of a field's path from the document's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A field of an object.
    Field(String),
    /// An item of an array (from 0).
    Item(usize),
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The field is absent or empty but must be given.
    Missing,
    /// The field is not one the document has.
    Unknown,
    /// The value is not what is expected; the text says what is, in words
    /// ("expected one of ML, DL, LLM, ruleset"), never a schema keyword or a pattern.
    Expected(String),
}

/// One way a document breaks its schema or the format's rules, in terms a person can act on:
/// the field (a path, which the caller names in its own terms: a manifest field, a command-line
/// flag), the value found, and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field; empty for the document itself.
    pub at: Vec<Step>,
    /// The value found, shortened and escaped, when it is a string or a number worth quoting.
    pub value: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

impl Violation {
    /// A violation of the field at `at` (`["window", "start"]`), with the value found.
    pub fn new(at: &[&str], value: Option<&str>, expected: impl Into<String>) -> Violation {
        Violation {
            at: at.iter().map(|f| Step::Field((*f).to_string())).collect(),
            value: value.map(quote),
            problem: Problem::Expected(expected.into()),
        }
    }

    /// The field's path as a document's reader names it: `type`, `uses[0]`,
    /// `provenance[1].hash`; `root` for the document itself.
    pub fn field(&self, root: &str) -> String {
        let mut out = String::new();
        for step in &self.at {
            match step {
                Step::Field(f) if out.is_empty() => out.push_str(f),
                Step::Field(f) => {
                    out.push('.');
                    out.push_str(f);
                }
                Step::Item(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            root.to_string()
        } else {
            out
        }
    }

    /// The sentence, with the field called `name`: `--type dl: expected one of ML, DL, LLM,
    /// ruleset`, `description is required`.
    pub fn describe(&self, name: &str) -> String {
        let text = match (&self.problem, &self.value) {
            (Problem::Missing, _) => format!("{name} is required"),
            (Problem::Unknown, _) => format!("{name}: unknown field"),
            (Problem::Expected(what), Some(v)) => format!("{name} {v}: {what}"),
            (Problem::Expected(what), None) => format!("{name}: {what}"),
        };
        crate::util::encoding::echo_within(&text, VIOLATION_LIMIT)
    }
}

impl std::fmt::Display for Violation {
    /// With the field named as in the document (`uses[0]`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(&self.field("the document")))
    }
}

/// A value as a violation quotes it: bare when it is one short word, else in backticks; escaped
/// and shortened either way.
fn quote(text: &str) -> String {
    let shown = crate::util::encoding::echo_within(text, VALUE_LIMIT);
    if !shown.is_empty() && !shown.contains(char::is_whitespace) && !shown.contains('`') {
        shown
    } else {
        format!("`{shown}`")
    }
}

/// What each pattern of the embedded schemas asks for, in words: a violation never shows a
/// regular expression. Every pattern of every schema has its entry (tested).
const PATTERNS: &[(&str, &str)] = &[
    (
        "^[a-z0-9][a-z0-9._-]{0,63}$",
        "expected lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64",
    ),
    (
        "^[a-z0-9][a-z0-9._/-]{0,63}$",
        "expected lowercase letters, digits, `.`, `_`, `/` and `-`, starting with a letter or digit, at most 64",
    ),
    (
        r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$",
        "expected a semantic version such as 1.4.0 or 2.0.0-rc.1",
    ),
    ("^other:[a-z0-9-]{1,48}$", "other:NAME"),
    (
        "^[0-9a-f]{64}$",
        "expected a BLAKE3 hash: 64 lowercase hex digits",
    ),
    (
        "^[0-9a-f]{32}$",
        "expected a key fingerprint: 32 lowercase hex digits",
    ),
    (
        "^(blake3:[0-9a-f]{64}|sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$",
        "expected ALGORITHM:HEX: blake3: or sha256: and 64 lowercase hex digits, or sha512: and 128",
    ),
    (
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        "expected a UTC time YYYY-MM-DDTHH:MM:SSZ",
    ),
];

/// The words for `pattern`, or a plain "not in the expected form" for one without an entry
/// (never the pattern itself).
fn pattern_words(pattern: &str) -> &'static str {
    PATTERNS
        .iter()
        .find(|(p, _)| *p == pattern)
        .map_or("not in the expected form", |(_, words)| words)
}

/// The options of an `enum`, listed: `ML, DL, LLM, ruleset`.
fn options(options: &serde_json::Value) -> String {
    options
        .as_array()
        .map(|list| {
            list.iter()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Every violation of `schema` in `value`, in words ([`Violation`]).
pub fn check(schema: Schema, value: &serde_json::Value) -> Vec<Violation> {
    validator(schema)
        .iter_errors(value)
        .map(|e| violation(&e))
        .collect()
}

/// Every violation of `schema` in `value`, as sentences naming the field as the document does
/// (`window.start`, `metrics[0].kind`; the root is `what`).
pub fn violations(schema: Schema, value: &serde_json::Value, what: &str) -> Vec<String> {
    check(schema, value)
        .iter()
        .map(|v| v.describe(&v.field(what)))
        .collect()
}

/// The validator's error in words.
fn violation(e: &jsonschema::ValidationError<'_>) -> Violation {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    use jsonschema::paths::LocationSegment;
    let mut at: Vec<Step> = e
        .instance_path()
        .iter()
        .map(|s| match s {
            LocationSegment::Property(p) => Step::Field(p.to_string()),
            LocationSegment::Index(i) => Step::Item(i),
        })
        .collect();
    let instance: &serde_json::Value = e.instance();
    let value = match instance {
        serde_json::Value::String(s) => Some(quote(s)),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let expected = |what: String| Problem::Expected(what);
    let problem = match e.kind() {
        K::Required { property } => {
            at.push(Step::Field(
                property.as_str().unwrap_or_default().to_string(),
            ));
            return Violation {
                at,
                value: None,
                problem: Problem::Missing,
            };
        }
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            at.push(Step::Field(unexpected.join(", ")));
            return Violation {
                at,
                value: None,
                problem: Problem::Unknown,
            };
        }
        K::MinLength { limit: 1 } | K::MinItems { limit: 1 } | K::MinProperties { limit: 1 } => {
            Problem::Missing
        }
        K::Enum { options: o } => expected(format!("expected one of {}", options(o))),
        K::Constant { expected_value } => expected(format!("expected {expected_value}")),
        K::Pattern { pattern } => expected(pattern_words(pattern).to_string()),
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            // Each alternative's own expectation: its enum's options, its pattern in words.
            let alternatives: Vec<String> = context
                .iter()
                .filter_map(|errors| {
                    errors.iter().find_map(|e| match e.kind() {
                        K::Enum { options: o } => Some(options(o)),
                        K::Pattern { pattern } => Some(
                            pattern_words(pattern)
                                .trim_start_matches("expected ")
                                .to_string(),
                        ),
                        _ => None,
                    })
                })
                .collect();
            expected(if alternatives.is_empty() {
                "not in the expected form".to_string()
            } else {
                format!("expected one of {}", alternatives.join(", or "))
            })
        }
        K::MinLength { limit } => expected(format!("expected at least {limit} characters")),
        K::MaxLength { limit } => expected(format!("expected at most {limit} characters")),
        K::MinItems { limit } => expected(format!("expected at least {limit} items")),
        K::MaxItems { limit } => expected(format!("expected at most {limit} items")),
        K::MaxProperties { limit } => expected(format!("expected at most {limit} entries")),
        K::MinProperties { limit } => expected(format!("expected at least {limit} entries")),
        K::Minimum { limit } => expected(format!("expected at least {limit}")),
        K::Maximum { limit } => expected(format!("expected at most {limit}")),
        K::ExclusiveMinimum { limit } => expected(format!("expected more than {limit}")),
        K::ExclusiveMaximum { limit } => expected(format!("expected less than {limit}")),
        K::UniqueItems => expected("expected each item once".into()),
        K::Format { format } => expected(format!("expected a {format}")),
        K::Type { kind } => expected(match kind {
            TypeKind::Single(t) => format!("expected {}", a_type(&t.to_string())),
            TypeKind::Multiple(ts) => format!(
                "expected {}",
                ts.iter()
                    .map(|t| a_type(&t.to_string()))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        }),
        K::PropertyNames { error } => {
            // The key is the value at fault, and the inner error says what keys must be.
            return Violation {
                at,
                value: error.instance().as_str().map(quote),
                problem: match violation(error).problem {
                    Problem::Expected(what) => Problem::Expected(format!("as a key: {what}")),
                    other => other,
                },
            };
        }
        // Keywords the embedded schemas do not use: the validator's sentence, with the value
        // it quotes shortened and escaped.
        _ => expected(crate::util::encoding::echo_within(
            &e.to_string(),
            VIOLATION_LIMIT,
        )),
    };
    // An empty string is a field not given: `--description ""` or no `--description` at all.
    let problem = if instance.as_str() == Some("") {
        Problem::Missing
    } else {
        problem
    };
    let value = if problem == Problem::Missing {
        None
    } else {
        value
    };
    Violation { at, value, problem }
}

/// A JSON type with its article, as a sentence says it.
fn a_type(t: &str) -> String {
    match t {
        "array" | "integer" | "object" => format!("an {t}"),
        "null" => "null".into(),
        _ => format!("a {t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schemas_compile() {
        let _ = validator(Schema::BundleManifest);
        let _ = validator(Schema::DriftObservation);
    }

    /// Every `pattern` of every embedded schema has its words, so none is ever shown.
    #[test]
    fn every_pattern_has_words() {
        fn patterns(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("pattern", serde_json::Value::String(p)) => out.push(p.clone()),
                            _ => patterns(v, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| patterns(v, out)),
                _ => {}
            }
        }
        for text in [BUNDLE_MANIFEST, DRIFT_OBSERVATION] {
            let mut found = Vec::new();
            patterns(&serde_json::from_str(text).unwrap(), &mut found);
            assert!(!found.is_empty());
            for p in found {
                assert!(PATTERNS.iter().any(|(q, _)| *q == p), "no words for {p}");
            }
        }
    }

    #[test]
    fn violations_speak_in_words() {
        let v = serde_json::json!({"type": "dl", "uses": ["classificatio"], "name": "X", "description": ""});
        let all: Vec<String> = check(Schema::BundleManifest, &v)
            .iter()
            .map(|v| v.describe(&v.field("manifest")))
            .collect();
        let text = all.join("\n");
        assert!(
            text.contains("type dl: expected one of ML, DL, LLM, ruleset"),
            "{text}"
        );
        assert!(text.contains("description is required"), "{text}");
        assert!(text.contains("version is required"), "{text}");
        assert!(
            text.contains("uses[0] classificatio: expected one of classification,"),
            "{text}"
        );
        assert!(text.contains(", or other:NAME"), "{text}");
        for bad in ["anyOf", "^", "/uses", "\\"] {
            assert!(!text.contains(bad), "{bad} in {text}");
        }
    }
}
