//! Reading and packing publisher bundles, and adding one: the classes and hints of
//! `BundleError`, judged by where it arose ([`BundleUse`]), and of `AddError`.
#![deny(clippy::wildcard_enum_match_arm)]

use super::registry::registry;
use super::{Class, Judged, Refusal, classified, exists, output_refused};
use crate::bundle::BundleError;
use crate::format::schema::Violation;
use crate::ops::add::AddError;

impl From<AddError> for Refusal {
    fn from(e: AddError) -> Self {
        classified(e, |e| match e {
            AddError::Registry(r) => registry(r),
            AddError::Bundle(b) => bundle(b, BundleUse::Reading),
            AddError::Policy(p) => (Class::Refused, Some(add_policy(p))),
        })
    }
}

/// Where a bundle error arose, which decides what fixes it: a publisher's own files, flags and
/// output when packing; the bundle, which only its publisher can remake, when reading. There is
/// no `From<BundleError>`: each caller says which, so a packing error never sends the user to
/// "the publisher".
#[derive(Debug, Clone, Copy)]
pub enum BundleUse {
    /// `reg bundle pack`; `flag` names a violated field as the command line sets it
    /// (`--type`), or as the manifest does for fields reg fills in itself.
    Packing {
        /// The name of a violated field.
        flag: fn(&Violation) -> String,
    },
    /// `reg add`, `reg bundle verify`: a bundle someone else made.
    Reading,
}

impl Refusal {
    /// A bundle error, judged by where it arose.
    pub fn bundle(e: BundleError, at: BundleUse) -> Refusal {
        let (class, hint) = bundle(&e, at);
        if let BundleError::Manifest(crate::format::manifest::ManifestError::Invalid(list)) = &e
            && let BundleUse::Packing { flag } = at
        {
            let list: Vec<String> = list.iter().map(|v| v.describe(&flag(v))).collect();
            return Refusal::new(
                class,
                format!("invalid metadata: {}", list.join("; ")),
                hint,
            );
        }
        Refusal::new(class, e, hint)
    }
}

fn bundle(e: &BundleError, at: BundleUse) -> Judged {
    use crate::repo::store::StoreError as S;
    let remake = "the bundle does not match its signed manifest; nothing was added: ask the publisher for a new bundle";
    match (e, at) {
        (BundleError::Io(_), _) => (Class::IoFailure, None),
        (BundleError::NotABundle(_), _) => (Class::InvalidInput, None),
        (BundleError::OutputExists(_), _) => exists(),
        (BundleError::Output(o), _) => output_refused(o),
        (BundleError::Unauthorized(_), _) => (
            Class::Refused,
            Some("the manifest must be signed by a key this registry trusts as publisher (`reg key list`)".into()),
        ),
        (BundleError::Decrypt(_), _) => (
            Class::Refused,
            Some("give the age identity the bundle was encrypted to with --identity, or REG_BUNDLE_PASSPHRASE for a passphrase bundle".into()),
        ),
        // The publisher's own input: a flag's value is a usage error, as clap's are; a file of
        // the model directory or a manifest too large is refused by a rule of the format.
        (
            BundleError::Manifest(crate::format::manifest::ManifestError::Invalid(_)),
            BundleUse::Packing { .. },
        ) => (
            Class::InvalidInput,
            Some("correct what is named (the flag, or that field of the --metadata file); nothing was written: `reg bundle pack --help` says what each flag takes".into()),
        ),
        (
            BundleError::Manifest(
                crate::format::manifest::ManifestError::Envelope(_)
                | crate::format::manifest::ManifestError::Encoding(_),
            )
            | BundleError::Archive(_),
            BundleUse::Packing { .. },
        ) => (Class::Refused, Some("nothing was written".into())),
        (BundleError::Entry { .. }, BundleUse::Packing { .. }) => (
            Class::Refused,
            Some("nothing was written: rename, move or remove the file named in the model directory".into()),
        ),
        (
            BundleError::Manifest(_) | BundleError::Entry { .. } | BundleError::Archive(_),
            BundleUse::Reading,
        ) => (Class::Refused, Some(remake.into())),
        (BundleError::Stopped, _) => (Class::Refused, None),
        (BundleError::Store(S::Io(_) | S::Output { .. }), _) => (Class::IoFailure, None),
        (BundleError::Store(S::TooLarge { .. }), _) => (Class::Refused, Some(remake.into())),
        (
            BundleError::Store(
                S::Missing(_) | S::Corrupt { .. } | S::NotAFile(_) | S::WrongSize { .. },
            ),
            _,
        ) => (
            Class::Tampered,
            Some("the registry was altered or damaged: `reg fsck` names what".into()),
        ),
    }
}

/// The fix for a bundle the registry's policy refuses (nothing was added).
fn add_policy(e: &crate::ops::add::PolicyRefusal) -> String {
    use crate::ops::add::PolicyRefusal as P;
    match e {
        P::Formats(_) => "nothing was added: ask the publisher for the model in another format (`reg policy show` shows the policy)".into(),
        P::Plaintext | P::Passphrase => "nothing was added: ask the publisher for the bundle encrypted to the registry's recipients (`reg recipients list`; `reg bundle pack --recipient AGE`)".into(),
        P::NotARecipient => "nothing was added: `reg recipients list` shows the registry's recipients; give the identity of one of them with --identity, or ask the publisher to encrypt the bundle to one".into(),
    }
}
