//! An ordered pipeline on scoped threads: workers run the order-free part of a replay (reading,
//! decoding, strict signature checks) ahead of one in-order consumer on the calling thread.
//!
//! Why not rayon: `util::parallel` is its only user, behind the fork guard; threads spawned per
//! call, as here, cannot be inherited half-busy by a forked child. Why a window: the workers may
//! run ahead of the consumer by at most `window` batches, so memory holds a bounded number of
//! decoded entries whatever the ledger's length, and a failure found in order stops the workers
//! within one window instead of letting them verify the rest of a ledger already refused.

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Shape of a pipeline: how many workers, how many items each takes at a time, how many batches
/// may be taken before the consumer has seen them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Worker threads (0 or 1: the calling thread does everything, in order).
    pub threads: usize,
    /// Items a worker takes at a time (fewer hand-offs than one item each).
    pub batch: usize,
    /// Batches taken and not yet consumed, at most.
    pub window: usize,
}

impl Shape {
    /// Every core for the workers; the consumer is light (the state rules) and mostly waits.
    pub(crate) fn for_cores() -> Shape {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        Shape {
            threads,
            batch: 32,
            window: 8 * threads,
        }
    }
}

/// Which batches are taken, which consumed, and whether to stop.
struct Progress {
    /// The next batch a worker takes.
    next: usize,
    /// Batches the consumer has finished.
    consumed: usize,
    /// Set once the consumer is done (finished or failed), or a worker panicked.
    stop: bool,
}

struct Shared {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        // A poisoned lock means a worker panicked: the scope re-raises that panic; the counters
        // themselves are still consistent (each update is one assignment).
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }
}

/// Stops the other workers if this one panics, so that none waits for a batch that will never
/// be consumed (the scope then re-raises the panic instead of hanging).
struct StopOnPanic<'a>(&'a Shared);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// Runs `work` on every index in `0..n` on the workers, and `consume` on each result in index
/// order on the calling thread. The first error `consume` returns is returned, once the workers
/// have stopped (they take no new batch after it; the ones in progress finish and are dropped).
pub(crate) fn ordered<T: Send, E>(
    n: usize,
    shape: Shape,
    work: impl Fn(usize) -> T + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let batch = shape.batch.max(1);
    let window = shape.window.max(1);
    if shape.threads <= 1 || n <= batch {
        return (0..n).try_for_each(|i| consume(i, work(i)));
    }
    let batches = n.div_ceil(batch);
    let shared = Shared {
        progress: Mutex::new(Progress {
            next: 0,
            consumed: 0,
            stop: false,
        }),
        changed: Condvar::new(),
    };
    // At most `window` batches are out at once, so a send never waits; the bound is the window's.
    let (tx, rx) = sync_channel::<(usize, Vec<T>)>(window);
    std::thread::scope(|scope| {
        for _ in 0..shape.threads {
            let tx = tx.clone();
            let (shared, work) = (&shared, &work);
            scope.spawn(move || {
                let _guard = StopOnPanic(shared);
                loop {
                    let k = {
                        let mut p = shared.lock();
                        while !p.stop && p.next < batches && p.next >= p.consumed + window {
                            p = shared
                                .changed
                                .wait(p)
                                .unwrap_or_else(PoisonError::into_inner);
                        }
                        if p.stop || p.next >= batches {
                            return;
                        }
                        p.next += 1;
                        p.next - 1
                    };
                    let items = (k * batch..n.min((k + 1) * batch)).map(work).collect();
                    if tx.send((k, items)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut early: HashMap<usize, Vec<T>> = HashMap::new();
        let mut result = Ok(());
        'batches: for k in 0..batches {
            let items = loop {
                if let Some(items) = early.remove(&k) {
                    break items;
                }
                match rx.recv() {
                    Ok((j, items)) => {
                        early.insert(j, items);
                    }
                    // Every worker is gone and batch `k` never came: one panicked, and leaving
                    // the scope re-raises its panic. Nothing is returned as verified.
                    Err(_) => break 'batches,
                }
            };
            for (offset, item) in items.into_iter().enumerate() {
                if let Err(e) = consume(k * batch + offset, item) {
                    result = Err(e);
                    break 'batches;
                }
            }
            shared.lock().consumed = k + 1;
            shared.changed.notify_all();
        }
        shared.stop();
        drop(rx);
        drop(early);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn shape(threads: usize) -> Shape {
        Shape {
            threads,
            batch: 4,
            window: 3,
        }
    }

    /// Results reach the consumer in index order even when later batches finish first.
    #[test]
    fn results_are_consumed_in_order_whatever_order_they_finish_in() {
        let mut seen = Vec::new();
        ordered(
            200,
            shape(4),
            |i| {
                // Early items are the slow ones: later batches overtake them.
                if i % 40 < 4 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                i * 2
            },
            |i, v| {
                assert_eq!(v, i * 2);
                seen.push(i);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
    }

    /// The first failing index in order is the one returned, although workers reach later
    /// failures first; and the workers stop within the window instead of running to the end
    /// (or waiting forever for a consumer that is gone).
    #[test]
    fn the_first_failure_in_order_is_returned_and_the_workers_stop() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let done = AtomicUsize::new(0);
            let err = ordered(
                100_000,
                shape(2),
                |i| {
                    done.fetch_add(1, Ordering::Relaxed);
                    if i == 50 {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    i
                },
                |i, _| if i == 50 || i == 70 { Err(i) } else { Ok(()) },
            );
            let _ = tx.send((err, done.load(Ordering::Relaxed)));
        });
        let (err, worked) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the pipeline returned instead of hanging");
        assert_eq!(err, Err(50));
        // Batches of 4, a window of 3, and at most one batch in each worker's hands past it.
        assert!(worked <= 52 + 4 * (3 + 2), "{worked} items worked");
    }

    /// A worker's panic reaches the caller; the other workers and the consumer do not hang.
    #[test]
    fn a_panicking_worker_is_reported_not_waited_for() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| {
                ordered(
                    10_000,
                    shape(2),
                    |i| {
                        assert!(i != 37, "planted failure");
                        i
                    },
                    |_, _| Ok::<(), ()>(()),
                )
            });
            let _ = tx.send(r.is_err());
        });
        let panicked = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the pipeline returned instead of hanging");
        assert!(panicked, "the worker's panic reaches the caller");
    }

    /// One thread, or fewer items than a batch: everything runs in order on the caller.
    #[test]
    fn one_thread_runs_in_order() {
        let mut seen = Vec::new();
        ordered(
            10,
            shape(1),
            |i| i,
            |i, v| {
                assert_eq!(i, v);
                seen.push(i);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }
}
