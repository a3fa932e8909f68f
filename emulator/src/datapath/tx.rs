//! Frames to the wire, a batch at a time: the frames of one TX ring kick,
//! of one receive batch run to completion (XDP_TX), and of one flow
//! processor worker's batch (XDP_TX) are gathered per port into a
//! [`TxBatch`] and leave with one [`WireTx::send_batch`](crate::ports::WireTx::send_batch)
//! (one `sendmmsg` on a UDP port) instead of a send per frame. The MAC
//! pads each frame to [`ETH_ZLEN`] as it joins the batch and counts it
//! once it is known to have left (or as a `TX_QUEUE_DROP`).

use std::cell::RefCell;

use super::{Datapath, ETH_ZLEN, mac};
use crate::ports::TxBatch;

/// What a flow processor worker thread transmits while it runs a batch:
/// one [`TxBatch`] per port, of the datapath at `owner` (its address),
/// sent when the batch ends ([`Datapath::worker_tx_flush`]).
#[derive(Default)]
struct WorkerTx {
    owner: usize,
    ports: Vec<TxBatch>,
}

thread_local! {
    static WORKER_TX: RefCell<WorkerTx> = RefCell::new(WorkerTx::default());
}

impl Datapath {
    /// Queue `frame` to leave port `port` with `batch` (padded to the
    /// 60-byte minimum); a full batch leaves first. A frame longer than a
    /// batch holds leaves on its own, after the frames queued before it.
    pub(super) fn tx_push(&self, port: usize, batch: &mut TxBatch, frame: &[u8]) {
        if self.wires.get(port).is_none() || batch.push_padded(frame, ETH_ZLEN) {
            return;
        }
        self.tx_flush(port, batch);
        if !batch.push_padded(frame, ETH_ZLEN) {
            self.wire_tx(port, frame);
        }
    }

    /// Put the frames of `batch` on port `port`'s wire with one batched
    /// send, count each that left in the MAC's TX counters and the others
    /// as `TX_QUEUE_DROP`; the batch is empty afterwards.
    pub(super) fn tx_flush(&self, port: usize, batch: &mut TxBatch) {
        if batch.is_empty() {
            return;
        }
        let (Some(w), Some(m)) = (self.wires.get(port), self.mac_stats.get(port)) else {
            batch.clear();
            return;
        };
        // The capture sees every frame handed to the wire, sent or not
        // (as `--pcap DIR` does), as `wire_tx` does for a single frame.
        if let Some(c) = self.port_capture(port).filter(|c| c.on()) {
            for frame in batch.frames() {
                c.frame(&self.pool, super::capture::Direction::Tx, frame);
            }
        }
        w.send_tx_batch(batch);
        let mut dropped = 0;
        for (frame, sent) in batch.outcomes() {
            if sent {
                m.count(frame, false);
            } else {
                dropped += 1;
            }
        }
        if dropped > 0 {
            m.add(mac::TX_QUEUE_DROP, dropped);
        }
        batch.clear();
    }

    /// XDP_TX of a packet a flow processor worker (or
    /// [`crate::fp::FlowProcessor::submit`]) ran on this thread: queued
    /// in the thread's batch for `port`, which leaves when the worker's
    /// batch ends.
    pub(super) fn worker_tx(&self, port: usize, frame: &[u8]) {
        let me = std::ptr::from_ref(self) as usize;
        WORKER_TX.with(|w| {
            let Ok(mut w) = w.try_borrow_mut() else {
                self.wire_tx(port, frame);
                return;
            };
            if w.owner != me {
                // Every batch ends with a flush: what another card's
                // packets left here has already gone.
                w.owner = me;
                w.ports.iter_mut().for_each(TxBatch::clear);
            }
            if w.ports.len() < self.wires.len() {
                w.ports.resize_with(self.wires.len(), TxBatch::new);
            }
            match w.ports.get_mut(port) {
                Some(b) => self.tx_push(port, b, frame),
                None => self.wire_tx(port, frame),
            }
        });
    }

    /// The end of a flow processor batch on this thread: what its packets
    /// transmitted leaves, port by port.
    pub(super) fn worker_tx_flush(&self) {
        let me = std::ptr::from_ref(self) as usize;
        WORKER_TX.with(|w| {
            let Ok(mut w) = w.try_borrow_mut() else {
                return;
            };
            if w.owner != me {
                return;
            }
            for (port, b) in w.ports.iter_mut().enumerate() {
                self.tx_flush(port, b);
            }
        });
    }
}
