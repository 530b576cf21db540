//! The reads: `reg status`, `reg list`, `reg show`, `reg log` and `reg drift list`, each
//! `--json` document made by `reg::report`, the functions the CLI prints, as JSON text.
//! Reading verifies the ledger (and `show`/`log` replay it): all of it runs without the GIL.

use crate::NativeRegistry;
use crate::error::{invalid, refusal};
use pyo3::prelude::*;
use reg::format::lifecycle::LifecycleState;
use reg::query::list::{Filter, MODEL_TYPES, model_type};
use reg::report::{DriftQuery, LogQuery, Target};
use serde::Serialize;

/// The JSON text of a document.
fn text(value: &impl Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(refusal)
}

/// The model named by `spec` or `slot` (`MODEL` or `--slot SLOT`); `None` when neither is.
fn target(spec: Option<String>, slot: Option<String>) -> PyResult<Option<Target>> {
    match (spec, slot) {
        (Some(_), Some(_)) => Err(invalid("give the model or the slot, not both")),
        (Some(spec), None) => Ok(Some(Target::Spec(spec))),
        (None, Some(slot)) => Ok(Some(Target::Slot(slot))),
        (None, None) => Ok(None),
    }
}

/// `reg status --json`.
pub fn status(r: &NativeRegistry, py: Python<'_>) -> PyResult<String> {
    py.detach(|| text(&reg::report::status(&r.current()?).map_err(refusal)?))
}

/// `reg list --json` with its filters, each value checked as the CLI's parser checks it.
#[allow(clippy::too_many_arguments)]
pub fn models(
    r: &NativeRegistry,
    py: Python<'_>,
    states: Option<Vec<String>>,
    name: Option<String>,
    model_type_given: Option<String>,
    uses: Vec<String>,
    labels: Option<Vec<(String, String)>>,
    publisher: Option<String>,
) -> PyResult<String> {
    let bad = |what: &str, given: &str, expected: &str| {
        invalid(format!("invalid value `{given}` for {what}: {expected}"))
    };
    // As `--state`: repeated, or states separated by commas.
    let states = states
        .unwrap_or_default()
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| {
            LifecycleState::from_name(s).ok_or_else(|| {
                bad(
                    "state",
                    s,
                    "expected registered, promoted, deprecated or revoked",
                )
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let model_type_given = match model_type_given {
        Some(t) => Some(model_type(&t).map(str::to_string).ok_or_else(|| {
            bad(
                "type",
                &t,
                &format!("expected one of {}", MODEL_TYPES.join(", ")),
            )
        })?),
        None => None,
    };
    let labels = labels.unwrap_or_default();
    if let Some((k, v)) = labels.iter().find(|(k, _)| k.is_empty()) {
        return Err(bad("labels", &format!("{k}={v}"), "expected KEY=VALUE"));
    }
    let publisher = match publisher {
        Some(p) if (1..=32).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(p.to_ascii_lowercase())
        }
        Some(p) => {
            return Err(bad(
                "publisher",
                &p,
                "expected a key fingerprint (32 hex digits) or a prefix of one",
            ));
        }
        None => None,
    };
    let filter = Filter {
        states,
        name,
        model_type: model_type_given,
        uses,
        labels,
        publisher,
    };
    py.detach(|| text(&reg::report::models(&r.current()?, &filter).map_err(refusal)?))
}

/// `reg show --json MODEL` (or `--slot SLOT`).
pub fn show(
    r: &NativeRegistry,
    py: Python<'_>,
    spec: Option<String>,
    slot: Option<String>,
) -> PyResult<String> {
    let target = target(spec, slot)?
        .ok_or_else(|| invalid("give the model (name@version, name@latest, a record id or a unique prefix) or the slot"))?;
    py.detach(|| text(&reg::report::show(&r.current()?, &target).map_err(refusal)?))
}

/// `reg log --json [MODEL | --slot SLOT] [-n N] [--since TIME] [--actor KEY]`.
pub fn history(
    r: &NativeRegistry,
    py: Python<'_>,
    spec: Option<String>,
    slot: Option<String>,
    max_count: Option<usize>,
    since: Option<String>,
    actor: Option<String>,
) -> PyResult<String> {
    if spec.is_some() && slot.is_some() {
        return Err(invalid("give the model or the slot, not both"));
    }
    let query = LogQuery {
        model: spec,
        slot,
        max_count,
        since,
        actor,
    };
    py.detach(|| text(&reg::report::log(&r.current()?, &query).map_err(refusal)?))
}

/// `reg drift list --json MODEL` (or `--slot SLOT`); with neither, every model's observations
/// (`reg drift list --all --json`).
pub fn drift(
    r: &NativeRegistry,
    py: Python<'_>,
    spec: Option<String>,
    slot: Option<String>,
) -> PyResult<String> {
    let target = target(spec, slot)?;
    py.detach(|| match target {
        Some(t) => {
            text(&reg::report::drift(&r.current()?, &t, &DriftQuery::default()).map_err(refusal)?)
        }
        None => text(&reg::report::drift_all(&r.current()?).map_err(refusal)?),
    })
}
