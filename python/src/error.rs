//! Library errors as the Python exception `_native.NativeError(class_name, message, hint,
//! exit_code, decision_json)`; `reg_governance/_errors.py` maps `class_name` to the public
//! exception hierarchy. The class, message, hint and exit code are the library's
//! [`Refusal`] of the error, the one classification the CLI prints too: nothing is classified
//! here.

use pyo3::PyErr;
use reg::{Class, Decision, GateError, Refusal};
use std::fmt::Display;

pyo3::create_exception!(
    _native,
    NativeError,
    pyo3::exceptions::PyException,
    "A refusal of the reg library: args are (class_name, message, hint, exit_code, decision_json)."
);

/// The exception for a refusal, of class `class` (a name of `_errors.py`), with the gate's
/// decision for a denial.
fn native(class: &str, r: &Refusal, decision: Option<String>) -> PyErr {
    NativeError::new_err((
        class.to_string(),
        r.message().to_string(),
        r.hint().map(str::to_string),
        r.exit_code(),
        decision,
    ))
}

/// The exception for any library error, as the library classifies it.
pub fn refusal<E>(e: E) -> PyErr
where
    Refusal: From<E>,
{
    let r = Refusal::from(e);
    native(r.class().name(), &r, None)
}

/// The exception for a file the gate denied, as the library classifies the denial (`Denied`;
/// `Unpinned` for a registry this host has not pinned), with the decision.
pub fn denied(d: Box<Decision>) -> PyErr {
    let json = serde_json::to_string(&d).ok();
    let r = Refusal::from(GateError::Denied(d));
    native(r.class().name(), &r, json)
}

/// A refusal the Python layer judges itself, of `class`.
pub fn judged(class: Class, message: impl Display, hint: Option<String>) -> PyErr {
    let r = Refusal::new(class, message, hint);
    native(r.class().name(), &r, None)
}

/// A value the caller gave that is not valid: `InvalidInput`, exit 2 (as a usage error).
pub fn invalid(message: impl Display) -> PyErr {
    judged(Class::InvalidInput, message, None)
}
