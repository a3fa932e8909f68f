//! Pacing of the frame sources (`gen`, `pcap`) at a given rate: frame *k*
//! (from 0) is due *k* / rate seconds after the first. A source asks for a
//! batch and is granted the frames that are due, waiting only when none
//! is; frames a slow receiver fell behind on go out together, so the
//! average rate holds whatever the sleep granularity.

use std::time::{Duration, Instant};

/// Frames released at `rate` per second.
#[derive(Debug)]
pub(super) struct Pace {
    /// Frames per second (at least 1).
    rate: u64,
    /// When the first frame was released.
    start: Option<Instant>,
    /// Frames released so far.
    released: u64,
}

impl Pace {
    /// A pace of `rate` frames per second (0 is taken as 1).
    pub(super) fn new(rate: u64) -> Self {
        Self {
            rate: rate.max(1),
            start: None,
            released: 0,
        }
    }

    /// Frames due `elapsed` after the first one: the first at once, then
    /// one every 1/rate seconds.
    fn due_by(&self, elapsed: Duration) -> u64 {
        let n = elapsed.as_nanos().saturating_mul(u128::from(self.rate)) / 1_000_000_000;
        u64::try_from(n).unwrap_or(u64::MAX).saturating_add(1)
    }

    /// When frame `n` is due, counted from the first.
    fn due_at(&self, n: u64) -> Duration {
        let ns = u128::from(n).saturating_mul(1_000_000_000) / u128::from(self.rate);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// `elapsed` after the first frame, release up to `want` frames:
    /// `Ok(n)` with `n` >= 1 frames that may go now (counted as released),
    /// or `Err(wait)`: nothing is due for `wait` yet (`want` 0 releases
    /// nothing, at once).
    pub(super) fn grant(&mut self, elapsed: Duration, want: usize) -> Result<usize, Duration> {
        if want == 0 {
            return Ok(0);
        }
        let ready = self.due_by(elapsed).saturating_sub(self.released);
        if ready == 0 {
            return Err(self.due_at(self.released).saturating_sub(elapsed));
        }
        let n = usize::try_from(ready).unwrap_or(usize::MAX).min(want);
        self.released = self.released.saturating_add(n as u64);
        Ok(n)
    }

    /// Wait until at least one frame is due, then release up to `want`
    /// (at least one if `want` is not 0).
    pub(super) fn take(&mut self, want: usize) -> usize {
        let start = *self.start.get_or_insert_with(Instant::now);
        loop {
            match self.grant(start.elapsed(), want) {
                Ok(n) => return n,
                Err(wait) => std::thread::sleep(wait),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn frames_are_released_at_the_rate_whatever_the_batches() {
        // 1000 frames/s: one per millisecond, the first at once.
        let mut p = Pace::new(1000);
        assert_eq!(p.grant(Duration::ZERO, 32), Ok(1));
        assert_eq!(p.grant(Duration::ZERO, 32), Err(MS));
        assert_eq!(p.grant(MS / 2, 32), Err(MS / 2));
        assert_eq!(p.grant(MS, 32), Ok(1));
        // A receiver 10 ms late gets the 10 frames it fell behind on at
        // once, cut to its batch.
        assert_eq!(p.grant(11 * MS, 4), Ok(4));
        assert_eq!(p.grant(11 * MS, 32), Ok(6));
        assert_eq!(p.grant(11 * MS, 32), Err(MS));
        assert_eq!(p.grant(11 * MS, 0), Ok(0));
        // After one second exactly rate + 1 frames have gone.
        let mut total = 0;
        for ms in 0..=1000 {
            total += p.grant(ms * MS, 3).unwrap_or(0);
        }
        assert_eq!(p.released, 1001);
        assert_eq!(total, 1001 - 12);
    }

    #[test]
    fn extreme_rates_neither_overflow_nor_stall() {
        let mut fast = Pace::new(u64::MAX);
        assert_eq!(
            fast.grant(Duration::from_secs(3600), usize::MAX),
            Ok(usize::MAX)
        );
        let mut slow = Pace::new(0);
        assert_eq!(slow.grant(Duration::ZERO, 8), Ok(1));
        assert_eq!(slow.grant(Duration::ZERO, 8), Err(Duration::from_secs(1)));
        assert_eq!(slow.grant(Duration::MAX, 8), Ok(8));
    }

    #[test]
    fn take_releases_the_first_frame_at_once() {
        let mut p = Pace::new(1);
        assert_eq!(p.take(16), 1);
        assert_eq!(p.take(0), 0);
    }
}
