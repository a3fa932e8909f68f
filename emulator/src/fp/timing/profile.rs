//! Per-program accounting: the per-instruction profile (execution and
//! taken-branch counts per ustore address, helper rows, the exposed-latency
//! row) and the timing totals and cycle distribution the estimate is made
//! from.
//!
//! Counters are sharded by flow-processor worker: each worker thread
//! writes only its own shard (a plain load and store per counter, no
//! atomic read-modify-write, no shared cache line), readers add the shards
//! up. A shard is allocated the first time its worker meters a packet of
//! the program. A snapshot taken while packets flow may count a packet in
//! flight partly; one taken after the traffic is exact.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_utils::CachePadded;
use serde::Serialize;

use super::model::{Charge, Estimate, Helper, InsnCost, PacketCost, Verdict, insn_cost};
use crate::fp::disasm::Disasm;
use crate::fp::exec::Program;

/// Add `n` to a counter only this thread writes (no read-modify-write).
#[inline(always)]
pub(super) fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

#[inline(always)]
fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// Buckets of the cycle histogram: values below 16 exactly, then 8 per
/// power of two (1/8 resolution) up to 2^64.
pub const HIST_BUCKETS: usize = 16 + 60 * 8;

/// The histogram bucket of `v`.
pub fn bucket(v: u64) -> usize {
    if v < 16 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as usize;
    16 + (e - 4) * 8 + ((v >> (e - 3)) & 7) as usize
}

/// The values of bucket `i`: (lowest, highest).
pub fn bucket_range(i: usize) -> (u64, u64) {
    if i < 16 {
        return (i as u64, i as u64);
    }
    let e = (i - 16) / 8 + 4;
    let lo = (8 + ((i - 16) % 8) as u64) << (e - 3);
    (lo, lo + ((1u64 << (e - 3)) - 1))
}

/// Counters of one instruction address.
#[derive(Debug, Default)]
pub(super) struct RowCells {
    pub(super) count: AtomicU64,
    pub(super) taken: AtomicU64,
}

/// Counters of one helper.
#[derive(Debug, Default)]
pub(super) struct HelperCells {
    pub(super) count: AtomicU64,
    pub(super) busy: AtomicU64,
    pub(super) wait: AtomicU64,
}

/// Sums over packets.
#[derive(Debug, Default)]
pub(super) struct SumCells {
    packets: AtomicU64,
    insns: AtomicU64,
    prog_busy: AtomicU64,
    prog_wait: AtomicU64,
    prog_cycles: AtomicU64,
    fw_cycles: AtomicU64,
    cycles: AtomicU64,
    exposed: AtomicU64,
    emem_ops: AtomicU64,
    ctm_cmds: AtomicU64,
    emem_cmds: AtomicU64,
    helper_calls: AtomicU64,
    wire_bytes: AtomicU64,
    verdicts: [AtomicU64; 4],
}

impl SumCells {
    fn add(&self, c: &PacketCost, v: Verdict, wire: u64) {
        bump(&self.packets, 1);
        bump(&self.insns, c.insns);
        bump(&self.prog_busy, c.prog.busy);
        bump(&self.prog_wait, c.prog.wait);
        bump(&self.prog_cycles, c.prog_cycles);
        bump(&self.fw_cycles, c.fw_cycles);
        bump(&self.cycles, c.cycles);
        bump(&self.exposed, c.exposed);
        bump(&self.emem_ops, c.emem_ops);
        bump(&self.ctm_cmds, c.ctm_cmds);
        bump(&self.emem_cmds, c.emem_cmds);
        bump(&self.helper_calls, c.helper_calls);
        bump(&self.wire_bytes, wire);
        bump(&self.verdicts[v.index()], 1);
    }

    fn read_into(&self, t: &mut Totals) {
        t.packets += get(&self.packets);
        t.insns += get(&self.insns);
        t.prog_busy += get(&self.prog_busy);
        t.prog_wait += get(&self.prog_wait);
        t.prog_cycles += get(&self.prog_cycles);
        t.fw_cycles += get(&self.fw_cycles);
        t.cycles += get(&self.cycles);
        t.exposed += get(&self.exposed);
        t.emem_ops += get(&self.emem_ops);
        t.ctm_cmds += get(&self.ctm_cmds);
        t.emem_cmds += get(&self.emem_cmds);
        t.helper_calls += get(&self.helper_calls);
        t.wire_bytes += get(&self.wire_bytes);
        for (k, c) in self.verdicts.iter().enumerate() {
            t.verdicts[k] += get(c);
        }
    }
}

/// What one worker counted for one program.
pub(super) struct Shard {
    /// Per instruction address (profiled packets).
    pub(super) rows: Box<[RowCells]>,
    /// Per [`Helper`] (profiled packets).
    pub(super) helpers: [HelperCells; 5],
    /// Sums over profiled packets (the profile's own totals).
    profiled: SumCells,
    /// Sums over timed packets.
    timed: SumCells,
    min: AtomicU64,
    max: AtomicU64,
    hist: Box<[AtomicU64]>,
}

impl Shard {
    fn new(len: usize) -> Self {
        Self {
            rows: (0..len).map(|_| RowCells::default()).collect(),
            helpers: Default::default(),
            profiled: SumCells::default(),
            timed: SumCells::default(),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
            hist: (0..HIST_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Account a finished packet: timing sums and distribution, and the
    /// profile's sums and exposed row if it was profiled.
    pub(super) fn packet(&self, c: &PacketCost, v: Verdict, wire: u64, profiled: bool) {
        self.timed.add(c, v, wire);
        if profiled {
            self.profiled.add(c, v, wire);
        }
        if c.cycles < get(&self.min) {
            self.min.store(c.cycles, Ordering::Relaxed);
        }
        if c.cycles > get(&self.max) {
            self.max.store(c.cycles, Ordering::Relaxed);
        }
        if let Some(h) = self.hist.get(bucket(c.cycles)) {
            bump(h, 1);
        }
    }
}

/// Who loaded a program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// The vNIC's number (its port's, for a data vNIC).
    pub vnic: u8,
    /// The port its packets arrive on.
    pub port: u8,
    /// The vNIC's name in logs ("vNIC 0").
    pub name: String,
}

/// The accounting of one loaded program.
pub struct ProgramProfile {
    prog: Arc<Program>,
    /// The static cost of each instruction, by index.
    pub(super) costs: Box<[InsnCost]>,
    owner: OnceLock<Owner>,
    retired: AtomicBool,
    /// Per worker, each in cache lines of its own (docs/counters.md).
    shards: Box<[OnceLock<Box<CachePadded<Shard>>>]>,
}

impl std::fmt::Debug for ProgramProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramProfile")
            .field("seq", &self.prog.seq)
            .field("owner", &self.owner.get())
            .finish_non_exhaustive()
    }
}

impl ProgramProfile {
    /// An empty profile of `prog` for `workers` flow-processor workers.
    pub fn new(prog: Arc<Program>, workers: usize) -> Self {
        Self {
            costs: prog.insns.iter().map(insn_cost).collect(),
            prog,
            owner: OnceLock::new(),
            retired: AtomicBool::new(false),
            shards: (0..workers.max(1)).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The program.
    pub fn program(&self) -> &Arc<Program> {
        &self.prog
    }

    /// Its load sequence number (the `prog` of a record).
    pub fn seq(&self) -> u64 {
        self.prog.seq
    }

    /// Who loaded it, once known.
    pub fn owner(&self) -> Option<&Owner> {
        self.owner.get()
    }

    pub(super) fn set_owner(&self, o: Owner) {
        let _ = self.owner.set(o);
    }

    /// Whether a newer program replaced it.
    pub fn retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed)
    }

    pub(super) fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
    }

    /// A fresh profile of the same program and owner.
    pub(super) fn fresh(&self) -> Self {
        let p = Self::new(self.prog.clone(), self.shards.len());
        if let Some(o) = self.owner.get() {
            p.set_owner(o.clone());
        }
        if self.retired() {
            p.retire();
        }
        p
    }

    /// Worker `w`'s shard (allocated on first use); None for a worker the
    /// profile was not made for.
    pub(super) fn shard(&self, w: usize) -> Option<&Shard> {
        let cell = self.shards.get(w)?;
        Some(cell.get_or_init(|| Box::new(CachePadded::new(Shard::new(self.costs.len())))))
    }

    /// Sums over the timed packets so far: a relaxed load per cell,
    /// nothing allocated (the counter surface's `timing.progN.*`).
    pub fn timed(&self) -> Totals {
        let mut t = Totals::default();
        for s in self.shards.iter().filter_map(OnceLock::get) {
            s.timed.read_into(&mut t);
        }
        t
    }

    /// Everything counted so far.
    pub fn report(&self) -> ProgramReport {
        let len = self.costs.len();
        let mut count = vec![0u64; len];
        let mut taken = vec![0u64; len];
        let mut helpers = [(0u64, 0u64, 0u64); 5];
        let mut timed = Totals::default();
        let mut profiled = Totals::default();
        let mut hist = vec![0u64; HIST_BUCKETS];
        let (mut min, mut max) = (u64::MAX, 0);
        for s in self.shards.iter().filter_map(OnceLock::get) {
            for (i, r) in s.rows.iter().enumerate() {
                count[i] += get(&r.count);
                taken[i] += get(&r.taken);
            }
            for (h, c) in helpers.iter_mut().zip(&s.helpers) {
                h.0 += get(&c.count);
                h.1 += get(&c.busy);
                h.2 += get(&c.wait);
            }
            s.timed.read_into(&mut timed);
            s.profiled.read_into(&mut profiled);
            for (a, b) in hist.iter_mut().zip(s.hist.iter()) {
                *a += get(b);
            }
            min = min.min(get(&s.min));
            max = max.max(get(&s.max));
        }
        let start = self.prog.start;
        let mut rows: Vec<ProfileRow> = (0..len)
            .filter(|&i| count[i] != 0)
            .map(|i| {
                let c = self.costs[i];
                let ch = c.charge(false);
                let word = self.prog.words[i];
                ProfileRow {
                    addr: start.wrapping_add(i as u16),
                    count: count[i],
                    taken: taken[i],
                    busy: count[i] * ch.busy + taken[i] * u64::from(c.taken),
                    wait: count[i] * ch.wait,
                    disasm: Disasm(word).to_string(),
                }
            })
            .collect();
        rows.sort_by(|a, b| b.busy.cmp(&a.busy).then(a.addr.cmp(&b.addr)));
        let helper_rows = Helper::ALL
            .iter()
            .zip(helpers)
            .filter(|(_, h)| h.0 != 0)
            .map(|(&helper, (count, busy, wait))| HelperRow {
                helper,
                name: helper.name(),
                count,
                busy,
                wait,
            })
            .collect();
        let owner = self.owner.get().cloned();
        // A program belongs to one vNIC, whose packets arrive on one port
        // (docs/timing.md §9).
        let estimate = Estimate::of(
            timed.packets,
            timed.cycles,
            timed.emem_ops,
            timed.wire_bytes,
            1,
        );
        ProgramReport {
            seq: self.prog.seq,
            owner,
            retired: self.retired(),
            start,
            len,
            estimate_text: estimate.map(|e| e.sentence()),
            estimate,
            distribution: Distribution::of(&hist, &timed, min, max),
            timed,
            profile: Profile {
                totals: profiled,
                rows,
                helpers: helper_rows,
                exposed: profiled.exposed,
            },
        }
    }
}

/// Sums over a program's packets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Packets.
    pub packets: u64,
    /// Program instructions.
    pub insns: u64,
    /// The program's busy cycles (instructions and helpers).
    pub prog_busy: u64,
    /// The program's wait cycles.
    pub prog_wait: u64,
    /// `prog_cycles` of the records.
    pub prog_cycles: u64,
    /// `fw_cycles` of the records.
    pub fw_cycles: u64,
    /// `cycles` of the records.
    pub cycles: u64,
    /// Cycles of latency the contexts did not hide.
    pub exposed: u64,
    /// EMEM operations, firmware included.
    pub emem_ops: u64,
    /// The program's commands to CTM (the packet).
    pub ctm_cmds: u64,
    /// The program's commands to EMEM (map values).
    pub emem_cmds: u64,
    /// Helper calls.
    pub helper_calls: u64,
    /// Bytes on the wire (padded, FCS included, without preamble and gap).
    pub wire_bytes: u64,
    /// Packets per verdict: PASS, DROP, TX, ABORTED.
    pub verdicts: [u64; 4],
}

/// `packets`, `insns`, the cycles, commands and helper calls, and
/// `verdict.pass`, `.drop`, `.tx`, `.aborted` (in [`Verdict::ALL`]'s
/// order): a program's timed totals on the
/// counter surface (`timing.progN.*`, docs/counters.md).
impl crate::counters::Counters for Totals {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        visit("packets", self.packets);
        visit("insns", self.insns);
        visit("prog_busy", self.prog_busy);
        visit("prog_wait", self.prog_wait);
        visit("prog_cycles", self.prog_cycles);
        visit("fw_cycles", self.fw_cycles);
        visit("cycles", self.cycles);
        visit("exposed", self.exposed);
        visit("emem_ops", self.emem_ops);
        visit("ctm_cmds", self.ctm_cmds);
        visit("emem_cmds", self.emem_cmds);
        visit("helper_calls", self.helper_calls);
        visit("wire_bytes", self.wire_bytes);
        crate::counters::scoped("verdict", visit, |f| {
            for (name, n) in ["pass", "drop", "tx", "aborted"].iter().zip(self.verdicts) {
                f(name, n);
            }
        });
    }
}

/// How a program's packets' cycles are distributed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Distribution {
    /// Fewest cycles of a packet.
    pub min: u64,
    /// Mean cycles per packet.
    pub mean: f64,
    /// Median, to the histogram's 1/8 resolution.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Most cycles of a packet.
    pub max: u64,
    /// Non-empty buckets: (lowest, highest, packets).
    pub histogram: Vec<(u64, u64, u64)>,
}

impl Distribution {
    fn of(hist: &[u64], t: &Totals, min: u64, max: u64) -> Self {
        if t.packets == 0 {
            return Self::default();
        }
        let n: u64 = hist.iter().sum();
        let pct = |p: u64| {
            // The smallest bucket holding the p-th percentile, its top
            // clamped to the values seen.
            let want = (n * p).div_ceil(100).max(1);
            let mut acc = 0;
            for (i, &c) in hist.iter().enumerate() {
                acc += c;
                if acc >= want {
                    return bucket_range(i).1.clamp(min, max);
                }
            }
            max
        };
        Self {
            min,
            mean: t.cycles as f64 / t.packets as f64,
            p50: pct(50),
            p90: pct(90),
            p99: pct(99),
            max,
            histogram: hist
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c != 0)
                .map(|(i, &c)| {
                    let (lo, hi) = bucket_range(i);
                    (lo, hi, c)
                })
                .collect(),
        }
    }
}

/// One instruction address of a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileRow {
    /// Ustore address.
    pub addr: u16,
    /// Executions.
    pub count: u64,
    /// Executions that branched.
    pub taken: u64,
    /// Busy cycles charged to it.
    pub busy: u64,
    /// Latency its blocking commands waited for (shown, not added: the
    /// exposed row holds what latency cost).
    pub wait: u64,
    /// The instruction, disassembled.
    pub disasm: String,
}

/// One firmware helper of a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HelperRow {
    /// Which.
    pub helper: Helper,
    /// Its name.
    pub name: &'static str,
    /// Calls.
    pub count: u64,
    /// Busy cycles charged.
    pub busy: u64,
    /// Latency waited for.
    pub wait: u64,
}

/// The per-instruction profile of a program. Its rows add up: Σ count of
/// `rows` = `totals.insns`; Σ busy of `rows` and `helpers` + `exposed` =
/// `totals.prog_cycles`; `totals.cycles` = `prog_cycles` + `fw_cycles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    /// Sums over the profiled packets.
    pub totals: Totals,
    /// Executed addresses, hottest (most busy cycles) first.
    pub rows: Vec<ProfileRow>,
    /// Helpers called.
    pub helpers: Vec<HelperRow>,
    /// The exposed-latency row: cycles of latency or command spacing the
    /// other contexts could not hide.
    pub exposed: u64,
}

/// What is known about one program: what the monitor shows and the
/// profile file holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProgramReport {
    /// Load sequence number (`prog` in records, `-progN` in --bpf-dump).
    pub seq: u64,
    /// Who loaded it.
    pub owner: Option<Owner>,
    /// Replaced by a newer program.
    pub retired: bool,
    /// Ustore address of its first instruction.
    pub start: u16,
    /// Instructions.
    pub len: usize,
    /// Sums over the timed packets.
    pub timed: Totals,
    /// Cycles per packet over the timed packets.
    pub distribution: Distribution,
    /// The estimate over the timed packets (none before any).
    pub estimate: Option<Estimate>,
    /// The estimate in words.
    pub estimate_text: Option<String>,
    /// The per-instruction profile.
    pub profile: Profile,
}

/// A helper call's share of a meter's charge.
pub(super) fn helper_into(s: &Shard, h: Helper, c: Charge) {
    let cells = &s.helpers[h.index()];
    bump(&cells.count, 1);
    bump(&cells.busy, c.busy);
    bump(&cells.wait, c.wait);
}
