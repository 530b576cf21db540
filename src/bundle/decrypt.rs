//! age-encrypted bundles, decrypted as a stream on a second thread.
//!
//! One thread reads the file and hashes the ciphertext as received, one decrypts (the slowest
//! step: it does nothing else), one parses the tar and hashes the artifacts, and others write
//! them (see `pipe` and the store's staging). Plaintext is only ever staged: a truncated age file
//! releases plaintext before its error (the age crate handed out 196,608 of 3,000,000 bytes of
//! one before failing), so nothing is committed until the stream has ended cleanly.

use super::{Authorize, BundleError, Checked, Sealing, Stage, Staging, read_full};
use crate::format::manifest::SignedManifest;
use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};
use std::cell::Cell;
use std::io::{self, BufReader, Read};

/// Most expensive scrypt work factor accepted from a passphrase-encrypted bundle: log2(N) = 20,
/// which takes 1 GiB of memory (scrypt needs 128 · r · N bytes, r = 8) and a few seconds. The
/// bundle chooses its own work factor, so whoever holds the medium could otherwise make every
/// `reg add` take 4 GiB and 18 s (log2(N) = 22) or far more. The age CLI and `reg bundle pack`
/// write 18 (256 MiB).
pub(super) const MAX_SCRYPT_LOG_N: u8 = 20;

/// Memory scrypt needs for a work factor, in MiB: 128 · r · 2^log_n bytes with r = 8.
fn scrypt_mib(log_n: u8) -> u64 {
    1u64.checked_shl(u32::from(log_n) + 10).unwrap_or(u64::MAX) >> 20
}

/// age identities that may decrypt a bundle.
pub type Identities = Vec<Box<dyn age::Identity + Send + Sync>>;

/// How to decrypt an encrypted bundle.
pub struct Decryption<'a> {
    /// Identities from `--identity` files.
    pub identities: Identities,
    /// Asked only for a passphrase-encrypted bundle.
    pub passphrase: &'a mut dyn FnMut() -> Option<SecretString>,
}

impl Decryption<'_> {
    /// Reads age identity files (`AGE-SECRET-KEY-1…` lines, `#` comments).
    pub fn load_identities(paths: &[std::path::PathBuf]) -> Result<Identities, BundleError> {
        let mut out = Vec::new();
        for p in paths {
            let file =
                age::IdentityFile::from_file(p.to_string_lossy().into_owned()).map_err(|e| {
                    BundleError::Decrypt(format!(
                        "cannot read identity file `{}`: {e}",
                        p.display()
                    ))
                })?;
            let ids = file.into_identities().map_err(|e| {
                BundleError::Decrypt(format!("identity file `{}`: {e}", p.display()))
            })?;
            out.extend(ids);
        }
        Ok(out)
    }
}

/// An identity that notes its index when it unwraps the file key: how [`open`] tells which of
/// the identities given opened a bundle (age tries them in order and says only whether one did).
struct Witness<'a> {
    inner: &'a dyn age::Identity,
    index: usize,
    opened: &'a Cell<Option<usize>>,
}

impl age::Identity for Witness<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.noted(self.inner.unwrap_stanza(stanza))
    }

    // Delegated as a whole: an identity may check the stanzas together (scrypt does).
    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        self.noted(self.inner.unwrap_stanzas(stanzas))
    }
}

impl Witness<'_> {
    fn noted(
        &self,
        r: Option<Result<FileKey, age::DecryptError>>,
    ) -> Option<Result<FileKey, age::DecryptError>> {
        if matches!(r, Some(Ok(_))) {
            self.opened.set(Some(self.index));
        }
        r
    }
}

/// Which of `recipients` (age X25519 recipients, `age1…`) each of `identities` belongs to, if
/// any, in the identities' order. An identity is opaque (age hands out no public key for it),
/// so each recipient seals an empty file and each identity is asked to open it: this needs
/// nothing from the identity but what decryption uses, and works for any kind age reads.
pub fn recipients_of(identities: &Identities, recipients: &[String]) -> Vec<Option<String>> {
    let sealed: Vec<(&String, Vec<u8>)> = recipients
        .iter()
        .filter_map(|r| {
            let parsed: age::x25519::Recipient = r.parse().ok()?;
            Some((r, age::encrypt(&parsed, b"").ok()?))
        })
        .collect();
    identities
        .iter()
        .map(|id| {
            sealed.iter().find_map(|(r, file)| {
                let opens = age::Decryptor::new(&file[..])
                    .and_then(|d| d.decrypt(std::iter::once(id.as_ref() as &dyn age::Identity)))
                    .is_ok();
                opens.then(|| (*r).clone())
            })
        })
        .collect()
}

/// The plaintext of an age stream read from `R`.
type Plaintext<R> = age::stream::StreamReader<age::armor::ArmoredReader<BufReader<Prefixed<R>>>>;

/// Opens an age stream (binary or ASCII-armored) with the given identities, or, for a
/// passphrase-encrypted one, the passphrase (scrypt work factor capped); says how it was sealed.
fn open<R: Read>(
    input: R,
    decryption: &mut Decryption<'_>,
) -> Result<(Plaintext<R>, Sealing), BundleError> {
    // ArmoredReader passes binary age files through and decodes ASCII-armored ones; the age
    // spec (and its testkit) allows whitespace before an armored file, which it does not skip.
    let input =
        skip_whitespace_before_armor(input).map_err(|e| BundleError::Decrypt(e.to_string()))?;
    let decryptor = age::Decryptor::new(age::armor::ArmoredReader::new(input))
        .map_err(|e| BundleError::Decrypt(e.to_string()))?;
    let scrypt_identity;
    let opened = Cell::new(None);
    let witnesses: Vec<Witness<'_>>;
    let scrypt = decryptor.is_scrypt();
    let identities: Vec<&dyn age::Identity> = if scrypt {
        let pass = (decryption.passphrase)().ok_or_else(|| {
            BundleError::Decrypt(
                "the bundle is passphrase-encrypted and no passphrase was given".into(),
            )
        })?;
        let mut id = age::scrypt::Identity::new(pass);
        id.set_max_work_factor(MAX_SCRYPT_LOG_N);
        scrypt_identity = id;
        vec![&scrypt_identity]
    } else {
        if decryption.identities.is_empty() {
            return Err(BundleError::Decrypt(
                "the bundle is encrypted to age recipients; give the matching identity with --identity".into(),
            ));
        }
        witnesses = decryption
            .identities
            .iter()
            .enumerate()
            .map(|(index, i)| Witness {
                inner: i.as_ref(),
                index,
                opened: &opened,
            })
            .collect();
        witnesses.iter().map(|w| w as &dyn age::Identity).collect()
    };
    let stream = decryptor
        .decrypt(identities.into_iter())
        .map_err(|e| match e {
            age::DecryptError::ExcessiveWork { required, .. } => BundleError::Decrypt(format!(
                "the bundle's passphrase work factor is 2^{required}, which needs {} MiB of memory; reg accepts at most 2^{MAX_SCRYPT_LOG_N} ({} MiB): ask the publisher to re-encrypt it (`reg bundle pack --passphrase` and the age CLI write 2^18)",
                scrypt_mib(required),
                scrypt_mib(MAX_SCRYPT_LOG_N)
            )),
            e => BundleError::Decrypt(e.to_string()),
        })?;
    let sealing = match opened.get() {
        _ if scrypt => Sealing::Passphrase,
        Some(index) => Sealing::Identity(index),
        // age opened it with none of the identities: it cannot, but then none is to be named.
        None => {
            return Err(BundleError::Decrypt(
                "no identity given opened the bundle".into(),
            ));
        }
    };
    Ok((stream, sealing))
}

/// A reader with some bytes put back in front.
type Prefixed<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Drops whitespace before an ASCII-armored file (and only then: whitespace before a binary age
/// file is not allowed, and is left for the parser to refuse).
fn skip_whitespace_before_armor<R: Read>(mut input: R) -> io::Result<Prefixed<R>> {
    const ARMOR: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
    const MAX_LEADING: usize = 4096;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < MAX_LEADING && input.read(&mut byte)? == 1 {
        head.push(byte[0]);
        if !byte[0].is_ascii_whitespace() {
            break;
        }
    }
    let leading = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if leading > 0 && head.len() > leading {
        let mut rest = head[leading..].to_vec();
        let mut more = vec![0u8; ARMOR.len() - 1];
        let n = super::read_full(&mut input, &mut more)?;
        rest.extend_from_slice(&more[..n]);
        if rest.starts_with(ARMOR) {
            return Ok(io::Cursor::new(rest).chain(input));
        }
        head.truncate(leading);
        head.extend_from_slice(&rest);
    }
    Ok(io::Cursor::new(head).chain(input))
}

/// Decrypts a whole age stream into `out`, without reading it as a bundle. Like every other
/// use in reg, callers must treat `out` as untrusted until this returns `Ok` (a truncated or
/// altered stream releases plaintext before its error).
pub fn decrypt_to(
    input: &mut (dyn Read + Send),
    decryption: &mut Decryption<'_>,
    out: &mut dyn io::Write,
) -> Result<(), BundleError> {
    let (mut stream, _) = open(input, decryption)?;
    io::copy(&mut stream, out).map_err(|e| BundleError::Decrypt(e.to_string()))?;
    Ok(())
}

/// Reads an age-encrypted tar bundle from `input`, the whole file as received (already in
/// memory chunks read and hashed on another thread: the armor layer's own small buffered reads
/// are served from them, with no system call and no second buffer).
pub(super) fn read(
    input: &mut (dyn Read + Send),
    decryption: &mut Decryption<'_>,
    authorize: Authorize<'_>,
    staging: Staging<'_>,
) -> Result<(SignedManifest, Vec<Checked>), BundleError> {
    let (mut stream, sealing) = open(&mut *input, decryption)?;
    authorize(Stage::Opened(sealing))?;

    let (parsed, decrypted) = super::pipe::pipelined(&mut stream, |plain| {
        super::tar::read(plain, authorize, staging)
    });
    // A decryption failure (a truncated or tampered age file) explains a tar error it caused.
    decrypted.map_err(|e| {
        BundleError::Decrypt(format!(
            "the encrypted stream is truncated or was altered ({e})"
        ))
    })?;
    let parsed = parsed?;
    let mut rest = [0u8; 1];
    drop(stream);
    if read_full(input, &mut rest).map_err(|e| BundleError::Decrypt(e.to_string()))? != 0 {
        return Err(BundleError::Archive(
            "data follows the end of the age file".into(),
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        skip_whitespace_before_armor(input)
            .expect("reads")
            .read_to_end(&mut out)
            .expect("reads");
        out
    }

    #[test]
    fn whitespace_is_dropped_before_armor_only_and_only_up_to_its_limit() {
        let armor = b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n".to_vec();
        let with = |n: usize, body: &[u8]| [vec![b' '; n], body.to_vec()].concat();
        assert_eq!(skipped(&with(1, &armor)), armor);
        assert_eq!(skipped(&with(4095, &armor)), armor, "just under the limit");
        // At the limit, nothing is dropped: the parser then refuses the whitespace.
        assert_eq!(skipped(&with(4096, &armor)), with(4096, &armor));
        // Before anything else (a binary age file), whitespace is kept for the parser to refuse.
        let binary = b"age-encryption.org/v1\n-> X25519 abc\n".to_vec();
        assert_eq!(skipped(&with(3, &binary)), with(3, &binary));
        assert_eq!(skipped(&armor), armor);
        assert_eq!(skipped(&with(10, b"")), with(10, b""));
    }
}
