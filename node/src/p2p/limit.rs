//! Per-peer message rate: at most `max` messages from one neighbour in any window of `window`.
//!
//! A sliding log (the arrival times of the last `max` admitted messages) rather than a fixed
//! window, so a peer cannot send `2 × max` across a window boundary. Memory is `max` instants per
//! peer that sent something within the last window; `prune` forgets the rest.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use libp2p::PeerId;

#[derive(Debug)]
pub(super) struct RateLimiter {
    max: usize,
    window: Duration,
    seen: HashMap<PeerId, VecDeque<Instant>>,
}

impl RateLimiter {
    pub(super) fn new(max: u32, window: Duration) -> Self {
        Self {
            max: usize::try_from(max).unwrap_or(usize::MAX),
            window,
            seen: HashMap::new(),
        }
    }

    /// Whether `peer` may hand us one more message at `now`; if so, it is counted.
    pub(super) fn admit(&mut self, peer: PeerId, now: Instant) -> bool {
        let log = self.seen.entry(peer).or_default();
        while log
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            log.pop_front();
        }
        if log.len() >= self.max {
            return false;
        }
        log.push_back(now);
        true
    }

    /// Forgets peers with nothing left in the window.
    pub(super) fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.seen.retain(|_, log| {
            log.back()
                .is_some_and(|t| now.saturating_duration_since(*t) < window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_max_per_window_and_slides() {
        let mut limit = RateLimiter::new(3, Duration::from_secs(10));
        let peer = PeerId::random();
        let other = PeerId::random();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(
                limit.admit(peer, t0 + Duration::from_secs(i)),
                "message {i}"
            );
        }
        assert!(!limit.admit(peer, t0 + Duration::from_secs(5)));
        // Another peer has its own budget.
        assert!(limit.admit(other, t0 + Duration::from_secs(5)));
        // The first admission leaves the window at t0 + 10 s: one slot frees, not three.
        assert!(limit.admit(peer, t0 + Duration::from_secs(10)));
        assert!(!limit.admit(peer, t0 + Duration::from_secs(10)));
        limit.prune(t0 + Duration::from_secs(30));
        assert!(limit.seen.is_empty());
    }
}
