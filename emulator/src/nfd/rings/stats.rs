//! The counters a vNIC's BAR exposes: the general counters at
//! `NFP_NET_CFG_STATS_BASE` and {packets, bytes} per ring at
//! `NFP_NET_CFG_TXR_STATS_BASE` / `_RXR_STATS_BASE` (nfp_net_ctrl.h:358-400);
//! beside them the card's own counters of the vNIC (drops by reason,
//! program loads and faults, refused reconfigs), which no register shows.
//! All of them are the counter surface's `vnicN.*` (docs/counters.md).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{RxDrop, VnicDp};
use crate::counters::{Counters, scoped};
use crate::nfd::ctrl::{
    NFP_NET_CFG_RXR_STATS_BASE, NFP_NET_CFG_STATS_BASE, NFP_NET_CFG_STATS_WORDS,
    NFP_NET_CFG_TXR_STATS_BASE, NFP_NET_RING_MAX, stat,
};
use crate::pkt::{self, Dst};

/// The general counters under the names the driver gives them in
/// `ethtool -S` (nfp_net_ethtool.c:41-71), in [`stat`] word order.
pub const VNIC_COUNTERS: [&str; NFP_NET_CFG_STATS_WORDS] = [
    "dev_rx_discards",
    "dev_rx_errors",
    "dev_rx_bytes",
    "dev_rx_uc_bytes",
    "dev_rx_mc_bytes",
    "dev_rx_bc_bytes",
    "dev_rx_pkts",
    "dev_rx_mc_pkts",
    "dev_rx_bc_pkts",
    "dev_tx_discards",
    "dev_tx_errors",
    "dev_tx_bytes",
    "dev_tx_uc_bytes",
    "dev_tx_mc_bytes",
    "dev_tx_bc_bytes",
    "dev_tx_pkts",
    "dev_tx_mc_pkts",
    "dev_tx_bc_pkts",
    "bpf_pass_pkts",
    "bpf_pass_bytes",
    "bpf_app1_pkts",
    "bpf_app1_bytes",
    "bpf_app2_pkts",
    "bpf_app2_bytes",
    "bpf_app3_pkts",
    "bpf_app3_bytes",
];

/// Counters the BAR exposes, and the card's own counters of the vNIC.
pub struct VnicStats {
    /// The general counters, indexed by [`stat`] word.
    pub general: [AtomicU64; NFP_NET_CFG_STATS_WORDS],
    /// {packets, bytes} per TX ring.
    pub txr: [[AtomicU64; 2]; NFP_NET_RING_MAX],
    /// {packets, bytes} per RX ring.
    pub rxr: [[AtomicU64; 2]; NFP_NET_RING_MAX],
    /// Frames not delivered to the host, by reason (`RxDrop as usize`);
    /// not in the BAR.
    pub rx_drops: [AtomicU64; RxDrop::ALL.len()],
    /// Programs installed in the vNIC's code store (`UPDATE_BPF`); not in
    /// the BAR.
    pub bpf_loads: AtomicU64,
    /// Reconfigs refused (`NFP_NET_CFG_UPDATE_ERR` answered); not in the
    /// BAR.
    pub reconfig_errors: AtomicU64,
}

impl Default for VnicStats {
    fn default() -> Self {
        Self {
            general: std::array::from_fn(|_| AtomicU64::new(0)),
            txr: std::array::from_fn(|_| [AtomicU64::new(0), AtomicU64::new(0)]),
            rxr: std::array::from_fn(|_| [AtomicU64::new(0), AtomicU64::new(0)]),
            rx_drops: std::array::from_fn(|_| AtomicU64::new(0)),
            bpf_loads: AtomicU64::new(0),
            reconfig_errors: AtomicU64::new(0),
        }
    }
}

/// The vNIC's counters: the general counters ([`VNIC_COUNTERS`]), then
/// per ring the driver's `rxq_N_pkts`, `rxq_N_bytes`, `txq_N_pkts`,
/// `txq_N_bytes` (nfp_net_ethtool.c:961-966) for the rings the vNIC has,
/// then `rx_drop.REASON` ([`RxDrop::name`]), `prog.loads`, `prog.faults`
/// (packets the current program aborted; 0 without one, and back to 0 when
/// a program replaces it) and `reconfig_errors`.
impl Counters for VnicDp {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        for (name, c) in VNIC_COUNTERS.iter().zip(&self.stats.general) {
            visit(name, load(c));
        }
        let mut name = String::with_capacity(16);
        let rings = self.rx.len().min(self.tx.len()).min(NFP_NET_RING_MAX);
        for r in 0..rings {
            for (dir, pair) in [("rxq", &self.stats.rxr[r]), ("txq", &self.stats.txr[r])] {
                for (what, c) in ["pkts", "bytes"].into_iter().zip(pair) {
                    name.clear();
                    // Writing to a String cannot fail.
                    let _ = write!(name, "{dir}_{r}_{what}");
                    visit(&name, load(c));
                }
            }
        }
        scoped("rx_drop", visit, |v| {
            for why in RxDrop::ALL {
                v(why.name(), load(&self.stats.rx_drops[why as usize]));
            }
        });
        visit("prog.loads", load(&self.stats.bpf_loads));
        visit("prog.faults", self.bpf().map_or(0, |p| p.faults()));
        visit("reconfig_errors", load(&self.stats.reconfig_errors));
    }
}

impl VnicStats {
    /// Add `n` to general counter `word` (a [`stat`] index).
    pub fn add(&self, word: usize, n: u64) {
        if let Some(c) = self.general.get(word) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// General counter `word` (a [`stat`] index); 0 if there is none.
    pub fn get(&self, word: usize) -> u64 {
        self.general
            .get(word)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Count `frame` under the general RX or TX counters.
    pub fn count_frame(&self, frame: &[u8], rx: bool) {
        Self::count_frame_with(frame, rx, &mut |word, n| self.add(word, n));
    }

    /// The general counters `frame` adds to, received (`rx`) or
    /// transmitted: each [`stat`] word and amount given to `add` (a
    /// receive batch sums them before it adds them to the vNIC's).
    pub fn count_frame_with(frame: &[u8], rx: bool, add: &mut impl FnMut(usize, u64)) {
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
        add(oct, len);
        add(frames, 1);
        match pkt::dst_class(frame) {
            Dst::Unicast => add(uc, len),
            Dst::Multicast => {
                add(mc, len);
                add(mcf, 1);
            }
            Dst::Broadcast => {
                add(bc, len);
                add(bcf, 1);
            }
        }
    }

    /// The u64 counter at BAR offset `off` (8-aligned), if it is one.
    pub(super) fn word_at(&self, off: u64) -> Option<u64> {
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
