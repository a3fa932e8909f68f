//! The data-path half of a vNIC: its TX (`tx`), freelist and RX (`rx`)
//! rings in guest memory, the interrupt cause bytes (ICR) that gate its
//! MSI-X vectors, the link status word and its counters (`stats`)
//! (nfd3/dp.c, nfp_net_ctrl.h:342-400).
//!
//! The control plane (the vfio-user thread) publishes a configuration
//! snapshot at each reconfig; the data path reads it without blocking the
//! control plane. Each ring has its own small lock.

mod rx;
mod stats;
mod tx;

pub use rx::RxDrop;
pub use stats::{VNIC_COUNTERS, VnicStats};
pub use tx::NFD_TX_MAX_PKT;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU16, Ordering};
use tracing::debug;

use parking_lot::{Mutex, RwLock};

use super::Host;
use super::ctrl::{
    NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_ICR_BASE, NFP_NET_CFG_ICR_LSC, NFP_NET_CFG_RXR_STATS_BASE,
    NFP_NET_CFG_STATS_BASE, NFP_NET_CFG_STATS_WORDS, NFP_NET_CFG_STS, NFP_NET_CFG_STS_LINK,
    NFP_NET_CFG_STS_LINK_RATE_25G, NFP_NET_CFG_STS_LINK_RATE_SHIFT, NFP_NET_CFG_STS_NSP_LINK_RATE,
    NFP_NET_CFG_TXR_STATS_BASE, NFP_NET_ICR_ENTRIES, NFP_NET_RING_MAX, RingCfg, VnicConfig,
    VnicKind, VnicParams,
};
use super::qc::QueueController;
use crate::fp::exec::Program;

/// The pointers of one enabled ring ([`VnicDp::ring_view`]).
#[derive(Debug, Clone, Copy)]
pub struct RingPtrs {
    /// Ring number.
    pub ring: usize,
    /// Its MSI-X entry.
    pub vector: u8,
    /// Descriptors.
    pub size: u32,
    /// The queue's write pointer (what the host posted).
    pub wptr: u32,
    /// Its read pointer (what the card gave back).
    pub rptr: u32,
    /// The next descriptor the card takes.
    pub idx: u32,
}

/// A vNIC's rings and vectors as they are now ([`VnicDp::ring_view`]).
#[derive(Debug, Clone, Default)]
pub struct RingView {
    /// Enabled TX rings.
    pub tx: Vec<RingPtrs>,
    /// Enabled RX (freelist) rings.
    pub rx: Vec<RingPtrs>,
    /// Vectors whose ICR byte or pending causes are not 0: (entry, ICR,
    /// pending).
    pub vectors: Vec<(u8, u8, u8)>,
}

/// The data path of one vNIC.
pub struct VnicDp {
    /// What the firmware published for this vNIC.
    pub params: VnicParams,
    cfg: RwLock<Arc<VnicConfig>>,
    tx: Box<[Mutex<tx::TxState>]>,
    rx: Box<[Mutex<rx::RxState>]>,
    icr: Box<[AtomicU8]>,
    /// Causes of events that arrived while their vector was masked.
    pending: Box<[AtomicU8]>,
    link_up: AtomicBool,
    /// `NFP_NET_CFG_STS_NSP_LINK_RATE`, written by the driver.
    nsp_link_rate: AtomicU16,
    /// The counters the BAR exposes.
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

impl VnicDp {
    /// The data path of a vNIC with `params`, link `link_up`, not enabled.
    pub fn new(params: VnicParams, link_up: bool) -> Self {
        let rings = (params.max_rings as usize).min(NFP_NET_RING_MAX);
        Self {
            params,
            cfg: RwLock::new(Arc::new(VnicConfig::default())),
            tx: (0..rings)
                .map(|_| Mutex::new(tx::TxState::default()))
                .collect(),
            rx: (0..rings)
                .map(|_| Mutex::new(rx::RxState::default()))
                .collect(),
            icr: (0..NFP_NET_ICR_ENTRIES).map(|_| AtomicU8::new(0)).collect(),
            pending: (0..NFP_NET_ICR_ENTRIES).map(|_| AtomicU8::new(0)).collect(),
            link_up: AtomicBool::new(link_up),
            nsp_link_rate: AtomicU16::new(0),
            stats: VnicStats::default(),
            bpf: RwLock::new(None),
        }
    }

    /// "vNIC N" or "ctrl vNIC", for log lines.
    pub fn name(&self) -> String {
        match self.params.kind {
            VnicKind::Ctrl => "ctrl vNIC".into(),
            VnicKind::Data { port } => format!("vNIC {port}"),
        }
    }

    /// The configuration of the last successful reconfig.
    pub fn config(&self) -> Arc<VnicConfig> {
        self.cfg.read().clone()
    }

    /// Install a program in the code store (atomically: packets already
    /// dispatched keep the program they started with), counted in
    /// `prog.loads`; `None` empties it.
    pub fn set_bpf(&self, prog: Option<Arc<Program>>) {
        if prog.is_some() {
            self.stats.bpf_loads.fetch_add(1, Ordering::Relaxed);
        }
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
    /// place changes (the driver resets its rings the same way), and the
    /// vectors of the rings that start afresh start unmasked, with no
    /// cause pending.
    ///
    /// Why unmasked: the driver re-arms a ring vector only from its NAPI
    /// poll (`nfp_net_irq_unmask`, nfd3/dp.c:1168), and only when the poll
    /// did less than its budget. A poll that used its whole budget as
    /// `nfp_net_close_stack` (nfp_net_common.c:1071) disables NAPI is
    /// completed by the core without calling the driver again, so the ICR
    /// byte stays set; `nfp_net_open_stack` never writes it. Kept masked,
    /// the vector would never fire again and the ring would stop once full
    /// (seen under a TCP stream across `ethtool -L`). NFD likewise drops
    /// the pending state of newly enabled queues at reconfig
    /// (`msix_reconfig_rings`).
    pub fn apply_config(&self, qc: &QueueController, new: VnicConfig) {
        let old = self.config();
        let restart = old.enabled != new.enabled || old.tx != new.tx || old.rx != new.rx;
        let mut cfg = self.cfg.write();
        if restart {
            for (r, t) in self.tx.iter().enumerate() {
                t.lock().restart();
                qc.reset_queue(self.tx_queue(r));
            }
            for (r, x) in self.rx.iter().enumerate() {
                x.lock().restart();
                qc.reset_queue(self.fl_queue(r));
            }
            if new.enabled {
                for rc in new.tx.iter().chain(new.rx.iter()).flatten() {
                    self.rearm(rc.vector);
                }
            }
        }
        *cfg = Arc::new(new);
    }

    /// Unmask vector `entry` and forget its pending causes.
    fn rearm(&self, entry: u8) {
        let e = usize::from(entry);
        if let (Some(icr), Some(pending)) = (self.icr.get(e), self.pending.get(e)) {
            if icr.swap(0, Ordering::AcqRel) != 0 {
                debug!(
                    target: "nfp_emu::nfd",
                    "{}: vector {entry} was left masked across a ring restart; unmasked",
                    self.name()
                );
            }
            pending.store(0, Ordering::Release);
        }
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

    /// The driver wrote the ICR byte of `entry`: writing 0 unmasks the vector, and an
    /// event that arrived while it was masked is raised now.
    fn icr_write(&self, host: &Host, entry: u8, value: u8) {
        let e = usize::from(entry);
        let (Some(icr), Some(pending)) = (self.icr.get(e), self.pending.get(e)) else {
            return;
        };
        icr.store(value, Ordering::Release);
        if value == 0 {
            let c = pending.swap(0, Ordering::AcqRel);
            if c != 0 {
                self.raise(host, entry, c);
            }
        }
    }

    /// What the rings and vectors hold now, for the monitor: each enabled
    /// ring's queue pointers and next descriptor, and every vector whose ICR
    /// byte or pending causes are not 0 (a vector the driver left masked
    /// explains a ring that stopped moving).
    pub fn ring_view(&self, host: &Host) -> RingView {
        let cfg = self.config();
        // Ring r of `rings` whose next descriptor `next(r)` gives, on
        // queue `queue(r)`.
        let view = |rings: &[Option<RingCfg>],
                    next: &dyn Fn(usize) -> Option<u32>,
                    queue: &dyn Fn(usize) -> u16| {
            rings
                .iter()
                .enumerate()
                .filter_map(|(r, rc)| {
                    let (rc, q) = (rc.as_ref()?, queue(r));
                    Some(RingPtrs {
                        ring: r,
                        vector: rc.vector,
                        size: rc.size(),
                        wptr: host.qc.wptr(q),
                        rptr: host.qc.rptr(q),
                        idx: next(r)?,
                    })
                })
                .collect()
        };
        let tx = view(&cfg.tx, &|r| Some(self.tx.get(r)?.lock().idx), &|r| {
            self.tx_queue(r)
        });
        let rx = view(&cfg.rx, &|r| Some(self.rx.get(r)?.lock().idx), &|r| {
            self.fl_queue(r)
        });
        let vectors = self
            .icr
            .iter()
            .zip(self.pending.iter())
            .enumerate()
            .filter_map(|(e, (i, p))| {
                let (icr, pending) = (i.load(Ordering::Acquire), p.load(Ordering::Acquire));
                (icr != 0 || pending != 0).then_some((e as u8, icr, pending))
            })
            .collect();
        RingView { tx, rx, vectors }
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

    /// Whether the vNIC's port has a link partner.
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

    /// The ICR entry at BAR offset `off`, if it is one.
    fn icr_entry(off: u64) -> Option<u8> {
        off.checked_sub(NFP_NET_CFG_ICR_BASE)
            .filter(|&e| e < NFP_NET_ICR_ENTRIES as u64)
            .map(|e| e as u8)
    }

    fn overlay_byte(&self, off: u64, word: &mut Option<(u64, u64)>) -> Option<u8> {
        if (NFP_NET_CFG_STS..NFP_NET_CFG_STS + 4).contains(&off) {
            return Some(self.sts().to_le_bytes()[(off - NFP_NET_CFG_STS) as usize]);
        }
        if let Some(e) = Self::icr_entry(off) {
            return self
                .icr
                .get(usize::from(e))
                .map(|b| b.load(Ordering::Acquire));
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
            let Some(o) = off.checked_add(i as u64) else {
                break;
            };
            if let Some(v) = self.overlay_byte(o, &mut word) {
                *b = v;
            }
        }
    }

    /// Apply the bytes of a BAR write at `off` that fall in overlay
    /// registers (ICR bytes, the NSP link rate; counters are read-only).
    pub fn overlay_write(&self, host: &Host, off: u64, data: &[u8]) {
        for (i, &v) in data.iter().enumerate() {
            let Some(o) = off.checked_add(i as u64) else {
                break;
            };
            if let Some(e) = Self::icr_entry(o) {
                self.icr_write(host, e, v);
            } else if o == NFP_NET_CFG_STS_NSP_LINK_RATE || o == NFP_NET_CFG_STS_NSP_LINK_RATE + 1 {
                let sh = (o - NFP_NET_CFG_STS_NSP_LINK_RATE) * 8;
                let cur = self.nsp_link_rate.load(Ordering::Relaxed);
                let new = (cur & !(0xff << sh)) | u16::from(v) << sh;
                self.nsp_link_rate.store(new, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests;
