//! `loop:P`: a cable to port P of the same card. Frames travel through a
//! bounded queue per receiving port, in buffers from the card's
//! [`FramePool`]; a full queue drops (the MAC counts it).

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use tracing::warn;

use super::{Cables, FramePool, Link, PortError, PortSpec, Readiness, RxBatch, WireRx, WireTx};

/// Parse `P` of `loop:P`.
pub(super) fn parse(rest: &str) -> Result<PortSpec, PortError> {
    rest.parse()
        .map(PortSpec::Loop)
        .map_err(|source| PortError::LoopPort {
            arg: rest.to_string(),
            source,
        })
}

/// Port `port`'s end of a cable to port `peer`: it sends into `peer`'s
/// queue and receives from its own.
pub(super) fn open(port: usize, peer: usize, cables: &Cables) -> Result<Link, PortError> {
    let ports = cables.queues.len();
    let (Some(to_peer), Some(own)) = (cables.queues.get(peer), cables.queues.get(port)) else {
        return Err(PortError::NoPeer { port, peer, ports });
    };
    let looped_back = cables.specs.get(peer) == Some(&PortSpec::Loop(port));
    if !looped_back && peer != port {
        warn!(target: "nfp_emu::ports", "port {port} is cabled to port {peer}, whose cable goes elsewhere");
    }
    Ok(Link {
        tx: Box::new(CableTx {
            peer: to_peer.0.clone(),
            pool: cables.pool.clone(),
        }),
        rx: Box::new(CableRx {
            queue: own.1.clone(),
            pool: cables.pool.clone(),
        }),
    })
}

/// The sending end: the peer port's receive queue.
struct CableTx {
    peer: Sender<Vec<u8>>,
    pool: Arc<FramePool>,
}

impl WireTx for CableTx {
    fn send(&self, frame: &[u8]) -> bool {
        let mut b = self.pool.get();
        b.extend_from_slice(frame);
        match self.peer.try_send(b) {
            Ok(()) => true,
            Err(e) => {
                self.pool.put(e.into_inner());
                false
            }
        }
    }
}

/// The receiving end: this port's queue.
struct CableRx {
    queue: Receiver<Vec<u8>>,
    pool: Arc<FramePool>,
}

impl CableRx {
    fn take(&self, batch: &mut RxBatch, frame: Vec<u8>) {
        batch.push(&frame);
        self.pool.put(frame);
    }
}

impl WireRx for CableRx {
    /// Wait for a frame, then take what else is queued, up to the batch.
    /// Ends when every port cabled to this one is gone.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        if batch.is_full() {
            return Err(super::batch_full());
        }
        let start = batch.len();
        let Ok(first) = self.queue.recv() else {
            return Ok(0);
        };
        self.take(batch, first);
        while !batch.is_full() {
            match self.queue.try_recv() {
                Ok(f) => self.take(batch, f),
                Err(_) => break,
            }
        }
        Ok(batch.len() - start)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Blocking
    }
}
