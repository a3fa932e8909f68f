//! MSI-X vectors as the device raises them.
//!
//! QEMU owns the MSI-X table and PBA (it overlays them on BAR0) and hands the
//! device one eventfd per vector through `VFIO_USER_DEVICE_SET_IRQS`; raising
//! a vector is an 8-byte write to its eventfd.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::warn;

/// Eventfds for each MSI-X vector, `None` where the guest has none assigned.
#[derive(Debug)]
pub struct MsixVectors {
    fds: Vec<Option<File>>,
    /// Interrupts raised (eventfd written).
    raised: AtomicU64,
    /// Interrupts not raised: the vector had no eventfd, or writing it
    /// failed.
    lost: AtomicU64,
}

/// The counter surface's `msix.*` (docs/counters.md).
impl crate::counters::Counters for MsixVectors {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        visit("raised", self.raised.load(Ordering::Relaxed));
        visit("lost", self.lost.load(Ordering::Relaxed));
    }
}

impl MsixVectors {
    /// `count` vectors, none assigned.
    pub fn new(count: u16) -> Self {
        Self {
            fds: (0..count).map(|_| None).collect(),
            raised: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        }
    }

    /// Number of vectors.
    pub fn count(&self) -> usize {
        self.fds.len()
    }

    /// Assign `fds` to vectors `start..start + fds.len()`.
    pub fn assign(&mut self, start: u32, fds: Vec<File>) -> Result<(), std::io::Error> {
        let range = self.range(start, fds.len() as u32)?;
        for (slot, fd) in self.fds[range].iter_mut().zip(fds) {
            *slot = Some(fd);
        }
        Ok(())
    }

    /// Drop the eventfds of vectors `start..start + count`.
    pub fn release(&mut self, start: u32, count: u32) -> Result<(), std::io::Error> {
        let range = self.range(start, count)?;
        self.fds[range].iter_mut().for_each(|f| *f = None);
        Ok(())
    }

    /// Forget every vector's eventfd.
    pub fn release_all(&mut self) {
        self.fds.iter_mut().for_each(|f| *f = None);
    }

    /// Whether `vector` has an eventfd.
    pub fn is_assigned(&self, vector: u16) -> bool {
        self.fds
            .get(usize::from(vector))
            .is_some_and(Option::is_some)
    }

    /// Raise `vector`. Returns false if the guest assigned no eventfd to it.
    pub fn trigger(&self, vector: u16) -> bool {
        let Some(Some(fd)) = self.fds.get(usize::from(vector)) else {
            self.lost.fetch_add(1, Ordering::Relaxed);
            crate::guest_debug!(vector, "MSI-X vector has no eventfd; not raised");
            return false;
        };
        let mut f: &File = fd;
        if let Err(e) = f.write_all(&1u64.to_ne_bytes()) {
            self.lost.fetch_add(1, Ordering::Relaxed);
            warn!(target: "nfp_emu::pcie", vector, "raising MSI-X vector failed: {e}");
            return false;
        }
        self.raised.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn range(&self, start: u32, count: u32) -> Result<std::ops::Range<usize>, std::io::Error> {
        let end = start
            .checked_add(count)
            .filter(|&e| e as usize <= self.fds.len());
        match end {
            Some(end) => Ok(start as usize..end as usize),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "MSI-X vectors {start}+{count} outside the {} the card has",
                    self.fds.len()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Counters;
    use crate::testutil::{eventfd, irqs};

    #[test]
    fn trigger_writes_the_assigned_eventfd() {
        let mut v = MsixVectors::new(8);
        let efd = eventfd();
        v.assign(3, vec![efd.try_clone().unwrap()]).unwrap();
        assert!(!v.trigger(2));
        assert!(v.trigger(3));
        assert!(v.trigger(3));
        assert_eq!(irqs(&efd), 2);
        v.release(3, 1).unwrap();
        assert!(!v.is_assigned(3));
        assert!(!v.trigger(3));
        assert_eq!((v.counter("raised"), v.counter("lost")), (Some(2), Some(2)));
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        let mut v = MsixVectors::new(4);
        assert!(v.assign(3, vec![eventfd(), eventfd()]).is_err());
        assert!(v.release(u32::MAX, 2).is_err());
        assert!(!v.trigger(1000));
        assert!(v.assign(2, vec![eventfd(), eventfd()]).is_ok());
    }
}
