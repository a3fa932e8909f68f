//! The PCIe queue controller (QCP): 256 queues of free-running 18-bit read
//! and write pointers at CPP target 0, 0x80000 + 0x800 * q (nfp_net.h:835-910,
//! nfpcore/nfp_dev.c:33,40; docs/nfd.md#queue-controller).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `NFP_QCP_QUEUE_ADDR_SZ` (nfp_net.h:835).
pub const NFP_QCP_QUEUE_ADDR_SZ: u64 = 0x800;
/// Number of queues (`qc_idx_mask` 0xff, nfpcore/nfp_dev.c:32).
pub const NFP_QCP_QUEUES: usize = 256;
/// `NFP_QCP_QUEUE_ADD_RPTR` (nfp_net.h:837): add to the read pointer.
pub const NFP_QCP_QUEUE_ADD_RPTR: u64 = 0x0000;
/// `NFP_QCP_QUEUE_ADD_WPTR` (nfp_net.h:838): add to the write pointer (a
/// doorbell).
pub const NFP_QCP_QUEUE_ADD_WPTR: u64 = 0x0004;
/// `NFP_QCP_QUEUE_STS_LO` (nfp_net.h:839): status, read pointer.
pub const NFP_QCP_QUEUE_STS_LO: u64 = 0x0008;
/// `NFP_QCP_QUEUE_STS_HI` (nfp_net.h:841): status, write pointer.
pub const NFP_QCP_QUEUE_STS_HI: u64 = 0x000c;
/// `NFP_QCP_QUEUE_STS_LO_READPTR_mask` / `_HI_WRITEPTR_mask` (nfp_net.h:840-842).
pub const NFP_QCP_PTR_MASK: u32 = 0x3ffff;

/// A write the rest of the card must react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QcEvent {
    /// The host added to a queue's write pointer (a doorbell).
    WptrAdded {
        /// The queue.
        queue: u16,
        /// What was added.
        n: u32,
    },
}

/// Queue pointers are atomics: the host moves write pointers (doorbells)
/// from the vfio-user thread while the datapath moves read pointers.
#[derive(Debug)]
pub struct QueueController {
    rptr: [AtomicU32; NFP_QCP_QUEUES],
    wptr: [AtomicU32; NFP_QCP_QUEUES],
    /// Doorbells rung (writes to `NFP_QCP_QUEUE_ADD_WPTR` of any queue).
    doorbells: AtomicU64,
}

impl Default for QueueController {
    fn default() -> Self {
        Self {
            rptr: std::array::from_fn(|_| AtomicU32::new(0)),
            wptr: std::array::from_fn(|_| AtomicU32::new(0)),
            doorbells: AtomicU64::new(0),
        }
    }
}

/// The counter surface's `qc.*` (docs/counters.md). The queue pointers
/// themselves are not counters (they wrap at 18 bits and go back to 0 at
/// every ring reset).
impl crate::counters::Counters for QueueController {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        visit("doorbells", self.doorbells.load(Ordering::Relaxed));
    }
}

fn add(p: &AtomicU32, n: u32) -> u32 {
    let mut cur = p.load(Ordering::Acquire);
    loop {
        let next = cur.wrapping_add(n) & NFP_QCP_PTR_MASK;
        match p.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return next,
            Err(c) => cur = c,
        }
    }
}

impl QueueController {
    fn split(off: u64) -> Option<(usize, u64)> {
        let q = (off / NFP_QCP_QUEUE_ADDR_SZ) as usize;
        (q < NFP_QCP_QUEUES).then_some((q, off % NFP_QCP_QUEUE_ADDR_SZ))
    }

    /// Host read at `off` from the start of the QC area.
    pub fn read(&self, off: u64, buf: &mut [u8]) {
        buf.fill(0);
        let Some((q, reg)) = Self::split(off) else {
            crate::guest_warn!("read at QC offset {off:#x} past the last queue");
            return;
        };
        let v = match reg & !3 {
            NFP_QCP_QUEUE_STS_LO => self.rptr[q].load(Ordering::Acquire),
            NFP_QCP_QUEUE_STS_HI => self.wptr[q].load(Ordering::Acquire),
            _ => {
                crate::guest_debug!(queue = q, "read of QC register {reg:#x}; returning 0");
                0
            }
        };
        let b = v.to_le_bytes();
        let sh = (reg % 4) as usize;
        let n = buf.len().min(4 - sh);
        buf[..n].copy_from_slice(&b[sh..sh + n]);
    }

    /// Host write at `off`; returns the doorbell to act on, if any.
    pub fn write(&self, off: u64, data: &[u8]) -> Option<QcEvent> {
        let Some((q, reg)) = Self::split(off) else {
            crate::guest_warn!("write at QC offset {off:#x} past the last queue; ignored");
            return None;
        };
        if data.len() != 4 || reg % 4 != 0 {
            crate::guest_warn!(
                queue = q,
                "{}-byte write at QC register {reg:#x}; ignored",
                data.len()
            );
            return None;
        }
        let v = u32::from_le_bytes(data.try_into().expect("4 bytes"));
        match reg {
            NFP_QCP_QUEUE_ADD_RPTR => {
                add(&self.rptr[q], v);
                None
            }
            NFP_QCP_QUEUE_ADD_WPTR => {
                add(&self.wptr[q], v);
                self.doorbells.fetch_add(1, Ordering::Relaxed);
                Some(QcEvent::WptrAdded {
                    queue: q as u16,
                    n: v,
                })
            }
            _ => {
                crate::guest_debug!(
                    queue = q,
                    "write of {v:#x} to QC register {reg:#x}; ignored"
                );
                None
            }
        }
    }

    /// Read pointer of queue `q` (0 for a queue that does not exist).
    pub fn rptr(&self, q: u16) -> u32 {
        self.rptr
            .get(usize::from(q))
            .map_or(0, |p| p.load(Ordering::Acquire))
    }

    /// Write pointer of queue `q` (0 for a queue that does not exist).
    pub fn wptr(&self, q: u16) -> u32 {
        self.wptr
            .get(usize::from(q))
            .map_or(0, |p| p.load(Ordering::Acquire))
    }

    /// Device side: advance the read pointer (e.g. descriptors consumed).
    pub fn advance_rptr(&self, q: u16, n: u32) {
        if let Some(r) = self.rptr.get(usize::from(q)) {
            add(r, n);
        }
    }

    /// Zero both pointers (ring enable/disable, docs/nfd.md#queue-controller).
    pub fn reset_queue(&self, q: u16) {
        if let (Some(r), Some(w)) = (self.rptr.get(usize::from(q)), self.wptr.get(usize::from(q))) {
            r.store(0, Ordering::Release);
            w.store(0, Ordering::Release);
        }
    }

    /// Zero every queue's pointers (firmware stopped).
    pub fn reset(&self) {
        for p in self.rptr.iter().chain(self.wptr.iter()) {
            p.store(0, Ordering::Release);
        }
    }

    /// Distance from `from` to `to` in the 18-bit pointer space.
    pub fn distance(from: u32, to: u32) -> u32 {
        to.wrapping_sub(from) & NFP_QCP_PTR_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd(qc: &QueueController, off: u64) -> u32 {
        let mut b = [0; 4];
        qc.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    #[test]
    fn add_wptr_is_a_doorbell_and_pointers_wrap_at_18_bits() {
        let qc = QueueController::default();
        let q = 33u64;
        let base = q * NFP_QCP_QUEUE_ADDR_SZ;
        assert_eq!(
            qc.write(base + NFP_QCP_QUEUE_ADD_WPTR, &1u32.to_le_bytes()),
            Some(QcEvent::WptrAdded { queue: 33, n: 1 })
        );
        assert_eq!(rd(&qc, base + NFP_QCP_QUEUE_STS_HI), 1);
        qc.write(
            base + NFP_QCP_QUEUE_ADD_WPTR,
            &NFP_QCP_PTR_MASK.to_le_bytes(),
        );
        assert_eq!(rd(&qc, base + NFP_QCP_QUEUE_STS_HI), 0, "wrapped");
        use crate::counters::Counters;
        assert_eq!(qc.counter("doorbells"), Some(2), "two doorbells rung");
        qc.advance_rptr(33, 5);
        assert_eq!(rd(&qc, base + NFP_QCP_QUEUE_STS_LO), 5);
        qc.reset_queue(33);
        assert_eq!(rd(&qc, base + NFP_QCP_QUEUE_STS_LO), 0);
    }

    #[test]
    fn bad_accesses_are_ignored() {
        let qc = QueueController::default();
        assert_eq!(qc.write(256 * NFP_QCP_QUEUE_ADDR_SZ, &[0; 4]), None);
        assert_eq!(qc.write(NFP_QCP_QUEUE_ADD_WPTR, &[1, 0]), None);
        assert_eq!(qc.write(NFP_QCP_QUEUE_ADD_WPTR + 2, &[1, 0, 0, 0]), None);
        assert_eq!(qc.wptr(0), 0);
        qc.reset_queue(999);
        assert_eq!(rd(&qc, 1 << 30), 0);
    }
}
