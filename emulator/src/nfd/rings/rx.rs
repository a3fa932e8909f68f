//! The freelist and RX rings: a frame for the host takes the next buffer
//! the driver posted on the freelist, is written there with its metadata,
//! and the descriptor is overwritten with the RX descriptor (DD set)
//! (nfd3/dp.c `nfp_nfd3_rx`, nfp_net.h:194-251).

use std::sync::atomic::Ordering;

use super::VnicDp;
use crate::nfd::Host;
use crate::nfd::ctrl::{
    NFP_NET_CFG_CTRL_L2BC, NFP_NET_CFG_CTRL_L2MC, NFP_NET_CFG_CTRL_PROMISC, NFP_NET_CFG_CTRL_RSS,
    NFP_NET_CFG_CTRL_RSS2, NFP_NET_CFG_CTRL_RXCSUM, NFP_NET_CFG_ICR_RXTX, NFP_NET_CFG_RSS_MASK,
    NFP_NET_META_FIELD_SIZE, NFP_NET_META_HASH, VnicConfig, VnicKind, stat,
};
use crate::nfd::desc::{
    NFD3_RX_DESC_SIZE, PCIE_DESC_RX_EOP, PCIE_DESC_RX_IP4_CSUM, PCIE_DESC_RX_IP4_CSUM_OK,
    PCIE_DESC_RX_TCP_CSUM, PCIE_DESC_RX_TCP_CSUM_OK, PCIE_DESC_RX_UDP_CSUM,
    PCIE_DESC_RX_UDP_CSUM_OK, fl_addr, rx_desc,
};
use crate::nfd::qc::{NFP_QCP_PTR_MASK, QueueController};
use crate::nfd::rss::rss_hash;
use crate::pkt::{self, Dst};

/// Why the card did not deliver a frame to the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RxDrop {
    /// The vNIC (or the ring) is not enabled.
    #[error("the vNIC or its ring is not enabled")]
    Disabled,
    /// Not for this vNIC's MAC and not promiscuous.
    #[error("filtered by destination MAC")]
    Filtered,
    /// Larger than the MTU or the freelist buffer.
    #[error("larger than the MTU or the freelist buffer")]
    TooLong,
    /// No freelist buffer posted (freelist exhausted).
    #[error("no freelist buffer posted")]
    NoBuffer,
    /// A DMA access failed.
    #[error("DMA to the host failed")]
    Dma,
}

impl RxDrop {
    /// Every reason, in declaration order (`reason as usize` indexes
    /// [`VnicStats::rx_drops`](super::VnicStats::rx_drops)).
    pub const ALL: [RxDrop; 5] = [
        RxDrop::Disabled,
        RxDrop::Filtered,
        RxDrop::TooLong,
        RxDrop::NoBuffer,
        RxDrop::Dma,
    ];

    /// The reason's name in the counter surface (`vnicN.rx_drop.NAME`,
    /// docs/counters.md).
    pub fn name(self) -> &'static str {
        match self {
            RxDrop::Disabled => "disabled",
            RxDrop::Filtered => "filtered",
            RxDrop::TooLong => "too_long",
            RxDrop::NoBuffer => "no_buffer",
            RxDrop::Dma => "dma",
        }
    }
}

/// Where one freelist/RX ring stands.
#[derive(Default)]
pub(super) struct RxState {
    /// Next freelist descriptor to use, in the queue's pointer space.
    pub(super) idx: u32,
}

impl RxState {
    /// Back to descriptor 0.
    pub(super) fn restart(&mut self) {
        self.idx = 0;
    }
}

/// Largest frame a vNIC accepts for `mtu`: Ethernet header and two VLAN tags.
pub(super) fn max_frame(mtu: u32) -> usize {
    (mtu as usize).saturating_add(pkt::ETH_HLEN + 8)
}

impl VnicDp {
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
            self.stats.rx_drops[why as usize].fetch_add(1, Ordering::Relaxed);
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
            if let Some((hash, ty)) = rss_hash(frame, &cfg.rss_key, cfg.rss_ctrl) {
                let slot = (hash & cfg.rss_ctrl & NFP_NET_CFG_RSS_MASK) as usize;
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
        let data_len = u16::try_from(meta_len + frame.len()).map_err(|_| RxDrop::TooLong)?;
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
        let mut st = self.rx.get(ring).ok_or(RxDrop::Disabled)?.lock();
        if QueueController::distance(st.idx, host.qc.wptr(q)) == 0 {
            return Err(RxDrop::NoBuffer);
        }
        let slot = u64::from(st.idx & (rc.size() - 1));
        let Some(desc_addr) = rc.slot_addr(slot, NFD3_RX_DESC_SIZE) else {
            crate::guest_warn!(
                "{} RX ring {ring} at {:#x}: descriptor {slot} lies beyond the end of the address space",
                self.name(),
                rc.addr
            );
            return Err(RxDrop::Dma);
        };
        let mut fl = [0u8; 8];
        host.mem.read(desc_addr, &mut fl).map_err(|_| RxDrop::Dma)?;
        let buf = fl_addr(&fl);
        // A 48-bit buffer address plus at most 8 bytes of metadata cannot
        // wrap; checked all the same.
        let data_addr = buf.checked_add(meta_len as u64).ok_or(RxDrop::Dma)?;
        host.mem
            .write(buf, &meta[..meta_len])
            .map_err(|_| RxDrop::Dma)?;
        host.mem.write(data_addr, frame).map_err(|_| RxDrop::Dma)?;
        let d = rx_desc(data_len, meta_len as u8, flags, 0);
        host.mem
            .store_u64_release(desc_addr, d)
            .map_err(|_| RxDrop::Dma)?;
        st.idx = (st.idx + 1) & NFP_QCP_PTR_MASK;
        drop(st);
        host.qc.advance_rptr(q, 1);
        if count_rx {
            self.stats.count_frame(frame, true);
        }
        if let Some([pkts, bytes]) = self.stats.rxr.get(ring) {
            pkts.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(frame.len() as u64, Ordering::Relaxed);
        }
        self.raise(host, rc.vector, NFP_NET_CFG_ICR_RXTX);
        Ok(())
    }
}
