//! Frames across the loopback cable between the two ports of one card.

use super::*;
use crate::pkt::tests::tcp4;
use crate::testutil::data_vnic_params;

/// A datapath of two ports cabled as `specs` at ETH-table positions 0
/// and 4, as the Agilio CX 2x25 has them.
fn datapath(specs: &[PortSpec], fp: crate::fp::FpConfig) -> Arc<Datapath> {
    Datapath::new(
        256,
        specs,
        vec![0, 4],
        None,
        fp,
        None,
        crate::cpp::memmap::MemoryMap::default().map_region(),
    )
    .unwrap()
}

#[test]
fn mac_counters_count_frames_and_sizes() {
    let m = MacStats::default();
    m.count(&[0u8; 60], true);
    m.count(&[0xffu8; 1514], true);
    m.count(&[0u8; 200], false);
    assert_eq!(m.get(mac::RX_FRAMES_RECEIVED_OK), 2);
    assert_eq!(m.get(mac::RX_IN_OCTETS), 64 + 1518);
    assert_eq!(m.get(mac::RX_PKTS_64_OCTETS), 1);
    assert_eq!(m.get(mac::RX_PKTS_1024_TO_1518_OCTETS), 1);
    assert_eq!(m.get(mac::RX_IN_BROADCAST_PKTS), 1);
    assert_eq!(m.get(mac::TX_FRAMES_TRANSMITTED_OK), 1);
    assert_eq!(m.get(mac::TX_PKTS_128_TO_255_OCTETS), 1);
}

#[test]
fn loopback_cable_moves_frames_between_ports() {
    let dp = datapath(
        &[PortSpec::Loop(1), PortSpec::Loop(0)],
        crate::fp::FpConfig::default(),
    );
    dp.start();
    assert!(dp.link_up(0) && dp.link_up(1));
    let f = tcp4(b"across the cable", 1, 0x18);
    dp.wire_tx(0, &f);
    // No firmware attached: the frame arrives at port 1's MAC and is dropped
    // there (no vNIC), counted by the MAC.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while dp.mac_stats[1].get(mac::RX_DROP_EVENTS) == 0 {
        assert!(std::time::Instant::now() < deadline, "frame never arrived");
        std::thread::yield_now();
    }
    assert_eq!(dp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK), 1);
    assert_eq!(dp.mac_stats[1].get(mac::RX_FRAMES_RECEIVED_OK), 1);
}

#[test]
fn mac_stats_overlay_reads_the_port_slot() {
    let dp = datapath(
        &[PortSpec::None, PortSpec::None],
        crate::fp::FpConfig::default(),
    );
    assert!(!dp.link_up(0));
    dp.attach(Vec::new(), Some(0x18_0086_0c00), None);
    dp.mac_stats[1].add(mac::TX_OUT_OCTETS, 1234);
    let mut b = [0u8; 8];
    dp.overlay_read(
        0x18_0086_0c00 + 4 * NFP_MAC_STATS_SIZE + mac::TX_OUT_OCTETS as u64,
        &mut b,
    );
    assert_eq!(u64::from_le_bytes(b), 1234);
    // Port 0's slot is untouched.
    dp.overlay_read(0x18_0086_0c00 + mac::TX_OUT_OCTETS as u64, &mut b);
    assert_eq!(u64::from_le_bytes(b), 0);
}

/// A data vNIC on `port` with BPF enabled and `prog` in its code store.
fn offloaded(dp: &Datapath, port: usize, words: &[u64]) -> Arc<VnicDp> {
    use crate::nfd::ctrl::{NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_CTRL_ENABLE};
    let v = Arc::new(VnicDp::new(data_vnic_params(port, true), true));
    v.apply_config(
        &dp.host.qc,
        VnicConfig {
            enabled: true,
            ctrl: NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_BPF,
            ..VnicConfig::default()
        },
    );
    let p = crate::fp::exec::Program::load(words, 3072, 1, 4096).unwrap();
    v.set_bpf(Some(Arc::new(p)));
    dp.attach(vec![v.clone()], None, None);
    v
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// `return code` as the XDP outro leaves it: A0 = code byte << 16.
fn verdict(code: u32) -> Vec<u64> {
    use crate::fp::asm::{self, R, br};
    vec![
        asm::br(br::UNC, 1, 2),
        asm::alu(R::A(0), R::None, crate::fp::asm::alu_op::NONE, R::Imm(0)),
        asm::immed(R::A(0), code as u16, 0, false, 2),
    ]
}

#[test]
fn offloaded_programs_drop_and_transmit_with_their_counters() {
    let dp = datapath(
        &[PortSpec::Loop(1), PortSpec::Loop(0)],
        crate::fp::FpConfig {
            threads: 2,
            mes: 4,
            ..Default::default()
        },
    );
    dp.start();
    // XDP_DROP on port 0: frames from port 1 vanish, counted as bpf_app1.
    let v = offloaded(&dp, 0, &verdict(0x22));
    let f = tcp4(b"dropped by the card", 1, 0x18);
    for _ in 0..10 {
        dp.wire_tx(1, &f);
    }
    wait_for("10 drops counted", || {
        v.stats.get(stat::APP0_FRAMES + 2) == 10
    });
    assert_eq!(v.stats.get(stat::APP0_FRAMES + 3), 10 * f.len() as u64);
    assert_eq!(dp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK), 0);
    // XDP_TX: each frame goes back out of port 0 (and arrives at port 1,
    // which has no vNIC), counted as bpf_app2; a short frame is padded.
    let v = offloaded(&dp, 0, &verdict(0x44));
    for _ in 0..7 {
        dp.wire_tx(1, &f);
    }
    dp.wire_tx(1, &f[..20]);
    wait_for("8 TX counted", || v.stats.get(stat::APP0_FRAMES + 4) == 8);
    wait_for("8 frames back on port 1", || {
        dp.mac_stats[1].get(mac::RX_FRAMES_RECEIVED_OK) == 8
    });
    assert_eq!(dp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK), 8);
    assert_eq!(
        dp.mac_stats[1].get(mac::RX_UNDERSIZE_PKTS),
        0,
        "padded to 60 bytes"
    );
    // An aborted program (jump into nowhere) counts as bpf_app3.
    let v = offloaded(&dp, 0, &[crate::fp::asm::br(crate::fp::asm::br::UNC, 9, 0)]);
    dp.wire_tx(1, &f);
    wait_for("abort counted", || v.stats.get(stat::APP0_FRAMES + 6) == 1);
    let fp = dp.fp().unwrap();
    let pkts: u64 = fp.stats.mes.iter().map(|m| m.packets()).sum();
    assert_eq!(pkts, 19);
    // The same through the counter surface: the vNIC's verdict counters
    // and its program's faults, each ME's and worker's counters.
    assert_eq!(dp.counter("vnic0.bpf_app3_pkts"), Some(1));
    assert_eq!(dp.counter("vnic0.prog.faults"), Some(1));
    let mut sums = [0u64; 3];
    dp.counters(&mut |name, v| {
        if name.starts_with("fp.me") && name.ends_with(".packets") {
            sums[0] += v;
        } else if name.starts_with("fp.me") && name.ends_with(".aborts") {
            sums[1] += v;
        } else if name.starts_with("fp.worker") {
            sums[2] += v;
        }
    });
    assert_eq!(sums, [19, 1, 19]);
    assert!(dp.counter("fp.worker1.packets").is_some());
}

/// `_mac_stats` and the vNIC BARs come from the firmware image; placed at
/// the end of the address space they wrap, and MU accesses there neither
/// panic nor reach them.
#[test]
fn overlays_at_the_end_of_the_address_space() {
    use crate::nfd::ctrl::VnicParams;
    let dp = datapath(
        &[PortSpec::None, PortSpec::None],
        crate::fp::FpConfig::default(),
    );
    let v = Arc::new(VnicDp::new(
        VnicParams {
            bar: u64::MAX - 0xcff,
            ..data_vnic_params(0, false)
        },
        true,
    ));
    v.stats.add(stat::RX_FRAMES, 7);
    dp.attach(vec![v], Some(u64::MAX - 0x3ff), None);
    dp.mac_stats[0].add(mac::RX_IN_OCTETS, 5);
    for addr in [u64::MAX - 0x400, u64::MAX - 0x200, u64::MAX - 7, u64::MAX] {
        let mut b = [0xeeu8; 16];
        dp.overlay_read(addr, &mut b);
        dp.overlay_write(addr, &b);
    }
    // Port 0's slot fits below 2^64 and reads; port 1's (slot 4) does not.
    let mut b = [0u8; 8];
    dp.overlay_read(u64::MAX - 0x3ff, &mut b);
    assert_eq!(u64::from_le_bytes(b), 5);
    // The vNIC's ICR at BAR + 0xc00 is served.
    let mut icr = [0xeeu8; 1];
    dp.overlay_read(u64::MAX - 0xff, &mut icr);
    assert_eq!(icr, [0]);
}

#[test]
fn a_loaded_program_is_handed_to_the_executor_to_translate() {
    let dp = Datapath::new(
        256,
        &[PortSpec::Loop(1), PortSpec::Loop(0)],
        vec![0, 4],
        None,
        crate::fp::FpConfig {
            threads: 1,
            mes: 2,
            exec: crate::fp::exec::ExecutorKind::Jit,
            ..Default::default()
        },
        None,
        crate::cpp::memmap::MemoryMap::default().map_region(),
    )
    .unwrap();
    dp.start();
    let v = offloaded(&dp, 0, &verdict(0x22));
    let prog = v.bpf().unwrap();
    assert!(prog.artefact().is_none(), "nothing translated before");
    // What the control thread does after the reconfig that loaded it: it
    // translates the program there (packets meanwhile run interpreted).
    dp.note_bpf(&v);
    assert!(prog.artefact().is_some(), "translation attached");
    // Packets now run on the translation, with the same verdicts.
    let f = tcp4(b"dropped by translated code", 1, 0x18);
    dp.wire_tx(1, &f);
    wait_for("the drop counted", || {
        v.stats.get(stat::APP0_FRAMES + 2) == 1
    });
}

/// What a [`Counting`] backend was handed.
#[derive(Default)]
struct TxLog {
    /// `send` calls.
    sends: usize,
    /// Frames per `send_batch` call.
    batches: Vec<usize>,
    /// Every frame handed over, in order.
    frames: Vec<Vec<u8>>,
}

/// A wire backend that keeps what it is handed and counts its calls; it
/// refuses the frames whose first byte is 0xdd.
#[derive(Clone, Default)]
struct Counting(Arc<parking_lot::Mutex<TxLog>>);

impl ports::WireTx for Counting {
    fn send(&self, frame: &[u8]) -> bool {
        let mut l = self.0.lock();
        l.sends += 1;
        l.frames.push(frame.to_vec());
        frame.first() != Some(&0xdd)
    }

    fn send_batch(&self, frames: &[&[u8]], sent: &mut [bool]) -> usize {
        let mut l = self.0.lock();
        l.batches.push(frames.len());
        for (f, s) in frames.iter().zip(sent.iter_mut()) {
            l.frames.push(f.to_vec());
            *s = f.first() != Some(&0xdd);
        }
        sent.iter().filter(|s| **s).count()
    }
}

impl ports::WireRx for Counting {
    fn recv_batch(&mut self, _: &mut ports::RxBatch) -> std::io::Result<usize> {
        Ok(0)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Never
    }
}

/// A one-port datapath whose port is a [`Counting`] backend.
fn counted(fp: crate::fp::FpConfig) -> (Arc<Datapath>, Counting) {
    let c = Counting::default();
    let wire = Wire::with_backend(0, PortSpec::None, Box::new(c.clone()));
    let dp = Datapath::with_ports(
        256,
        vec![(wire, Box::new(c.clone()) as PortRx)],
        vec![0],
        Arc::new(FramePool::default()),
        fp,
        None,
        crate::cpp::memmap::MemoryMap::default().map_region(),
    );
    (dp, c)
}

/// Frame `i` of a TX test: 20 to 83 bytes (short ones are padded), its
/// first byte 0xdd (refused by [`Counting`]) when `i % 50 == 7`.
fn tx_frame(i: usize) -> Vec<u8> {
    let mut f = vec![i as u8; 20 + i % 64];
    f[0] = if i % 50 == 7 { 0xdd } else { 0x02 };
    f
}

fn padded(f: &[u8]) -> Vec<u8> {
    let mut p = f.to_vec();
    p.resize(p.len().max(ETH_ZLEN), 0);
    p
}

/// N frames pushed into a port's TX batch reach the backend in
/// ceil(N/64) batched sends and no single sends, padded, in order; the
/// MAC counts the frames that left and, as queue drops, those the
/// backend refused: the same counts as frame-by-frame transmission.
#[test]
fn tx_batches_leave_64_at_a_time_and_count_as_single_sends_do() {
    let (dp, c) = counted(crate::fp::FpConfig::default());
    const N: usize = 130;
    let frames: Vec<Vec<u8>> = (0..N).map(tx_frame).collect();
    let mut b = ports::TxBatch::new();
    for f in &frames {
        dp.tx_push(0, &mut b, f);
    }
    dp.tx_flush(0, &mut b);
    assert!(b.is_empty(), "a flush empties the batch");
    let log = c.0.lock();
    assert_eq!(log.sends, 0, "no frame sent on its own");
    assert_eq!(log.batches, [64, 64, 2], "ceil(130 / 64) batches");
    let want: Vec<Vec<u8>> = frames.iter().map(|f| padded(f)).collect();
    assert_eq!(log.frames, want, "the same bytes, padded, in order");
    let refused = frames.iter().filter(|f| f[0] == 0xdd).count() as u64;
    assert_eq!(refused, 3);
    let m = &dp.mac_stats[0];
    assert_eq!(m.get(mac::TX_FRAMES_TRANSMITTED_OK), N as u64 - refused);
    assert_eq!(m.get(mac::TX_QUEUE_DROP), refused);
    assert_eq!(
        dp.wires[0].stats.tx_dropped.load(Ordering::Relaxed),
        refused
    );
    let one = MacStats::default();
    for f in &want {
        if f[0] == 0xdd {
            one.add(mac::TX_QUEUE_DROP, 1);
        } else {
            one.count(f, false);
        }
    }
    for off in (0..NFP_MAC_STATS_SIZE as usize).step_by(8) {
        assert_eq!(m.get(off), one.get(off), "MAC counter at {off:#x}");
    }
}

/// XDP_TX of the packets a flow processor worker runs leaves at the end
/// of its batch, batched; so do those of a receive batch run to
/// completion on the receiving thread.
#[test]
fn xdp_tx_leaves_in_batches() {
    for threads in [1, 0] {
        let (dp, c) = counted(crate::fp::FpConfig {
            threads,
            mes: 2,
            ..Default::default()
        });
        dp.start();
        let v = offloaded(&dp, 0, &verdict(0x44));
        let frames: Vec<Vec<u8>> = (0..40).map(tx_frame).collect();
        let mut b = ports::RxBatch::new(32, 128);
        let mut lane = dp.rx_lane();
        for chunk in frames.chunks(32) {
            b.clear();
            for f in chunk {
                b.push(f);
            }
            dp.wire_rx_batch(0, &b, &mut lane);
        }
        wait_for("40 XDP_TX counted", || {
            dp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK)
                + dp.mac_stats[0].get(mac::TX_QUEUE_DROP)
                == 40
        });
        assert_eq!(v.stats.get(stat::APP0_FRAMES + 4), 40);
        let log = c.0.lock();
        assert_eq!(log.sends, 0, "threads {threads}: no frame sent on its own");
        assert!(
            log.batches.len() < 40,
            "threads {threads}: batched, got {:?}",
            log.batches
        );
        let want: Vec<Vec<u8>> = frames.iter().map(|f| padded(f)).collect();
        assert_eq!(log.frames, want, "threads {threads}: in order, padded");
        assert_eq!(dp.mac_stats[0].get(mac::TX_QUEUE_DROP), 1);
    }
}
