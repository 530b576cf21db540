//! Recognising key material in a file or argument, so that errors say what was given and
//! never quote a secret; age recipient parsing.

/// Kinds of key material a file or argument may hold, told apart so that an error can say what
/// was given instead of quoting it: no error reg prints ever contains key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyText {
    /// An age identity (`AGE-SECRET-KEY-1...`, or a plugin's `AGE-PLUGIN-...`): a secret.
    AgeIdentity,
    /// age recipients (`age1...`): public.
    AgeRecipient,
    /// A private key in PEM (PKCS#8, encrypted or not, OpenSSH, RSA, EC, ...).
    Private {
        /// Whether the PEM says it is encrypted.
        encrypted: bool,
    },
    /// A public key in PEM (SubjectPublicKeyInfo).
    Public,
    /// An age-encrypted file.
    AgeEncrypted,
}

impl KeyText {
    /// What it is, for a sentence such as "`x.age` is an age identity (secret)".
    pub fn name(self) -> &'static str {
        match self {
            KeyText::AgeIdentity => "an age identity (secret)",
            KeyText::AgeRecipient => "an age recipient (public)",
            KeyText::Private { encrypted: true } => "an encrypted private key (PEM)",
            KeyText::Private { encrypted: false } => "a private key (PEM)",
            KeyText::Public => "a public key (PEM)",
            KeyText::AgeEncrypted => "an age-encrypted file",
        }
    }

    /// Whether it holds a secret.
    pub fn is_secret(self) -> bool {
        matches!(self, KeyText::AgeIdentity | KeyText::Private { .. })
    }
}

/// What kind of key material `text` holds, if it holds any reg recognises; secrets first, so a
/// file holding a secret is never taken for a public one.
pub fn key_text_kind(text: &str) -> Option<KeyText> {
    let upper = text.to_ascii_uppercase();
    if upper.contains("AGE-SECRET-KEY-") || upper.contains("AGE-PLUGIN-") {
        return Some(KeyText::AgeIdentity);
    }
    if upper.contains("PRIVATE KEY-----") {
        return Some(KeyText::Private {
            encrypted: upper.contains("ENCRYPTED PRIVATE KEY-----")
                || upper.contains("PROC-TYPE: 4,ENCRYPTED"),
        });
    }
    if upper.contains("-----BEGIN AGE ENCRYPTED FILE-----")
        || text.starts_with("age-encryption.org/")
    {
        return Some(KeyText::AgeEncrypted);
    }
    if upper.contains("-----BEGIN PUBLIC KEY-----") {
        return Some(KeyText::Public);
    }
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    if lines
        .next()
        // `get`: the fourth byte may fall inside a character (`bob\u{202e}…`), which slicing
        // would panic on.
        .is_some_and(|l| l.len() > 4 && l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("age1")))
    {
        return Some(KeyText::AgeRecipient);
    }
    None
}

/// `s` quoted for an error message, unless it may be key material or is long: then only what
/// it is and its length, never its text.
pub fn shown(s: &str) -> String {
    match key_text_kind(s) {
        Some(k) if k.is_secret() => format!("the value given ({}, not shown)", k.name()),
        _ if may_be_secret(s) => format!(
            "the value given ({} characters that may be key material, not shown)",
            s.chars().count()
        ),
        _ if s.chars().count() > 80 => format!(
            "the value given ({} characters, not shown)",
            s.chars().count()
        ),
        _ => format!("`{s}`"),
    }
}

/// Whether `s` may hold key material and must not be echoed: a secret reg recognises, what
/// [`crate::util::encoding::echo`] would hide, or a long run of base64 (a line of a PEM body, a
/// raw key) that is neither hex (hashes, fingerprints) nor an age recipient (public).
pub fn may_be_secret(s: &str) -> bool {
    if key_text_kind(s).is_some_and(KeyText::is_secret)
        || crate::util::encoding::holds_key_material(s)
    {
        return true;
    }
    let t = s.trim();
    t.len() >= 40
        && !(t.len() > 4 && t[..4].eq_ignore_ascii_case("age1"))
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        && !t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses an age X25519 recipient (`age1...`); the error never quotes a secret, and says what
/// to pass instead when an identity was given where its recipient belongs.
pub fn parse_age_recipient(s: &str) -> Result<age::x25519::Recipient, String> {
    s.parse::<age::x25519::Recipient>()
        .map_err(|e| match key_text_kind(s) {
            Some(KeyText::AgeIdentity) => "the value given is an age identity (secret), not a \
             recipient: pass its recipient (age1...), printed by `reg key gen --age` and kept in \
             the identity file's `# public key:` line"
                .to_string(),
            Some(k) if k.is_secret() => format!(
                "the value given is {}, not an age X25519 recipient (age1...)",
                k.name()
            ),
            _ => format!("{} is not an age X25519 recipient: {e}", shown(s)),
        })
}
