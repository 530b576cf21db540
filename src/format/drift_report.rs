//! Drift reports and the report file (FORMAT.md §11.10): how an observation made at a replica
//! travels home without entering the replica's ledger, which would fork it (§11.1).
//!
//! A report is a reporter-signed envelope of its own payload type; the home site records it in
//! a `drift-import` entry that embeds it verbatim (§5.12), so the reporter's signature stays
//! checkable there. Here: the report's payload and the rules it meets by itself, and the codec of
//! the file that carries reports home. Signatures and trust are the state's to check (no key is
//! known here).

use crate::crypto::envelope::{Envelope, EnvelopeError, Kind, Unverified};
use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::format::limits::REPORT_LIMIT;
use crate::util::encoding::{echo, parse_canonical_value, parse_rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The first line of a report file: its format and version.
pub const FILE_MAGIC: &str = "reg-drift-reports 1";

/// Most reports in one file.
pub const MAX_REPORTS: u64 = 4096;

/// Largest report file: the importer holds it in memory.
pub const MAX_REPORT_FILE: u64 = 64 * 1024 * 1024;

/// The payload of a drift report (FORMAT.md §11.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPayload {
    /// The record id of the model observed.
    pub model: ObjectId,
    /// The observation (FORMAT.md §5.9).
    pub observation: Map<String, Value>,
    /// The registry id.
    pub registry: ObjectId,
    /// The signing key's fingerprint.
    pub reporter: Fingerprint,
    /// The replica's head seq when the report was made.
    pub seq: u64,
    /// When it was made, by the replica's clock.
    pub time: String,
}

/// Why a report is not a well-formed drift report (before any key is consulted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The envelope or payload does not decode.
    #[error("{0}")]
    Envelope(String),
    /// A rule of the report itself.
    #[error("{0}")]
    Invalid(String),
}

impl From<EnvelopeError> for ReportError {
    fn from(e: EnvelopeError) -> Self {
        ReportError::Envelope(e.to_string())
    }
}

/// A parsed drift report whose signature is not checked yet: its id (the BLAKE3 of its envelope
/// bytes), those bytes, and the payload.
#[derive(Debug, Clone)]
pub struct Report {
    /// BLAKE3 of the envelope bytes.
    pub id: ObjectId,
    /// The canonical envelope bytes, as signed.
    pub bytes: Vec<u8>,
    /// The envelope, decoded.
    pub envelope: Unverified,
    /// The payload.
    pub payload: ReportPayload,
}

impl Report {
    /// Parses report envelope bytes and checks every rule that needs no key: at most
    /// [`REPORT_LIMIT`] bytes, a canonical envelope of the drift-report type with one signature
    /// whose `keyid` is the payload's `reporter`, a canonical payload with no unknown field, a
    /// `time` in the grammar, and an observation that passes FORMAT.md §5.9 and names no other
    /// model.
    pub fn parse(bytes: &[u8]) -> Result<Report, ReportError> {
        if bytes.len() as u64 > REPORT_LIMIT {
            return Err(ReportError::Invalid(format!(
                "{} bytes, over the {REPORT_LIMIT}-byte limit of a drift report",
                bytes.len()
            )));
        }
        let envelope = Unverified::parse(bytes)?;
        if envelope.kind != Kind::DriftReport {
            return Err(ReportError::Invalid(format!(
                "payload type `{}`, not a drift report",
                envelope.kind.payload_type()
            )));
        }
        let payload: ReportPayload = envelope.payload_as(Kind::DriftReport)?;
        let keyid = envelope.single_signer().map_err(|_| {
            ReportError::Invalid(format!(
                "{} signatures where a report has exactly one",
                envelope.signatures.len()
            ))
        })?;
        if *keyid != payload.reporter {
            return Err(ReportError::Invalid(format!(
                "signed by {keyid}, but the report names reporter {}",
                payload.reporter
            )));
        }
        payload.check()?;
        Ok(Report {
            id: ObjectId::of(bytes),
            bytes: bytes.to_vec(),
            envelope,
            payload,
        })
    }

    /// Parses the report embedded in a `drift-import` entry: its canonical encoding is the
    /// envelope bytes the reporter signed.
    pub fn from_envelope(env: &Envelope) -> Result<Report, ReportError> {
        Report::parse(&env.to_canonical())
    }

    /// The envelope as an entry embeds it.
    pub fn to_envelope(&self) -> Result<Envelope, ReportError> {
        serde_json::from_slice(&self.bytes)
            .map_err(|e| ReportError::Envelope(format!("malformed envelope: {e}")))
    }
}

impl ReportPayload {
    /// The rules a report's payload meets by itself: its time, and its observation's (§5.9).
    pub fn check(&self) -> Result<(), ReportError> {
        if parse_rfc3339(&self.time).is_none() {
            return Err(ReportError::Invalid(format!(
                "time `{}` is not a time of the format (YYYY-MM-DDTHH:MM:SSZ, a real date, year 1970 to 9999)",
                echo(&self.time)
            )));
        }
        use crate::format::observation::{ObservationError, check};
        check(&self.observation, &self.model).map_err(|e| match e {
            ObservationError::OtherModel { named, model } => ReportError::Invalid(format!(
                "the observation names model {}, the report {model}",
                echo(&named)
            )),
            invalid => ReportError::Invalid(invalid.to_string()),
        })
    }
}

/// The second line of a report file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHeader {
    /// How many reports follow.
    count: u64,
    /// The registry they are reports of.
    registry: ObjectId,
}

/// Why a report file is refused (FORMAT.md §11.10).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportFileError {
    /// The first line is not the magic.
    #[error("not a drift report file: its first line is not `{FILE_MAGIC}`{}", .0.as_deref().map(|v| format!(" (it is {v})")).unwrap_or_default())]
    Magic(Option<String>),
    /// The header line does not decode or breaks a rule.
    #[error("the header line is invalid: {0}")]
    Header(String),
    /// Over a limit.
    #[error("{0}")]
    Limit(String),
    /// Fewer reports than the header announces.
    #[error("truncated: the header announces {expected} reports, the file ends after {found}")]
    Truncated {
        /// Announced.
        expected: u64,
        /// Found.
        found: u64,
    },
    /// Bytes after the last report.
    #[error("corrupt: bytes after the {0} reports the header announces")]
    Trailing(u64),
    /// A report line is not a report.
    #[error("report {n} (line {}): {source}", n + 2)]
    Report {
        /// Its position, from 1.
        n: u64,
        /// Why.
        #[source]
        source: ReportError,
    },
    /// Reports out of order, or one twice.
    #[error("report {n} ({id}) is not after the one before it in (time, id) order, or repeats it")]
    Order {
        /// Its position, from 1.
        n: u64,
        /// Its id.
        id: ObjectId,
    },
    /// A report of another registry than the header's.
    #[error(
        "report {n} ({id}) is a report of registry {found}, the file's header names {expected}"
    )]
    Registry {
        /// Its position, from 1.
        n: u64,
        /// Its id.
        id: ObjectId,
        /// The header's registry.
        expected: ObjectId,
        /// The report's.
        found: ObjectId,
    },
}

/// The order of a report file: by time, then by id.
fn key(r: &Report) -> (&str, ObjectId) {
    (r.payload.time.as_str(), r.id)
}

/// Sorts reports into the order of a report file.
pub fn sort(reports: &mut [Report]) {
    reports.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Encodes a report file of `registry` holding `reports`, which must be sorted ([`sort`]), each
/// of `registry`, at least one and within the limits: the writer enforces them first, so that no
/// file it writes is refused by the reader.
pub fn write_file(registry: &ObjectId, reports: &[Report]) -> Result<Vec<u8>, ReportFileError> {
    let count = reports.len() as u64;
    if count == 0 || count > MAX_REPORTS {
        return Err(ReportFileError::Limit(format!(
            "{count} reports: a file holds 1 to {MAX_REPORTS}"
        )));
    }
    let header = crate::util::encoding::to_canonical_vec(&FileHeader {
        count,
        registry: *registry,
    })
    .map_err(|e| ReportFileError::Header(e.to_string()))?;
    let mut out = Vec::new();
    out.extend_from_slice(FILE_MAGIC.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&header);
    out.push(b'\n');
    for (i, r) in reports.iter().enumerate() {
        let n = i as u64 + 1;
        if r.payload.registry != *registry {
            return Err(ReportFileError::Registry {
                n,
                id: r.id,
                expected: *registry,
                found: r.payload.registry,
            });
        }
        if i > 0 && key(&reports[i - 1]) >= key(r) {
            return Err(ReportFileError::Order { n, id: r.id });
        }
        out.extend_from_slice(&r.bytes);
        out.push(b'\n');
        if out.len() as u64 > MAX_REPORT_FILE {
            return Err(ReportFileError::Limit(format!(
                "the reports take more than the {} MiB a report file may hold",
                MAX_REPORT_FILE >> 20
            )));
        }
    }
    Ok(out)
}

/// The first line of a file that is not a report file, for the error: what kind of key it is
/// when it holds one (a person handed the wrong file), else its first 64 bytes echoed, which hides
/// anything else that may be key material.
fn first_line_shown(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(64)]);
    match crate::crypto::keys::key_text_kind(&String::from_utf8_lossy(line)) {
        Some(kind) => format!("{}; not shown", kind.name()),
        None => format!("`{}`", echo(&text)),
    }
}

/// Decodes a report file: its registry and its reports, in file order, each checked by
/// [`Report::parse`] (signatures unchecked: the importing registry's state checks them).
pub fn read_file(bytes: &[u8]) -> Result<(ObjectId, Vec<Report>), ReportFileError> {
    if bytes.len() as u64 > MAX_REPORT_FILE {
        return Err(ReportFileError::Limit(format!(
            "{} bytes, over the {} MiB limit of a report file",
            bytes.len(),
            MAX_REPORT_FILE >> 20
        )));
    }
    let mut lines = Lines { rest: bytes };
    match lines.next() {
        Some(m) if m == FILE_MAGIC.as_bytes() => {}
        other => return Err(ReportFileError::Magic(other.map(first_line_shown))),
    }
    let header = lines
        .next()
        .ok_or(ReportFileError::Header("missing".into()))?;
    let value =
        parse_canonical_value(header).map_err(|e| ReportFileError::Header(e.to_string()))?;
    let header: FileHeader =
        serde_json::from_value(value).map_err(|e| ReportFileError::Header(echo(&e.to_string())))?;
    if header.count == 0 || header.count > MAX_REPORTS {
        return Err(ReportFileError::Header(format!(
            "count {}: a file holds 1 to {MAX_REPORTS} reports",
            header.count
        )));
    }
    let mut reports: Vec<Report> = Vec::new();
    for n in 1..=header.count {
        let Some(line) = lines.next() else {
            return Err(ReportFileError::Truncated {
                expected: header.count,
                found: n - 1,
            });
        };
        let r = Report::parse(line).map_err(|source| ReportFileError::Report { n, source })?;
        if r.payload.registry != header.registry {
            return Err(ReportFileError::Registry {
                n,
                id: r.id,
                expected: header.registry,
                found: r.payload.registry,
            });
        }
        if reports.last().is_some_and(|p| key(p) >= key(&r)) {
            return Err(ReportFileError::Order { n, id: r.id });
        }
        reports.push(r);
    }
    if !lines.rest.is_empty() {
        return Err(ReportFileError::Trailing(header.count));
    }
    Ok((header.registry, reports))
}

/// The lines of a file, each ended by `\n`: a last line without one is not a line (a file cut
/// in the middle of a report is truncated; bytes left after the last report are trailing).
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        let i = self.rest.iter().position(|&b| b == b'\n')?;
        let (line, rest) = self.rest.split_at(i);
        self.rest = &rest[1..];
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::SecretKey;

    fn report(key: &SecretKey, time: &str, psi: f64) -> Report {
        let Value::Object(observation) = serde_json::json!({
            "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
            "baseline": "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
            "samples": 10,
            "metrics": [{"name": "psi", "kind": "psi", "value": psi}]
        }) else {
            unreachable!()
        };
        let payload = ReportPayload {
            model: ObjectId::of(b"model"),
            observation,
            registry: ObjectId::of(b"registry"),
            reporter: key.public().fingerprint().clone(),
            seq: 3,
            time: time.into(),
        };
        let bytes = crate::crypto::envelope::sign(Kind::DriftReport, &payload, key).unwrap();
        Report::parse(&bytes).unwrap()
    }

    #[test]
    fn a_report_file_round_trips_and_refuses_disorder_truncation_and_trailing_bytes() {
        let key = SecretKey::from_seed(&[7u8; 32]).unwrap();
        let registry = ObjectId::of(b"registry");
        let mut reports = vec![
            report(&key, "2026-10-03T00:00:00Z", 0.2),
            report(&key, "2026-10-02T00:00:00Z", 0.1),
        ];
        assert!(matches!(
            write_file(&registry, &reports),
            Err(ReportFileError::Order { n: 2, .. })
        ));
        sort(&mut reports);
        let bytes = write_file(&registry, &reports).unwrap();
        let (id, read) = read_file(&bytes).unwrap();
        assert_eq!(id, registry);
        let ids: Vec<_> = read.iter().map(|r| r.id).collect();
        assert_eq!(ids, reports.iter().map(|r| r.id).collect::<Vec<_>>());
        // Cut inside the last report, or after a whole line, or with bytes after the end.
        assert!(matches!(
            read_file(&bytes[..bytes.len() - 1]),
            Err(ReportFileError::Truncated {
                expected: 2,
                found: 1
            })
        ));
        let mut extra = bytes.clone();
        extra.extend_from_slice(b"\n");
        assert!(matches!(
            read_file(&extra),
            Err(ReportFileError::Trailing(2))
        ));
        // The same report twice is out of order.
        let twice = write_file(&registry, &[reports[0].clone()]).unwrap();
        let mut doubled = twice.clone();
        doubled.extend_from_slice(&reports[0].bytes);
        doubled.push(b'\n');
        let doubled = String::from_utf8(doubled)
            .unwrap()
            .replace("\"count\":1", "\"count\":2");
        assert!(matches!(
            read_file(doubled.as_bytes()),
            Err(ReportFileError::Order { n: 2, .. })
        ));
        assert!(matches!(
            read_file(b"reg-drift-reports 2\n"),
            Err(ReportFileError::Magic(_))
        ));
        // Another registry's reports are refused by the writer, before any byte is written.
        assert!(matches!(
            write_file(&ObjectId::of(b"other"), &reports),
            Err(ReportFileError::Registry { n: 1, .. })
        ));
    }

    #[test]
    fn a_report_over_its_limit_is_refused_before_signing_and_fits_the_home_entry() {
        use crate::crypto::envelope::envelope_len;
        use crate::format::limits::ENTRY_LIMIT;
        // The largest report fits the entry that embeds it: its bytes, about 500 bytes of
        // fields, base64 once more.
        let largest_entry_payload = REPORT_LIMIT as usize + 1024;
        assert!(envelope_len(Kind::DriftImport, largest_entry_payload) < ENTRY_LIMIT);
        let key = SecretKey::from_seed(&[7u8; 32]).unwrap();
        let err = crate::format::limits::sign_bytes(
            Kind::DriftReport,
            &vec![b'a'; REPORT_LIMIT as usize],
            &key,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("the drift report would be"),
            "{err}"
        );
    }
}
