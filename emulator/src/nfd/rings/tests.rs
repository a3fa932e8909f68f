//! The rings driven the way the nfp driver drives them, against real
//! (memfd-backed) guest memory.

use std::fs::File;
use std::sync::atomic::Ordering;

use super::*;
use crate::counters::Counters;
use crate::nfd::ctrl::*;
use crate::nfd::desc::*;
use crate::nfd::qc::{NFP_QCP_QUEUE_ADD_WPTR, NFP_QCP_QUEUE_ADDR_SZ};
use crate::nfd::rss::rss_hash;
use crate::pkt::{self, tests::tcp4};
use crate::testutil::{RingLayout, data_vnic_params, eop_desc, eventfd, irqs, ram};

/// Guest RAM of the rig: ring pair 0's rings and buffers at its start,
/// room for another ring's after them.
const RAM: u64 = 0x10_0000;
const RAM_SIZE: u64 = 0x80_0000;
/// Bytes per buffer (also the freelist buffer size given to the vNIC).
const BUFSZ: u64 = 0x1000;
/// The MSI-X vectors of TX ring 0 and of RX ring 0.
const TX_VECTOR: u8 = 2;
const RX_VECTOR: u8 = 3;
const MAC: [u8; 6] = [0, 0x15, 0x4d, 0, 1, 0];

/// Ring pair 0, rings of 2^`log2` descriptors, in the rig's RAM.
fn layout(log2: u8) -> RingLayout {
    RingLayout::with_buf_size(RAM, log2, RX_VECTOR, BUFSZ)
}

/// The host side of data vNIC 0 (no BPF) with ring pair 0 laid out as
/// `l`, and the driver's ring pointers.
struct Rig {
    host: Host,
    v: VnicDp,
    l: RingLayout,
    tx_irq: File,
    rx_irq: File,
    /// Driver-side write pointer of the TX ring and freelist.
    tx_wr: u32,
    fl_wr: u32,
}

/// The vNIC enabled with `ctrl`, ring pair 0 where `l` puts it.
fn config(ctrl: u32, l: &RingLayout) -> VnicConfig {
    let mut c = VnicConfig {
        enabled: true,
        ctrl: NFP_NET_CFG_CTRL_ENABLE | ctrl,
        mtu: 1500,
        flbufsz: l.buf_size as u32,
        mac: MAC,
        tx: vec![None; 8],
        rx: vec![None; 8],
        lsc_vector: 0,
        ..VnicConfig::default()
    };
    c.tx[0] = Some(RingCfg {
        addr: l.tx,
        log2: l.log2,
        vector: TX_VECTOR,
    });
    c.rx[0] = Some(RingCfg {
        addr: l.rx,
        log2: l.log2,
        vector: l.vector,
    });
    c
}

impl Rig {
    fn new(ctrl: u32, log2: u8) -> Self {
        let host = Host::new(256);
        host.mem.map(ram(RAM, RAM_SIZE)).unwrap();
        let tx_irq = eventfd();
        let rx_irq = eventfd();
        {
            let mut m = host.msix.write();
            m.assign(u32::from(TX_VECTOR), vec![tx_irq.try_clone().unwrap()])
                .unwrap();
            m.assign(u32::from(RX_VECTOR), vec![rx_irq.try_clone().unwrap()])
                .unwrap();
        }
        let l = layout(log2);
        let v = VnicDp::new(data_vnic_params(0, false), true);
        v.apply_config(&host.qc, config(ctrl, &l));
        Self {
            host,
            v,
            l,
            tx_irq,
            rx_irq,
            tx_wr: 0,
            fl_wr: 0,
        }
    }

    /// Post TX descriptors for the given buffers (one packet) and ring the
    /// doorbell; returns the frames that went out.
    fn send(&mut self, descs: &[TxDesc]) -> Vec<Vec<u8>> {
        for d in descs {
            let at = self.l.tx_desc(self.tx_wr);
            self.host.mem.write(at, &d.encode()).unwrap();
            self.tx_wr += 1;
        }
        self.host
            .qc
            .write(NFP_QCP_QUEUE_ADD_WPTR, &(descs.len() as u32).to_le_bytes());
        let mut out = Vec::new();
        self.v.tx_kick(&self.host, 0, &mut |f| out.push(f.to_vec()));
        out
    }

    /// Copy `data` into TX buffer `k`; returns its address.
    fn buffer(&self, data: &[u8], k: u32) -> u64 {
        let at = self.l.tx_buf(k);
        self.host.mem.write(at, data).unwrap();
        at
    }

    /// Post `n` freelist buffers and ring the freelist doorbell.
    fn post_fl(&mut self, n: u32) {
        for _ in 0..n {
            let d = fl_desc(self.l.fl_buf(self.fl_wr));
            self.host.mem.write(self.l.rx_desc(self.fl_wr), &d).unwrap();
            self.fl_wr += 1;
        }
        let q = 2 * NFP_QCP_QUEUE_ADDR_SZ + NFP_QCP_QUEUE_ADD_WPTR;
        self.host.qc.write(q, &n.to_le_bytes());
    }

    /// The RX descriptor and packet in slot `slot`.
    fn received(&self, slot: u32) -> (u16, u8, u16, Vec<u8>) {
        let mut d = [0u8; 8];
        self.host.mem.read(self.l.rx_desc(slot), &mut d).unwrap();
        let len = u16::from_le_bytes([d[0], d[1]]);
        let flags = u16::from_le_bytes([d[4], d[5]]);
        let mut p = vec![0u8; usize::from(len)];
        self.host.mem.read(self.l.fl_buf(slot), &mut p).unwrap();
        (len, d[3], flags, p)
    }

    fn icr(&self, e: u64) -> u8 {
        let mut b = [0u8];
        self.v.overlay_read(NFP_NET_CFG_ICR_BASE + e, &mut b);
        b[0]
    }
}

#[test]
fn tx_single_and_gathered_packets() {
    let mut r = Rig::new(0, 8);
    let f = tcp4(b"single buffer", 1, 0x18);
    let a = r.buffer(&f, 0);
    assert_eq!(r.send(&[eop_desc(a, f.len())]), vec![f.clone()]);
    assert_eq!(
        r.host.qc.rptr(0),
        1,
        "read pointer advanced by one descriptor"
    );
    assert_eq!(irqs(&r.tx_irq), 1);
    // Three fragments, metadata prepended to the first.
    let g = tcp4(&[7u8; 300], 2, 0x18);
    let mut head = vec![0xee; 8];
    head.extend_from_slice(&g[..40]);
    let a0 = r.buffer(&head, 1);
    let a1 = r.buffer(&g[40..200], 2);
    let a2 = r.buffer(&g[200..], 3);
    let d0 = TxDesc {
        addr: a0,
        dma_len: 48,
        md_bytes: 8,
        data_len: (g.len() + 8) as u16,
        ..TxDesc::default()
    };
    let d1 = TxDesc {
        addr: a1,
        dma_len: 160,
        ..TxDesc::default()
    };
    let d2 = TxDesc {
        addr: a2,
        dma_len: (g.len() - 200) as u16,
        eop: true,
        ..TxDesc::default()
    };
    // The ICR is still set from the first packet: no new interrupt yet.
    assert_eq!(r.send(&[d0, d1, d2]), vec![g.clone()]);
    assert_eq!(r.host.qc.rptr(0), 4);
    assert_eq!(irqs(&r.tx_irq), 0, "masked by ICR");
    // Unmasking (ICR <- 0) delivers the pending interrupt.
    r.v.overlay_write(&r.host, NFP_NET_CFG_ICR_BASE + 2, &[0]);
    assert_eq!(irqs(&r.tx_irq), 1);
    assert_eq!(r.v.stats.get(stat::TX_FRAMES), 2);
    assert_eq!(r.v.stats.txr[0][0].load(Ordering::Relaxed), 2);
}

#[test]
fn tx_checksum_offload_and_lso() {
    let mut r = Rig::new(0, 8);
    let mut f = tcp4(&[1u8; 100], 9, 0x18);
    // The stack leaves checksums partial; spoil them to be sure.
    f[24..26].copy_from_slice(&[0, 0]);
    f[50..52].copy_from_slice(&[0x12, 0x34]);
    let a = r.buffer(&f, 0);
    let mut d = eop_desc(a, f.len());
    d.flags = NFD3_DESC_TX_CSUM | NFD3_DESC_TX_IP4_CSUM | NFD3_DESC_TX_TCP_CSUM;
    let out = r.send(&[d]);
    let c = pkt::verify_checksums(&out[0]);
    assert!(c.ip4_ok && c.tcp_ok);
    // LSO: 4000 bytes of payload, MSS 1448.
    let big = tcp4(&[3u8; 4000], 100, 0x18);
    let a = r.buffer(&big, 2);
    let mut d = eop_desc(a, big.len());
    d.flags = NFD3_DESC_TX_LSO | NFD3_DESC_TX_CSUM | NFD3_DESC_TX_IP4_CSUM | NFD3_DESC_TX_TCP_CSUM;
    d.l3_offset = 14;
    d.l4_offset = 34;
    d.lso_hdrlen = 54;
    d.mss = 1448;
    let segs = r.send(&[d]);
    assert_eq!(segs.len(), 3);
    assert!(segs.iter().all(|s| s.len() <= 54 + 1448));
    assert!(segs.iter().all(|s| pkt::verify_checksums(s).tcp_ok));
}

#[test]
fn tx_bad_descriptors_are_counted_and_skipped() {
    let mut r = Rig::new(0, 8);
    // Buffer outside guest memory.
    assert!(r.send(&[eop_desc(0xdead_0000, 100)]).is_empty());
    // Zero-length descriptor.
    assert!(r.send(&[eop_desc(r.l.tx_buf(0), 0)]).is_empty());
    // Larger than the MTU without LSO.
    let f = vec![0u8; 3000];
    let a = r.buffer(&f, 0);
    assert!(r.send(&[eop_desc(a, f.len())]).is_empty());
    assert_eq!(r.v.stats.get(stat::TX_ERRORS), 3);
    assert_eq!(r.host.qc.rptr(0), 3, "bad descriptors are still consumed");
    // The ring keeps working.
    let g = tcp4(b"ok", 1, 0x18);
    let a = r.buffer(&g, 0);
    assert_eq!(r.send(&[eop_desc(a, g.len())]).len(), 1);
    // A doorbell claiming more descriptors than the ring has is clamped.
    r.host
        .qc
        .write(NFP_QCP_QUEUE_ADD_WPTR, &100_000u32.to_le_bytes());
    r.v.tx_kick(&r.host, 0, &mut |_| {});
}

#[test]
fn a_packet_may_span_doorbells() {
    let mut r = Rig::new(0, 8);
    let g = tcp4(&[9u8; 200], 3, 0x18);
    let a0 = r.buffer(&g[..60], 0);
    let a1 = r.buffer(&g[60..], 1);
    let head = TxDesc {
        addr: a0,
        dma_len: 60,
        data_len: g.len() as u16,
        ..TxDesc::default()
    };
    let tail = TxDesc {
        addr: a1,
        dma_len: (g.len() - 60) as u16,
        eop: true,
        ..TxDesc::default()
    };
    // Head in one doorbell, the rest in the next: one whole frame.
    assert!(r.send(&[head]).is_empty());
    assert_eq!(r.send(&[tail]), vec![g.clone()]);
    // A head that failed (outside guest memory) spoils its packet even
    // when the rest comes with the next doorbell.
    assert!(
        r.send(&[TxDesc {
            addr: 0xdead_0000,
            ..head
        }])
        .is_empty()
    );
    assert!(r.send(&[tail]).is_empty(), "no frame without its head");
    assert_eq!(r.v.stats.get(stat::TX_ERRORS), 1);
    assert_eq!(r.send(&[head, tail]), vec![g]);
}

#[test]
fn rx_delivery_sets_dd_length_and_raises_the_vector() {
    let mut r = Rig::new(NFP_NET_CFG_CTRL_RXCSUM, 8);
    r.post_fl(4);
    let f = tcp4(b"to the host", 5, 0x18);
    r.v.deliver(&r.host, &f).unwrap();
    let (len, meta_dd, flags, p) = r.received(0);
    assert_eq!(usize::from(len), f.len());
    assert_eq!(meta_dd, PCIE_DESC_RX_DD, "DD set, no metadata");
    assert_eq!(p, f);
    assert_ne!(flags & PCIE_DESC_RX_TCP_CSUM_OK, 0);
    assert_ne!(flags & PCIE_DESC_RX_IP4_CSUM_OK, 0);
    assert_eq!(irqs(&r.rx_irq), 1);
    assert_eq!(r.icr(3), NFP_NET_CFG_ICR_RXTX);
    assert_eq!(r.v.stats.get(stat::RX_FRAMES), 1);
    // A corrupted TCP checksum is reported as checked but not OK.
    let mut bad = f.clone();
    bad[60] ^= 1;
    r.v.deliver(&r.host, &bad).unwrap();
    let (_, _, flags, _) = r.received(1);
    assert_ne!(flags & PCIE_DESC_RX_TCP_CSUM, 0);
    assert_eq!(flags & PCIE_DESC_RX_TCP_CSUM_OK, 0);
}

#[test]
fn rx_freelist_exhaustion_drops_and_counts_then_recovers() {
    let mut r = Rig::new(0, 8);
    let f = tcp4(b"x", 1, 0x10);
    assert_eq!(r.v.deliver(&r.host, &f), Err(RxDrop::NoBuffer));
    r.post_fl(2);
    assert!(r.v.deliver(&r.host, &f).is_ok());
    assert!(r.v.deliver(&r.host, &f).is_ok());
    assert_eq!(r.v.deliver(&r.host, &f), Err(RxDrop::NoBuffer));
    assert_eq!(r.v.stats.get(stat::RX_DISCARDS), 2);
    assert_eq!(r.v.counter("rx_drop.no_buffer"), Some(2));
    r.post_fl(1);
    assert!(r.v.deliver(&r.host, &f).is_ok());
}

#[test]
fn rx_ring_pointer_wraps() {
    let mut r = Rig::new(0, 2); // 4-entry ring
    for i in 0..10u32 {
        r.post_fl(1);
        let f = tcp4(&i.to_be_bytes(), i, 0x10);
        r.v.deliver(&r.host, &f).unwrap();
        let (_, dd, _, p) = r.received(i % 4);
        assert_eq!(dd & PCIE_DESC_RX_DD, PCIE_DESC_RX_DD);
        assert_eq!(p, f, "packet {i} in slot {}", i % 4);
    }
}

#[test]
fn rx_mac_filter_and_size_limit() {
    let mut r = Rig::new(0, 8);
    r.post_fl(8);
    let mut f = tcp4(b"x", 1, 0x10);
    f[..6].copy_from_slice(&[0, 0x15, 0x4d, 9, 9, 9]);
    assert_eq!(r.v.deliver(&r.host, &f), Err(RxDrop::Filtered));
    f[..6].copy_from_slice(&MAC);
    assert!(r.v.deliver(&r.host, &f).is_ok());
    f[..6].copy_from_slice(&[0xff; 6]);
    assert_eq!(r.v.deliver(&r.host, &f), Err(RxDrop::Filtered), "L2BC off");
    let mut r = Rig::new(NFP_NET_CFG_CTRL_L2BC, 8);
    r.post_fl(8);
    assert!(r.v.deliver(&r.host, &f).is_ok());
    let big = vec![0xffu8; 1500 + 14 + 8 + 1];
    assert_eq!(r.v.deliver(&r.host, &big), Err(RxDrop::TooLong));
    let mut r = Rig::new(NFP_NET_CFG_CTRL_PROMISC, 8);
    r.post_fl(8);
    let mut f = tcp4(b"x", 1, 0x10);
    f[..6].copy_from_slice(&[0, 0x15, 0x4d, 9, 9, 9]);
    assert!(r.v.deliver(&r.host, &f).is_ok(), "promiscuous");
    // Each refusal is counted under its reason; a filtered frame is in
    // no BAR counter.
    for (i, why) in RxDrop::ALL.into_iter().enumerate() {
        assert_eq!(why as usize, i, "RxDrop::ALL in declaration order");
    }
    let r2 = Rig::new(0, 8);
    r2.v.deliver(&r2.host, &f).unwrap_err();
    assert_eq!(r2.v.counter("rx_drop.filtered"), Some(1));
    assert_eq!(r2.v.counter("dev_rx_discards"), Some(0));
}

#[test]
fn rss_spreads_flows_and_prepends_the_hash() {
    let mut r = Rig::new(NFP_NET_CFG_CTRL_RSS2, 8);
    let mut c = config(NFP_NET_CFG_CTRL_RSS2, &r.l);
    // Ring 1 in the RAM after ring 0's.
    let l1 = RingLayout::with_buf_size(r.l.ram + r.l.ram_size, 8, 4, BUFSZ);
    c.rx[1] = Some(RingCfg {
        addr: l1.rx,
        log2: l1.log2,
        vector: l1.vector,
    });
    c.rss_ctrl = NFP_NET_CFG_RSS_IPV4_TCP | 0x7f;
    for (i, k) in c.rss_key.iter_mut().enumerate() {
        *k = (i as u8).wrapping_mul(37) ^ 0x6d;
    }
    for (i, e) in c.rss_itbl.iter_mut().enumerate() {
        *e = (i % 2) as u8;
    }
    r.v.apply_config(&r.host.qc, c.clone());
    // Post buffers on both freelists (queues 2 and 6).
    r.post_fl(8);
    for s in 0..8 {
        r.host
            .mem
            .write(l1.rx_desc(s), &fl_desc(l1.fl_buf(s)))
            .unwrap();
    }
    r.host.qc.write(6 * 0x800 + 4, &8u32.to_le_bytes());
    let mut rings = std::collections::HashSet::new();
    for port in 0..16u16 {
        let mut f = tcp4(b"flow", 1, 0x10);
        f[34..36].copy_from_slice(&(1000 + port).to_be_bytes());
        pkt::fill_checksums(&mut f, true, true);
        let (hash, _) = rss_hash(&f, &c.rss_key, c.rss_ctrl).unwrap();
        let ring = usize::from(c.rss_itbl[(hash & 0x7f) as usize]);
        rings.insert(ring);
        r.v.deliver(&r.host, &f).unwrap();
        assert!(r.v.stats.rxr[ring][0].load(Ordering::Relaxed) > 0);
    }
    assert_eq!(rings.len(), 2, "16 flows land on both rings");
    // Chained metadata: HASH with its type, then the hash, big-endian.
    let (len, meta_dd, _, p) = r.received(0);
    assert_eq!(meta_dd & PCIE_DESC_RX_META_LEN_MASK, 8);
    let info = u32::from_be_bytes(p[..4].try_into().unwrap());
    assert_eq!(info & 0xf, NFP_NET_META_HASH);
    assert_eq!(info >> 4, u32::from(NFP_NET_RSS_IPV4_TCP));
    assert_eq!(usize::from(len), 8 + 54 + 4);
}

#[test]
fn disabled_vnic_and_reconfig_restart_rings() {
    let mut r = Rig::new(0, 8);
    r.post_fl(4);
    let f = tcp4(b"x", 1, 0x10);
    r.v.deliver(&r.host, &f).unwrap();
    let mut c = config(0, &r.l);
    c.enabled = false;
    r.v.apply_config(&r.host.qc, c);
    assert_eq!(r.v.deliver(&r.host, &f), Err(RxDrop::Disabled));
    assert_eq!(r.host.qc.wptr(2), 0, "freelist queue reset");
    r.v.apply_config(&r.host.qc, config(0, &r.l));
    r.fl_wr = 0;
    r.post_fl(1);
    r.v.deliver(&r.host, &f).unwrap();
    assert_eq!(r.received(0).3, f, "delivery restarts at slot 0");
}

#[test]
fn overlay_registers() {
    let r = Rig::new(0, 8);
    // Counters at 0xd00.. read as u64 little-endian.
    r.v.stats.add(stat::RX_FRAMES, 5);
    let mut b = [0u8; 8];
    r.v.overlay_read(NFP_NET_CFG_STATS_BASE + 8 * stat::RX_FRAMES as u64, &mut b);
    assert_eq!(u64::from_le_bytes(b), 5);
    // STS: link up at 25G.
    let mut s = [0u8; 4];
    r.v.overlay_read(0x34, &mut s);
    assert_eq!(u32::from_le_bytes(s) & 0x1f, 0x9);
    // Link down raises LSC with cause 2 on the LSC vector (0 here).
    let lsc = eventfd();
    r.host
        .msix
        .write()
        .assign(0, vec![lsc.try_clone().unwrap()])
        .unwrap();
    r.v.set_link(&r.host, false);
    assert_eq!(irqs(&lsc), 1);
    assert_eq!(r.icr(0), NFP_NET_CFG_ICR_LSC);
    r.v.overlay_read(0x34, &mut s);
    assert_eq!(u32::from_le_bytes(s) & 1, 0);
    // A link change while the vector is masked is raised at unmask with
    // its own cause.
    r.v.set_link(&r.host, true);
    assert_eq!(irqs(&lsc), 0, "masked");
    r.v.overlay_write(&r.host, NFP_NET_CFG_ICR_BASE, &[0]);
    assert_eq!(irqs(&lsc), 1);
    assert_eq!(r.icr(0), NFP_NET_CFG_ICR_LSC);
    assert!(VnicDp::is_overlay(0xc05) && !VnicDp::is_overlay(0x30) && VnicDp::is_overlay(0x1408));
}

/// The guest chooses ring addresses; near the top of the address space a
/// descriptor's address wraps. Those descriptors are consumed as DMA
/// errors (the doorbell is answered, nothing goes out), never a panic.
#[test]
fn tx_ring_at_the_top_of_the_address_space() {
    let mut r = Rig::new(0, 8);
    let mut c = config(0, &r.l);
    // 256 descriptors of 16 bytes: slots 128.. lie past 2^64.
    c.tx[0] = Some(RingCfg {
        addr: u64::MAX - 0x7ff,
        log2: 8,
        vector: 2,
    });
    r.v.apply_config(&r.host.qc, c);
    r.host
        .qc
        .write(NFP_QCP_QUEUE_ADD_WPTR, &200u32.to_le_bytes());
    let mut out = 0;
    r.v.tx_kick(&r.host, 0, &mut |_| out += 1);
    assert_eq!(out, 0);
    assert_eq!(r.host.qc.rptr(0), 200, "every descriptor consumed");
    assert_eq!(irqs(&r.tx_irq), 1, "the doorbell is answered");
    // The whole ring around, twice.
    r.host
        .qc
        .write(NFP_QCP_QUEUE_ADD_WPTR, &256u32.to_le_bytes());
    r.v.tx_kick(&r.host, 0, &mut |_| out += 1);
    r.host
        .qc
        .write(NFP_QCP_QUEUE_ADD_WPTR, &256u32.to_le_bytes());
    r.v.tx_kick(&r.host, 0, &mut |_| out += 1);
    assert_eq!(out, 0);
    assert_eq!(r.host.qc.rptr(0), 712);
    // A good ring afterwards works.
    r.v.apply_config(&r.host.qc, config(0, &r.l));
    r.tx_wr = 0;
    let f = tcp4(b"ok", 1, 0x18);
    let a = r.buffer(&f, 0);
    assert_eq!(r.send(&[eop_desc(a, f.len())]), vec![f]);
}

#[test]
fn rx_ring_at_the_top_of_the_address_space() {
    for addr in [u64::MAX, u64::MAX - 7, u64::MAX - 0x3ff] {
        let r = Rig::new(0, 8);
        let mut c = config(0, &r.l);
        c.rx[0] = Some(RingCfg {
            addr,
            log2: 8,
            vector: 3,
        });
        r.v.apply_config(&r.host.qc, c);
        r.host.qc.write(
            2 * NFP_QCP_QUEUE_ADDR_SZ + NFP_QCP_QUEUE_ADD_WPTR,
            &200u32.to_le_bytes(),
        );
        let f = tcp4(b"x", 1, 0x10);
        for _ in 0..3 {
            assert_eq!(r.v.deliver(&r.host, &f), Err(RxDrop::Dma), "{addr:#x}");
        }
        assert_eq!(r.v.stats.get(stat::RX_ERRORS), 3);
        assert_eq!(r.host.qc.rptr(2), 0, "no buffer used");
        assert_eq!(irqs(&r.rx_irq), 0);
    }
    // A slot past 2^64 has no address.
    let rc = RingCfg {
        addr: u64::MAX - 0x3ff,
        log2: 10,
        vector: 0,
    };
    assert_eq!(rc.slot_addr(0x7f, NFD3_RX_DESC_SIZE), Some(u64::MAX - 7));
    assert_eq!(rc.slot_addr(0x80, NFD3_RX_DESC_SIZE), None);
    assert_eq!(rc.slot_addr(u64::MAX, NFD3_TX_DESC_SIZE), None);
    // A ring size no reconfig accepts does not overflow either.
    assert_eq!(RingCfg { log2: 200, ..rc }.size(), 1 << 31);
}

#[test]
fn overlay_accesses_at_the_end_of_the_address_space() {
    let r = Rig::new(0, 8);
    let mut b = [0xeeu8; 8];
    r.v.overlay_read(u64::MAX - 3, &mut b);
    assert_eq!(b, [0xee; 8]);
    r.v.overlay_write(&r.host, u64::MAX - 3, &[0; 8]);
}

/// A vector left masked when the driver quiesced the vNIC (its last NAPI
/// poll used the whole budget, so `nfp_net_irq_unmask` never ran) fires
/// again once the rings restart: a ring reconfig unmasks the vectors of
/// the rings it enables, and a cause from before the restart is not
/// raised.
#[test]
fn a_ring_restart_unmasks_the_ring_vectors() {
    let mut r = Rig::new(0, 8);
    r.post_fl(4);
    let f = tcp4(b"x", 1, 0x10);
    r.v.deliver(&r.host, &f).unwrap();
    assert_eq!(irqs(&r.rx_irq), 1);
    assert_eq!(
        r.icr(u64::from(RX_VECTOR)),
        NFP_NET_CFG_ICR_RXTX,
        "auto-masked"
    );
    // Another frame while masked: pending, not raised.
    r.v.deliver(&r.host, &f).unwrap();
    assert_eq!(irqs(&r.rx_irq), 0);
    // ethtool -L: disable, then enable with the rings again; the driver
    // never writes the ICR.
    let mut c = config(0, &r.l);
    c.enabled = false;
    r.v.apply_config(&r.host.qc, c);
    r.v.apply_config(&r.host.qc, config(0, &r.l));
    assert_eq!(r.icr(u64::from(RX_VECTOR)), 0, "unmasked by the restart");
    assert_eq!(irqs(&r.rx_irq), 0, "the old cause is not raised");
    r.fl_wr = 0;
    r.post_fl(1);
    r.v.deliver(&r.host, &f).unwrap();
    assert_eq!(irqs(&r.rx_irq), 1, "the vector fires after the restart");
    // A reconfig that leaves the rings in place leaves the mask alone.
    r.v.apply_config(&r.host.qc, config(0, &r.l));
    assert_eq!(r.icr(u64::from(RX_VECTOR)), NFP_NET_CFG_ICR_RXTX);
}

/// The monitor's view of the rings: each enabled ring's queue pointers and
/// next descriptor, and the vectors left masked or with causes pending.
#[test]
fn ring_view_shows_pointers_and_masked_vectors() {
    let mut r = Rig::new(0, 8);
    let v = r.v.ring_view(&r.host);
    assert!(v.vectors.is_empty(), "nothing raised yet");
    assert_eq!((v.tx.len(), v.rx.len()), (1, 1));
    r.post_fl(4);
    let f = tcp4(b"x", 1, 0x10);
    r.v.deliver(&r.host, &f).unwrap();
    r.v.deliver(&r.host, &f).unwrap();
    let v = r.v.ring_view(&r.host);
    let rx = v.rx[0];
    assert_eq!((rx.ring, rx.vector, rx.size), (0, RX_VECTOR, 256));
    assert_eq!(
        (rx.wptr, rx.rptr, rx.idx),
        (4, 2, 2),
        "4 buffers posted, 2 used"
    );
    // Raised once (masked), then a cause pending behind the mask.
    assert_eq!(
        v.vectors,
        vec![(RX_VECTOR, NFP_NET_CFG_ICR_RXTX, NFP_NET_CFG_ICR_RXTX)]
    );
}
