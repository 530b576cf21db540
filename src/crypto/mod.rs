//! Keys and signatures: ed25519 key files and fingerprints, and the DSSE envelope every signed
//! object is stored in.

pub mod envelope;
pub mod keys;
