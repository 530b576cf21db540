//! Keys and key files, key management, successor registries and the registry's policy: the
//! classes and hints of `KeyError`, `KeysError`, `SuccessionError` and `ConfigError`.
#![deny(clippy::wildcard_enum_match_arm)]

use super::registry::registry;
use super::state::state;
use super::{Class, Judged, Refusal, classified, exists, output_refused};
use crate::crypto::keys::KeyError;
use crate::ops::config::ConfigError;
use crate::ops::keys::KeysError;

impl From<KeyError> for Refusal {
    fn from(e: KeyError) -> Self {
        classified(e, key)
    }
}

impl From<KeysError> for Refusal {
    fn from(e: KeysError) -> Self {
        classified(e, |e| match e {
            KeysError::Registry(r) => registry(r),
        })
    }
}

impl From<crate::ops::succession::SuccessionError> for Refusal {
    fn from(e: crate::ops::succession::SuccessionError) -> Self {
        use crate::ops::succession::SuccessionError as E;
        classified(e, |e| match e {
            E::Registry(r) => registry(r),
            E::Unpinned { root, .. } => (
                Class::Unpinned,
                Some(format!(
                    "pin it first, with the root fingerprint and head code its owner reads to you out of band: `reg --registry PATH trust add {root} --head CODE`; nothing was created"
                )),
            ),
        })
    }
}

impl From<ConfigError> for Refusal {
    fn from(e: ConfigError) -> Self {
        classified(e, |e| {
            match e {
            ConfigError::Registry(r) => registry(r),
            ConfigError::Recipients(s) => state(s),
            ConfigError::NoChange => (
                Class::InvalidInput,
                Some("say what to change: --refuse-format F, --allow-format F, --checkpoint-max-age DAYS or --no-checkpoint-max-age, --[no-]require-encrypted, --[no-]separate-duties; `reg policy show` prints the policy".into()),
            ),
            ConfigError::BothWays(_) => (
                Class::InvalidInput,
                Some("give each format either --refuse-format or --allow-format".into()),
            ),
        }
        })
    }
}

fn key(e: &KeyError) -> Judged {
    match e {
        KeyError::TooOpen { path, .. } => (
            Class::InvalidInput,
            Some(format!("run `chmod 600 {}`", path.display())),
        ),
        KeyError::NeedPassphrase(_) => (
            Class::InvalidInput,
            Some("set REG_KEY_PASSPHRASE, or run reg on a terminal to be asked".into()),
        ),
        KeyError::NotSecret { path, .. } => (
            Class::InvalidInput,
            Some(match path.to_str().and_then(|p| p.strip_suffix(".pub")) {
                Some(secret) => format!(
                    "give the secret key file `reg key gen` wrote beside it (`{secret}`, without .pub)"
                ),
                None => "give the secret key file `reg key gen` wrote (the .pub file beside it is the public key)".into(),
            }),
        ),
        KeyError::Exists(_) => exists(),
        KeyError::Output(o) => output_refused(o),
        KeyError::Weak(_) | KeyError::NonCanonical(_) | KeyError::MixedOrder(_) => {
            (Class::Refused, None)
        }
        KeyError::BadSignature(_) => (Class::Tampered, None),
        // The operating system failed: its file system, or its random number generator.
        KeyError::Io(_) | KeyError::Rng(_) => (Class::IoFailure, None),
        KeyError::Malformed { .. }
        | KeyError::UnsupportedEncryption { .. }
        | KeyError::KdfTooCostly { .. }
        | KeyError::WrongPassphrase(_)
        | KeyError::BadFingerprint(_) => (Class::InvalidInput, None),
    }
}
