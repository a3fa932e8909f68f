//! The data-path half of a vNIC: its TX, freelist and RX rings in guest
//! memory, the interrupt cause bytes (ICR) that gate its MSI-X vectors, the
//! link status word and its counters (probe.md §9; nfd3/dp.c).
//!
//! The control plane (the vfio-user thread) publishes a configuration
//! snapshot at each reconfig; the data path reads it without blocking the
//! control plane. Each ring has its own small lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU16, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use super::Host;
use super::desc::*;
use super::qc::QueueController;
use super::vnic::{
    NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_CTRL_L2BC, NFP_NET_CFG_CTRL_L2MC, NFP_NET_CFG_CTRL_PROMISC,
    NFP_NET_CFG_ICR_BASE, NFP_NET_CFG_STS, NFP_NET_CFG_STS_LINK, NFP_NET_CFG_STS_LINK_RATE_25G,
    NFP_NET_CFG_STS_LINK_RATE_SHIFT, VnicKind, VnicParams,
};
use crate::fp::exec::Program;
use crate::pkt::{self, Dst};

/// `NFP_NET_CFG_ICR_RXTX` / `_LSC` (nfp_net_ctrl.h:343-356).
pub const NFP_NET_CFG_ICR_RXTX: u8 = 0x1;
pub const NFP_NET_CFG_ICR_LSC: u8 = 0x2;
/// MSI-X entries an ICR array covers.
pub const NFP_NET_ICR_ENTRIES: usize = 256;
/// `NFP_NET_CFG_STATS_BASE` (nfp_net_ctrl.h:361): 26 u64 counters.
pub const NFP_NET_CFG_STATS_BASE: u64 = 0x0d00;
pub const NFP_NET_CFG_STATS_WORDS: usize = 26;
/// `NFP_NET_CFG_TXR_STATS_BASE` / `_RXR_STATS_BASE` (nfp_net_ctrl.h:396-400):
/// {pkts, bytes} per ring.
pub const NFP_NET_CFG_TXR_STATS_BASE: u64 = 0x1000;
pub const NFP_NET_CFG_RXR_STATS_BASE: u64 = 0x1400;
/// `NFP_NET_TXR_MAX` / `NFP_NET_RXR_MAX` (nfp_net_ctrl.h): 64 rings.
pub const NFP_NET_RING_MAX: usize = 64;
/// Largest packet the TX path accepts (an LSO super-frame).
pub const NFD_TX_MAX_PKT: usize = 0x1_0000 + 256;
/// Chained RX metadata: `NFP_NET_META_HASH` (nfp_net_ctrl.h:44).
pub const NFP_NET_META_HASH: u32 = 1;
pub const NFP_NET_META_FIELD_SIZE: u32 = 4;

/// Word indices of the general counters (offset from the stats base / 8).
pub mod stat {
    pub const RX_DISCARDS: usize = 0;
    pub const RX_ERRORS: usize = 1;
    pub const RX_OCTETS: usize = 2;
    pub const RX_UC_OCTETS: usize = 3;
    pub const RX_MC_OCTETS: usize = 4;
    pub const RX_BC_OCTETS: usize = 5;
    pub const RX_FRAMES: usize = 6;
    pub const RX_MC_FRAMES: usize = 7;
    pub const RX_BC_FRAMES: usize = 8;
    pub const TX_DISCARDS: usize = 9;
    pub const TX_ERRORS: usize = 10;
    pub const TX_OCTETS: usize = 11;
    pub const TX_UC_OCTETS: usize = 12;
    pub const TX_MC_OCTETS: usize = 13;
    pub const TX_BC_OCTETS: usize = 14;
    pub const TX_FRAMES: usize = 15;
    pub const TX_MC_FRAMES: usize = 16;
    pub const TX_BC_FRAMES: usize = 17;
    /// `NFP_NET_CFG_STATS_APP0_FRAMES`: first of 4 {frames, bytes} pairs.
    pub const APP0_FRAMES: usize = 18;
}

/// One ring's place in guest memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingCfg {
    pub addr: u64,
    /// log2 of the descriptor count.
    pub log2: u8,
    /// MSI-X entry.
    pub vector: u8,
}

impl RingCfg {
    pub fn size(&self) -> u32 {
        1 << self.log2
    }
}

/// What the host configured at the last reconfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VnicConfig {
    pub enabled: bool,
    pub ctrl: u32,
    pub mtu: u32,
    pub flbufsz: u32,
    pub mac: [u8; 6],
    pub tx: Vec<Option<RingCfg>>,
    pub rx: Vec<Option<RingCfg>>,
    pub rss_ctrl: u32,
    pub rss_key: [u8; 40],
    pub rss_itbl: [u8; 128],
    pub lsc_vector: u8,
}

impl Default for VnicConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ctrl: 0,
            mtu: 1500,
            flbufsz: 0,
            mac: [0; 6],
            tx: Vec::new(),
            rx: Vec::new(),
            rss_ctrl: 0,
            rss_key: [0; 40],
            rss_itbl: [0; 128],
            lsc_vector: 0xff,
        }
    }
}

/// Why the card did not deliver a frame to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxDrop {
    /// The vNIC (or the ring) is not enabled.
    Disabled,
    /// Not for this vNIC's MAC and not promiscuous.
    Filtered,
    /// Larger than the MTU or the freelist buffer.
    TooLong,
    /// No freelist buffer posted (freelist exhausted).
    NoBuffer,
    /// A DMA access failed.
    Dma,
}

#[derive(Default)]
struct TxState {
    /// Next descriptor to consume, in the queue's 18-bit pointer space.
    idx: u32,
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

#[derive(Default)]
struct RxState {
    /// Next freelist descriptor to use, in the queue's pointer space.
    idx: u32,
}

/// Counters the BAR exposes (and the card keeps for introspection).
pub struct VnicStats {
    pub general: [AtomicU64; NFP_NET_CFG_STATS_WORDS],
    pub txr: [[AtomicU64; 2]; NFP_NET_RING_MAX],
    pub rxr: [[AtomicU64; 2]; NFP_NET_RING_MAX],
}

impl Default for VnicStats {
    fn default() -> Self {
        Self {
            general: std::array::from_fn(|_| AtomicU64::new(0)),
            txr: std::array::from_fn(|_| [AtomicU64::new(0), AtomicU64::new(0)]),
            rxr: std::array::from_fn(|_| [AtomicU64::new(0), AtomicU64::new(0)]),
        }
    }
}

impl VnicStats {
    pub fn add(&self, word: usize, n: u64) {
        if let Some(c) = self.general.get(word) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn get(&self, word: usize) -> u64 {
        self.general
            .get(word)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Count `frame` under the general RX or TX counters.
    pub fn count_frame(&self, frame: &[u8], rx: bool) {
        let len = frame.len() as u64;
        let (oct, uc, mc, bc, frames, mcf, bcf) = if rx {
            (
                stat::RX_OCTETS,
                stat::RX_UC_OCTETS,
                stat::RX_MC_OCTETS,
                stat::RX_BC_OCTETS,
                stat::RX_FRAMES,
                stat::RX_MC_FRAMES,
                stat::RX_BC_FRAMES,
            )
        } else {
            (
                stat::TX_OCTETS,
                stat::TX_UC_OCTETS,
                stat::TX_MC_OCTETS,
                stat::TX_BC_OCTETS,
                stat::TX_FRAMES,
                stat::TX_MC_FRAMES,
                stat::TX_BC_FRAMES,
            )
        };
        self.add(oct, len);
        self.add(frames, 1);
        match pkt::dst_class(frame) {
            Dst::Unicast => self.add(uc, len),
            Dst::Multicast => {
                self.add(mc, len);
                self.add(mcf, 1);
            }
            Dst::Broadcast => {
                self.add(bc, len);
                self.add(bcf, 1);
            }
        }
    }

    /// The u64 counter at BAR offset `off` (8-aligned), if it is one.
    fn word_at(&self, off: u64) -> Option<u64> {
        let rel = |base: u64, words: usize| {
            off.checked_sub(base)
                .filter(|r| *r < words as u64 * 8)
                .map(|r| (r / 8) as usize)
        };
        if let Some(w) = rel(NFP_NET_CFG_STATS_BASE, NFP_NET_CFG_STATS_WORDS) {
            return Some(self.get(w));
        }
        if let Some(w) = rel(NFP_NET_CFG_TXR_STATS_BASE, 2 * NFP_NET_RING_MAX) {
            return Some(self.txr[w / 2][w % 2].load(Ordering::Relaxed));
        }
        if let Some(w) = rel(NFP_NET_CFG_RXR_STATS_BASE, 2 * NFP_NET_RING_MAX) {
            return Some(self.rxr[w / 2][w % 2].load(Ordering::Relaxed));
        }
        None
    }
}

/// The data path of one vNIC.
pub struct VnicDp {
    pub params: VnicParams,
    cfg: RwLock<Arc<VnicConfig>>,
    tx: Box<[Mutex<TxState>]>,
    rx: Box<[Mutex<RxState>]>,
    icr: Box<[AtomicU8]>,
    /// Causes of events that arrived while their vector was masked.
    pending: Box<[AtomicU8]>,
    link_up: AtomicBool,
    /// `NFP_NET_CFG_STS_NSP_LINK_RATE`, written by the driver.
    nsp_link_rate: AtomicU16,
    pub stats: VnicStats,
    /// The BPF program in this vNIC's code store (`UPDATE_BPF`); it runs
    /// while CTRL has `NFP_NET_CFG_CTRL_BPF`.
    bpf: RwLock<Option<Arc<Program>>>,
}

impl std::fmt::Debug for VnicDp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VnicDp")
            .field("kind", &self.params.kind)
            .finish_non_exhaustive()
    }
}

/// Largest frame a vNIC accepts for `mtu`: Ethernet header and two VLAN tags.
fn max_frame(mtu: u32) -> usize {
    mtu as usize + pkt::ETH_HLEN + 8
}

impl VnicDp {
    pub fn new(params: VnicParams, link_up: bool) -> Self {
        let rings = (params.max_rings as usize).min(NFP_NET_RING_MAX);
        Self {
            params,
            cfg: RwLock::new(Arc::new(VnicConfig::default())),
            tx: (0..rings).map(|_| Mutex::new(TxState::default())).collect(),
            rx: (0..rings).map(|_| Mutex::new(RxState::default())).collect(),
            icr: (0..NFP_NET_ICR_ENTRIES).map(|_| AtomicU8::new(0)).collect(),
            pending: (0..NFP_NET_ICR_ENTRIES).map(|_| AtomicU8::new(0)).collect(),
            link_up: AtomicBool::new(link_up),
            nsp_link_rate: AtomicU16::new(0),
            stats: VnicStats::default(),
            bpf: RwLock::new(None),
        }
    }

    pub fn name(&self) -> String {
        match self.params.kind {
            VnicKind::Ctrl => "ctrl vNIC".into(),
            VnicKind::Data { port } => format!("vNIC {port}"),
        }
    }

    pub fn config(&self) -> Arc<VnicConfig> {
        self.cfg.read().clone()
    }

    /// Install a program in the code store (atomically: packets already
    /// dispatched keep the program they started with).
    pub fn set_bpf(&self, prog: Option<Arc<Program>>) {
        *self.bpf.write() = prog;
    }

    /// The loaded program, whether or not it is enabled.
    pub fn bpf(&self) -> Option<Arc<Program>> {
        self.bpf.read().clone()
    }

    /// The program packets from the wire run through under `cfg`.
    pub fn offload(&self, cfg: &VnicConfig) -> Option<Arc<Program>> {
        if cfg.enabled && cfg.ctrl & NFP_NET_CFG_CTRL_BPF != 0 {
            self.bpf()
        } else {
            None
        }
    }

    fn tx_queue(&self, ring: usize) -> u16 {
        (self.params.start_txq + 4 * ring as u32) as u16
    }

    fn fl_queue(&self, ring: usize) -> u16 {
        (self.params.start_rxq + 4 * ring as u32) as u16
    }

    /// Ring number of TX queue `q`, if it is one of ours.
    pub fn tx_ring_of(&self, q: u16) -> Option<usize> {
        let rel = u32::from(q).checked_sub(self.params.start_txq)?;
        (rel % 4 == 0 && ((rel / 4) as usize) < self.tx.len()).then_some((rel / 4) as usize)
    }

    /// Ring number of freelist queue `q`, if it is one of ours.
    pub fn fl_ring_of(&self, q: u16) -> Option<usize> {
        let rel = u32::from(q).checked_sub(self.params.start_rxq)?;
        (rel % 4 == 0 && ((rel / 4) as usize) < self.rx.len()).then_some((rel / 4) as usize)
    }

    /// Install the configuration of a completed reconfig. Rings restart at
    /// descriptor 0 whenever the vNIC is enabled or disabled or a ring's
    /// place changes (the driver resets its rings the same way).
    pub fn apply_config(&self, qc: &QueueController, new: VnicConfig) {
        let old = self.config();
        let restart = old.enabled != new.enabled || old.tx != new.tx || old.rx != new.rx;
        let mut cfg = self.cfg.write();
        if restart {
            for (r, t) in self.tx.iter().enumerate() {
                let mut t = t.lock();
                t.idx = 0;
                t.buf.clear();
                t.head = None;
                t.bad = false;
                qc.reset_queue(self.tx_queue(r));
            }
            for (r, x) in self.rx.iter().enumerate() {
                x.lock().idx = 0;
                qc.reset_queue(self.fl_queue(r));
            }
        }
        *cfg = Arc::new(new);
    }

    /// Raise MSI-X `entry` with `cause` unless the driver masked it (its ICR
    /// byte is not 0); a masked event is remembered and raised at unmask.
    pub fn raise(&self, host: &Host, entry: u8, cause: u8) {
        let e = usize::from(entry);
        let (Some(icr), Some(pending)) = (self.icr.get(e), self.pending.get(e)) else {
            return;
        };
        if icr
            .compare_exchange(0, cause, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            host.msix.read().trigger(u16::from(entry));
            return;
        }
        pending.fetch_or(cause, Ordering::AcqRel);
        // The driver may have unmasked between the two steps.
        if icr.load(Ordering::Acquire) == 0 {
            let c = pending.swap(0, Ordering::AcqRel);
            if c != 0 {
                self.raise(host, entry, c);
            }
        }
    }

    /// The driver wrote ICR[entry]: writing 0 unmasks the vector, and an
    /// event that arrived while it was masked is raised now.
    fn icr_write(&self, host: &Host, entry: usize, value: u8) {
        let (Some(icr), Some(pending)) = (self.icr.get(entry), self.pending.get(entry)) else {
            return;
        };
        icr.store(value, Ordering::Release);
        if value == 0 {
            let c = pending.swap(0, Ordering::AcqRel);
            if c != 0 {
                self.raise(host, entry as u8, c);
            }
        }
    }

    /// Link state: the STS word and, when it changes on an enabled vNIC, a
    /// link-state-change interrupt.
    pub fn set_link(&self, host: &Host, up: bool) {
        let was = self.link_up.swap(up, Ordering::AcqRel);
        let cfg = self.config();
        if was != up && cfg.enabled && cfg.lsc_vector != 0xff {
            self.raise(host, cfg.lsc_vector, NFP_NET_CFG_ICR_LSC);
        }
    }

    pub fn link_up(&self) -> bool {
        self.link_up.load(Ordering::Acquire)
    }

    fn sts(&self) -> u32 {
        let link = if self.params.kind != VnicKind::Ctrl && self.link_up() {
            NFP_NET_CFG_STS_LINK | NFP_NET_CFG_STS_LINK_RATE_25G << NFP_NET_CFG_STS_LINK_RATE_SHIFT
        } else {
            0
        };
        link | u32::from(self.nsp_link_rate.load(Ordering::Relaxed)) << 16
    }

    /// BAR offsets the data path serves instead of plain memory.
    pub fn is_overlay(off: u64) -> bool {
        (NFP_NET_CFG_STS..NFP_NET_CFG_STS + 4).contains(&off)
            || (NFP_NET_CFG_ICR_BASE..NFP_NET_CFG_STATS_BASE + 8 * NFP_NET_CFG_STATS_WORDS as u64)
                .contains(&off)
            || (NFP_NET_CFG_TXR_STATS_BASE
                ..NFP_NET_CFG_RXR_STATS_BASE + 16 * NFP_NET_RING_MAX as u64)
                .contains(&off)
    }

    fn overlay_byte(&self, off: u64, word: &mut Option<(u64, u64)>) -> Option<u8> {
        if (NFP_NET_CFG_STS..NFP_NET_CFG_STS + 4).contains(&off) {
            return Some(self.sts().to_le_bytes()[(off - NFP_NET_CFG_STS) as usize]);
        }
        if (NFP_NET_CFG_ICR_BASE..NFP_NET_CFG_STATS_BASE).contains(&off) {
            return Some(self.icr[(off - NFP_NET_CFG_ICR_BASE) as usize].load(Ordering::Acquire));
        }
        let base = off & !7;
        let v = match *word {
            Some((b, v)) if b == base => v,
            _ => {
                let v = self.stats.word_at(base)?;
                *word = Some((base, v));
                v
            }
        };
        Some(v.to_le_bytes()[(off - base) as usize])
    }

    /// Fill the bytes of a BAR read at `off` that fall in overlay registers.
    pub fn overlay_read(&self, off: u64, buf: &mut [u8]) {
        let mut word = None;
        for (i, b) in buf.iter_mut().enumerate() {
            if let Some(v) = self.overlay_byte(off + i as u64, &mut word) {
                *b = v;
            }
        }
    }

    /// Apply the bytes of a BAR write at `off` that fall in overlay
    /// registers (ICR bytes, the NSP link rate; counters are read-only).
    pub fn overlay_write(&self, host: &Host, off: u64, data: &[u8]) {
        for (i, &v) in data.iter().enumerate() {
            let o = off + i as u64;
            if (NFP_NET_CFG_ICR_BASE..NFP_NET_CFG_STATS_BASE).contains(&o) {
                self.icr_write(host, (o - NFP_NET_CFG_ICR_BASE) as usize, v);
            } else if o == NFP_NET_CFG_STS + 2 || o == NFP_NET_CFG_STS + 3 {
                let sh = (o - NFP_NET_CFG_STS - 2) * 8;
                let cur = self.nsp_link_rate.load(Ordering::Relaxed);
                let new = (cur & !(0xff << sh)) | u16::from(v) << sh;
                self.nsp_link_rate.store(new, Ordering::Relaxed);
            }
        }
    }

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
            let ok = host
                .mem
                .read(rc.addr + slot * NFD3_TX_DESC_SIZE, &mut raw)
                .is_ok();
            st.idx = (st.idx + 1) & super::qc::NFP_QCP_PTR_MASK;
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
            self.stats.txr[ring][0].fetch_add(1, Ordering::Relaxed);
            self.stats.txr[ring][1].fetch_add(frame.len() as u64, Ordering::Relaxed);
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
        if buf.len() > max_frame(cfg.mtu) || buf.len() < min {
            self.stats.add(stat::TX_ERRORS, 1);
            return;
        }
        if d.flags & NFD3_DESC_TX_CSUM != 0 {
            let l4 = d.flags & (NFD3_DESC_TX_TCP_CSUM | NFD3_DESC_TX_UDP_CSUM) != 0;
            pkt::fill_checksums(buf, d.flags & NFD3_DESC_TX_IP4_CSUM != 0, l4);
        }
        count(buf);
    }

    /// Deliver `frame` to the host on this vNIC: pick the ring (RSS), take a
    /// freelist buffer, write metadata and packet, then the RX descriptor
    /// with DD, and raise the ring's vector.
    pub fn deliver(&self, host: &Host, frame: &[u8]) -> Result<(), RxDrop> {
        self.deliver_to(host, &self.config(), frame, None, true)
    }

    /// [`Self::deliver`], on RX ring `queue` if the offloaded program
    /// selected one that is enabled (else RSS decides); `count_rx`: count
    /// the frame under the general RX counters (the BPF path counted it
    /// when it arrived).
    /// `cfg` is the configuration snapshot the caller already holds.
    pub fn deliver_to(
        &self,
        host: &Host,
        cfg: &VnicConfig,
        frame: &[u8],
        queue: Option<u8>,
        count_rx: bool,
    ) -> Result<(), RxDrop> {
        let r = self.deliver_inner(host, cfg, frame, queue, count_rx);
        if let Err(why) = r {
            match why {
                RxDrop::Filtered => {}
                RxDrop::TooLong | RxDrop::Dma => self.stats.add(stat::RX_ERRORS, 1),
                RxDrop::NoBuffer | RxDrop::Disabled => self.stats.add(stat::RX_DISCARDS, 1),
            }
        }
        r
    }

    fn deliver_inner(
        &self,
        host: &Host,
        cfg: &VnicConfig,
        frame: &[u8],
        queue: Option<u8>,
        count_rx: bool,
    ) -> Result<(), RxDrop> {
        use super::vnic::{NFP_NET_CFG_CTRL_RSS, NFP_NET_CFG_CTRL_RSS2, NFP_NET_CFG_CTRL_RXCSUM};
        if !cfg.enabled {
            return Err(RxDrop::Disabled);
        }
        if self.params.kind != VnicKind::Ctrl && cfg.ctrl & NFP_NET_CFG_CTRL_PROMISC == 0 {
            let ok = match pkt::dst_class(frame) {
                Dst::Broadcast => cfg.ctrl & NFP_NET_CFG_CTRL_L2BC != 0,
                Dst::Multicast => cfg.ctrl & NFP_NET_CFG_CTRL_L2MC != 0,
                Dst::Unicast => frame.get(..6) == Some(&cfg.mac[..]),
            };
            if !ok {
                return Err(RxDrop::Filtered);
            }
        }
        if frame.len() > max_frame(cfg.mtu) {
            return Err(RxDrop::TooLong);
        }
        // Ring and metadata.
        let mut meta = [0u8; 8];
        let mut meta_len = 0usize;
        let mut ring = 0usize;
        if cfg.ctrl & (NFP_NET_CFG_CTRL_RSS | NFP_NET_CFG_CTRL_RSS2) != 0 {
            if let Some((hash, ty)) = pkt::rss_hash(frame, &cfg.rss_key, cfg.rss_ctrl) {
                let slot = (hash & cfg.rss_ctrl & 0x7f) as usize;
                ring = usize::from(cfg.rss_itbl[slot]);
                if cfg.ctrl & NFP_NET_CFG_CTRL_RSS2 != 0 && ty != 0 {
                    let info = NFP_NET_META_HASH | u32::from(ty) << NFP_NET_META_FIELD_SIZE;
                    meta[..4].copy_from_slice(&info.to_be_bytes());
                    meta[4..].copy_from_slice(&hash.to_be_bytes());
                    meta_len = 8;
                }
            }
        }
        if let Some(q) = queue.filter(|q| cfg.rx.get(usize::from(*q)).is_some_and(Option::is_some))
        {
            ring = usize::from(q);
        }
        let rc = match cfg.rx.get(ring).copied().flatten() {
            Some(rc) => rc,
            None => {
                ring = 0;
                cfg.rx.first().copied().flatten().ok_or(RxDrop::Disabled)?
            }
        };
        if meta_len + frame.len() > cfg.flbufsz as usize {
            return Err(RxDrop::TooLong);
        }
        let mut flags = PCIE_DESC_RX_EOP;
        if cfg.ctrl & NFP_NET_CFG_CTRL_RXCSUM != 0 {
            let c = pkt::verify_checksums(frame);
            let bit = |checked: bool, ok: bool, f: u16, fok: u16| {
                (if checked { f } else { 0 }) | (if checked && ok { fok } else { 0 })
            };
            flags |= bit(
                c.ip4_checked,
                c.ip4_ok,
                PCIE_DESC_RX_IP4_CSUM,
                PCIE_DESC_RX_IP4_CSUM_OK,
            ) | bit(
                c.tcp_checked,
                c.tcp_ok,
                PCIE_DESC_RX_TCP_CSUM,
                PCIE_DESC_RX_TCP_CSUM_OK,
            ) | bit(
                c.udp_checked,
                c.udp_ok,
                PCIE_DESC_RX_UDP_CSUM,
                PCIE_DESC_RX_UDP_CSUM_OK,
            );
        }
        let q = self.fl_queue(ring);
        let mut st = self.rx[ring].lock();
        if QueueController::distance(st.idx, host.qc.wptr(q)) == 0 {
            return Err(RxDrop::NoBuffer);
        }
        let slot = u64::from(st.idx & (rc.size() - 1));
        let desc_addr = rc.addr + slot * NFD3_RX_DESC_SIZE;
        let mut fl = [0u8; 8];
        host.mem.read(desc_addr, &mut fl).map_err(|_| RxDrop::Dma)?;
        let buf = fl_addr(&fl);
        host.mem
            .write(buf, &meta[..meta_len])
            .map_err(|_| RxDrop::Dma)?;
        host.mem
            .write(buf + meta_len as u64, frame)
            .map_err(|_| RxDrop::Dma)?;
        let d = rx_desc((meta_len + frame.len()) as u16, meta_len as u8, flags, 0);
        host.mem
            .store_u64_release(desc_addr, d)
            .map_err(|_| RxDrop::Dma)?;
        st.idx = (st.idx + 1) & super::qc::NFP_QCP_PTR_MASK;
        drop(st);
        host.qc.advance_rptr(q, 1);
        if count_rx {
            self.stats.count_frame(frame, true);
        }
        self.stats.rxr[ring][0].fetch_add(1, Ordering::Relaxed);
        self.stats.rxr[ring][1].fetch_add(frame.len() as u64, Ordering::Relaxed);
        self.raise(host, rc.vector, NFP_NET_CFG_ICR_RXTX);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
