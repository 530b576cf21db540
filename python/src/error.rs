//! Library errors as the Python exception `_native.NativeError(class_name, message, hint,
//! exit_code, decision_json)`; `reg_governance/_errors.py` maps `class_name` to the public
//! exception hierarchy.
//!
//! Stand-in until `reg::refusal::Refusal` is on main: [`refusal`] names the class of the few
//! errors Python callers branch on (a busy lock, a rolled-back or forked copy) and calls every
//! other error `Refused` with its message. It is the one function to swap for the library's
//! classification, so that the Python exception carries the CLI's message, hint and exit code.

use pyo3::PyErr;
use reg::gate::{Decision, GateError};
use reg::repo::registry::RegistryError;
use std::any::Any;
use std::fmt::Display;

pyo3::create_exception!(
    _native,
    NativeError,
    pyo3::exceptions::PyException,
    "A refusal of the reg library: args are (class_name, message, hint, exit_code, decision_json)."
);

/// The exception for a refusal of class `class` (a name of `_errors.py`), with the CLI's
/// message, hint and exit code, and the gate's decision for a denial.
pub fn native(
    class: &str,
    message: impl Display,
    hint: Option<String>,
    exit_code: u8,
    decision: Option<&Decision>,
) -> PyErr {
    let decision = decision.and_then(|d| serde_json::to_string(d).ok());
    NativeError::new_err((
        class.to_string(),
        message.to_string(),
        hint,
        exit_code,
        decision,
    ))
}

/// The exception for any library error: the one place errors are classified.
pub fn refusal<E: Display + 'static>(e: E) -> PyErr {
    let any: &dyn Any = &e;
    if let Some(GateError::Denied(d)) = any.downcast_ref::<GateError>() {
        return native("Denied", &e, None, 1, Some(d));
    }
    let registry = any.downcast_ref::<RegistryError>().or_else(|| {
        any.downcast_ref::<GateError>().and_then(|g| match g {
            GateError::Registry(r) => Some(&**r),
            _ => None,
        })
    });
    let class = match registry {
        Some(RegistryError::Busy(..)) => ("Busy", 3),
        Some(RegistryError::RolledBack { .. } | RegistryError::BelowFloor { .. }) => {
            ("RollbackOrFork", 1)
        }
        Some(RegistryError::NotFound(_)) => ("InvalidInput", 2),
        _ => ("Refused", 1),
    };
    native(class.0, &e, None, class.1, None)
}

/// A value the caller gave that is not valid: `InvalidInput`, exit 2 (as a usage error).
pub fn invalid(message: impl Display) -> PyErr {
    native("InvalidInput", message, None, 2, None)
}
