//! Keys and roles (FORMAT.md §5.2, §5.3): genesis, who may sign what, key-trust and key-revoke.

use super::{KeyState, State, StateError};
use crate::crypto::envelope::Kind;
use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::entry::{
    Body, Entry, Genesis, KeyGrant, KeyRevoke, KeyTrust, KeyWithdraw, PolicyDoc, Role, Succession,
    same_key_name,
};
use crate::format::id::ObjectId;
use crate::util::encoding::{b64_decode, b64_encode};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::format::entry::GENESIS_NONCE_LEN;

/// What a key is asked to be allowed to sign: an object kind. Named directly ([`Kind::Add`]),
/// or by an entry body of that kind, so that a writer asking before it has an entry asks about
/// the kind alone.
pub trait Action {
    /// The kind of object signed.
    fn kind(&self) -> Kind;
}

impl Action for Kind {
    fn kind(&self) -> Kind {
        *self
    }
}

impl Action for &Body {
    fn kind(&self) -> Kind {
        Body::kind(self)
    }
}

/// The role whose key signs an object of `kind` (FORMAT.md §5.3): root for genesis, keys,
/// recipients and policy; operator for ingestion, transitions, slots and purges; reporter for
/// drift; publisher for manifests; timestamp for renewals. `None` for the checkpoint, which the head entry's signer
/// signs whatever its role.
pub fn required_role(kind: Kind) -> Option<Role> {
    match kind {
        Kind::Genesis
        | Kind::KeyTrust
        | Kind::KeyRevoke
        | Kind::KeyWithdraw
        | Kind::Recipients
        | Kind::Policy
        | Kind::DenyLift => Some(Role::Root),
        Kind::Add
        | Kind::Transition
        | Kind::Slot
        | Kind::Purge
        | Kind::DriftImport
        | Kind::Reapprove => Some(Role::Operator),
        Kind::Drift | Kind::DriftReport => Some(Role::Reporter),
        Kind::Renew => Some(Role::Timestamp),
        Kind::Manifest => Some(Role::Publisher),
        Kind::Checkpoint => None,
    }
}

impl State {
    /// The state after genesis, checking its rules (FORMAT.md §5.2).
    pub fn from_genesis(id: ObjectId, entry: &Entry) -> Result<(State, PublicKey), StateError> {
        let Body::Genesis(g) = &entry.body else {
            return Err(StateError::NotGenesis);
        };
        let (grant, key) = check_genesis(g, &entry.header.actor)?;
        let mut keys = BTreeMap::new();
        keys.insert(
            grant.fingerprint.clone(),
            KeyState {
                public_key: grant.public_key.clone(),
                roles: BTreeSet::from([Role::Root]),
                revoked: None,
                compromised: false,
                since: 0,
                name: None,
            },
        );
        let state = State {
            denied: BTreeMap::new(),
            format_version: g.format_version,
            head: id,
            keys,
            models: Default::default(),
            policy: PolicyDoc::default(),
            recipients: g.recipients.clone(),
            // From format 3, genesis is the first renewal (FORMAT.md §6.1).
            renewed: (g.format_version >= 3).then(|| entry.header.time.clone()),
            registry: id,
            root: grant.fingerprint.clone(),
            seq: 0,
            slots: BTreeMap::new(),
            succeeds: g.succeeds.clone(),
            time: (g.format_version >= super::time::TIME_FORMAT).then(|| entry.header.time.clone()),
            names: super::buckets::Names::new_indexed(),
        };
        Ok((state, key))
    }

    /// The one answer to "may key `actor` sign `action` at this point": it is trusted here,
    /// unrevoked, and holds the role the kind requires ([`required_role`]). Its state if so.
    pub fn signer(
        &self,
        actor: &Fingerprint,
        action: impl Action,
    ) -> Result<&KeyState, StateError> {
        let kind = action.kind();
        let role = required_role(kind).ok_or(StateError::NoSigningRole(kind))?;
        let ks = self
            .keys
            .get(actor)
            .ok_or_else(|| StateError::UnknownSigner(actor.clone()))?;
        if let Some(at) = ks.revoked {
            return Err(StateError::RevokedSigner {
                fingerprint: actor.clone(),
                at,
            });
        }
        if !ks.roles.contains(&role) {
            return Err(StateError::MissingRole {
                fingerprint: actor.clone(),
                kind,
                role,
                held: ks.roles.iter().copied().collect(),
            });
        }
        Ok(ks)
    }

    /// The key that may sign `action` now: trusted, unrevoked, with the role.
    pub fn authorize(
        &self,
        actor: &Fingerprint,
        action: impl Action,
    ) -> Result<PublicKey, StateError> {
        let ks = self.signer(actor, action)?;
        decode_key(actor, &ks.public_key)
    }

    /// Checks that `actor` may sign `action` now, without decoding its key.
    pub fn check_signer(&self, actor: &Fingerprint, action: impl Action) -> Result<(), StateError> {
        self.signer(actor, action).map(|_| ())
    }

    /// May key `fp` publish (sign a manifest) at this point: trusted, unrevoked, holding the
    /// publisher role. What `reg add` asks of a bundle, the `add` rule of a record, and fsck of
    /// a model's publisher since.
    pub fn may_publish(&self, fp: &Fingerprint) -> Result<&KeyState, StateError> {
        self.signer(fp, Kind::Manifest)
    }

    /// The rule of a key-trust (FORMAT.md §5.3): a well-formed key, the same bytes as any key
    /// trusted under its fingerprint, not revoked, not holding the role already unless the
    /// entry only names it (it carries a name and the key has none yet, format 4).
    pub fn check_key_trust(&self, t: &KeyTrust) -> Result<(), StateError> {
        let fp = &t.key.fingerprint;
        let key = decode_key(fp, &t.key.public_key)?;
        if let Some(name) = &t.name {
            self.check_key_name(fp, name)?;
        }
        let Some(ks) = self.keys.get(fp) else {
            return Ok(());
        };
        // The same fingerprint must mean the same key bytes: a 128-bit fingerprint names a key,
        // it does not stand in for comparing it.
        let held = b64_decode(&ks.public_key).ok();
        if held.as_deref() != Some(key.to_bytes().as_slice()) {
            return Err(StateError::KeyBytesDiffer(fp.clone()));
        }
        if let Some(at) = ks.revoked {
            return Err(StateError::AlreadyRevoked {
                fingerprint: fp.clone(),
                at,
            });
        }
        // A key that holds the role already may be named by a trust of that role, once: it
        // gives a key trusted before names (the genesis root key included) the name it lacks,
        // and changes no role. Anything else grants a role held already.
        if ks.roles.contains(&t.role) && !(t.name.is_some() && ks.name.is_none()) {
            return Err(StateError::AlreadyTrusted {
                fingerprint: fp.clone(),
                role: t.role,
            });
        }
        Ok(())
    }

    /// The rule of a key-trust's name (FORMAT.md §5.3), beyond its spelling (which the entry's
    /// fields rule, [`crate::format::entry::check_key_name`]): format 4, held by no other key,
    /// and the key's own name if it has one already (a name is set once). Two names are the same
    /// name when they differ only in case ([`crate::format::entry::same_key_name`]).
    fn check_key_name(&self, fp: &Fingerprint, name: &str) -> Result<(), StateError> {
        if !self.has_provenance() {
            return Err(StateError::NeedsFormat {
                what: "naming a key",
                needs: super::PROVENANCE_FORMAT,
                version: self.format_version,
            });
        }
        if let Some((holder, held)) = self.keys.iter().find_map(|(other, k)| {
            k.name
                .as_deref()
                .filter(|n| other != fp && same_key_name(n, name))
                .map(|n| (other, n))
        }) {
            return Err(StateError::KeyNameTaken {
                name: name.to_string(),
                holder: holder.clone(),
                held: held.to_string(),
            });
        }
        match self.keys.get(fp).and_then(|k| k.name.as_ref()) {
            Some(held) if held != name => Err(StateError::KeyNameFixed {
                fingerprint: fp.clone(),
                held: held.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// The key `fp` holds `role` already and has no name: a key-trust of that role giving a
    /// name only names it (FORMAT.md §5.3). What a writer asks before signing, to say so.
    pub fn names_only(&self, fp: &Fingerprint, role: Role) -> bool {
        self.keys
            .get(fp)
            .is_some_and(|k| k.roles.contains(&role) && k.name.is_none())
    }

    /// Applies a key-trust that [`State::check_key_trust`] passed, at entry `seq`.
    pub(super) fn apply_key_trust(&mut self, seq: u64, t: &KeyTrust) {
        match self.keys.get_mut(&t.key.fingerprint) {
            Some(ks) => {
                ks.roles.insert(t.role);
                if t.name.is_some() {
                    ks.name.clone_from(&t.name);
                }
            }
            None => {
                self.keys.insert(
                    t.key.fingerprint.clone(),
                    KeyState {
                        public_key: t.key.public_key.clone(),
                        roles: BTreeSet::from([t.role]),
                        revoked: None,
                        compromised: false,
                        since: seq,
                        name: t.name.clone(),
                    },
                );
            }
        }
    }

    /// The rule of a key-revoke (FORMAT.md §5.3): a known key, not revoked already, and not the
    /// last unrevoked root key; revoked as compromised only where the state knows what rests on
    /// it (format 4).
    pub fn check_key_revoke(&self, r: &KeyRevoke) -> Result<(), StateError> {
        let fp = &r.fingerprint;
        if r.compromised && !self.has_provenance() {
            return Err(StateError::NeedsFormat {
                what: "revoking a key as compromised",
                needs: super::PROVENANCE_FORMAT,
                version: self.format_version,
            });
        }
        let ks = self
            .keys
            .get(fp)
            .ok_or_else(|| StateError::UnknownKey(fp.clone()))?;
        match ks.revoked {
            // A key retired before and found compromised since: the retirement becomes a
            // compromise (FORMAT.md §5.3). Anything else revokes a revoked key twice.
            Some(_) if r.compromised && !ks.compromised => Ok(()),
            Some(at) => Err(StateError::AlreadyRevoked {
                fingerprint: fp.clone(),
                at,
            }),
            None if ks.roles.contains(&Role::Root) && !self.other_root(fp) => {
                Err(StateError::LastRoot(fp.clone()))
            }
            None => Ok(()),
        }
    }

    /// Whether an unrevoked key other than `fp` holds root: root may be taken from `fp` only
    /// then, so that the registry never loses its last root.
    fn other_root(&self, fp: &Fingerprint) -> bool {
        self.keys
            .iter()
            .any(|(other, k)| other != fp && k.revoked.is_none() && k.roles.contains(&Role::Root))
    }

    /// Applies a key-revoke that [`State::check_key_revoke`] passed, at entry `seq`: a
    /// compromised key also suspends every model resting on it (FORMAT.md §5.14). A retired
    /// key found compromised keeps the seq of its first revocation, after which its signatures
    /// were already invalid.
    pub(super) fn apply_key_revoke(&mut self, seq: u64, r: &KeyRevoke) {
        if let Some(ks) = self.keys.get_mut(&r.fingerprint) {
            ks.revoked.get_or_insert(seq);
            ks.compromised = r.compromised;
        }
        if r.compromised {
            self.suspend_resting_on(seq, &r.fingerprint);
        }
    }

    /// The rule of a key-withdraw (FORMAT.md §5.3): a trusted, unrevoked key holding the role,
    /// which is not its only one (revoke the key instead), nor the last root's root.
    pub fn check_key_withdraw(&self, w: &KeyWithdraw) -> Result<(), StateError> {
        let fp = &w.fingerprint;
        let ks = self
            .keys
            .get(fp)
            .ok_or_else(|| StateError::UnknownKey(fp.clone()))?;
        if let Some(at) = ks.revoked {
            return Err(StateError::AlreadyRevoked {
                fingerprint: fp.clone(),
                at,
            });
        }
        if !ks.roles.contains(&w.role) {
            return Err(StateError::RoleNotHeld {
                fingerprint: fp.clone(),
                role: w.role,
            });
        }
        if ks.roles.len() == 1 {
            return Err(StateError::OnlyRole {
                fingerprint: fp.clone(),
                role: w.role,
            });
        }
        if w.role == Role::Root && !self.other_root(fp) {
            return Err(StateError::LastRootWithdrawn(fp.clone()));
        }
        Ok(())
    }

    /// Applies a key-withdraw that [`State::check_key_withdraw`] passed.
    pub(super) fn apply_key_withdraw(&mut self, w: &KeyWithdraw) {
        if let Some(ks) = self.keys.get_mut(&w.fingerprint) {
            ks.roles.remove(&w.role);
        }
    }
}

/// The rules of a genesis body signed by `actor` (FORMAT.md §5.2); its one key grant and key.
fn check_genesis<'g>(
    g: &'g Genesis,
    actor: &Fingerprint,
) -> Result<(&'g KeyGrant, PublicKey), StateError> {
    if !(1..=super::FORMAT_VERSION).contains(&g.format_version) {
        return Err(StateError::GenesisVersion(g.format_version));
    }
    let [grant] = g.keys.as_slice() else {
        return Err(StateError::GenesisKeys);
    };
    if grant.roles != [Role::Root] {
        return Err(StateError::GenesisRoles);
    }
    let key = decode_key(&grant.fingerprint, &grant.public_key)?;
    if *actor != grant.fingerprint {
        return Err(StateError::GenesisSigner);
    }
    super::config::check_recipients(&g.recipients)?;
    if g.succeeds.is_some() && g.format_version < super::PROVENANCE_FORMAT {
        return Err(StateError::NeedsFormat {
            what: "a genesis naming the registry it succeeds",
            needs: super::PROVENANCE_FORMAT,
            version: g.format_version,
        });
    }
    if let Some(nonce) = &g.nonce
        && !crate::util::encoding::is_lower_hex(nonce, GENESIS_NONCE_LEN * 2)
    {
        return Err(StateError::GenesisNonce);
    }
    Ok((grant, key))
}

/// The genesis body for a new registry; `nonce` is fresh random bytes ([`random_nonce`]) except
/// where a caller needs reproducible bytes (tests, the worked example).
pub fn genesis_body(
    root: &PublicKey,
    recipients: Vec<String>,
    nonce: &[u8; GENESIS_NONCE_LEN],
    succeeds: Option<Succession>,
) -> Body {
    Body::Genesis(Genesis {
        format_version: super::FORMAT_VERSION,
        keys: vec![KeyGrant {
            fingerprint: root.fingerprint().clone(),
            public_key: b64_encode(&root.to_bytes()),
            roles: vec![Role::Root],
        }],
        nonce: Some(crate::util::encoding::hex(nonce)),
        recipients,
        succeeds,
    })
}

/// A genesis nonce from the operating system's random number generator.
pub fn random_nonce() -> Result<[u8; GENESIS_NONCE_LEN], StateError> {
    let mut nonce = [0u8; GENESIS_NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| StateError::Random(e.to_string()))?;
    Ok(nonce)
}

/// Decodes a key written in an entry, checking that its fingerprint matches and it is not weak.
pub fn decode_key(fingerprint: &Fingerprint, b64: &str) -> Result<PublicKey, StateError> {
    let bytes = b64_decode(b64)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| StateError::KeyEncoding(fingerprint.clone()))?;
    let key = PublicKey::from_bytes(&bytes).map_err(|e| StateError::KeyRejected {
        fingerprint: fingerprint.clone(),
        detail: e.to_string(),
    })?;
    if key.fingerprint() != fingerprint {
        return Err(StateError::KeyFingerprint {
            listed: fingerprint.clone(),
            actual: key.fingerprint().clone(),
        });
    }
    Ok(key)
}
