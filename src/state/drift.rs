//! Drift observations (FORMAT.md §5.9): a chain of signed observations per model, recorded
//! directly by a reporter (`drift`) or, made at a replica, recorded at home by an operator with
//! the reporter's signed report embedded (`drift-import`, §5.12).

use super::{DriftState, ModelState, State, StateError};
use crate::crypto::envelope::Kind;
use crate::format::drift_report::Report;
use crate::format::entry::{Drift, DriftImport};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::observation::{self, ObservationError};

impl State {
    /// Whether the ledger records drift report `report` for `model` already (FORMAT.md §5.12):
    /// what replay refuses twice, an outbox leaves out and a home import skips.
    pub fn report_recorded(&self, model: &ObjectId, report: &ObjectId) -> bool {
        self.models()
            .get(model)
            .and_then(|m| m.drift.as_ref())
            .is_some_and(|d| d.reports.contains(report))
    }

    /// The rule of a drift entry (FORMAT.md §5.9): numbers spelled as the registry's format
    /// says, a model that is not REVOKED, following its previous observation, an observation
    /// valid against its schema and naming no other model.
    pub fn check_drift(&self, d: &Drift) -> Result<(), StateError> {
        if d.legacy_numbers && self.format_version >= 2 {
            return Err(StateError::LegacyNumbers);
        }
        self.check_observed(&d.model, d.previous)?;
        observation::check(&d.observation, &d.model).map_err(|e| match e {
            ObservationError::Invalid(problems) => StateError::ObservationInvalid(problems),
            ObservationError::OtherModel { named, .. } => StateError::ObservationModel {
                named,
                spec: self.spec(&d.model),
            },
        })
    }

    /// The model may be observed: registered and not REVOKED (FORMAT.md §5.9). What a drift
    /// entry, a `drift-import` and a report written to a replica's outbox all require.
    pub fn check_observable(&self, model: &ObjectId) -> Result<&ModelState, StateError> {
        let m = self.model(model)?;
        if m.state == LifecycleState::Revoked {
            return Err(StateError::DriftOnRevoked(self.spec(model)));
        }
        Ok(m)
    }

    /// The model may be observed now ([`State::check_observable`]) and `previous` is its latest
    /// observation.
    fn check_observed(
        &self,
        model: &ObjectId,
        previous: Option<ObjectId>,
    ) -> Result<(), StateError> {
        let m = self.check_observable(model)?;
        if previous != m.drift.as_ref().map(|x| x.last) {
            return Err(StateError::StaleDrift(self.spec(model)));
        }
        Ok(())
    }

    /// Applies a drift entry (`id`) that [`State::check_drift`] passed.
    pub(super) fn apply_drift(&mut self, id: ObjectId, d: &Drift) {
        self.observed(id, &d.model, None);
    }

    /// The rule of a `drift-import` entry (FORMAT.md §5.12): the embedded report is a drift
    /// report of this registry and of the entry's model, made at a ledger this one extends,
    /// signed by a key trusted as reporter here and now, whose signature verifies; the model
    /// may be observed, the observation is valid, and the report is not recorded yet. Returns
    /// the parsed report.
    pub fn check_drift_import(&self, d: &DriftImport) -> Result<Report, StateError> {
        let refuse = |report: ObjectId, detail: String| StateError::Report { report, detail };
        let report = match Report::from_envelope(&d.report) {
            Ok(r) => r,
            Err(e) => {
                let id = ObjectId::of(&d.report.to_canonical());
                return Err(refuse(id, e.to_string()));
            }
        };
        let (id, p) = (report.id, &report.payload);
        if p.registry != self.registry {
            return Err(refuse(
                id,
                format!(
                    "a report of registry {}, not of this registry ({})",
                    p.registry, self.registry
                ),
            ));
        }
        if p.model != d.model {
            return Err(refuse(
                id,
                format!("a report of model {}, the entry names {}", p.model, d.model),
            ));
        }
        if p.seq > self.seq {
            return Err(refuse(
                id,
                format!(
                    "made at entry {} of a replica, past this ledger's entry {}: not a replica of this history",
                    p.seq, self.seq
                ),
            ));
        }
        let key = self
            .authorize(&p.reporter, Kind::DriftReport)
            .map_err(|e| refuse(id, format!("reporter: {e}")))?;
        report
            .envelope
            .verify_single(&key)
            .map_err(|e| refuse(id, format!("the reporter's signature does not verify: {e}")))?;
        self.check_observed(&d.model, d.previous)?;
        self.model(&d.model)?;
        if self.report_recorded(&d.model, &id) {
            return Err(StateError::ReportRecorded {
                report: id,
                spec: self.spec(&d.model),
            });
        }
        Ok(report)
    }

    /// Applies a `drift-import` entry (`id`) that [`State::check_drift_import`] passed.
    pub(super) fn apply_drift_import(&mut self, id: ObjectId, d: &DriftImport) {
        let report = ObjectId::of(&d.report.to_canonical());
        self.observed(id, &d.model, Some(report));
    }

    /// Counts an observation of `model` recorded by entry `id`, with its report id if any.
    fn observed(&mut self, id: ObjectId, model: &ObjectId, report: Option<ObjectId>) {
        if let Some(m) = self.models.get_mut(model) {
            let mut drift = m.drift.take().unwrap_or(DriftState {
                count: 0,
                last: id,
                reports: Default::default(),
            });
            drift.count += 1;
            drift.last = id;
            drift.reports.extend(report);
            m.drift = Some(drift);
        }
    }
}
