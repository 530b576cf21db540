//! The key entries' bodies (FORMAT.md §5.2, §5.3): genesis and its succession, a key
//! trusted, withdrawn from a role or revoked, and the rule of a key's name, which readers and
//! writers share.

use super::Role;
use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use serde::{Deserialize, Serialize};

/// A public key as written in entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    /// Its fingerprint (checked against the bytes).
    pub fingerprint: Fingerprint,
    /// Base64 of the 32 public key bytes.
    pub public_key: String,
}

/// A key with its roles, as genesis lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGrant {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Base64 of the 32 public key bytes.
    pub public_key: String,
    /// Its roles, sorted.
    pub roles: Vec<Role>,
}

/// Genesis (FORMAT.md §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The format version the registry was created with.
    pub format_version: u32,
    /// The initial root key.
    pub keys: Vec<KeyGrant>,
    /// 32 random bytes (64 lowercase hex digits) that make this registry's id unique even for
    /// the same root key, recipients and second. Writers always set it; absent only in genesis
    /// entries written before it existed, which stay valid (FORMAT.md §5.2).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    /// The age recipients publishers encrypt bundles to.
    pub recipients: Vec<String>,
    /// The registry this one succeeds, after every root key of that one was lost (FORMAT.md
    /// §5.2): format 4 and later, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub succeeds: Option<Succession>,
}

/// Bytes of the genesis nonce (FORMAT.md §5.2): 256 bits, so that two registries never share
/// an id by chance.
pub const GENESIS_NONCE_LEN: usize = 32;

/// What a successor registry's genesis names (FORMAT.md §5.2): the registry it succeeds and the
/// head it last knew of it, so that an auditor can tie the two histories together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Succession {
    /// The id of the head entry of the registry succeeded, as last verified.
    pub head: ObjectId,
    /// The registry succeeded.
    pub registry: ObjectId,
    /// The seq of that head entry.
    pub seq: u64,
}

/// A key gains a role (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyTrust {
    /// The key.
    pub key: KeyRef,
    /// What people call the key ("alice, duty operator"), signed with the trust (format 4 and
    /// later; FORMAT.md §5.3): 1 to [`MAX_KEY_NAME_LEN`] bytes, no control or
    /// bidirectional-formatting character, no space at either end ([`check_key_name`]).
    /// Absent: the key has no name, and the entry's bytes are those of formats before names.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Why.
    pub reason: String,
    /// The role granted.
    pub role: Role,
}

/// Longest key name, in bytes (FORMAT.md §5.3): a name is read beside a fingerprint on one line.
pub const MAX_KEY_NAME_LEN: usize = 64;

/// Whether two key names are the same name (FORMAT.md §5.3): equal once both are lowercased
/// (Unicode lowercase), so that `Alice` and `alice` cannot name two keys a person would read as
/// one. The uniqueness rule of the state compares names with this, and nothing else does.
pub fn same_key_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The rule of a key name (FORMAT.md §5.3), which every reader checks and so every writer
/// first: 1 to [`MAX_KEY_NAME_LEN`] bytes, no control or bidirectional-formatting character (a
/// name is what an operator reads to tell keys apart: such characters hide or reorder it), and
/// no space at either end (so that `alice` and `alice ` are not two names). Says what is wrong.
pub fn check_key_name(name: &str) -> Result<(), String> {
    let echo = crate::util::encoding::echo;
    if name.is_empty() {
        return Err("a key name is 1 to 64 bytes; this one is empty".into());
    }
    if name.len() > MAX_KEY_NAME_LEN {
        return Err(format!(
            "a key name is 1 to {MAX_KEY_NAME_LEN} bytes; `{}` is {}",
            echo(name),
            name.len()
        ));
    }
    if let Some(c) = crate::util::encoding::forbidden_char(name) {
        return Err(format!(
            "key name `{}`: the character {c} (a control or bidirectional-formatting character) is not allowed",
            echo(name)
        ));
    }
    if name.trim() != name {
        return Err(format!(
            "key name `{}` starts or ends with a space",
            echo(name)
        ));
    }
    // Where a key is named (`reg log --actor KEY`), a fingerprint or a prefix of one names it
    // too: a name of hex digits alone could pass for another key's.
    if name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "key name `{}` is hex digits only, which could pass for a key fingerprint or a prefix of one",
            echo(name)
        ));
    }
    Ok(())
}

/// A key is revoked (FORMAT.md §5.3): retired, or compromised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoke {
    /// The key was compromised (format 4 and later): its earlier signatures no longer stand on
    /// their own, so every model it published, admitted or approved is suspended (FORMAT.md
    /// §5.14). Absent (false): the key is retired and its earlier signatures stay valid.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub compromised: bool,
    /// The key revoked.
    pub fingerprint: Fingerprint,
    /// Why.
    pub reason: String,
}

/// One role is withdrawn from a key that stays trusted with its others (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyWithdraw {
    /// The key.
    pub fingerprint: Fingerprint,
    /// Why.
    pub reason: String,
    /// The role withdrawn.
    pub role: Role,
}
