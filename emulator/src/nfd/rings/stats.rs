//! The counters a vNIC's BAR exposes: the general counters at
//! `NFP_NET_CFG_STATS_BASE` and {packets, bytes} per ring at
//! `NFP_NET_CFG_TXR_STATS_BASE` / `_RXR_STATS_BASE` (nfp_net_ctrl.h:358-400).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::nfd::ctrl::{
    NFP_NET_CFG_RXR_STATS_BASE, NFP_NET_CFG_STATS_BASE, NFP_NET_CFG_STATS_WORDS,
    NFP_NET_CFG_TXR_STATS_BASE, NFP_NET_RING_MAX, stat,
};
use crate::pkt::{self, Dst};

/// Counters the BAR exposes (and the card keeps for introspection).
pub struct VnicStats {
    /// The general counters, indexed by [`stat`] word.
    pub general: [AtomicU64; NFP_NET_CFG_STATS_WORDS],
    /// {packets, bytes} per TX ring.
    pub txr: [[AtomicU64; 2]; NFP_NET_RING_MAX],
    /// {packets, bytes} per RX ring.
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
