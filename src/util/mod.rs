//! The bottom layer: byte encodings, file-system helpers, hashing on every core and progress
//! reporting. Nothing here knows what a registry is.

pub mod create;
pub mod encoding;
pub mod follow;
pub mod fsutil;
pub mod hash;
pub mod mount;
pub mod parallel;
pub mod progress;
