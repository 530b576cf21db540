//! Encrypted private keys: which PBES2 schemes reg reads, and the KDF costs it will spend
//! (FORMAT.md §4.1), checked before any key derivation runs.

use super::KeyError;
use std::path::Path;

/// scrypt cost for keys reg encrypts: log2(N) = 14, r = 8, p = 1 (16 MiB), the largest setting
/// OpenSSL 3 decrypts with its default memory limit.
pub(super) const SCRYPT_LOG_N: u8 = 14;

/// Most PBKDF2 iterations reg runs for an encrypted key: 2,000,000, over three times the
/// 600,000 OWASP recommends for PBKDF2-HMAC-SHA256 (2023) and 1,000 times OpenSSL's default
/// (2,048); about a second at OpenSSL's speed on this project's build machine. A key file that
/// asks for more is refused before any iteration runs: the file is input, and its cost
/// parameters must not decide how long reg hangs.
pub const PBKDF2_MAX_ITERATIONS: u32 = 2_000_000;

/// Largest scrypt log₂N reg runs (N = 2^20: 1 GiB with r = 8).
pub const SCRYPT_MAX_LOG_N: u32 = 20;
/// Largest scrypt block size r.
pub const SCRYPT_MAX_R: u32 = 32;
/// Largest scrypt parallelism p.
pub const SCRYPT_MAX_P: u32 = 16;
/// Largest scrypt memory, 128·r·N bytes: 1 GiB.
pub const SCRYPT_MAX_MEMORY: u64 = 1 << 30;
/// Largest scrypt work, N·r·p: 2^23, i.e. N = 2^20, r = 8, p = 1, a few seconds of one core.
pub const SCRYPT_MAX_WORK: u64 = 1 << 23;

/// The command that re-encrypts a key into the scheme OpenSSL 3 writes by default, which reg
/// reads.
pub(super) const REENCRYPT: &str = "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in OLD.pem -out NEW.pem`";

/// Checks an encrypted key's scheme against what reg reads and its KDF costs against reg's
/// limits (FORMAT.md §4.1), before any key derivation runs.
pub(super) fn check_encryption(
    path: &Path,
    scheme: &pkcs8::pkcs5::EncryptionScheme,
) -> Result<(), KeyError> {
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::pkcs5::pbes2::{Kdf, Pbkdf2Prf};
    let unsupported = |what: &str| KeyError::UnsupportedEncryption {
        path: path.into(),
        what: what.to_string(),
    };
    let costly = |what: String, limit: String| KeyError::KdfTooCostly {
        path: path.into(),
        what,
        limit,
    };
    let params = match scheme {
        EncryptionScheme::Pbes2(p) => p,
        EncryptionScheme::Pbes1(_) => {
            return Err(unsupported("PBES1 (only PBES2 is read)"));
        }
        _ => return Err(unsupported("an encryption scheme other than PBES2")),
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) => {
            if p.prf == Pbkdf2Prf::HmacWithSha1 {
                return Err(unsupported(
                    "PBKDF2 with PRF hmacWithSHA1 (1.2.840.113549.2.7)",
                ));
            }
            // RFC 8018 §5.2: "c iteration count, a positive integer". PBKDF2 code computes one
            // iteration for 0 (it loops `1..c`): a key labelled 0 would decrypt as if 1.
            if p.iteration_count == 0 {
                return Err(unsupported(
                    "PBKDF2 with 0 iterations (RFC 8018 requires at least 1)",
                ));
            }
            if p.iteration_count > PBKDF2_MAX_ITERATIONS {
                return Err(costly(
                    format!("{} PBKDF2 iterations", p.iteration_count),
                    format!("{PBKDF2_MAX_ITERATIONS} iterations"),
                ));
            }
        }
        Kdf::Scrypt(p) => {
            let n = p.cost_parameter;
            let (r, pp) = (u64::from(p.block_size), u64::from(p.parallelization));
            // RFC 7914 §2: N "larger than 1", a power of 2; r and p positive.
            if n < 2 || r == 0 || pp == 0 {
                return Err(unsupported(&format!(
                    "scrypt with N = {n}, r = {r}, p = {pp} (RFC 7914 requires N > 1 and r, p ≥ 1)"
                )));
            }
            let limits = format!(
                "N ≤ 2^{SCRYPT_MAX_LOG_N}, r ≤ {SCRYPT_MAX_R}, p ≤ {SCRYPT_MAX_P}, 128·r·N ≤ 1 GiB, N·r·p ≤ 2^23"
            );
            let too_big = !n.is_power_of_two()
                || n > 1u64 << SCRYPT_MAX_LOG_N
                || r > u64::from(SCRYPT_MAX_R)
                || pp > u64::from(SCRYPT_MAX_P)
                || 128 * r * n > SCRYPT_MAX_MEMORY
                || n * r * pp > SCRYPT_MAX_WORK;
            if too_big {
                return Err(costly(format!("scrypt N = {n}, r = {r}, p = {pp}"), limits));
            }
        }
        _ => return Err(unsupported("a PBES2 KDF other than PBKDF2 or scrypt")),
    }
    Ok(())
}

/// The name of an encryption scheme, PRF or cipher in an encrypted key that the PKCS#8 parser
/// does not know, found by its OID, for an error that says what to do instead of "unknown OID".
pub(super) fn unsupported_oid(der: &[u8]) -> Option<String> {
    const KNOWN: [(&str, &str); 9] = [
        ("1.2.840.113549.3.7", "the cipher des-ede3-cbc"),
        ("1.3.14.3.2.7", "the cipher des-cbc"),
        ("1.2.840.113549.3.2", "the cipher rc2-cbc"),
        ("1.2.392.200011.61.1.1.1.2", "the cipher camellia-128-cbc"),
        ("1.2.392.200011.61.1.1.1.3", "the cipher camellia-192-cbc"),
        ("1.2.392.200011.61.1.1.1.4", "the cipher camellia-256-cbc"),
        ("1.2.410.200004.1.4", "the cipher seed-cbc"),
        (
            "1.2.840.113549.1.12.1.3",
            "PKCS#12 PBE with SHA1 and 3DES (PBES1)",
        ),
        ("1.2.840.113549.1.5.10", "PBES1 with SHA1 and DES"),
    ];
    let mut i = 0;
    while i + 2 <= der.len() {
        let len = usize::from(der[i + 1]);
        if der[i] == 0x06
            && len < 0x80
            && i + 2 + len <= der.len()
            && let Ok(oid) = pkcs8::ObjectIdentifier::from_bytes(&der[i + 2..i + 2 + len])
        {
            let text = oid.to_string();
            if let Some((_, name)) = KNOWN.iter().find(|(o, _)| *o == text) {
                return Some(format!("{name} ({text})"));
            }
            // PKCS#12 PBE schemes, and PKCS#5 ones other than PBES2 (.13) and PBKDF2 (.12).
            let pbes1 = text.starts_with("1.2.840.113549.1.12.1.")
                || (text.starts_with("1.2.840.113549.1.5.")
                    && !["1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"]
                        .contains(&text.as_str()));
            if pbes1 {
                return Some(format!("a PBES1 scheme ({text}; only PBES2 is read)"));
            }
        }
        i += 1;
    }
    None
}
