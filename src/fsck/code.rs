//! The stable codes of fsck's findings (docs/FSCK.md).
//!
//! One list makes the enum, [`Code::ALL`] and the strings, so that a code cannot be added to
//! one and forgotten in another; a test holds the list to the table in docs/FSCK.md.

use serde::Serialize;

/// Declares [`Code`] from one list of `Variant => "code"`: the enum, its strings and `ALL`.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)+) => {
        /// A finding's stable code, serialized as its kebab-case string (docs/FSCK.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)+
        }

        impl Code {
            /// Every code, in the order of docs/FSCK.md.
            pub const ALL: &[Code] = &[$(Code::$variant,)+];

            /// The code as the report writes it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)+
                }
            }
        }
    };
}

codes! {
    /// `config.json` is missing, malformed, of a newer format, or names no genesis entry.
    ConfigInvalid => "config-invalid",
    /// The genesis root is not the pinned one, or the registry at a pinned path was replaced.
    TrustMismatch => "trust-mismatch",
    /// No pin: the registry could only be checked against itself.
    TrustUnpinned => "trust-unpinned",
    /// A symbolic link (or a ledger with several names) in `.registry/`.
    Link => "link",
    /// A FIFO, socket or device in `.registry/`.
    NotRegular => "not-regular",
    /// A directory where the registry layout has a file, or a file where it has a directory.
    Layout => "layout",
    /// A file or directory that is not part of the registry layout.
    UnknownEntry => "unknown-entry",
    /// A directory in `.registry/` that cannot be listed (or an entry that cannot be read).
    Unreadable => "unreadable",
    /// This host's record of the last checkpoint it verified is unusable.
    HostState => "host-state",
    /// An object's bytes no longer hash to its name.
    ObjectCorrupt => "object-corrupt",
    /// A file in `outbox/` named by its own hash that is not a drift report of this registry.
    OutboxInvalid => "outbox-invalid",
    /// Something in `objects/` that is not an object of the store.
    ObjectMisnamed => "object-misnamed",
    /// A link or special file in `objects/`.
    ObjectNotFile => "object-not-file",
    /// An object that cannot be read.
    ObjectUnreadable => "object-unreadable",
    /// An object the ledger reaches is absent.
    ObjectMissing => "object-missing",
    /// An object no ledger entry reaches.
    ObjectDangling => "object-dangling",
    /// An artifact of a purged model is in the store again.
    PurgedPresent => "purged-present",
    /// A file left in `tmp/` by an interrupted write.
    StagingResidue => "staging-residue",
    /// The ledger does not verify.
    LedgerInvalid => "ledger-invalid",
    /// The registry's last renewal is older than the policy allows (FORMAT.md §6.1).
    CheckpointExpired => "checkpoint-expired",
    /// The checkpoint or the renewal is dated past this host's clock by more than the skew.
    CheckpointFuture => "checkpoint-future",
    /// The checkpoint is older than, or diverges from, the one this host verified.
    LedgerRollback => "ledger-rollback",
    /// The ledger file lists entries after the checkpoint.
    LedgerResidue => "ledger-residue",
    /// A model admitted before its publisher key was revoked.
    PublisherRevoked => "publisher-revoked",
    /// `index/state.json` differs from the replayed ledger.
    IndexStale => "index-stale",
    /// A ref that no interrupted write explains.
    RefMismatch => "ref-mismatch",
    /// A ref that lags after an interrupted write.
    RefStale => "ref-stale",
    /// A write was interrupted after its commit point.
    RefsPending => "refs-pending",
    /// A slot whose active model is not approved.
    RevokedActive => "revoked-active",
    /// A slot whose active model is DEPRECATED.
    DeprecatedActive => "deprecated-active",
    /// A model suspended by a compromised key (FORMAT.md §5.14), not re-approved.
    ModelSuspended => "model-suspended",
    /// A slot whose active model is suspended: the gate denies it.
    SuspendedActive => "suspended-active",
    /// An approved model holding a format the policy refuses (FORMAT.md §5.5).
    OutOfPolicy => "out-of-policy",
    /// A slot whose active model is out of policy: the gate denies it.
    PolicyActive => "policy-active",
    /// A model that is not revoked and holds denied bytes (FORMAT.md §5.15).
    DeniedHeld => "denied-held",
    /// A ledger entry dated before the entry it follows (a registry older than format 4).
    TimeBackwards => "time-backwards",
    /// (`--scan`) A file that is no artifact of any registered model.
    ScanUnregistered => "scan-unregistered",
    /// (`--scan`) A file that is only an artifact of REVOKED models.
    ScanRevoked => "scan-revoked",
    /// (`--scan`) A file of a model that is REGISTERED but not approved.
    ScanUnapproved => "scan-unapproved",
    /// (`--scan`) A file of a DEPRECATED model.
    ScanDeprecated => "scan-deprecated",
    /// (`--scan`) A file the gate denies beyond its model's lifecycle: denied bytes, a
    /// suspended model, a model out of policy.
    ScanDenied => "scan-denied",
    /// (`--scan`) A link whose target is an artifact of a PROMOTED model.
    ScanLink => "scan-link",
    /// (`--scan`) A link that cannot be followed to a regular file.
    ScanLinkRefused => "scan-link-refused",
    /// (`--scan`) A FIFO, socket or device.
    ScanNotFile => "scan-not-file",
    /// (`--scan`) A file or directory that cannot be read.
    ScanUnreadable => "scan-unreadable",
    /// (`--scan`) The ledger does not verify, so nothing can be proved registered.
    ScanSkipped => "scan-skipped",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn read(rel: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
    }

    /// The codes of docs/FSCK.md's table: `(reported, retired)`. A row whose severity is `—`
    /// lists codes no longer reported, kept for reports written before.
    fn documented() -> (Vec<String>, Vec<String>) {
        let doc = read("docs/FSCK.md");
        let table = doc
            .split("| code | severity | meaning |")
            .nth(1)
            .expect("docs/FSCK.md has the table of codes");
        let (mut reported, mut retired) = (Vec::new(), Vec::new());
        for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let codes = cells[1]
                .split(',')
                .map(|c| c.trim().trim_matches('`').to_string());
            if cells[2] == "—" {
                retired.extend(codes);
            } else {
                reported.extend(codes);
            }
        }
        (reported, retired)
    }

    #[test]
    fn the_doc_lists_exactly_the_codes_that_exist() {
        let (reported, retired) = documented();
        let doc: BTreeSet<&str> = reported.iter().map(String::as_str).collect();
        assert_eq!(
            doc.len(),
            reported.len(),
            "a code listed twice: {reported:?}"
        );
        let all: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(all.len(), Code::ALL.len(), "a code in Code::ALL twice");
        let undocumented: Vec<_> = all.difference(&doc).collect();
        let unknown: Vec<_> = doc.difference(&all).collect();
        assert!(
            undocumented.is_empty() && unknown.is_empty(),
            "docs/FSCK.md lacks {undocumented:?} and lists {unknown:?}, which no finding has"
        );
        for code in &retired {
            assert!(
                !all.contains(code.as_str()),
                "{code} is documented as no longer reported"
            );
        }
    }

    #[test]
    fn the_schema_allows_every_code_and_the_retired_ones() {
        let schema: serde_json::Value =
            serde_json::from_str(&read("schema/fsck-report.schema.json")).unwrap();
        let codes = &schema["properties"]["findings"]["items"]["properties"]["code"]["enum"];
        let mut allowed: Vec<String> = codes
            .as_array()
            .expect("the schema lists the codes")
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let (reported, retired) = documented();
        let mut want: Vec<String> = reported.into_iter().chain(retired).collect();
        allowed.sort();
        want.sort();
        assert_eq!(allowed, want);
    }

    #[test]
    fn codes_serialize_as_their_strings() {
        for c in Code::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            let kebab = c
                .as_str()
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
            assert!(kebab, "{c}");
        }
    }
}
