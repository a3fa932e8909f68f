//! Frames from the wire, a receive batch at a time: what a port's receive
//! thread (or an in-process feeder such as `nfp-emu bench`) calls. The
//! port's vNIC, its configuration and its program are looked up once per
//! batch, then each frame is counted and goes to the host or through the
//! flow processor by the thread's [`RxLane`]: handed to a worker in a
//! batch, or run to completion here.

use std::sync::Arc;

use super::{Datapath, Job, MacStats, NFP_MAC_STATS_SIZE, RxTag, mac};
use crate::fp::exec::Program;
use crate::fp::lane::Lane;
use crate::fp::timing::TraceKey;
use crate::nfd::ctrl::{
    NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_CTRL_ENABLE, NFP_NET_CFG_STATS_WORDS, VnicConfig,
};
use crate::nfd::rings::{VnicDp, VnicStats};
use crate::pkt;
use crate::ports::{self, RxBatch, TxBatch};

/// What a thread that feeds the datapath keeps between batches: its lane
/// into the flow processor, and the counts of the batch in progress.
#[derive(Debug)]
pub struct RxLane {
    fp: Option<Lane<RxTag>>,
    tally: Tally,
    /// XDP_TX frames of the batch in progress, leaving at its end.
    tx: TxBatch,
}

/// Counts of one receive batch, summed here and added to the shared
/// counters once per batch (an atomic add per counter per batch rather
/// than several per frame).
#[derive(Debug)]
struct Tally {
    /// By MAC counter word ([`mac`] offset / 8).
    mac: [u64; (NFP_MAC_STATS_SIZE / 8) as usize],
    /// By vNIC general counter word ([`stat`](crate::nfd::ctrl::stat)).
    vnic: [u64; NFP_NET_CFG_STATS_WORDS],
}

impl Tally {
    fn mac(&mut self, off: usize, n: u64) {
        if let Some(c) = self.mac.get_mut(off / 8) {
            *c = c.wrapping_add(n);
        }
    }

    fn vnic(&mut self, word: usize, n: u64) {
        if let Some(c) = self.vnic.get_mut(word) {
            *c = c.wrapping_add(n);
        }
    }

    /// Add the counts to port `m`'s and vNIC `v`'s counters; start over.
    fn flush(&mut self, m: &MacStats, v: Option<&VnicDp>) {
        for (i, c) in self.mac.iter_mut().enumerate() {
            if *c != 0 {
                m.add(i * 8, *c);
                *c = 0;
            }
        }
        for (w, c) in self.vnic.iter_mut().enumerate() {
            if *c != 0 {
                if let Some(v) = v {
                    v.stats.add(w, *c);
                }
                *c = 0;
            }
        }
    }
}

/// Why [`Datapath::attach_program`] could not attach a program.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// No running firmware has a data vNIC on that port.
    #[error("port {0} has no data vNIC (is firmware running?)")]
    NoVnic(usize),
    /// The vNIC cannot offload BPF.
    #[error("the data vNIC of port {0} has no BPF offload")]
    NoBpf(usize),
}

impl Datapath {
    /// A lane for a thread that will feed frames with
    /// [`Self::wire_rx_batch`] (after [`Self::start`]: before, frames
    /// for an offloaded program go to the host).
    pub fn rx_lane(&self) -> RxLane {
        RxLane {
            fp: self.fp.get().map(crate::fp::FlowProcessor::lane),
            tally: Tally {
                mac: [0; (NFP_MAC_STATS_SIZE / 8) as usize],
                vnic: [0; NFP_NET_CFG_STATS_WORDS],
            },
            tx: TxBatch::new(),
        }
    }

    /// A batch of frames arrived on port `port` from the wire: as
    /// [`Self::wire_rx`] for each, in order, with the port's vNIC, its
    /// configuration and its program taken once for the batch (a program
    /// swap takes effect at a batch boundary).
    pub fn wire_rx_batch(&self, port: usize, batch: &RxBatch, lane: &mut RxLane) {
        if self.wires.get(port).is_none() {
            return;
        }
        let m = &self.mac_stats[port];
        let v = self.data_vnic(port);
        let cfg = v.as_ref().map(|v| v.config());
        let prog = match (&v, &cfg) {
            (Some(v), Some(cfg)) => v.offload(cfg),
            _ => None,
        };
        if let Some(c) = self.port_capture(port).filter(|c| c.on()) {
            for frame in batch.frames() {
                c.frame(&self.pool, super::capture::Direction::Rx, frame);
            }
        }
        let t = &mut lane.tally;
        let txb = &mut lane.tx;
        for frame in batch.frames() {
            if frame.len() > ports::MAX_FRAME {
                t.mac(mac::RX_FRAME_TOO_LONG_ERRORS, 1);
                continue;
            }
            MacStats::count_with(frame, true, &mut |off, n| t.mac(off, n));
            let (Some(v), Some(cfg)) = (&v, &cfg) else {
                t.mac(mac::RX_DROP_EVENTS, 1);
                continue;
            };
            let (Some(prog), Some(fp)) = (&prog, &mut lane.fp) else {
                self.to_host(port, v, cfg, frame, None, true);
                continue;
            };
            // The vNIC counts every frame it receives, whatever the
            // program then does with it (dev_rx_pkts).
            VnicStats::count_frame_with(frame, true, &mut |w, n| t.vnic(w, n));
            let hash = pkt::flow_hash(frame);
            match fp {
                Lane::Inline(run) => {
                    let key = TraceKey {
                        port: u8::try_from(port).unwrap_or(u8::MAX),
                        vnic: super::timing::vnic_number(v),
                    };
                    let (out, ctm) = run.run(hash, prog, frame, &key);
                    let count = &mut |w, n| t.vnic(w, n);
                    let tx = &mut |f: &[u8]| self.tx_push(port, txb, f);
                    self.complete(port, v, prog, frame.len(), &out, ctm, count, tx);
                    if let Some(cost) = &out.cost {
                        // Metered (--timing): the record takes a copy.
                        let mut buf = self.pool.get();
                        buf.extend_from_slice(frame);
                        let job = Job {
                            tag: RxTag {
                                port,
                                vnic: v.clone(),
                            },
                            prog: prog.clone(),
                            frame: buf,
                        };
                        self.record(job, &out, cost);
                    }
                }
                Lane::Handoff(h) => {
                    let mut buf = self.pool.get();
                    buf.extend_from_slice(frame);
                    let job = Job {
                        tag: RxTag {
                            port,
                            vnic: v.clone(),
                        },
                        prog: prog.clone(),
                        frame: buf,
                    };
                    h.push(hash, job, &mut |job| self.lost(port, job));
                }
            }
        }
        self.tx_flush(port, txb);
        t.flush(m, v.as_deref());
        match &mut lane.fp {
            Some(Lane::Inline(run)) => run.flush(),
            Some(Lane::Handoff(h)) => h.flush(&mut |job| self.lost(port, job)),
            None => {}
        }
    }

    /// The data vNIC of port `port` in the running firmware, if any.
    pub fn port_vnic(&self, port: usize) -> Option<Arc<VnicDp>> {
        self.data_vnic(port)
    }

    /// A packet the flow processor could not take (it is stopping).
    fn lost(&self, port: usize, job: Job) {
        self.mac_stats[port].add(mac::RX_DROP_EVENTS, 1);
        self.pool.put(job.frame);
    }

    /// Run `prog` on the frames port `port` receives, as if the driver had
    /// loaded it into the port's data vNIC and enabled BPF offload (a
    /// reconfig with `NFP_NET_CFG_UPDATE_BPF` and `NFP_NET_CFG_CTRL_BPF`),
    /// without a driver: the vNIC's published configuration gains
    /// `ENABLE | BPF` (its rings stay as they are, so passed frames find
    /// no buffer and are counted as dropped) and the program is installed
    /// and prepared for the executor. The vNIC's BAR is not touched. For
    /// `nfp-emu bench` and in-process tests.
    pub fn attach_program(&self, port: usize, prog: &Arc<Program>) -> Result<(), AttachError> {
        let v = self.data_vnic(port).ok_or(AttachError::NoVnic(port))?;
        if v.params.bpf_abi.is_none() {
            return Err(AttachError::NoBpf(port));
        }
        let old = v.config();
        v.apply_config(
            &self.host.qc,
            VnicConfig {
                enabled: true,
                ctrl: old.ctrl | NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_BPF,
                ..(*old).clone()
            },
        );
        v.set_bpf(Some(prog.clone()));
        self.note_bpf_timing(&v);
        if let Some(fp) = self.fp.get() {
            fp.prepare(prog);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::FpConfig;
    use crate::nfd::ctrl::stat;
    use crate::ports::{GenSpec, Source};

    /// `return code` as the XDP outro leaves it: A0 = code byte << 16.
    fn verdict(code: u16) -> Arc<Program> {
        use crate::fp::asm::{self, R, alu_op, br};
        let words = [
            asm::br(br::UNC, 1, 2),
            asm::alu(R::A(0), R::None, alu_op::NONE, R::Imm(0)),
            asm::immed(R::A(0), code, 0, false, 2),
        ];
        Arc::new(Program::load(&words, 3072, 1, 4096).unwrap())
    }

    /// `n` generated frames over `flows` flows, in batches of up to 32.
    fn batches(n: u64, flows: u32) -> Vec<RxBatch> {
        let src = Source::Gen(GenSpec {
            size: 64,
            count: Some(n),
            flows,
            rate: None,
        });
        let mut rx = src.part(0, 1);
        let mut out = Vec::new();
        loop {
            let mut b = RxBatch::new(32, 128);
            if rx.recv_batch(&mut b).unwrap() == 0 {
                return out;
            }
            out.push(b);
        }
    }

    fn card(threads: usize) -> crate::card::Card {
        let prog = verdict(0x22);
        crate::bench::card_with(
            &prog,
            FpConfig {
                threads,
                mes: 8,
                ..FpConfig::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn batches_run_to_completion_on_the_receiving_thread() {
        let card = card(0);
        let dp = card.datapath();
        let v = dp.port_vnic(0).unwrap();
        let mut lane = dp.rx_lane();
        assert!(matches!(lane.fp, Some(Lane::Inline(_))));
        for b in batches(100, 5) {
            dp.wire_rx_batch(0, &b, &mut lane);
        }
        // Everything is counted by the time the call returns.
        assert_eq!(v.stats.get(stat::APP0_FRAMES + 2), 100, "bpf_app1 (drop)");
        assert_eq!(v.stats.get(stat::RX_FRAMES), 100, "dev_rx_pkts");
        assert_eq!(dp.mac_stats[0].get(mac::RX_FRAMES_RECEIVED_OK), 100);
        let fp = dp.fp().unwrap();
        let ran: u64 = fp.stats.mes.iter().map(|m| m.packets()).sum();
        assert_eq!(ran, 100);
        assert_eq!(
            fp.stats.workers[0].load(std::sync::atomic::Ordering::Relaxed),
            100
        );
        // A new program takes effect at the next batch: XDP_TX goes out of
        // port 0 (no cable: counted as a queue drop).
        dp.attach_program(0, &verdict(0x44)).unwrap();
        for b in batches(10, 1) {
            dp.wire_rx_batch(0, &b, &mut lane);
        }
        assert_eq!(v.stats.get(stat::APP0_FRAMES + 4), 10, "bpf_app2 (tx)");
        assert_eq!(dp.mac_stats[0].get(mac::TX_QUEUE_DROP), 10);
    }

    #[test]
    fn inline_lanes_meter_their_packets_when_timing_is_on() {
        let card = card(0);
        let dp = card.datapath();
        let prog = dp.port_vnic(0).unwrap().bpf().unwrap();
        dp.timing().set_timing(true);
        // Two receiving threads, each its own lane (and profile shard).
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut lane = dp.rx_lane();
                    for b in batches(50, 3) {
                        dp.wire_rx_batch(0, &b, &mut lane);
                    }
                });
            }
        });
        let rep = dp.timing().report(prog.seq).expect("registered on attach");
        assert_eq!(rep.timed.packets, 100);
        assert_eq!(rep.timed.insns, 300, "3 instructions each");
        dp.timing().set_timing(false);
        let mut lane = dp.rx_lane();
        for b in batches(10, 1) {
            dp.wire_rx_batch(0, &b, &mut lane);
        }
        assert_eq!(dp.timing().report(prog.seq).unwrap().timed.packets, 100);
    }

    #[test]
    fn a_paced_pcap_port_feeds_the_card_through_its_receive_thread() {
        use pcap_file::pcap::{PcapPacket, PcapWriter};
        let path = std::env::temp_dir().join(format!("nfp-emu-rx-{}.pcap", std::process::id()));
        {
            let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
            for k in 0..3u8 {
                let f = vec![k; 60];
                w.write_packet(&PcapPacket::new(std::time::Duration::ZERO, 60, &f))
                    .unwrap();
            }
        }
        let spec: crate::ports::PortSpec = format!("pcap:{},loop=0,rate=1000", path.display())
            .parse()
            .unwrap();
        let card = crate::bench::card_cabled(
            &verdict(0x22),
            FpConfig {
                threads: 0,
                ..FpConfig::default()
            },
            vec![crate::ports::PortSpec::None, spec],
        )
        .unwrap();
        let dp = card.datapath();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while dp.mac_stats[1].get(mac::RX_FRAMES_RECEIVED_OK) < 10 {
            assert!(
                std::time::Instant::now() < deadline,
                "no frames from the pcap port"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn batches_are_handed_to_workers() {
        let card = card(2);
        let dp = card.datapath();
        let v = dp.port_vnic(0).unwrap();
        let mut lane = dp.rx_lane();
        assert!(matches!(lane.fp, Some(Lane::Handoff(_))));
        for b in batches(500, 16) {
            dp.wire_rx_batch(0, &b, &mut lane);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while v.stats.get(stat::APP0_FRAMES + 2) < 500 {
            assert!(std::time::Instant::now() < deadline, "packets lost");
            std::thread::yield_now();
        }
        let fp = dp.fp().unwrap();
        let busy = fp
            .stats
            .workers
            .iter()
            .filter(|w| w.load(std::sync::atomic::Ordering::Relaxed) > 0)
            .count();
        assert_eq!(busy, 2, "16 flows spread over both workers");
    }

    #[test]
    fn without_a_program_frames_go_to_the_host_and_attach_needs_a_vnic() {
        let dp = Datapath::new(
            256,
            &[crate::ports::PortSpec::None],
            vec![0],
            None,
            FpConfig::default(),
            None,
            crate::cpp::memmap::MemoryMap::default().map_region(),
        )
        .unwrap();
        // No firmware: no vNIC, the MAC drops.
        let mut lane = dp.rx_lane();
        assert!(lane.fp.is_none(), "not started");
        for b in batches(3, 1) {
            dp.wire_rx_batch(0, &b, &mut lane);
            dp.wire_rx_batch(7, &b, &mut lane);
        }
        assert_eq!(dp.mac_stats[0].get(mac::RX_DROP_EVENTS), 3);
        assert!(matches!(
            dp.attach_program(0, &verdict(0x22)),
            Err(AttachError::NoVnic(0))
        ));
    }
}
