//! The microengine executor: runs a pre-decoded program on one context of
//! one ME against one packet (bpf.md §4.4-4.8, §5.1-5.6).
//!
//! Everything the JIT relies on is modelled: GPR banks A/B, transfer-in and
//! transfer-out registers, the four LM address CSRs with post-modify, the
//! condition codes, the previous-ALU value (indirect shifts, ASHR sign,
//! `indirect_ref` overrides), the CSR-read-into-next-`immed` idiom, the
//! multiplier latch, branch and command defer slots. Memory commands reach
//! the context's packet buffer (CTM, 32-bit mode) or EMEM (40-bit mode)
//! through [`Env`]. Nothing here allocates.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::trace;

use super::insn::{AluOp, Bank, BrCond, Cmd, Insn, LmMode, MemOp, Opnd, ShfOp, ShiftCtl, decode};
use super::word::{NFP_INSN_MASK, ecc_ok};

/// Local memory per ME: 1024 words (nfp_me.h:513-533, bits 11..2 of an LM
/// address CSR).
pub const LM_WORDS: usize = 1024;
/// Transfer registers per context in 4-context mode.
pub const XFER_REGS: usize = 64;
/// Bytes of a context's CTM packet buffer: headroom, the largest frame a
/// port carries, and room for reads past the end.
pub const CTM_PKT_BUF: usize = 16 * 1024;

/// Local CSR byte addresses (nfp_asm.h:278-283).
pub const NFP_CSR_ACT_LM_ADDR0: u16 = 0x064;
pub const NFP_CSR_ACT_LM_ADDR1: u16 = 0x06c;
pub const NFP_CSR_ACT_LM_ADDR2: u16 = 0x094;
pub const NFP_CSR_ACT_LM_ADDR3: u16 = 0x09c;
pub const NFP_CSR_PSEUDO_RND_NUM: u16 = 0x148;

/// `indirect_ref` override fields of the previous ALU result
/// (nfp_asm.h:257-259, nfp_me.h:919-970).
const CMD_OVE_LEN: u32 = 1 << 7;
const CMD_OV_LEN_SHIFT: u32 = 8;
const CMD_OVE_DATA_SHIFT: u32 = 3;
/// OveData = 2: PREV_ALU[31:16] is the command's 16-bit immediate data.
const CMD_OVE_DATA_IMM16: u32 = 2;

use crate::cpp::mu::MU_ADDR_MASK as ADDR40_MASK;

impl Fault {
    /// The fault with the instruction word it names filled in.
    fn with_word(self, w: u64) -> Self {
        match self {
            Fault::Invalid { pc, .. } => Fault::Invalid { pc, word: w },
            Fault::Operand { pc, .. } => Fault::Operand { pc, word: w },
            f => f,
        }
    }
}

/// Why a packet's program was cut short (the packet then counts as
/// XDP_ABORTED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A word the executor cannot decode or run.
    Invalid { pc: u16, word: u64 },
    /// An operand form outside the JIT's subset.
    Operand { pc: u16, word: u64 },
    /// Control reached an address outside the program, DONE and helpers.
    OutOfProgram { pc: u16 },
    /// A memory command outside what the card maps.
    Memory { pc: u16, addr: u64 },
    /// The per-packet instruction budget ran out.
    Budget { pc: u16 },
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Fault::Invalid { pc, word } => write!(
                f,
                "invalid instruction {word:#018x} at .{pc} ({})",
                super::disasm::disasm(word)
            ),
            Fault::Operand { pc, word } => write!(
                f,
                "unsupported operand in {word:#018x} at .{pc} ({})",
                super::disasm::disasm(word)
            ),
            Fault::OutOfProgram { pc } => {
                write!(f, "jump to .{pc}, outside the program and its helpers")
            }
            Fault::Memory { pc, addr } => {
                write!(f, "memory command at .{pc} to unmapped address {addr:#x}")
            }
            Fault::Budget { pc } => write!(f, "instruction budget exhausted at .{pc}"),
        }
    }
}

/// Why a program image was refused at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    Empty,
    TooLong { len: usize, max: usize },
    Ecc { index: usize, word: u64 },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Empty => write!(f, "empty program"),
            LoadError::TooLong { len, max } => {
                write!(f, "program of {len} instructions exceeds {max}")
            }
            LoadError::Ecc { index, word } => {
                write!(f, "word {index} ({word:#018x}) fails its ECC check")
            }
        }
    }
}

/// The ustore words of an image as the driver DMAs it (little-endian u64
/// each; a trailing partial word is ignored).
pub fn le_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

/// A program decoded once at load: word `k` sits at ustore address
/// `start + k`.
#[derive(Debug)]
pub struct Program {
    /// Load sequence number (unique in the process).
    pub seq: u64,
    pub start: u16,
    /// The exit address (`NFP_NET_CFG_BPF_DONE`).
    pub done: u16,
    pub words: Box<[u64]>,
    pub insns: Box<[Insn]>,
    faults: AtomicU64,
}

impl Program {
    /// Decode `words` (as DMAed: little-endian u64 with ECC), checking
    /// every word's ECC.
    pub fn load(words: &[u64], start: u16, done: u16, max: usize) -> Result<Self, LoadError> {
        if words.is_empty() {
            return Err(LoadError::Empty);
        }
        if words.len() > max {
            return Err(LoadError::TooLong {
                len: words.len(),
                max,
            });
        }
        if let Some((index, &word)) = words.iter().enumerate().find(|(_, w)| !ecc_ok(**w)) {
            return Err(LoadError::Ecc { index, word });
        }
        static SEQ: AtomicU64 = AtomicU64::new(1);
        Ok(Self {
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            start,
            done,
            words: words.into(),
            insns: words.iter().map(|&w| decode(w)).collect(),
            faults: AtomicU64::new(0),
        })
    }

    /// Count a packet this program aborted; the count before it.
    pub fn count_fault(&self) -> u64 {
        self.faults.fetch_add(1, Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    fn fetch(&self, pc: u16) -> Option<&Insn> {
        self.insns.get(usize::from(pc.checked_sub(self.start)?))
    }

    /// The ustore word at `pc` (for logs and faults).
    fn word(&self, pc: u16) -> u64 {
        pc.checked_sub(self.start)
            .and_then(|i| self.words.get(usize::from(i)))
            .copied()
            .unwrap_or(0)
    }
}

/// The state of one ME context (bpf.md §5.1).
#[derive(Clone, Debug)]
pub struct Ctx {
    /// GPR banks A and B.
    pub gpr: [[u32; 32]; 2],
    pub xfer_in: [u32; XFER_REGS],
    pub xfer_out: [u32; XFER_REGS],
    /// `ActLMAddr0..3` (byte addresses).
    pub lm_addr: [u32; 4],
    pub z: bool,
    pub n: bool,
    pub c: bool,
    pub v: bool,
    /// Result of the previous ALU-class instruction.
    pub prev_alu: u32,
    /// Its A operand (indirect shift amounts).
    pub prev_a: u32,
    csr_read: Option<u32>,
    mul: [u32; 2],
    rnd: u32,
}

impl Default for Ctx {
    fn default() -> Self {
        Self::new(0x9e37_79b9)
    }
}

/// A resolved destination.
#[derive(Clone, Copy, Debug)]
enum Place {
    Gpr(usize, usize),
    XferOut(usize),
    Lm(usize),
    None,
}

fn bank_idx(b: Bank) -> usize {
    match b {
        Bank::A => 0,
        Bank::B => 1,
    }
}

impl Ctx {
    /// A context whose pseudo-random generator starts from `seed`.
    pub fn new(seed: u32) -> Self {
        Self {
            gpr: [[0; 32]; 2],
            xfer_in: [0; XFER_REGS],
            xfer_out: [0; XFER_REGS],
            lm_addr: [0; 4],
            z: false,
            n: false,
            c: false,
            v: false,
            prev_alu: 0,
            prev_a: 0,
            csr_read: None,
            mul: [0; 2],
            rnd: seed | 1,
        }
    }

    pub fn a(&self, n: usize) -> u32 {
        self.gpr[0][n & 31]
    }

    pub fn b(&self, n: usize) -> u32 {
        self.gpr[1][n & 31]
    }

    /// Write GPR `n` of both banks.
    pub fn set_both(&mut self, n: usize, v: u32) {
        self.gpr[0][n & 31] = v;
        self.gpr[1][n & 31] = v;
    }

    fn next_random(&mut self) -> u32 {
        let mut x = self.rnd;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rnd = x;
        x
    }

    #[inline(always)]
    fn lm_word(&mut self, ptr: u8, mode: LmMode) -> usize {
        let p = usize::from(ptr & 3);
        let base = (self.lm_addr[p] >> 2) as usize & (LM_WORDS - 1);
        match mode {
            // "offset is ORed in not added" (jit.c:1194-1195).
            LmMode::Offset(o) => base | usize::from(o),
            LmMode::PostInc => {
                self.lm_addr[p] = self.lm_addr[p].wrapping_add(4) & 0xffc;
                base
            }
            LmMode::PostDec => {
                self.lm_addr[p] = self.lm_addr[p].wrapping_sub(4) & 0xffc;
                base
            }
        }
    }

    #[inline(always)]
    fn read(&mut self, lm: &[u32; LM_WORDS], o: Opnd) -> Option<u32> {
        Some(match o {
            Opnd::Gpr(b, n) => self.gpr[bank_idx(b)][usize::from(n & 31)],
            Opnd::Xfer(n) => *self.xfer_in.get(usize::from(n))?,
            Opnd::Lm { ptr, mode } => lm[self.lm_word(ptr, mode)],
            Opnd::Imm(v) => v,
            Opnd::None | Opnd::Other(_) => return None,
        })
    }

    /// Where a destination operand writes, with an LM pointer's
    /// post-modify applied (once per instruction).
    #[inline(always)]
    fn place(&mut self, o: Opnd) -> Option<Place> {
        Some(match o {
            Opnd::Gpr(b, n) => Place::Gpr(bank_idx(b), usize::from(n & 31)),
            Opnd::Xfer(n) if usize::from(n) < XFER_REGS => Place::XferOut(usize::from(n)),
            Opnd::Lm { ptr, mode } => Place::Lm(self.lm_word(ptr, mode)),
            Opnd::None => Place::None,
            Opnd::Xfer(_) | Opnd::Imm(_) | Opnd::Other(_) => return None,
        })
    }

    /// The current value at a destination, for partial writes: a transfer
    /// register reads back the transfer-out file.
    #[inline(always)]
    fn get(&self, lm: &[u32; LM_WORDS], p: Place) -> u32 {
        match p {
            Place::Gpr(b, n) => self.gpr[b][n],
            Place::XferOut(n) => self.xfer_out[n],
            Place::Lm(w) => lm[w],
            Place::None => 0,
        }
    }

    #[inline(always)]
    fn put(&mut self, lm: &mut [u32; LM_WORDS], p: Place, v: u32, wr_both: bool) {
        match p {
            Place::Gpr(_, n) if wr_both => {
                self.gpr[0][n] = v;
                self.gpr[1][n] = v;
            }
            Place::Gpr(b, n) => self.gpr[b][n] = v,
            Place::XferOut(n) => self.xfer_out[n] = v,
            Place::Lm(w) => lm[w] = v,
            Place::None => {}
        }
    }

    #[inline(always)]
    fn write(&mut self, lm: &mut [u32; LM_WORDS], o: Opnd, v: u32, wr_both: bool) -> Option<()> {
        let p = self.place(o)?;
        self.put(lm, p, v, wr_both);
        Some(())
    }

    #[inline(always)]
    fn set_zn(&mut self, r: u32) {
        self.z = r == 0;
        self.n = r >> 31 != 0;
    }

    #[inline(always)]
    fn cond(&self, c: BrCond) -> Option<bool> {
        Some(match c {
            BrCond::Eq => self.z,
            BrCond::Ne => !self.z,
            BrCond::Mi => self.n,
            BrCond::Pl => !self.n,
            BrCond::Cs => self.c,
            BrCond::Cc => !self.c,
            BrCond::Vs => self.v,
            BrCond::Vc => !self.v,
            BrCond::Ge => self.n == self.v,
            BrCond::Lt => self.n != self.v,
            BrCond::Le => self.z || self.n != self.v,
            BrCond::Gt => !self.z && self.n == self.v,
            BrCond::Always => true,
            BrCond::Other(_) => return None,
        })
    }

    /// The shifter (bpf.md §4.4.2): `field` is the raw SHIFT field; 0 with
    /// a shifting control means "by the previous A operand".
    #[inline(always)]
    fn shift(&self, sc: ShiftCtl, field: u8, a: u32, b: u32) -> u32 {
        let ind = self.prev_a & 31;
        match sc {
            ShiftCtl::RotR => b.rotate_right(u32::from(field)),
            ShiftCtl::ShR => b >> if field == 0 { ind } else { u32::from(field) },
            ShiftCtl::ShL => {
                let n = if field == 0 {
                    ind
                } else {
                    32 - u32::from(field)
                };
                b << n
            }
            ShiftCtl::DblR => {
                let n = if field == 0 { ind } else { u32::from(field) };
                ((u64::from(a) << 32 | u64::from(b)) >> n) as u32
            }
        }
    }
}

/// What a program reaches besides its context, LM and packet: EMEM (the
/// 40-bit space map values live in) and the firmware's helpers.
pub trait Env {
    /// Read EMEM bytes; false if the address is not mapped.
    fn emem_read(&self, _addr: u64, _buf: &mut [u8]) -> bool {
        false
    }
    /// Write EMEM bytes; false if the address is not mapped.
    fn emem_write(&self, _addr: u64, _data: &[u8]) -> bool {
        false
    }
    /// Atomically add to the big-endian 32-bit word (or, `wide`, the
    /// 64-bit value whose low word is at `addr`) at `addr`.
    fn emem_add(&self, _addr: u64, _value: u64, _wide: bool) -> bool {
        false
    }
    /// Run the firmware helper at ustore address `addr` (bpf.md §5.7);
    /// false if there is no helper there.
    fn helper(&self, _addr: u16, _ctx: &mut Ctx, _lm: &mut [u32; LM_WORDS], _pkt: &Packet) -> bool {
        false
    }
}

/// An environment without EMEM or helpers.
#[derive(Debug, Default)]
pub struct NoEnv;
impl Env for NoEnv {}

/// The packet a context works on: its number (the CTM packet-mode address
/// carries it) and the buffer.
#[derive(Debug)]
pub struct Packet<'a> {
    pub num: u16,
    pub buf: &'a mut [u8],
}

impl Packet<'_> {
    /// Byte offset in the buffer of a 32-bit-mode (CTM packet) address.
    pub fn offset(&self, addr: u32) -> Option<usize> {
        // bit 31: CTM packet address; [25:16] packet number; [15:0] offset
        // (bpf.md §5.3).
        (addr >> 31 != 0 && (addr >> 16) & 0x3ff == u32::from(self.num))
            .then_some((addr & 0xffff) as usize)
    }

    fn read(&self, off: usize, out: &mut [u8]) {
        // Reads past the buffer return zeros (the packet cache may reach
        // past the data; the verifier never lets those bytes be used).
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.buf.get(off + i).copied().unwrap_or(0);
        }
    }

    fn write(&mut self, off: usize, data: &[u8]) -> bool {
        match self.buf.get_mut(off..off + data.len()) {
            Some(d) => {
                d.copy_from_slice(data);
                true
            }
            None => false,
        }
    }
}

/// A memory command issued and waiting for its defer slots.
#[derive(Clone, Copy, Debug)]
struct Pending {
    countdown: u8,
    pc: u16,
    op: MemOp,
    ctm: bool,
    addr: u64,
    xfer: u8,
    /// Length field (units depend on the command), after overrides.
    len: u8,
    imm: u32,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Instructions executed.
    pub steps: u64,
    /// GPR A0 at DONE (the result word), or why the run stopped.
    pub result: Result<u32, Fault>,
}

/// Run `prog` from its start until it branches to DONE.
pub fn run<E: Env + ?Sized>(
    prog: &Program,
    ctx: &mut Ctx,
    lm: &mut [u32; LM_WORDS],
    pkt: &mut Packet<'_>,
    env: &E,
    budget: u64,
    trace: bool,
) -> Exit {
    let mut m = Machine {
        ctx,
        lm,
        pkt,
        env,
        pending: [None; 4],
        npending: 0,
        steps: 0,
    };
    let result = m.run(prog, budget, trace);
    Exit {
        steps: m.steps,
        result,
    }
}

struct Machine<'a, 'p, E: Env + ?Sized> {
    ctx: &'a mut Ctx,
    lm: &'a mut [u32; LM_WORDS],
    pkt: &'a mut Packet<'p>,
    env: &'a E,
    pending: [Option<Pending>; 4],
    npending: usize,
    steps: u64,
}

/// What one instruction asks of the sequencer.
enum Flow {
    Next,
    /// Branch after `defer` more instructions, to `target` if taken.
    Branch {
        defer: u8,
        target: Option<u16>,
    },
}

impl<E: Env + ?Sized> Machine<'_, '_, E> {
    fn run(&mut self, prog: &Program, budget: u64, trace: bool) -> Result<u32, Fault> {
        let mut pc = prog.start;
        // (instructions left before the branch happens, its target)
        let mut branch: Option<(u8, Option<u16>)> = None;
        loop {
            if pc == prog.done && branch.is_none() {
                self.flush()?;
                if trace {
                    trace!(target: "nfp_emu::fp::trace", "  .{pc}  DONE  A0={:#010x}", self.ctx.a(0));
                }
                return Ok(self.ctx.a(0));
            }
            // Helper calls count too: a program looping through a helper
            // meets the budget like any other loop.
            if self.steps >= budget {
                return Err(Fault::Budget { pc });
            }
            self.steps += 1;
            let Some(insn) = prog.fetch(pc) else {
                if branch.is_none() {
                    // A firmware helper: it returns to the address latched
                    // in B0 at the call.
                    pc = self.call_helper(pc, trace)?;
                    continue;
                }
                return Err(Fault::OutOfProgram { pc });
            };
            if trace {
                let word = prog.word(pc);
                trace!(
                    target: "nfp_emu::fp::trace",
                    "  .{pc}  {word:016x}  {}",
                    super::disasm::Disasm(word)
                );
            }
            // Faults name the word; it is looked up only then.
            let flow = self
                .step(insn, pc)
                .map_err(|f| f.with_word(prog.word(pc) & NFP_INSN_MASK))?;
            let mut next = pc.wrapping_add(1);
            // A branch issued earlier: this was one of its defer slots.
            if let Some((left, target)) = branch.as_mut() {
                *left -= 1;
                if *left == 0 {
                    if let Some(t) = *target {
                        next = t;
                    }
                    branch = None;
                }
            }
            if let Flow::Branch { defer, target } = flow {
                if branch.is_some() {
                    // A branch in a defer slot: never emitted by the JIT.
                    return Err(Fault::Invalid {
                        pc,
                        word: prog.word(pc) & NFP_INSN_MASK,
                    });
                }
                if defer == 0 {
                    if let Some(t) = target {
                        next = t;
                    }
                } else {
                    branch = Some((defer, target));
                }
            }
            self.tick()?;
            pc = next;
        }
    }

    /// Run the helper at `pc`; the address to continue at.
    fn call_helper(&mut self, pc: u16, trace: bool) -> Result<u16, Fault> {
        self.flush()?;
        // The return address is in B0 at the call (jit.c:1750-1751); the
        // helper overwrites R0, so latch it first.
        let ret = (self.ctx.b(0) & 0x3fff) as u16;
        if trace {
            trace!(target: "nfp_emu::fp::trace", "  .{pc}  helper call, return to .{ret}");
        }
        if self.env.helper(pc, self.ctx, self.lm, self.pkt) {
            Ok(ret)
        } else {
            Err(Fault::OutOfProgram { pc })
        }
    }

    /// Count down the defer slots of pending commands; run the due ones.
    #[inline(always)]
    fn tick(&mut self) -> Result<(), Fault> {
        if self.npending == 0 {
            return Ok(());
        }
        for i in 0..self.pending.len() {
            if let Some(p) = self.pending[i].as_mut() {
                p.countdown -= 1;
                if p.countdown == 0 {
                    let p = *p;
                    self.pending[i] = None;
                    self.npending -= 1;
                    self.execute(&p)?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Fault> {
        for i in 0..self.pending.len() {
            if let Some(p) = self.pending[i].take() {
                self.npending -= 1;
                self.execute(&p)?;
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn rd(&mut self, o: Opnd, pc: u16, word: u64) -> Result<u32, Fault> {
        self.ctx.read(self.lm, o).ok_or(Fault::Operand { pc, word })
    }

    #[inline(always)]
    fn wr(&mut self, o: Opnd, v: u32, wr_both: bool, pc: u16, word: u64) -> Result<(), Fault> {
        self.ctx
            .write(self.lm, o, v, wr_both)
            .ok_or(Fault::Operand { pc, word })
    }

    #[inline(always)]
    fn step(&mut self, insn: &Insn, pc: u16) -> Result<Flow, Fault> {
        let csr_read = self.ctx.csr_read.take();
        // Filled in by the caller when a fault leaves.
        let word = 0;
        match *insn {
            Insn::Alu {
                op,
                dst,
                a,
                b,
                swap,
                wr_both,
                no_cc,
            } => {
                let (x, y) = (self.rd(a, pc, word)?, self.rd(b, pc, word)?);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                let c = &mut *self.ctx;
                let add = |a: u32, b: u32, cin: u32| {
                    let s = u64::from(a) + u64::from(b) + u64::from(cin);
                    let r = s as u32;
                    (r, s >> 32 != 0, (!(a ^ b) & (a ^ r)) >> 31 != 0)
                };
                let sub = |a: u32, b: u32, borrow: u32| {
                    let s = i64::from(a) - i64::from(b) - i64::from(borrow);
                    let r = s as u32;
                    (r, s >= 0, ((a ^ b) & (a ^ r)) >> 31 != 0)
                };
                let (r, cv) = match op {
                    AluOp::None => (b, None),
                    AluOp::Add => {
                        let (r, co, v) = add(a, b, 0);
                        (r, Some((co, v)))
                    }
                    AluOp::AddC => {
                        let (r, co, v) = add(a, b, u32::from(c.c));
                        (r, Some((co, v)))
                    }
                    AluOp::Add16 => (a.wrapping_add(b) & 0xffff, None),
                    AluOp::Sub => {
                        let (r, co, v) = sub(a, b, 0);
                        (r, Some((co, v)))
                    }
                    AluOp::SubC => {
                        let (r, co, v) = sub(a, b, u32::from(!c.c));
                        (r, Some((co, v)))
                    }
                    AluOp::Not => (!b, None),
                    AluOp::And => (a & b, None),
                    AluOp::AndNotA => (!a & b, None),
                    AluOp::AndNotB => (a & !b, None),
                    AluOp::Or => (a | b, None),
                    AluOp::Xor => (a ^ b, None),
                    AluOp::Other(_) => return Err(Fault::Invalid { pc, word }),
                };
                if !no_cc {
                    c.set_zn(r);
                    if let Some((co, v)) = cv {
                        c.c = co;
                        c.v = v;
                    }
                }
                c.prev_alu = r;
                c.prev_a = a;
                self.wr(dst, r, wr_both, pc, word)?;
            }
            Insn::AluShf {
                op,
                sc,
                shift,
                dst,
                a,
                b,
                swap,
                wr_both,
            } => {
                let (x, y) = (self.rd(a, pc, word)?, self.rd(b, pc, word)?);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                let c = &mut *self.ctx;
                let r = if op == ShfOp::Ashr {
                    // Sign from bit 31 of the previous ALU result.
                    let n = if shift == 0 {
                        c.prev_a & 31
                    } else {
                        u32::from(shift)
                    };
                    let sign = c.prev_alu >> 31 != 0;
                    let r = b >> n;
                    if sign && n != 0 {
                        r | !(u32::MAX >> n)
                    } else {
                        r
                    }
                } else if sc == ShiftCtl::DblR {
                    c.shift(sc, shift, a, b)
                } else {
                    let s = c.shift(sc, shift, a, b);
                    match op {
                        ShfOp::B => s,
                        ShfOp::NotB => !s,
                        ShfOp::And => a & s,
                        ShfOp::AndNotA => !a & s,
                        ShfOp::AndNotB => a & !s,
                        ShfOp::Or => a | s,
                        ShfOp::Ashr | ShfOp::ByteAlign => return Err(Fault::Invalid { pc, word }),
                    }
                };
                c.set_zn(r);
                c.prev_alu = r;
                c.prev_a = a;
                self.wr(dst, r, wr_both, pc, word)?;
            }
            Insn::Immed {
                dst,
                value,
                width,
                inv,
                shift,
                wr_both,
            } => {
                let sh = 8 * u32::from(shift);
                let v16 = u64::from(value);
                let place = self.ctx.place(dst).ok_or(Fault::Operand { pc, word })?;
                let r = if let Some(csr) = csr_read {
                    csr
                } else if width == 0 {
                    let r = (v16 << sh) as u32;
                    if inv { !r } else { r }
                } else {
                    let w: u64 = if width == 1 { 0xff } else { 0xffff };
                    let old = self.ctx.get(self.lm, place);
                    let m = (w << sh) as u32;
                    old & !m | ((v16 & w) << sh) as u32
                };
                self.ctx.prev_alu = r;
                self.ctx.put(self.lm, place, r, wr_both);
            }
            Insn::LdField {
                dst,
                src,
                sc,
                shift,
                bmask,
                zero_fill,
                wr_both,
                ..
            } => {
                let s = self.rd(src, pc, word)?;
                let place = self.ctx.place(dst).ok_or(Fault::Operand { pc, word })?;
                let old = if zero_fill {
                    0
                } else {
                    self.ctx.get(self.lm, place)
                };
                let s = self.ctx.shift(sc, shift, 0, s);
                let m = (0..4)
                    .filter(|k| bmask >> k & 1 != 0)
                    .fold(0u32, |m, k| m | 0xff << (8 * k));
                let r = old & !m | s & m;
                self.ctx.prev_alu = r;
                self.ctx.put(self.lm, place, r, wr_both);
            }
            Insn::LocalCsr { write, csr, a, b } => {
                if write {
                    let src = if matches!(a, Opnd::Imm(_)) && !matches!(b, Opnd::Imm(_)) {
                        b
                    } else {
                        a
                    };
                    let v = self.rd(src, pc, word)?;
                    if let Some(k) = lm_csr(csr) {
                        self.ctx.lm_addr[k] = v & 0xffc;
                    } else {
                        trace!(target: "nfp_emu::fp", csr, "write of local CSR {csr:#x} ignored");
                    }
                } else {
                    let v = match csr {
                        NFP_CSR_PSEUDO_RND_NUM => self.ctx.next_random(),
                        c => lm_csr(c).map_or(0, |k| self.ctx.lm_addr[k]),
                    };
                    self.ctx.csr_read = Some(v);
                }
            }
            Insn::Br {
                cond,
                defer,
                target,
            } => {
                let taken = self.ctx.cond(cond).ok_or(Fault::Invalid { pc, word })?;
                return Ok(Flow::Branch {
                    defer,
                    target: taken.then_some(target),
                });
            }
            Insn::BrBit {
                set,
                a,
                b,
                defer,
                target,
            } => {
                let (reg, imm) = if matches!(a, Opnd::Imm(_)) {
                    (b, a)
                } else {
                    (a, b)
                };
                let reg = self.rd(reg, pc, word)?;
                let bitno = self.rd(imm, pc, word)?.wrapping_sub(1) & 31;
                let taken = (reg >> bitno & 1 != 0) == set;
                return Ok(Flow::Branch {
                    defer,
                    target: taken.then_some(target),
                });
            }
            Insn::BrAlu { a, b, defer, imm } => {
                if imm != 0 {
                    return Err(Fault::Invalid { pc, word });
                }
                let reg = if matches!(a, Opnd::Imm(_)) { b } else { a };
                let t = (self.rd(reg, pc, word)? & 0x3fff) as u16;
                return Ok(Flow::Branch {
                    defer,
                    target: Some(t),
                });
            }
            Insn::MulStep {
                step,
                ty,
                a,
                b,
                dst,
                wr_both,
                ..
            } => {
                if step >= 4 {
                    let [x, y] = self.ctx.mul;
                    let p = match ty {
                        1 => u64::from(x & 0xff_ffff) * u64::from(y & 0xff),
                        2 => u64::from(x & 0xffff) * u64::from(y & 0xffff),
                        _ => u64::from(x) * u64::from(y),
                    };
                    let v = if step == 4 {
                        p as u32
                    } else {
                        (p >> 32) as u32
                    };
                    if step > 5 {
                        return Err(Fault::Invalid { pc, word });
                    }
                    self.wr(dst, v, wr_both, pc, word)?;
                } else if ty == 0 {
                    let x = self.rd(a, pc, word)?;
                    let y = self.rd(b, pc, word)?;
                    self.ctx.mul = [x, y];
                }
            }
            Insn::Cmd(ref c) => self.issue(c, pc, word)?,
            Insn::Invalid => return Err(Fault::Invalid { pc, word }),
        }
        Ok(Flow::Next)
    }

    /// Issue a memory command: operands, address and overrides are taken
    /// now, the access happens after its defer slots (bpf.md §4.4.10).
    fn issue(&mut self, c: &Cmd, pc: u16, word: u64) -> Result<(), Fault> {
        let op = c.mem_op();
        if op == MemOp::Other {
            return Err(Fault::Invalid { pc, word });
        }
        let a = self.rd(c.a, pc, word)?;
        let b = self.rd(c.b, pc, word)?;
        let (ctm, addr) = match c.mode {
            4 => (true, u64::from(a.wrapping_add(b))),
            1 => (false, ((u64::from(b) << 8) + u64::from(a)) & ADDR40_MASK),
            _ => return Err(Fault::Invalid { pc, word }),
        };
        let prev = self.ctx.prev_alu;
        let mut len = c.cnt;
        let mut imm = 0;
        if c.indirect {
            if prev & CMD_OVE_LEN != 0 {
                len = ((prev >> CMD_OV_LEN_SHIFT) & 0x1f) as u8;
            }
            if (prev >> CMD_OVE_DATA_SHIFT) & 7 == CMD_OVE_DATA_IMM16 {
                imm = prev >> 16;
            }
        }
        let defer = if c.ctx < 3 { c.ctx } else { 0 };
        let p = Pending {
            countdown: defer,
            pc,
            op,
            ctm,
            addr,
            xfer: c.xfer,
            len,
            imm,
        };
        if defer == 0 {
            return self.execute(&p);
        }
        // +1: the tick after this instruction itself does not count.
        let slot = self
            .pending
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(Fault::Invalid { pc, word })?;
        *slot = Some(Pending {
            countdown: defer + 1,
            ..p
        });
        self.npending += 1;
        Ok(())
    }

    fn mem_read(&self, p: &Pending, off: u64, out: &mut [u8]) -> Result<(), Fault> {
        let addr = p.addr + off;
        if p.ctm {
            let o = self
                .pkt
                .offset(addr as u32)
                .ok_or(Fault::Memory { pc: p.pc, addr })?;
            self.pkt.read(o, out);
            Ok(())
        } else if self.env.emem_read(addr & ADDR40_MASK, out) {
            Ok(())
        } else {
            Err(Fault::Memory { pc: p.pc, addr })
        }
    }

    fn mem_write(&mut self, p: &Pending, off: u64, data: &[u8]) -> Result<(), Fault> {
        let addr = p.addr + off;
        let ok = if p.ctm {
            match self.pkt.offset(addr as u32) {
                Some(o) => self.pkt.write(o, data),
                None => false,
            }
        } else {
            self.env.emem_write(addr & ADDR40_MASK, data)
        };
        ok.then_some(()).ok_or(Fault::Memory { pc: p.pc, addr })
    }

    fn execute(&mut self, p: &Pending) -> Result<(), Fault> {
        let x = usize::from(p.xfer);
        let n = usize::from(p.len) + 1;
        let bad = Fault::Memory {
            pc: p.pc,
            addr: p.addr,
        };
        match p.op {
            MemOp::Read32Swap => {
                if x + n > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                self.mem_read(p, 0, &mut bytes[..4 * n])?;
                for (k, w) in bytes[..4 * n].chunks_exact(4).enumerate() {
                    self.ctx.xfer_in[x + k] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                }
            }
            MemOp::Read8 => {
                let words = n.div_ceil(4);
                if x + words > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 8];
                let len = n.min(bytes.len());
                self.mem_read(p, 0, &mut bytes[..len])?;
                for k in 0..words {
                    let w = [0, 1, 2, 3].map(|i| bytes[4 * k + i]);
                    self.ctx.xfer_in[x + k] = u32::from_be_bytes(w);
                }
            }
            MemOp::Write8Swap => {
                if x + n.div_ceil(4) > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                for (k, b) in bytes.iter_mut().take(n).enumerate() {
                    *b = (self.ctx.xfer_out[x + k / 4] >> (8 * (k % 4))) as u8;
                }
                self.mem_write(p, 0, &bytes[..n])?;
            }
            MemOp::Write32Swap => {
                if x + n > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                for k in 0..n {
                    bytes[4 * k..4 * k + 4]
                        .copy_from_slice(&self.ctx.xfer_out[x + k].to_le_bytes());
                }
                self.mem_write(p, 0, &bytes[..4 * n])?;
            }
            MemOp::Add | MemOp::AddImm => {
                let wide = p.len & 4 != 0;
                let v = if p.op == MemOp::AddImm {
                    u64::from(p.imm)
                } else {
                    if x + 2 > XFER_REGS {
                        return Err(bad);
                    }
                    let lo = u64::from(self.ctx.xfer_out[x]);
                    if wide {
                        u64::from(self.ctx.xfer_out[x + 1]) << 32 | lo
                    } else {
                        lo
                    }
                };
                if p.ctm {
                    // Atomics on packet memory: never emitted (the verifier
                    // refuses them), done plainly for completeness.
                    let mut b = [0u8; 8];
                    self.mem_read(p, 0, &mut b)?;
                    let lo = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let hi = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    if wide {
                        let s = (u64::from(hi) << 32 | u64::from(lo)).wrapping_add(v);
                        b[..4].copy_from_slice(&(s as u32).to_be_bytes());
                        b[4..].copy_from_slice(&((s >> 32) as u32).to_be_bytes());
                        self.mem_write(p, 0, &b)?;
                    } else {
                        self.mem_write(p, 0, &lo.wrapping_add(v as u32).to_be_bytes())?;
                    }
                } else if !self.env.emem_add(p.addr, v, wide) {
                    return Err(bad);
                }
            }
            MemOp::Other => return Err(bad),
        }
        Ok(())
    }
}

fn lm_csr(csr: u16) -> Option<usize> {
    match csr {
        NFP_CSR_ACT_LM_ADDR0 => Some(0),
        NFP_CSR_ACT_LM_ADDR1 => Some(1),
        NFP_CSR_ACT_LM_ADDR2 => Some(2),
        NFP_CSR_ACT_LM_ADDR3 => Some(3),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
