//! Hashing on every core, and only where that cannot hang: the one place reg hands work to a
//! thread pool (blake3's `update_rayon`, on rayon's global pool).
//!
//! A pool's threads do not survive `fork()`: a child process that inherits a pool the parent
//! already started waits forever for threads that do not exist in it. Python's multiprocessing
//! (fork on Linux before 3.14) and pre-forking servers (`gunicorn --preload`) do exactly that
//! with a loader that gated a file before forking. So the pool is used only in the process that
//! first used it; a forked child hashes on its own thread (the same hash, more slowly).

use std::sync::OnceLock;

/// Blocks smaller than this are hashed on the calling thread: splitting them costs more than it
/// saves.
pub const PARALLEL_BLOCK: usize = 128 * 1024;

/// The process that first used the pool: the only one where its threads exist.
static POOL_OWNER: OnceLock<u32> = OnceLock::new();

/// Whether this process may use the thread pool: it is the process that first did (or now is).
pub fn pool_usable() -> bool {
    let me = std::process::id();
    *POOL_OWNER.get_or_init(|| me) == me
}

/// Adds `block` to `hasher`: on every core when the block is large and this process owns the
/// pool, else on this thread. The hash is the same either way.
pub fn hash_into(hasher: &mut blake3::Hasher, block: &[u8]) {
    if block.len() >= PARALLEL_BLOCK && pool_usable() {
        hasher.update_rayon(block);
    } else {
        hasher.update(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_same_on_one_thread_and_on_every_core() {
        let block: Vec<u8> = (0..3 * PARALLEL_BLOCK).map(|i| (i % 251) as u8).collect();
        let mut parallel = blake3::Hasher::new();
        hash_into(&mut parallel, &block);
        assert!(
            pool_usable(),
            "the process that first used the pool may use it"
        );
        assert_eq!(parallel.finalize(), blake3::hash(&block));
    }

    /// No other file hands work to the pool: each would hang a forked child again.
    #[test]
    fn only_this_file_uses_the_thread_pool() {
        fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|x| x == "rs")
                    && !path.ends_with("util/parallel.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if text.contains("_rayon(") || text.contains("rayon::") {
                        found.push(path.display().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "use util::parallel::hash_into in {found:?}"
        );
    }
}
