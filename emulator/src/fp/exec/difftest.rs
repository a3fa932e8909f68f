//! Differential testing of executors (test builds only): run one program
//! on two [`Executor`]s from the same state and require that they leave
//! the same registers (GPRs, transfer registers, LM index registers,
//! condition codes, latches), local memory, packet buffer, EMEM, exit
//! (result or fault) and step count.
//!
//! - [`Start`]: a state to run from: the firmware's entry state for a
//!   frame ([`Start::packet`]) or everything random ([`Start::random`]).
//! - [`check`]: one program, many starts, two executors, the first
//!   mismatch described; [`check_chain`] runs packets back to back on one
//!   context, carrying what a packet leaves to the next as an ME does;
//!   [`Twin`] is the pair of executors under both, run after run.
//! - [`DiffEnv`]: EMEM and the firmware helpers for the runs ([`Helpers`]),
//!   every helper call recorded.
//! - [`random_program`], [`frames`], [`corpus`]: inputs (random programs
//!   of the JIT's forms and any class, the xdp-diff frames, the checked-in
//!   images of `ci/progs/diff` as the driver's JIT made them).
//!
//! A translating executor's tests use it as
//! `difftest::check(&Interpreter, &mine, &prog, starts, budget)`; the
//! interpreter's own tests hold it to its oracle the same way
//! (`tests/diff.rs`).

use std::cell::RefCell;
use std::fmt::Write as _;

use super::{CTM_PKT_BUF, Ctx, Env, Executor, Exit, LM_WORDS, Packet, Program, Thread};
use crate::fp::asm::{self, R, alu_op as op, br, cmd, shf_op};
use crate::fp::exec::{NFP_CSR_ACT_LM_ADDR0, NFP_CSR_ACT_LM_ADDR2, NFP_CSR_ACT_LM_ADDR3};
use crate::fp::exec::{NFP_CSR_ACT_LM_ADDR1, NFP_CSR_PSEUDO_RND_NUM};
use crate::fp::me::{CONTEXTS, PKT_DATA_OFF, PV_BASE, PV_BYTES, STACK_BYTES};
use crate::fp::word::{CmdTgtAct, NFP_INSN_MASK, with_ecc};

/// Where [`DiffEnv`]'s EMEM starts (40-bit).
pub(crate) const EMEM_BASE: u64 = 0x18_0000_1000;
/// Bytes of [`DiffEnv`]'s EMEM.
pub(crate) const EMEM_BYTES: usize = 1024;
/// Ustore address of [`DiffEnv`]'s lookup helper.
pub(crate) const HELPER_LOOKUP: u16 = 0x200;
/// Ustore address of [`DiffEnv`]'s mixing helper.
pub(crate) const HELPER_MIX: u16 = 0x210;
/// Ustore address of [`Helpers::MapOps`]' lookup; update, delete and perf
/// event output follow it (0x201..0x203).
pub(crate) const HELPER_MAP_LOOKUP: u16 = 0x200;
/// Where programs load (`NFP_NET_CFG_BPF_START` as the driver sets it).
pub(crate) const START: u16 = 3072;
/// The exit address.
pub(crate) const DONE: u16 = 1;

/// The ALU operations of the JIT's forms, in the order random programs
/// pick them.
pub(crate) const ALU_OPS: [u64; 12] = [
    op::NONE,
    op::ADD,
    op::NOT,
    op::ADD_2B,
    op::AND,
    op::AND_NOT_A,
    op::AND_NOT_B,
    op::SUB_C,
    op::ADD_C,
    op::OR,
    op::SUB,
    op::XOR,
];

/// The `alu_shf` operations random programs pick from.
pub(crate) const SHF_OPS: [u64; 7] = [
    shf_op::NONE,
    shf_op::NOT_B,
    shf_op::AND,
    shf_op::AND_NOT_A,
    shf_op::AND_NOT_B,
    shf_op::OR,
    shf_op::ASHR,
];

/// Every branch condition, unconditional last.
pub(crate) const BR_CONDS: [u64; 13] = [
    br::BEQ,
    br::BNE,
    br::BMI,
    br::BPL,
    br::BHS,
    br::BLO,
    br::BVS,
    br::BVC,
    br::BGE,
    br::BLT,
    br::BLE,
    br::BGT,
    br::UNC,
];

/// The memory commands of the JIT's forms.
pub(crate) const MEM_CMDS: [CmdTgtAct; 6] = [
    cmd::READ32_SWAP,
    cmd::READ8,
    cmd::WRITE8_SWAP,
    cmd::WRITE32_SWAP,
    cmd::ADD,
    cmd::ADD_IMM,
];

/// Return a map value's address from a lookup helper as the firmware does:
/// in R0/R1 (both banks), in the 40-bit split form (low word, high byte in
/// bits 31:24), or 0 for none.
pub(crate) fn return_value_addr(ctx: &mut Ctx, addr: Option<u64>) {
    let (lo, hi) = addr.map_or((0, 0), |a| (a as u32, ((a >> 32) as u32) << 24));
    ctx.set_both(0, lo);
    ctx.set_both(1, hi);
}

/// xorshift64: deterministic inputs.
#[derive(Clone, Debug)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Which firmware helpers a [`DiffEnv`] serves. Every helper takes its
/// key from the LM word at `ActLMAddr0` (the stack, where the JIT puts a
/// map key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Helpers {
    /// At [`HELPER_LOOKUP`] a map lookup (keys 0..15 give the EMEM address
    /// of an 8-byte value, others 0), at [`HELPER_MIX`] a function of
    /// A0..A3, the LM word at `ActLMAddr2` and the packet's first bytes
    /// into R0 (both banks), clobbering A/B 1..5 as a real helper may.
    #[default]
    LookupMix,
    /// Four helpers at [`HELPER_MAP_LOOKUP`].. in the manner of the
    /// firmware's (docs/bpf-offload.md#helpers), their result in R0/R1:
    /// lookup (keys with bit 5 clear: the EMEM address of a 64-byte value
    /// per key mod 32, in the 40-bit split form; others none), update (the
    /// LM word at `ActLMAddr2` into that value; 0), delete (-2) and perf
    /// event output (the packet byte at 128). Needs 2 KiB of EMEM.
    MapOps,
}

/// One helper call as the helper saw it: its address, A0 and the key.
pub(crate) type Call = (u16, u32, u32);

/// EMEM at [`EMEM_BASE`] (as many bytes as it was given) and the firmware
/// helpers of a [`Helpers`] set, recording every call.
#[derive(Debug)]
pub(crate) struct DiffEnv {
    /// The EMEM bytes.
    pub(crate) emem: RefCell<Vec<u8>>,
    /// The helpers served.
    helpers: Helpers,
    /// Helper calls, in order.
    pub(crate) calls: RefCell<Vec<Call>>,
}

impl DiffEnv {
    /// An environment whose EMEM holds `emem`, serving `helpers`.
    pub(crate) fn new(emem: &[u8], helpers: Helpers) -> Self {
        Self {
            emem: RefCell::new(emem.to_vec()),
            helpers,
            calls: RefCell::default(),
        }
    }

    fn range(&self, addr: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let o = usize::try_from(addr.checked_sub(EMEM_BASE)?).ok()?;
        let end = o.checked_add(len)?;
        (end <= self.emem.borrow().len()).then_some(o..end)
    }

    /// [`Helpers::LookupMix`].
    fn lookup_mix(addr: u16, ctx: &mut Ctx, lm: &[u32; LM_WORDS], pkt: &Packet) -> bool {
        match addr {
            HELPER_LOOKUP => {
                let key = lm[(ctx.lm_addr[0] >> 2) as usize & (LM_WORDS - 1)];
                return_value_addr(ctx, (key < 16).then(|| EMEM_BASE + 8 * u64::from(key)));
                true
            }
            HELPER_MIX => {
                let mut b = [0u8; 8];
                pkt.read(usize::from(PKT_DATA_OFF as u16), &mut b);
                let mut h = u64::from_le_bytes(b);
                for r in 0..4 {
                    h = h.rotate_left(13) ^ u64::from(ctx.a(r));
                }
                h ^= u64::from(lm[(ctx.lm_addr[2] >> 2) as usize & (LM_WORDS - 1)]);
                h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for r in 1..6 {
                    ctx.set_both(r, (h >> r) as u32);
                }
                ctx.set_both(0, (h >> 32) as u32);
                true
            }
            _ => false,
        }
    }

    /// [`Helpers::MapOps`].
    fn map_ops(&self, addr: u16, ctx: &mut Ctx, lm: &[u32; LM_WORDS], pkt: &Packet) -> bool {
        let key = lm[(ctx.lm_addr[0] >> 2) as usize & (LM_WORDS - 1)];
        let r0: u64 = match addr.wrapping_sub(HELPER_MAP_LOOKUP) {
            0 if key & 0x20 == 0 => {
                let a = EMEM_BASE + 64 * u64::from(key & 31);
                a & 0xffff_ffff | (a >> 32) << 56
            }
            0 => 0,
            1 => {
                let v = lm[(ctx.lm_addr[2] >> 2) as usize & (LM_WORDS - 1)];
                let o = 64 * (key as usize & 31);
                if let Some(m) = self.emem.borrow_mut().get_mut(o..o + 4) {
                    m.copy_from_slice(&v.to_le_bytes());
                }
                0
            }
            2 => (-2i64) as u64,
            3 => u64::from(pkt.buf[128]),
            _ => return false,
        };
        ctx.set_both(0, r0 as u32);
        ctx.set_both(1, (r0 >> 32) as u32);
        true
    }
}

impl Env for DiffEnv {
    fn emem_read(&self, addr: u64, buf: &mut [u8]) -> bool {
        let Some(r) = self.range(addr, buf.len()) else {
            return false;
        };
        buf.copy_from_slice(&self.emem.borrow()[r]);
        true
    }

    fn emem_write(&self, addr: u64, data: &[u8]) -> bool {
        let Some(r) = self.range(addr, data.len()) else {
            return false;
        };
        self.emem.borrow_mut()[r].copy_from_slice(data);
        true
    }

    fn emem_add(&self, addr: u64, value: u64, wide: bool) -> bool {
        let Some(r) = self.range(addr, 8) else {
            return false;
        };
        let mut m = self.emem.borrow_mut();
        let m = &mut m[r];
        let w = |m: &[u8], i: usize| u32::from_be_bytes([m[i], m[i + 1], m[i + 2], m[i + 3]]);
        if wide {
            let v = (u64::from(w(m, 4)) << 32 | u64::from(w(m, 0))).wrapping_add(value);
            m[..4].copy_from_slice(&(v as u32).to_be_bytes());
            m[4..].copy_from_slice(&((v >> 32) as u32).to_be_bytes());
        } else {
            let v = w(m, 0).wrapping_add(value as u32);
            m[..4].copy_from_slice(&v.to_be_bytes());
        }
        true
    }

    fn helper(&self, addr: u16, ctx: &mut Ctx, lm: &mut [u32; LM_WORDS], pkt: &Packet) -> bool {
        let key = lm[(ctx.lm_addr[0] >> 2) as usize & (LM_WORDS - 1)];
        self.calls.borrow_mut().push((addr, ctx.a(0), key));
        match self.helpers {
            Helpers::LookupMix => Self::lookup_mix(addr, ctx, lm, pkt),
            Helpers::MapOps => self.map_ops(addr, ctx, lm, pkt),
        }
    }
}

/// The state a run starts from (and, after it, what it left).
#[derive(Clone, Debug)]
pub(crate) struct Start {
    /// The context.
    pub(crate) ctx: Ctx,
    /// The ME's local memory.
    pub(crate) lm: Box<[u32; LM_WORDS]>,
    /// The CTM packet buffer.
    pub(crate) ctm: Box<[u8]>,
    /// The packet number.
    pub(crate) num: u16,
    /// EMEM at [`EMEM_BASE`] ([`EMEM_BYTES`] unless a test says otherwise).
    pub(crate) emem: Vec<u8>,
    /// The helpers the runs call.
    pub(crate) helpers: Helpers,
}

impl Start {
    /// Everything zero, packet `num`.
    pub(crate) fn zero(num: u16) -> Self {
        Self {
            ctx: Ctx::default(),
            lm: Box::new([0; LM_WORDS]),
            ctm: vec![0; CTM_PKT_BUF].into_boxed_slice(),
            num,
            emem: vec![0; EMEM_BYTES],
            helpers: Helpers::default(),
        }
    }

    /// Everything random: registers, condition codes, LM index registers,
    /// LM, EMEM and the packet buffer; a third of the GPRs hold addresses
    /// of the packet (CTM), a sixth of EMEM (40-bit split form).
    pub(crate) fn random(rng: &mut Rng) -> Self {
        let num = rng.below(1024) as u16;
        let mut s = Self::zero(num);
        s.ctx = Ctx::new(rng.next() as u32);
        for (i, r) in s.ctx.gpr.iter_mut().flatten().enumerate() {
            *r = match i % 6 {
                0 | 3 => 0x8000_0000 | u32::from(num) << 16 | rng.below(1024) as u32,
                1 => (EMEM_BASE + rng.below(EMEM_BYTES as u64)) as u32,
                2 => ((EMEM_BASE >> 32) as u32) << 24,
                _ => rng.next() as u32,
            };
        }
        for x in s.ctx.xfer_in.iter_mut().chain(s.ctx.xfer_out.iter_mut()) {
            *x = rng.next() as u32;
        }
        s.ctx.lm_addr = [0, 1, 2, 3].map(|_| rng.next() as u32 & 0xffc);
        let f = rng.next();
        (s.ctx.z, s.ctx.n, s.ctx.c, s.ctx.v) = (f & 1 != 0, f & 2 != 0, f & 4 != 0, f & 8 != 0);
        s.ctx.prev_alu = rng.next() as u32;
        s.ctx.prev_a = rng.next() as u32;
        for w in s.lm.iter_mut() {
            *w = if rng.below(4) == 0 {
                rng.below(32) as u32
            } else {
                rng.next() as u32
            };
        }
        for c in s.emem.chunks_mut(8).chain(s.ctm.chunks_mut(8)) {
            let r = rng.next().to_le_bytes();
            c.copy_from_slice(&r[..c.len()]);
        }
        s
    }

    /// The firmware's entry state for `frame` on context `c` of ME `me`
    /// (as `fp::me::Me` sets it up: packet vector in LM at ActLMAddr1,
    /// stack at ActLMAddr0 and A22, the data at `PKT_DATA_OFF` in CTM),
    /// the context's other registers random.
    pub(crate) fn packet(frame: &[u8], me: u16, c: usize, rng: &mut Rng) -> Self {
        let c = c % CONTEXTS;
        let mut s = Self::random(rng);
        s.num = (me * CONTEXTS as u16 + c as u16) & 0x3ff;
        s.enter(frame, c);
        s
    }

    /// Put `frame` in as the next packet on context `c` (what the ME does
    /// between packets), keeping everything else.
    pub(crate) fn enter(&mut self, frame: &[u8], c: usize) {
        let start = PKT_DATA_OFF as usize;
        let len = frame.len().min(CTM_PKT_BUF - start).min(0x3fff);
        self.ctm[..start].fill(0);
        self.ctm[start..start + len].copy_from_slice(&frame[..len]);
        let pv = PV_BASE + c as u32 * PV_BYTES;
        let pvw = (pv / 4) as usize;
        let stack = c as u32 * STACK_BYTES;
        self.lm[pvw..pvw + (PV_BYTES / 4) as usize].fill(0);
        self.lm[pvw] = u32::from(self.num) << 16 | len as u32;
        self.lm[pvw + 2] = 0x8000_0000 | u32::from(self.num) << 16 | PKT_DATA_OFF;
        self.ctx.lm_addr[1] = pv;
        self.ctx.lm_addr[0] = stack;
        self.ctx.gpr[0][22] = stack;
    }
}

/// What a run left besides the state: its exit, the lowest packet byte it
/// wrote and the helper calls it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct End {
    /// Steps and result or fault.
    pub(crate) exit: Exit,
    /// [`Packet::low_write`].
    pub(crate) low_write: usize,
    /// Helper calls, in order.
    pub(crate) calls: Vec<Call>,
}

/// Run `prog` on `exec` from `s`, leaving the final state in `s`.
pub(crate) fn run(exec: &dyn Executor, prog: &Program, s: &mut Start, budget: u64) -> End {
    let env = DiffEnv::new(&s.emem, s.helpers);
    let mut t = Thread {
        ctx: &mut s.ctx,
        lm: &mut s.lm,
        pkt: Packet::new(s.num, &mut s.ctm),
        env: &env,
    };
    let exit = exec.run(prog, &mut t, budget);
    let low_write = t.pkt.low_write;
    s.emem = env.emem.into_inner();
    End {
        exit,
        low_write,
        calls: env.calls.into_inner(),
    }
}

/// The first differences between two runs' ends and states, described;
/// `None` if they are the same.
pub(crate) fn diff(a: (&End, &Start), b: (&End, &Start)) -> Option<String> {
    let mut d = String::new();
    let mut field = |name: &str, x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug, same: bool| {
        if !same {
            let _ = writeln!(d, "  {name}: {x:?} != {y:?}");
        }
    };
    let (ea, sa) = a;
    let (eb, sb) = b;
    field("exit", &ea.exit, &eb.exit, ea.exit == eb.exit);
    field(
        "low_write",
        &ea.low_write,
        &eb.low_write,
        ea.low_write == eb.low_write,
    );
    field("helper calls", &ea.calls, &eb.calls, ea.calls == eb.calls);
    let (ca, cb) = (&sa.ctx, &sb.ctx);
    for (bank, (x, y)) in ca.gpr.iter().zip(&cb.gpr).enumerate() {
        for (n, (x, y)) in x.iter().zip(y).enumerate() {
            let name = format!("gpr{}{n}", ["A", "B"][bank]);
            field(&name, x, y, x == y);
        }
    }
    for (n, (x, y)) in ca.xfer_in.iter().zip(&cb.xfer_in).enumerate() {
        field(&format!("xfer_in{n}"), x, y, x == y);
    }
    for (n, (x, y)) in ca.xfer_out.iter().zip(&cb.xfer_out).enumerate() {
        field(&format!("xfer_out{n}"), x, y, x == y);
    }
    field(
        "lm_addr",
        &ca.lm_addr,
        &cb.lm_addr,
        ca.lm_addr == cb.lm_addr,
    );
    let f = |c: &Ctx| (c.z, c.n, c.c, c.v);
    field("ZNCV", &f(ca), &f(cb), f(ca) == f(cb));
    field(
        "prev_alu",
        &ca.prev_alu,
        &cb.prev_alu,
        ca.prev_alu == cb.prev_alu,
    );
    field("prev_a", &ca.prev_a, &cb.prev_a, ca.prev_a == cb.prev_a);
    field(
        "csr_read",
        &ca.csr_read,
        &cb.csr_read,
        ca.csr_read == cb.csr_read,
    );
    field("mul", &ca.mul, &cb.mul, ca.mul == cb.mul);
    field("rnd", &ca.rnd(), &cb.rnd(), ca.rnd() == cb.rnd());
    field(
        "constants",
        &"",
        &"",
        ca.constants_intact() && cb.constants_intact(),
    );
    for (w, (x, y)) in sa.lm.iter().zip(sb.lm.iter()).enumerate() {
        field(&format!("LM word {w}"), x, y, x == y);
    }
    for (o, (x, y)) in sa.ctm.iter().zip(sb.ctm.iter()).enumerate() {
        field(&format!("CTM byte {o}"), x, y, x == y);
    }
    for (o, (x, y)) in sa.emem.iter().zip(&sb.emem).enumerate() {
        field(&format!("EMEM byte {o}"), x, y, x == y);
    }
    if d.is_empty() {
        return None;
    }
    let lines: Vec<&str> = d.lines().take(12).collect();
    Some(lines.join("\n"))
}

/// Two executors side by side, each on its own copy of one state, run
/// after run: what a run leaves is where the next one starts (registers,
/// LM, the packet buffer, EMEM), as on an ME.
pub(crate) struct Twin<'e> {
    a: &'e dyn Executor,
    b: &'e dyn Executor,
    /// `a`'s state.
    pub(crate) sa: Start,
    /// `b`'s state.
    pub(crate) sb: Start,
}

impl<'e> Twin<'e> {
    /// `a` and `b`, both at `s`.
    pub(crate) fn new(a: &'e dyn Executor, b: &'e dyn Executor, s: Start) -> Self {
        Self {
            a,
            b,
            sa: s.clone(),
            sb: s,
        }
    }

    /// Both sides: `frame` enters as packet `num` on context `c`
    /// ([`Start::enter`]).
    pub(crate) fn enter(&mut self, frame: &[u8], c: usize, num: u16) {
        for s in [&mut self.sa, &mut self.sb] {
            s.num = num;
            s.enter(frame, c);
        }
    }

    /// Run `prog` on both sides; the end (the same on both), or the
    /// differences.
    pub(crate) fn run(&mut self, prog: &Program, budget: u64) -> Result<End, String> {
        let ea = run(self.a, prog, &mut self.sa, budget);
        let eb = run(self.b, prog, &mut self.sb, budget);
        match diff((&ea, &self.sa), (&eb, &self.sb)) {
            None => Ok(ea),
            Some(d) => Err(format!(
                "{} vs {} differ:\n{d}",
                self.a.name(),
                self.b.name()
            )),
        }
    }
}

/// Run `prog` on `a` and `b` from each start; the number of runs, or the
/// first mismatch (which start, the differences).
pub(crate) fn check(
    a: &dyn Executor,
    b: &dyn Executor,
    prog: &Program,
    starts: impl IntoIterator<Item = Start>,
    budget: u64,
) -> Result<usize, String> {
    let mut n = 0;
    for (i, s) in starts.into_iter().enumerate() {
        Twin::new(a, b, s)
            .run(prog, budget)
            .map_err(|d| format!("start {i}: {d}"))?;
        n += 1;
    }
    Ok(n)
}

/// Run `frames` back to back on one context from `first` (each frame
/// entered as the ME enters a packet, the rest of the state carried over)
/// on `a` and `b`; the number of packets, or the first mismatch.
pub(crate) fn check_chain(
    a: &dyn Executor,
    b: &dyn Executor,
    prog: &Program,
    first: Start,
    frames: &[&[u8]],
    budget: u64,
) -> Result<usize, String> {
    let num = first.num;
    let mut twin = Twin::new(a, b, first);
    for (i, f) in frames.iter().enumerate() {
        twin.enter(f, i % CONTEXTS, num);
        twin.run(prog, budget)
            .map_err(|d| format!("packet {i} of the chain: {d}"))?;
    }
    Ok(frames.len())
}

/// Load `words` at [`START`] with DONE at [`DONE`].
pub(crate) fn load(words: &[u64]) -> Program {
    Program::load(words, START, DONE, 8192).expect("a loadable program")
}

/// The frames `ci/lib/guest/xdp_diff.py` sends every program (its common
/// frames: well-formed, malformed, truncated, edge values, random).
pub(crate) fn frames() -> Vec<Vec<u8>> {
    let blob = include_bytes!("../testdata/xdp_diff_frames.bin");
    let mut out = Vec::new();
    let mut rest = &blob[..];
    while let [lo, hi, tail @ ..] = rest {
        let n = usize::from(u16::from_le_bytes([*lo, *hi]));
        let (f, r) = tail.split_at(n.min(tail.len()));
        out.push(f.to_vec());
        rest = r;
    }
    out
}

/// Random frames: 60..1514 bytes, a third of them with small values (shift
/// amounts, counts, offsets) in the first 80 bytes.
pub(crate) fn random_frames(rng: &mut Rng, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = [60, 64, 128, 1514, 60 + rng.below(1455) as usize][i % 5];
            let small = i % 3 == 0;
            (0..len)
                .map(|k| {
                    if small && k < 80 {
                        rng.below(70) as u8
                    } else {
                        rng.next() as u8
                    }
                })
                .collect()
        })
        .collect()
}

/// The images of the differential corpus (`ci/progs/diff/*.c` as the
/// Linux 6.12 nfp JIT made them and the card received them, collected
/// with `--bpf-dump` in the xdp-diff boot scenario), with their names.
pub(crate) fn corpus() -> Vec<(&'static str, &'static [u8])> {
    macro_rules! images {
        ($($n:literal),* $(,)?) => {
            vec![$(($n, &include_bytes!(concat!("../../../benches/data/diff/", $n, ".ustore.bin"))[..])),*]
        };
    }
    images![
        "alu32_imm",
        "alu32_reg",
        "alu64_imm",
        "alu64_reg",
        "bounds",
        "bswap",
        "csum_loop",
        "div",
        "hash",
        "head_pop",
        "head_push",
        "head_tail",
        "head_var",
        "ipv4_fwd",
        "ipv6_fwd",
        "jmp32_imm",
        "jmp32_reg",
        "jmp64_imm",
        "jmp64_reg",
        "jmp_misc",
        "ldimm64",
        "mul",
        "pkt_copy",
        "pkt_read",
        "pkt_varoff",
        "pkt_write",
        "reflect",
        "shift32",
        "shift64",
        "stack_large",
        "stack_small",
        "subprog",
        "tail_trim",
        "verdicts",
    ]
}

/// A random program of `len` words: mostly well-formed instructions of the
/// JIT's forms with random operands (GPRs, transfer registers, constants,
/// LM with offsets and post-modification), branches with and without
/// defer slots (to the program, DONE or a helper), memory commands with
/// and without defer slots, CSR reads and writes, multiplications,
/// returns, helper calls; the rest random words of any class (valid ECC).
pub(crate) fn random_program(rng: &mut Rng, len: usize) -> Vec<u64> {
    let mut words = Vec::with_capacity(len);
    for _ in 0..len {
        let r = rng.next();
        let r2 = rng.next();
        // Unrestricted sources may post-modify LM pointers; restricted
        // (8-bit) ones only take offsets.
        let reg = |k: u64, unrestricted: bool| match k % 9 {
            0 | 5 => R::A((k >> 4) as u8 % 32),
            1 | 6 => R::B((k >> 4) as u8 % 32),
            2 => R::Imm((k >> 4) as u32 % 256),
            3 => R::Lm((k >> 4) as u8 % 4, (k >> 6) as u8 % 8),
            4 if unrestricted => [R::LmInc, R::LmDec][(k >> 6) as usize % 2]((k >> 4) as u8 % 4),
            _ => R::X((k >> 4) as u8 % 32),
        };
        let dst = match (r >> 40) % 8 {
            0..=2 => R::A((r >> 44) as u8 % 32),
            3 | 4 => R::B((r >> 44) as u8 % 32),
            5 => R::Both((r >> 44) as u8 % 32),
            6 => R::X((r >> 44) as u8 % 32),
            _ => R::None,
        };
        let t = match r2 % 10 {
            0 => DONE,
            1 => [HELPER_LOOKUP, HELPER_MIX, 0x300][(r2 >> 4) as usize % 3],
            _ => START + ((r2 >> 8) % len as u64) as u16,
        };
        let defer = [0, 0, 1, 2, 3][(r2 >> 20) as usize % 5];
        let w = match r % 16 {
            0..=2 => asm::alu(
                dst,
                reg(r >> 8, true),
                ALU_OPS[(r >> 4) as usize % ALU_OPS.len()],
                reg(r >> 24, true),
            ),
            3 => asm::alu(
                [R::Lm(1, 2), R::LmInc(3), R::LmDec(0), R::Lm(2, 1)][(r >> 4) as usize % 4],
                reg(r >> 8, true),
                ALU_OPS[(r >> 6) as usize % ALU_OPS.len()],
                reg(r >> 24, true),
            ),
            4 => asm::alu_shf(
                dst,
                reg(r >> 8, false),
                SHF_OPS[(r >> 4) as usize % 7],
                reg(r >> 24, false),
                (r >> 6) % 4,
                (r >> 9) % 32,
            ),
            5 => asm::immed(
                [dst, R::Lm(3, 1)][usize::from(r2 & 0x100 != 0)],
                (r >> 16) as u16,
                (r >> 4) % 3,
                r & 0x100 != 0,
                (r >> 6) % 3,
            ),
            6 => asm::ld_field(
                dst,
                (r >> 4) % 16,
                reg(r >> 24, false),
                (r >> 8) % 3,
                (r >> 10) % 32,
                r & 0x8000 != 0,
            ),
            7 | 8 => asm::br(BR_CONDS[(r >> 4) as usize % BR_CONDS.len()], t, defer),
            9 => asm::br_bit(
                r & 0x10 != 0,
                [R::A((r >> 5) as u8 % 32), R::B((r >> 5) as u8 % 32)][(r >> 11) as usize % 2],
                (r >> 12) as u32 % 32,
                t,
                defer,
            ),
            10 => match (r >> 4) % 6 {
                0 => asm::csr_rd(NFP_CSR_PSEUDO_RND_NUM),
                1 => {
                    asm::csr_rd([NFP_CSR_ACT_LM_ADDR0, NFP_CSR_ACT_LM_ADDR3][(r >> 8) as usize % 2])
                }
                2 => asm::csr_wr(0x100, R::A(3)),
                _ => asm::csr_wr(
                    [
                        NFP_CSR_ACT_LM_ADDR0,
                        NFP_CSR_ACT_LM_ADDR1,
                        NFP_CSR_ACT_LM_ADDR2,
                        NFP_CSR_ACT_LM_ADDR3,
                    ][(r >> 8) as usize % 4],
                    reg(r >> 12, false),
                ),
            },
            11 => match (r >> 4) % 4 {
                0 | 1 => asm::mul_start(R::A((r >> 8) as u8 % 32), R::B((r >> 13) as u8 % 32)),
                2 => asm::mul_step(R::A((r >> 8) as u8 % 32), R::B((r >> 13) as u8 % 32), 3, 1),
                _ => asm::mul_last(dst, 1 + (r >> 8) % 3, r & 0x8000 != 0),
            },
            12 => asm::mem(
                MEM_CMDS[(r >> 4) as usize % 6],
                (r >> 8) % 32,
                R::A((r >> 13) as u8 % 32),
                [R::Imm((r >> 18) as u32 % 64), R::B((r >> 18) as u8 % 32)][(r >> 24) as usize % 2],
                (r >> 25) % 8,
                [1, 4][(r >> 28) as usize % 2],
                (r >> 29) % 4,
                r & 0x8000_0000 != 0,
            ),
            13 => match (r >> 4) % 3 {
                // A helper call: return address in B0, then the branch.
                0 => asm::immed(R::B(0), START + (r2 % len as u64) as u16, 0, false, 0),
                1 => asm::rtn([R::A(0), R::B(0), R::A(5)][(r >> 8) as usize % 3], defer),
                _ => asm::immed(
                    [R::A(0), R::Both(5)][(r >> 8) as usize % 2],
                    START + (r2 % len as u64) as u16,
                    0,
                    false,
                    0,
                ),
            },
            14 => asm::nop(),
            _ => {
                let mut w = rng.next() & NFP_INSN_MASK;
                if w & 0x00f0_0000_0000 == 0x00d0_0000_0000 {
                    w = (w & !(0x1fff << 22) & !(1 << 40)) | u64::from(t & 0x1fff) << 22;
                }
                with_ecc(w)
            }
        };
        words.push(w);
    }
    words
}
