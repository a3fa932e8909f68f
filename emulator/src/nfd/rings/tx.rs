//! The TX rings: descriptors the host posts (nfd3/dp.c `nfp_nfd3_tx`),
//! gathered into packets, offloads applied (checksums, LSO), handed to the
//! wire.

use std::sync::atomic::Ordering;

use super::VnicDp;
use crate::nfd::Host;
use crate::nfd::ctrl::{NFP_NET_CFG_ICR_RXTX, VnicConfig, VnicKind, stat};
use crate::nfd::desc::{
    NFD3_DESC_TX_CSUM, NFD3_DESC_TX_IP4_CSUM, NFD3_DESC_TX_LSO, NFD3_DESC_TX_TCP_CSUM,
    NFD3_DESC_TX_UDP_CSUM, NFD3_TX_DESC_SIZE, TxDesc,
};
use crate::nfd::qc::{NFP_QCP_PTR_MASK, QueueController};
use crate::pkt;

/// Largest packet the TX path accepts (an LSO super-frame).
pub const NFD_TX_MAX_PKT: usize = 0x1_0000 + 256;

/// Where one TX ring stands.
#[derive(Default)]
pub(super) struct TxState {
    /// Next descriptor to consume, in the queue's 18-bit pointer space.
    pub(super) idx: u32,
    /// The packet being gathered.
    buf: Vec<u8>,
    /// The head descriptor of a packet still missing its EOP (a packet may
    /// span doorbells).
    head: Option<TxDesc>,
    /// Whether a descriptor of that packet failed.
    bad: bool,
    /// Scratch for LSO segments.
    seg: Vec<u8>,
}

impl TxState {
    /// Back to descriptor 0 with no packet in progress.
    pub(super) fn restart(&mut self) {
        self.idx = 0;
        self.buf.clear();
        self.head = None;
        self.bad = false;
    }
}

impl VnicDp {
    /// Consume the TX descriptors the host posted on `ring` (its doorbell
    /// rang): gather each packet, apply the offloads its descriptor asks
    /// for, hand the frame(s) to `out`, advance the queue's read pointer and
    /// raise the ring's vector.
    pub fn tx_kick(&self, host: &Host, ring: usize, out: &mut dyn FnMut(&[u8])) {
        let cfg = self.config();
        let Some(Some(rc)) = cfg.tx.get(ring).copied() else {
            return;
        };
        if !cfg.enabled {
            return;
        }
        let Some(state) = self.tx.get(ring) else {
            return;
        };
        let q = self.tx_queue(ring);
        let mut st = state.lock();
        let wptr = host.qc.wptr(q);
        let mut todo = QueueController::distance(st.idx, wptr);
        if todo > rc.size() {
            crate::guest_warn!(
                "{} TX ring {ring}: host posted {todo} descriptors on a {}-entry ring; ignoring the excess",
                self.name(),
                rc.size()
            );
            todo = rc.size();
        }
        let mut consumed = 0u32;
        while consumed < todo {
            let slot = u64::from(st.idx & (rc.size() - 1));
            let mut raw = [0u8; 16];
            // A descriptor whose address wraps the address space cannot be
            // fetched: a DMA error, like one outside guest memory.
            let ok = match rc.slot_addr(slot, NFD3_TX_DESC_SIZE) {
                Some(a) => host.mem.read(a, &mut raw).is_ok(),
                None => {
                    crate::guest_warn!(
                        "{} TX ring {ring} at {:#x}: descriptor {slot} lies beyond the end of the address space",
                        self.name(),
                        rc.addr
                    );
                    false
                }
            };
            st.idx = (st.idx + 1) & NFP_QCP_PTR_MASK;
            consumed += 1;
            let d = TxDesc::parse(&raw);
            if !ok || d.dma_len == 0 {
                st.bad = true;
            }
            let head = st.head.is_none();
            if head {
                st.head = Some(d);
                st.buf.clear();
            }
            let skip = if head { usize::from(d.md_bytes) } else { 0 };
            let len = usize::from(d.dma_len);
            if !st.bad && st.buf.len() + len <= NFD_TX_MAX_PKT && skip <= len {
                let at = st.buf.len();
                st.buf.resize(at + len, 0);
                if host.mem.read(d.addr, &mut st.buf[at..]).is_err() {
                    st.bad = true;
                }
                if skip > 0 {
                    st.buf.drain(at..at + skip);
                }
            } else {
                st.bad = true;
            }
            if d.eop {
                let head_desc = st.head.take().unwrap_or(d);
                if std::mem::take(&mut st.bad) {
                    self.stats.add(stat::TX_ERRORS, 1);
                } else {
                    let TxState { buf, seg, .. } = &mut *st;
                    self.transmit(&cfg, head_desc, buf, seg, ring, out);
                }
            }
        }
        drop(st);
        if consumed > 0 {
            host.qc.advance_rptr(q, consumed);
            self.raise(host, rc.vector, NFP_NET_CFG_ICR_RXTX);
        }
    }

    /// Offloads and output of one gathered packet.
    fn transmit(
        &self,
        cfg: &VnicConfig,
        d: TxDesc,
        buf: &mut [u8],
        seg: &mut Vec<u8>,
        ring: usize,
        out: &mut dyn FnMut(&[u8]),
    ) {
        let mut count = |frame: &[u8]| {
            self.stats.count_frame(frame, false);
            if let Some([pkts, bytes]) = self.stats.txr.get(ring) {
                pkts.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(frame.len() as u64, Ordering::Relaxed);
            }
            out(frame);
        };
        if d.flags & NFD3_DESC_TX_LSO != 0 {
            let r = pkt::segment_tcp(
                buf,
                usize::from(d.l3_offset),
                usize::from(d.l4_offset),
                usize::from(d.lso_hdrlen),
                usize::from(d.mss),
                seg,
                |s| count(s),
            );
            if r.is_none() {
                crate::guest_debug!("{}: malformed LSO packet dropped", self.name());
                self.stats.add(stat::TX_ERRORS, 1);
            }
            return;
        }
        // Control messages start with their 4-byte CCM header, not an
        // Ethernet header (ccm.h:16-47).
        let min = if self.params.kind == VnicKind::Ctrl {
            4
        } else {
            pkt::ETH_HLEN
        };
        if buf.len() > super::rx::max_frame(cfg.mtu) || buf.len() < min {
            self.stats.add(stat::TX_ERRORS, 1);
            return;
        }
        if d.flags & NFD3_DESC_TX_CSUM != 0 {
            let l4 = d.flags & (NFD3_DESC_TX_TCP_CSUM | NFD3_DESC_TX_UDP_CSUM) != 0;
            pkt::fill_checksums(buf, d.flags & NFD3_DESC_TX_IP4_CSUM != 0, l4);
        }
        count(buf);
    }
}
