//! `none`: nothing plugged in. The link is down, frames sent are dropped
//! and nothing arrives.

use super::{Link, Readiness, RxBatch, WireRx, WireTx};

/// An empty port.
struct Unplugged;

impl WireTx for Unplugged {
    fn send(&self, _frame: &[u8]) -> bool {
        false
    }

    fn link_up(&self) -> bool {
        false
    }
}

impl WireRx for Unplugged {
    fn recv_batch(&mut self, _batch: &mut RxBatch) -> std::io::Result<usize> {
        Ok(0)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Never
    }
}

/// Both ends of an empty port.
pub(super) fn open() -> Link {
    Link {
        tx: Box::new(Unplugged),
        rx: Box::new(Unplugged),
    }
}
