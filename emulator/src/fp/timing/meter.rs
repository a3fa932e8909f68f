//! The meter: an [`Observer`] that charges each step of one packet's run
//! as the cost model says (docs/timing.md §4-§6) and, when profiling,
//! counts it in the program's profile.

use super::model::{
    Charge, Helper, HelperArgs, InsnCost, PacketCost, Target, Verdict, helper_cost, insn_cost,
    wire_bytes,
};
use super::profile::{ProgramProfile, Shard, bump, helper_into};
use crate::fp::exec::{Ctx, Observer, Program};
use crate::fp::insn::Insn;

/// What the meter needs to know about the firmware a program runs in:
/// which helper sits at an address and how long a map's keys are.
pub trait FirmwareInfo: Send + Sync {
    /// The BPF helper id at ustore address `addr`.
    fn helper_id(&self, addr: u16) -> Option<u32>;
    /// The key size of map `tid`, bytes.
    fn key_size(&self, tid: u32) -> Option<u32>;
}

/// `BPF_F_CTXLEN_MASK` >> 32: bits 51..32 of `perf_event_output`'s flags
/// (R3, its high word in A7) say how many packet bytes to append
/// (jit.c:1778-1801).
const CTXLEN_MASK: u32 = 0xf_ffff;

/// Meters one packet's run.
pub struct Meter<'a> {
    prof: &'a ProgramProfile,
    start: u16,
    shard: Option<&'a Shard>,
    profiling: bool,
    fw: Option<&'a dyn FirmwareInfo>,
    prog: Charge,
    insns: u64,
    ctm_cmds: u64,
    emem_cmds: u64,
    helper_calls: u64,
    /// The last instruction's cost, for its branch decision.
    last: Option<(usize, InsnCost)>,
}

impl std::fmt::Debug for Meter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("prog", &self.prof.seq())
            .field("charge", &self.prog)
            .field("insns", &self.insns)
            .finish_non_exhaustive()
    }
}

impl<'a> Meter<'a> {
    /// A meter for one packet of `prof`'s program on flow-processor worker
    /// `worker`, counting the profile's rows if `profiling`; `fw` resolves
    /// helper addresses (without it helper calls cost nothing).
    pub fn new(
        prof: &'a ProgramProfile,
        worker: usize,
        profiling: bool,
        fw: Option<&'a dyn FirmwareInfo>,
    ) -> Self {
        Self {
            prof,
            start: prof.program().start,
            shard: prof.shard(worker),
            profiling,
            fw,
            prog: Charge::default(),
            insns: 0,
            ctm_cmds: 0,
            emem_cmds: 0,
            helper_calls: 0,
            last: None,
        }
    }

    /// The program's charge so far.
    pub fn charge(&self) -> Charge {
        self.prog
    }

    /// Finish the packet: the verdict's firmware part added, ME occupancy
    /// computed, the packet accounted in the program's totals (and
    /// profile) as a frame of `frame_len` bytes.
    pub fn finish(self, verdict: Verdict, frame_len: usize) -> PacketCost {
        let mut c = PacketCost::finish(verdict, self.prog);
        c.insns = self.insns;
        c.ctm_cmds = self.ctm_cmds;
        c.emem_cmds = self.emem_cmds;
        c.helper_calls = self.helper_calls;
        if let Some(s) = self.shard {
            s.packet(&c, verdict, wire_bytes(frame_len), self.profiling);
        }
        c
    }

    #[inline(always)]
    fn rows(&self) -> Option<&'a Shard> {
        if self.profiling { self.shard } else { None }
    }
}

impl Observer for Meter<'_> {
    #[inline(always)]
    fn insn(&mut self, _prog: &Program, pc: u16, insn: &Insn) {
        let i = usize::from(pc.wrapping_sub(self.start));
        let c = match self.prof.costs.get(i) {
            Some(&c) => c,
            None => insn_cost(insn),
        };
        self.last = Some((i, c));
        let ch = c.charge(false);
        self.prog = self.prog.plus(ch);
        self.insns += 1;
        match c.target {
            Target::None => {}
            Target::Ctm => self.ctm_cmds += 1,
            Target::Emem => self.emem_cmds += 1,
        }
        if let Some(r) = self.rows().and_then(|s| s.rows.get(i)) {
            bump(&r.count, 1);
        }
    }

    #[inline(always)]
    fn branch(&mut self, _pc: u16, _defer: u8, taken: bool) {
        if !taken {
            return;
        }
        if let Some((i, c)) = self.last {
            self.prog.busy += u64::from(c.taken);
            if let Some(r) = self.rows().and_then(|s| s.rows.get(i)) {
                bump(&r.taken, 1);
            }
        }
    }

    fn helper(&mut self, pc: u16, _ret: u16, ctx: &Ctx) {
        let helper = Helper::from_id(self.fw.and_then(|f| f.helper_id(pc)));
        let args = match helper {
            Helper::MapLookupElem | Helper::MapUpdateElem | Helper::MapDeleteElem => HelperArgs {
                // A0: the table id (jit.c:1725-1764).
                key_bytes: self.fw.and_then(|f| f.key_size(ctx.a(0))).unwrap_or(4),
                ..HelperArgs::default()
            },
            // R5 (A10): size; R3 (A6/A7): flags (jit.c:1778-1801).
            Helper::PerfEventOutput => HelperArgs {
                data_bytes: ctx.a(10),
                packet_bytes: ctx.a(7) & CTXLEN_MASK,
                ..HelperArgs::default()
            },
            Helper::Unknown => HelperArgs::default(),
        };
        let c = helper_cost(helper, args);
        self.prog = self.prog.plus(c);
        self.helper_calls += 1;
        self.last = None;
        if let Some(s) = self.rows() {
            helper_into(s, helper, c);
        }
    }
}
