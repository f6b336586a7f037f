//! The `security-crypto` thread pool (PR #58090): a fixed pool of `(processors + 1) / 2` threads (half
//! the node's processors, rounded up; `Security.getExecutorBuilders`) with a queue of 1000, on which
//! every slow hash verification runs. A full pool rejects the task (`EsRejectedExecutionException`),
//! which authentication turns into HTTP 429 (R3.4, S20).
//!
//! In escache a verification either runs at once (the default: requests complete synchronously), or
//! waits in the pool until the owner of the pool runs it (`Held`, for exploring concurrent first uses,
//! AK-S4), or is rejected (`Saturated`, a pool whose threads and queue are full). The simulator drives the
//! same pool with virtual CPU costs.

use crate::error::EsError;
use std::collections::VecDeque;

/// How the pool treats new work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoPoolMode {
    /// Verifications run as soon as they are submitted.
    Immediate,
    /// Verifications queue until [`CryptoPool::drain`] (threads + queue capacity, then rejections).
    Held,
    /// Every submission is rejected, as by a pool whose threads are busy and whose queue is full.
    Saturated,
}

impl CryptoPoolMode {
    /// Every mode, in the order error messages list them.
    pub const ALL: [CryptoPoolMode; 3] = [
        CryptoPoolMode::Immediate,
        CryptoPoolMode::Held,
        CryptoPoolMode::Saturated,
    ];

    /// The mode's name (`Node.crypto_pool_mode` in Python).
    pub fn as_str(self) -> &'static str {
        match self {
            CryptoPoolMode::Immediate => "immediate",
            CryptoPoolMode::Held => "held",
            CryptoPoolMode::Saturated => "saturated",
        }
    }

    /// The mode named `name`; any other name is refused with the list of names.
    pub fn parse(name: &str) -> Result<CryptoPoolMode, EsError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| {
                let names = Self::ALL.map(Self::as_str).join(", ");
                EsError::illegal_argument(format!(
                    "crypto pool mode must be one of [{names}], got [{name}]"
                ))
            })
    }
}

/// A queued verification: what to complete when it runs. The owner interprets the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CryptoTask {
    pub(crate) ticket: u64,
    pub(crate) kind: CryptoTaskKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CryptoTaskKind {
    ApiKeyVerification,
}

/// Why a submission did not run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Submitted {
    RunNow,
    Queued,
    Rejected,
}

#[derive(Debug, Clone)]
pub struct CryptoPool {
    pub mode: CryptoPoolMode,
    pub size: u32,
    pub(crate) queue_size: u32,
    queue: VecDeque<CryptoTask>,
    /// Tasks taken by a driver (the simulator) and still running on a thread.
    pub(crate) running: u32,
    pub(crate) completed: u64,
    pub(crate) rejected: u64,
}

impl CryptoPool {
    pub(crate) fn new(size: u32, queue_size: u32) -> Self {
        CryptoPool {
            mode: CryptoPoolMode::Immediate,
            size,
            queue_size,
            queue: VecDeque::new(),
            running: 0,
            completed: 0,
            rejected: 0,
        }
    }

    /// Offers a task. `RunNow` means the caller runs it immediately (and it counts as completed).
    pub(crate) fn submit(&mut self, task: CryptoTask) -> Submitted {
        match self.mode {
            CryptoPoolMode::Immediate => {
                self.completed += 1;
                Submitted::RunNow
            }
            CryptoPoolMode::Saturated => {
                self.rejected += 1;
                Submitted::Rejected
            }
            CryptoPoolMode::Held => {
                if self.queue.len() as u64 + u64::from(self.running)
                    >= u64::from(self.size) + u64::from(self.queue_size)
                {
                    self.rejected += 1;
                    Submitted::Rejected
                } else {
                    self.queue.push_back(task);
                    Submitted::Queued
                }
            }
        }
    }

    /// Tasks waiting (running ones included while held).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Takes every waiting task, oldest first, for the owner to run.
    pub(crate) fn drain(&mut self) -> Vec<CryptoTask> {
        self.completed += self.queue.len() as u64;
        self.queue.drain(..).collect()
    }

    /// A stopped node loses its queue and its running tasks.
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.running = 0;
    }

    /// For a driver with virtual threads: the next waiting task, if a thread is free. The task counts
    /// as running until [`CryptoPool::finish`].
    pub(crate) fn start_next(&mut self) -> Option<CryptoTask> {
        if self.running >= self.size {
            return None;
        }
        let t = self.queue.pop_front()?;
        self.running += 1;
        Some(t)
    }

    /// A running task ended.
    pub(crate) fn finish(&mut self) {
        self.running = self.running.saturating_sub(1);
        self.completed += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_pool_rejects_past_threads_plus_queue() {
        let mut p = CryptoPool::new(1, 2);
        p.mode = CryptoPoolMode::Held;
        let t = |n| CryptoTask {
            ticket: n,
            kind: CryptoTaskKind::ApiKeyVerification,
        };
        assert_eq!(p.submit(t(1)), Submitted::Queued);
        assert_eq!(p.submit(t(2)), Submitted::Queued);
        assert_eq!(p.submit(t(3)), Submitted::Queued);
        assert_eq!(p.submit(t(4)), Submitted::Rejected);
        assert_eq!(
            p.drain().iter().map(|t| t.ticket).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        p.mode = CryptoPoolMode::Saturated;
        assert_eq!(p.submit(t(5)), Submitted::Rejected);
        assert_eq!(p.rejected, 2);
    }

    #[test]
    fn modes_by_name() {
        for m in CryptoPoolMode::ALL {
            assert_eq!(CryptoPoolMode::parse(m.as_str()), Ok(m));
        }
        assert_eq!(
            CryptoPoolMode::parse("busy").unwrap_err().reason,
            "crypto pool mode must be one of [immediate, held, saturated], got [busy]"
        );
        assert!(CryptoPoolMode::parse("Held").is_err());
    }
}
