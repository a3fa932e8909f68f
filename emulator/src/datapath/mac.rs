//! The MAC counters of a port (nfp_port.h:149-214): the 64 u64 words of
//! its slot in `_mac_stats`, which the driver reads for `ethtool -S`
//! (nfp_net_ethtool.c:75-151) and the datapath serves from here.
//!
//! The receive counters are written by the port's receive thread, the
//! transmit counters by whoever transmits (the host's TX rings, the flow
//! processor's workers for XDP_TX); the two groups lie in different cache
//! lines (0x000-0x0d7 and 0x138-0x1bf).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::counters::Counters;
use crate::pkt;

/// `NFP_MAC_STATS_SIZE` (nfp_port.h:149): bytes of counters per port slot.
pub const NFP_MAC_STATS_SIZE: u64 = 0x200;

/// `NFP_MAC_STATS_RX_IN_OCTETS` (nfp_port.h:151).
pub const RX_IN_OCTETS: usize = 0x000;
/// `NFP_MAC_STATS_RX_FRAME_TOO_LONG_ERRORS` (nfp_port.h:153).
pub const RX_FRAME_TOO_LONG_ERRORS: usize = 0x010;
/// `NFP_MAC_STATS_RX_IN_BROADCAST_PKTS` (nfp_port.h:157).
pub const RX_IN_BROADCAST_PKTS: usize = 0x030;
/// `NFP_MAC_STATS_RX_DROP_EVENTS` (nfp_port.h:158).
pub const RX_DROP_EVENTS: usize = 0x038;
/// `NFP_MAC_STATS_RX_FRAMES_RECEIVED_OK` (nfp_port.h:161).
pub const RX_FRAMES_RECEIVED_OK: usize = 0x050;
/// `NFP_MAC_STATS_RX_UNICAST_PKTS` (nfp_port.h:163).
pub const RX_UNICAST_PKTS: usize = 0x060;
/// `NFP_MAC_STATS_RX_MULTICAST_PKTS` (nfp_port.h:164).
pub const RX_MULTICAST_PKTS: usize = 0x068;
/// `NFP_MAC_STATS_RX_PKTS` (nfp_port.h:165).
pub const RX_PKTS: usize = 0x070;
/// `NFP_MAC_STATS_RX_UNDERSIZE_PKTS` (nfp_port.h:166).
pub const RX_UNDERSIZE_PKTS: usize = 0x078;
/// `NFP_MAC_STATS_RX_PKTS_64_OCTETS` (nfp_port.h:167).
pub const RX_PKTS_64_OCTETS: usize = 0x080;
/// `NFP_MAC_STATS_RX_PKTS_65_TO_127_OCTETS` (nfp_port.h:168).
pub const RX_PKTS_65_TO_127_OCTETS: usize = 0x088;
/// `NFP_MAC_STATS_RX_PKTS_512_TO_1023_OCTETS` (nfp_port.h:169).
pub const RX_PKTS_512_TO_1023_OCTETS: usize = 0x090;
/// `NFP_MAC_STATS_RX_PKTS_1024_TO_1518_OCTETS` (nfp_port.h:170).
pub const RX_PKTS_1024_TO_1518_OCTETS: usize = 0x098;
/// `NFP_MAC_STATS_RX_PKTS_128_TO_255_OCTETS` (nfp_port.h:175).
pub const RX_PKTS_128_TO_255_OCTETS: usize = 0x0c0;
/// `NFP_MAC_STATS_RX_PKTS_256_TO_511_OCTETS` (nfp_port.h:176).
pub const RX_PKTS_256_TO_511_OCTETS: usize = 0x0c8;
/// `NFP_MAC_STATS_RX_PKTS_1519_TO_MAX_OCTETS` (nfp_port.h:177).
pub const RX_PKTS_1519_TO_MAX_OCTETS: usize = 0x0d0;
/// `NFP_MAC_STATS_TX_QUEUE_DROP` (nfp_port.h:190).
pub const TX_QUEUE_DROP: usize = 0x138;
/// `NFP_MAC_STATS_TX_OUT_OCTETS` (nfp_port.h:191).
pub const TX_OUT_OCTETS: usize = 0x140;
/// `NFP_MAC_STATS_TX_BROADCAST_PKTS` (nfp_port.h:195).
pub const TX_BROADCAST_PKTS: usize = 0x160;
/// `NFP_MAC_STATS_TX_PKTS_64_OCTETS` (nfp_port.h:196).
pub const TX_PKTS_64_OCTETS: usize = 0x168;
/// `NFP_MAC_STATS_TX_PKTS_256_TO_511_OCTETS` (nfp_port.h:197).
pub const TX_PKTS_256_TO_511_OCTETS: usize = 0x170;
/// `NFP_MAC_STATS_TX_PKTS_512_TO_1023_OCTETS` (nfp_port.h:198).
pub const TX_PKTS_512_TO_1023_OCTETS: usize = 0x178;
/// `NFP_MAC_STATS_TX_FRAMES_TRANSMITTED_OK` (nfp_port.h:200).
pub const TX_FRAMES_TRANSMITTED_OK: usize = 0x188;
/// `NFP_MAC_STATS_TX_UNICAST_PKTS` (nfp_port.h:201).
pub const TX_UNICAST_PKTS: usize = 0x190;
/// `NFP_MAC_STATS_TX_MULTICAST_PKTS` (nfp_port.h:202).
pub const TX_MULTICAST_PKTS: usize = 0x198;
/// `NFP_MAC_STATS_TX_PKTS_65_TO_127_OCTETS` (nfp_port.h:203).
pub const TX_PKTS_65_TO_127_OCTETS: usize = 0x1a0;
/// `NFP_MAC_STATS_TX_PKTS_128_TO_255_OCTETS` (nfp_port.h:204).
pub const TX_PKTS_128_TO_255_OCTETS: usize = 0x1a8;
/// `NFP_MAC_STATS_TX_PKTS_1024_TO_1518_OCTETS` (nfp_port.h:205).
pub const TX_PKTS_1024_TO_1518_OCTETS: usize = 0x1b0;
/// `NFP_MAC_STATS_TX_PKTS_1519_TO_MAX_OCTETS` (nfp_port.h:206).
pub const TX_PKTS_1519_TO_MAX_OCTETS: usize = 0x1b8;

/// The counters the model keeps, under the names the driver gives them in
/// `ethtool -S` (nfp_net_ethtool.c:75-151): the counter surface's
/// `portN.mac.*` (docs/counters.md).
pub const MAC_COUNTERS: [(&str, usize); 29] = [
    ("rx_octets", RX_IN_OCTETS),
    ("rx_frame_too_long_errors", RX_FRAME_TOO_LONG_ERRORS),
    ("rx_broadcast_pkts", RX_IN_BROADCAST_PKTS),
    ("rx_drop_events", RX_DROP_EVENTS),
    ("rx_frames_received_ok", RX_FRAMES_RECEIVED_OK),
    ("rx_unicast_pkts", RX_UNICAST_PKTS),
    ("rx_multicast_pkts", RX_MULTICAST_PKTS),
    ("rx_pkts", RX_PKTS),
    ("rx_undersize_pkts", RX_UNDERSIZE_PKTS),
    ("rx_pkts_64_octets", RX_PKTS_64_OCTETS),
    ("rx_pkts_65_to_127_octets", RX_PKTS_65_TO_127_OCTETS),
    ("rx_pkts_128_to_255_octets", RX_PKTS_128_TO_255_OCTETS),
    ("rx_pkts_256_to_511_octets", RX_PKTS_256_TO_511_OCTETS),
    ("rx_pkts_512_to_1023_octets", RX_PKTS_512_TO_1023_OCTETS),
    ("rx_pkts_1024_to_1518_octets", RX_PKTS_1024_TO_1518_OCTETS),
    ("rx_pkts_1519_to_max_octets", RX_PKTS_1519_TO_MAX_OCTETS),
    ("tx_queue_drop", TX_QUEUE_DROP),
    ("tx_octets", TX_OUT_OCTETS),
    ("tx_broadcast_pkts", TX_BROADCAST_PKTS),
    ("tx_frames_transmitted_ok", TX_FRAMES_TRANSMITTED_OK),
    ("tx_unicast_pkts", TX_UNICAST_PKTS),
    ("tx_multicast_pkts", TX_MULTICAST_PKTS),
    ("tx_pkts_64_octets", TX_PKTS_64_OCTETS),
    ("tx_pkts_65_to_127_octets", TX_PKTS_65_TO_127_OCTETS),
    ("tx_pkts_128_to_255_octets", TX_PKTS_128_TO_255_OCTETS),
    ("tx_pkts_256_to_511_octets", TX_PKTS_256_TO_511_OCTETS),
    ("tx_pkts_512_to_1023_octets", TX_PKTS_512_TO_1023_OCTETS),
    ("tx_pkts_1024_to_1518_octets", TX_PKTS_1024_TO_1518_OCTETS),
    ("tx_pkts_1519_to_max_octets", TX_PKTS_1519_TO_MAX_OCTETS),
];

/// The 64 u64 MAC counters of one port, aligned to a
/// [`CACHE_BLOCK`](crate::counters::CACHE_BLOCK): the receive counters
/// (0x000-0x0d7) fill the first 256 bytes, the transmit counters
/// (0x138-0x1bf) the second, so the port's receive thread and the
/// transmitting threads, and neighbouring ports, never share a line.
#[repr(align(128))]
pub struct MacStats([AtomicU64; (NFP_MAC_STATS_SIZE / 8) as usize]);

impl Default for MacStats {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl MacStats {
    /// Add `n` to the counter at byte offset `off` (an offset of this module).
    pub fn add(&self, off: usize, n: u64) {
        if let Some(c) = self.0.get(off / 8) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counter at byte offset `off` (an offset of this module); 0 if none.
    pub fn get(&self, off: usize) -> u64 {
        self.0.get(off / 8).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Count `frame` as received (`rx`) or transmitted on the wire.
    pub(super) fn count(&self, frame: &[u8], rx: bool) {
        Self::count_with(frame, rx, &mut |off, n| self.add(off, n));
    }

    /// The counters `frame` adds to, received (`rx`) or transmitted: each
    /// offset of this module and amount given to `add` (a receive batch
    /// sums them before it adds them to the port's counters).
    pub fn count_with(frame: &[u8], rx: bool, add: &mut impl FnMut(usize, u64)) {
        let len = frame.len() as u64;
        // Sizes on the wire include the 4-byte FCS.
        let wire = len + 4;
        let bucket = |b: [usize; 7]| match wire {
            0..=64 => b[0],
            65..=127 => b[1],
            128..=255 => b[2],
            256..=511 => b[3],
            512..=1023 => b[4],
            1024..=1518 => b[5],
            _ => b[6],
        };
        if rx {
            add(RX_IN_OCTETS, wire);
            add(RX_FRAMES_RECEIVED_OK, 1);
            add(RX_PKTS, 1);
            add(
                bucket([
                    RX_PKTS_64_OCTETS,
                    RX_PKTS_65_TO_127_OCTETS,
                    RX_PKTS_128_TO_255_OCTETS,
                    RX_PKTS_256_TO_511_OCTETS,
                    RX_PKTS_512_TO_1023_OCTETS,
                    RX_PKTS_1024_TO_1518_OCTETS,
                    RX_PKTS_1519_TO_MAX_OCTETS,
                ]),
                1,
            );
            if wire < 64 {
                add(RX_UNDERSIZE_PKTS, 1);
            }
            match pkt::dst_class(frame) {
                pkt::Dst::Unicast => add(RX_UNICAST_PKTS, 1),
                pkt::Dst::Multicast => add(RX_MULTICAST_PKTS, 1),
                pkt::Dst::Broadcast => add(RX_IN_BROADCAST_PKTS, 1),
            }
        } else {
            add(TX_OUT_OCTETS, wire);
            add(TX_FRAMES_TRANSMITTED_OK, 1);
            add(
                bucket([
                    TX_PKTS_64_OCTETS,
                    TX_PKTS_65_TO_127_OCTETS,
                    TX_PKTS_128_TO_255_OCTETS,
                    TX_PKTS_256_TO_511_OCTETS,
                    TX_PKTS_512_TO_1023_OCTETS,
                    TX_PKTS_1024_TO_1518_OCTETS,
                    TX_PKTS_1519_TO_MAX_OCTETS,
                ]),
                1,
            );
            match pkt::dst_class(frame) {
                pkt::Dst::Unicast => add(TX_UNICAST_PKTS, 1),
                pkt::Dst::Multicast => add(TX_MULTICAST_PKTS, 1),
                pkt::Dst::Broadcast => add(TX_BROADCAST_PKTS, 1),
            }
        }
    }
}

impl Counters for MacStats {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        for (name, off) in MAC_COUNTERS {
            visit(name, self.get(off));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{CACHE_BLOCK, apart, cache_blocks};

    /// The receive group and the transmit group of a port, and the ports of
    /// a card, are written by different threads: no two share a cache line.
    #[test]
    fn receive_and_transmit_counters_of_ports_lie_in_separate_lines() {
        let ports: Vec<MacStats> = (0..3).map(|_| MacStats::default()).collect();
        assert_eq!(std::mem::align_of::<MacStats>(), CACHE_BLOCK);
        assert_eq!(std::mem::size_of::<MacStats>() as u64, NFP_MAC_STATS_SIZE);
        let group = |m: &MacStats, rx: bool| -> Vec<usize> {
            MAC_COUNTERS
                .iter()
                .filter(|(name, _)| name.starts_with("rx_") == rx)
                .map(|&(_, off)| std::ptr::from_ref(&m.0[off / 8]) as usize / CACHE_BLOCK)
                .collect()
        };
        let mut owners = std::collections::HashMap::new();
        for (p, m) in ports.iter().enumerate() {
            for rx in [true, false] {
                for block in group(m, rx) {
                    let owner = *owners.entry(block).or_insert((p, rx));
                    assert_eq!(owner, (p, rx), "port {p} rx={rx} shares a line");
                }
            }
        }
        assert!(apart(ports.iter().map(cache_blocks)));
        // Every counter the surface names is one the BAR serves.
        for (name, off) in MAC_COUNTERS {
            assert!(off < NFP_MAC_STATS_SIZE as usize && off % 8 == 0, "{name}");
            assert!(name.starts_with("rx_") == (off < 0x100), "{name}");
        }
    }
}
