//! The datapath's side of the timing model (docs/timing.md): the firmware
//! facts the meter needs (helper addresses, map key sizes), programs
//! registered as vNICs load them, and `--timing` records of the packets
//! the flow processor metered.

use std::path::Path;
use std::sync::Arc;

use super::helpers::FirmwareEnv;
use super::{Datapath, Job};
use crate::fp::me::Outcome;
use crate::fp::timing::{
    FirmwareInfo, Owner, PacketCost, Record, RecordError, RecordSink, Timing, TraceKey,
};
use crate::nfd::ctrl::VnicKind;
use crate::nfd::rings::VnicDp;

impl FirmwareInfo for FirmwareEnv {
    fn helper_id(&self, addr: u16) -> Option<u32> {
        self.dp.upgrade()?.helper_at(addr)
    }

    fn key_size(&self, tid: u32) -> Option<u32> {
        self.maps.table(tid).map(|t| t.key_size)
    }
}

/// The vNIC's number: its port's for a data vNIC, 255 for the control
/// vNIC (which runs no program).
pub(super) fn vnic_number(v: &VnicDp) -> u8 {
    match v.params.kind {
        VnicKind::Data { port } => u8::try_from(port).unwrap_or(u8::MAX),
        VnicKind::Ctrl => u8::MAX,
    }
}

/// The trace filter sees the packet's port and its vNIC's number.
impl crate::fp::PacketTag for super::RxTag {
    fn trace_key(&self) -> TraceKey {
        TraceKey {
            port: u8::try_from(self.port).unwrap_or(u8::MAX),
            vnic: vnic_number(&self.vnic),
        }
    }
}

impl Datapath {
    /// The timing model: switches, profiles, records.
    pub fn timing(&self) -> &Arc<Timing> {
        &self.timing
    }

    /// Write a record of every packet the flow processor meters to `path`
    /// (created, truncated), and switch timing on. Frame buffers go back
    /// to the datapath's pool once written.
    pub fn start_timing_records(&self, path: &Path) -> Result<(), RecordError> {
        let pool = self.pool.clone();
        let sink = RecordSink::start(path, Box::new(move |frame| pool.put(frame)))?;
        // A second file is ignored: the first keeps every record.
        let _ = self.timing.set_records(sink);
        self.timing.set_timing(true);
        Ok(())
    }

    /// The program `v` runs (if any) is registered with the timing model.
    pub(super) fn note_bpf_timing(&self, v: &VnicDp) {
        if let Some(p) = v.bpf() {
            let owner = Owner {
                vnic: vnic_number(v),
                port: vnic_number(v),
                name: v.name(),
            };
            self.timing.loaded(&p, &owner);
        }
    }

    /// A metered packet is finished: its record goes to the record file
    /// (taking the frame), if there is one.
    pub(super) fn record(&self, job: Job, out: &Outcome, cost: &PacketCost) {
        let Some(sink) = self.timing.records() else {
            self.pool.put(job.frame);
            return;
        };
        sink.send(Record {
            port: u8::try_from(job.tag.port).unwrap_or(u8::MAX),
            vnic: vnic_number(&job.tag.vnic),
            prog: job.prog.seq,
            verdict: out.verdict(),
            insns: cost.insns,
            prog_cycles: cost.prog_cycles,
            fw_cycles: cost.fw_cycles,
            cycles: cost.cycles,
            frame: job.frame,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::asm::{self, R, alu_op, br};
    use crate::fp::exec::Program;
    use crate::nfd::ctrl::{NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_CTRL_ENABLE, VnicConfig, VnicParams};
    use crate::ports::PortSpec;
    use std::sync::atomic::Ordering;

    /// A data vNIC on port 0 with BPF enabled, running `words`.
    fn offloaded(dp: &Datapath, words: &[u64]) -> Arc<VnicDp> {
        let v = Arc::new(VnicDp::new(
            VnicParams {
                kind: VnicKind::Data { port: 0 },
                bar: 0x18_0080_8000,
                start_txq: 0,
                start_rxq: 2,
                max_rings: 8,
                cap: crate::nfd::NFD_DATA_VNIC_CAP | NFP_NET_CFG_CTRL_BPF,
                bpf_abi: Some(3),
            },
            true,
        ));
        v.apply_config(
            &dp.host.qc,
            VnicConfig {
                enabled: true,
                ctrl: NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_BPF,
                ..VnicConfig::default()
            },
        );
        let p = Program::load(words, 3072, 1, 4096).unwrap();
        v.set_bpf(Some(Arc::new(p)));
        dp.attach(vec![v.clone()], None, None);
        dp.note_bpf(&v);
        v
    }

    fn wait_for(what: &str, cond: impl Fn() -> bool) {
        // A guard against a hang only: the machine may be busy.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn every_metered_packet_has_a_record_and_the_records_add_up_to_the_profile() {
        let dir = std::env::temp_dir().join(format!("nfp-dp-timing-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("timing.jsonl");
        let dp = Datapath::new(
            256,
            &[PortSpec::Loop(1), PortSpec::Loop(0)],
            vec![0, 4],
            None,
            crate::fp::FpConfig {
                threads: 2,
                mes: 4,
                ..Default::default()
            },
            None,
            crate::cpp::memmap::MemoryMap::default().map_region(),
        )
        .unwrap();
        dp.start_timing_records(&path).unwrap();
        dp.timing().set_profiling(true);
        dp.start();
        // XDP_DROP after a taken branch, as drop.c's outro does.
        let v = offloaded(
            &dp,
            &[
                asm::br(br::UNC, 3073, 0),
                asm::br(br::UNC, 1, 2),
                asm::alu(R::A(0), R::None, alu_op::NONE, R::Imm(0)),
                asm::immed(R::A(0), 0x22, 0, false, 2),
            ],
        );
        let frames: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 60 + usize::from(i)]).collect();
        for f in &frames {
            dp.wire_tx(1, f);
        }
        let sink = dp.timing().records().unwrap();
        // The record is queued after the verdict is carried out.
        wait_for("40 records queued", || sink.queued() == 40);
        assert_eq!(v.stats.get(crate::nfd::ctrl::stat::APP0_FRAMES + 2), 40);
        assert!(sink.sync(std::time::Duration::from_secs(120)));
        let text = std::fs::read_to_string(&path).unwrap();
        let recs: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), 40);
        let seq = v.bpf().unwrap().seq;
        let mut seen: Vec<String> = Vec::new();
        for r in &recs {
            assert_eq!((r["port"].as_u64(), r["vnic"].as_u64()), (Some(0), Some(0)));
            assert_eq!(r["prog"], seq);
            assert_eq!(r["verdict"], "DROP");
            // 4 instructions; the taken br costs 3, the br with 2 defer
            // slots 1: 6 program cycles, 404 firmware.
            assert_eq!(
                (r["insns"].as_u64(), r["prog_cycles"].as_u64()),
                (Some(4), Some(6))
            );
            assert_eq!(
                (r["fw_cycles"].as_u64(), r["cycles"].as_u64()),
                (Some(404), Some(410))
            );
            seen.push(r["frame_hex"].as_str().unwrap().to_owned());
        }
        // Each frame as it left port 1, once, with its CRC-32.
        seen.sort();
        let mut want: Vec<String> = frames
            .iter()
            .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        want.sort();
        assert_eq!(seen, want);
        let r = &recs[0];
        let f = &frames[r["frame_len"].as_u64().unwrap() as usize - 60];
        assert_eq!(r["frame_crc32"], crc32fast::hash(f));
        // The profile's totals are the records' sums.
        let rep = dp.timing().report(seq).unwrap();
        let sum = |k: &str| recs.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
        let t = &rep.profile.totals;
        assert_eq!(
            (t.packets, t.insns, t.prog_cycles, t.fw_cycles, t.cycles),
            (
                40,
                sum("insns"),
                sum("prog_cycles"),
                sum("fw_cycles"),
                sum("cycles")
            )
        );
        assert_eq!(rep.owner.as_ref().map(|o| o.name.as_str()), Some("vNIC 0"));
        // Off at run time: packets are no longer metered or recorded.
        dp.timing().set_profiling(false);
        dp.timing().set_timing(false);
        dp.wire_tx(1, &frames[0]);
        wait_for("41 drops counted", || {
            v.stats.get(crate::nfd::ctrl::stat::APP0_FRAMES + 2) == 41
        });
        // Its ME is idle once the frame's buffer is back: nothing more
        // was queued.
        wait_for("the flow processor ran 41 packets", || {
            dp.fp()
                .unwrap()
                .stats
                .workers
                .iter()
                .map(|w| w.load(Ordering::Relaxed))
                .sum::<u64>()
                == 41
        });
        assert!(sink.sync(std::time::Duration::from_secs(120)));
        assert_eq!((sink.queued(), sink.written()), (40, 40));
        assert_eq!(dp.timing().report(seq).unwrap().timed.packets, 40);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
