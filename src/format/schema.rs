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

/// Longest violation message, in bytes: the validator quotes the offending value, which may be
/// a whole oversized input (a 100 KB name, 4096 characters of notes).
const VIOLATION_LIMIT: usize = 300;

/// Every violation of `schema` in `value`, as `/json/pointer: problem` (the root is `what`),
/// each shortened and with control and bidirectional-formatting characters escaped
/// ([`crate::util::encoding::echo_within`]), since the validator quotes the offending value.
pub fn violations(schema: Schema, value: &serde_json::Value, what: &str) -> Vec<String> {
    validator(schema)
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { what.to_string() } else { at };
            crate::util::encoding::echo_within(&format!("{at}: {e}"), VIOLATION_LIMIT)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schemas_compile() {
        let _ = validator(Schema::BundleManifest);
        let _ = validator(Schema::DriftObservation);
    }
}
