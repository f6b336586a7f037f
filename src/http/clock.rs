//! `--clock`: virtual time (the default: it moves only with `advance`) or virtual time following the
//! wall clock, optionally faster (`realtime:10`), for tooling that sleeps and retries.

use crate::cluster::Cluster;
use crate::error::EsError;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// How the served cluster's time moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clock {
    /// Only `POST /_escache/advance` (or `Cluster.advance`) moves it.
    Virtual,
    /// It follows the wall clock, `speed` times as fast (and `advance` still moves it further).
    Realtime { speed: f64 },
}

/// The fastest realtime clock: a million virtual seconds per second is 11 days per second.
const MAX_SPEED: f64 = 1e6;

impl Clock {
    /// `virtual`, `realtime` or `realtime:SPEED` (a positive number up to a million).
    pub fn parse(text: &str) -> Result<Clock, EsError> {
        match text.split_once(':') {
            None if text == "virtual" => Ok(Clock::Virtual),
            None if text == "realtime" => Ok(Clock::Realtime { speed: 1.0 }),
            Some(("realtime", speed)) => match speed.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_SPEED => {
                    Ok(Clock::Realtime { speed: s })
                }
                _ => Err(EsError::illegal_argument(format!(
                    "[clock] speed must be a positive number up to {MAX_SPEED}, not [{speed}]"
                ))),
            },
            _ => Err(EsError::illegal_argument(format!(
                "[clock] must be [virtual], [realtime] or [realtime:SPEED], not [{text}]"
            ))),
        }
    }
}

/// Moves a cluster's virtual time along with the wall clock: by the wall time elapsed since the
/// server started, times the speed, less what it already moved (so no rounding accumulates).
pub(super) struct Follower {
    speed: f64,
    started: Instant,
    moved: Mutex<u64>,
}

impl Follower {
    pub fn new(clock: Clock) -> Option<Follower> {
        match clock {
            Clock::Virtual => None,
            Clock::Realtime { speed } => Some(Follower {
                speed,
                started: Instant::now(),
                moved: Mutex::new(0),
            }),
        }
    }

    /// Called with the cluster locked (lock order: cluster, then this).
    pub fn catch_up(&self, c: &mut Cluster) {
        let due = (self.started.elapsed().as_nanos() as f64 * self.speed) as u64;
        let mut moved = self.moved.lock().unwrap_or_else(PoisonError::into_inner);
        if due > *moved {
            c.advance(due - *moved);
            *moved = due;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_modes_parse_and_bad_ones_are_refused() {
        assert_eq!(Clock::parse("virtual").ok(), Some(Clock::Virtual));
        assert_eq!(
            Clock::parse("realtime").ok(),
            Some(Clock::Realtime { speed: 1.0 })
        );
        assert_eq!(
            Clock::parse("realtime:60").ok(),
            Some(Clock::Realtime { speed: 60.0 })
        );
        for bad in [
            "",
            "wall",
            "realtime:",
            "realtime:0",
            "realtime:-2",
            "realtime:nan",
            "realtime:1e9",
            "virtual:2",
        ] {
            assert!(Clock::parse(bad).is_err(), "{bad}");
        }
    }
}
