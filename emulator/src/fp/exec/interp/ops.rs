//! The interpreter's pre-resolved instruction form, built once per program
//! at load ([`Code::resolve`]): operands as indexes into the context's
//! register file ([`Ctx::file`](crate::fp::exec::Ctx)), constants and masks
//! precomputed, branch targets as instruction indexes, the defer slots of
//! a branch checked once. What the lean form does not cover is
//! [`Op::Slow`]: the general sequencer runs it from the decoded [`Insn`],
//! so every form keeps the one meaning the decoder gives it.

use crate::fp::exec::XFER_REGS;
use crate::fp::exec::ctx::{FILE_IMM, FILE_SINK, FILE_XFER_IN, FILE_XFER_OUT, lm_csr};
use crate::fp::insn::{AluOp, Bank, BrCond, Insn, LmMode, MemOp, Opnd, ShfOp, ShiftCtl};
use crate::fp::word::{cmd_ctx_swap, cmd_mode};

/// A source operand: an index into the register file (GPR, transfer-in
/// register or constant).
pub(super) type Fs = u16;

/// A destination in the register file: the value is written to both
/// indexes (the same one for one register, both banks for `gpr_wrboth`,
/// the sink for no destination). The first is also the word a partial
/// write reads back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fd(pub(super) u8, pub(super) u8);

/// Any source operand: the file, or local memory through an index
/// register (with its post-modification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Src {
    /// The register file.
    F(Fs),
    /// `*l$indexP[off]`
    Lm(u8, u8),
    /// `*l$indexP++`
    LmInc(u8),
    /// `*l$indexP--`
    LmDec(u8),
}

/// Any destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dst {
    /// The register file.
    F(Fd),
    /// `*l$indexP[off]`
    Lm(u8, u8),
    /// `*l$indexP++`
    LmInc(u8),
    /// `*l$indexP--`
    LmDec(u8),
}

/// ALU operations ([`AluOp`] without the forms that fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AluK {
    B,
    Add,
    AddC,
    Add16,
    Sub,
    SubC,
    Not,
    And,
    AndNotA,
    AndNotB,
    Or,
    Xor,
}

/// `alu_shf` computations ([`ShfOp`] and the shift control folded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ShfK {
    /// `ASHR`: sign from the previous ALU result.
    Ashr,
    /// `dbl_shf`: the double shift, whatever the op.
    Dbl,
    B,
    NotB,
    And,
    AndNotA,
    AndNotB,
    Or,
}

/// One pre-resolved instruction (or a sentinel past the program).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// `alu` on file operands (swap applied: `a` is the left operand).
    Alu {
        k: AluK,
        cc: bool,
        d: Fd,
        a: Fs,
        b: Fs,
    },
    /// `alu` with an LM operand, read in field order, then swapped.
    AluG {
        k: AluK,
        cc: bool,
        swap: bool,
        d: Dst,
        a: Src,
        b: Src,
    },
    /// `alu_shf` on file operands (swap applied).
    Shf {
        k: ShfK,
        sc: ShiftCtl,
        shift: u8,
        d: Fd,
        a: Fs,
        b: Fs,
    },
    /// `alu_shf` with an LM operand.
    ShfG {
        k: ShfK,
        sc: ShiftCtl,
        shift: u8,
        swap: bool,
        d: Dst,
        a: Src,
        b: Src,
    },
    /// `immed`: `r = old & !m | v` (`m` all ones for a whole word).
    Immed { d: Fd, m: u32, v: u32 },
    /// `immed` to LM.
    ImmedG { d: Dst, m: u32, v: u32 },
    /// `ld_field`: `r = old & keep | shift(s) & m`.
    LdF {
        d: Fd,
        s: Fs,
        sc: ShiftCtl,
        shift: u8,
        m: u32,
        keep: u32,
    },
    /// `ld_field` with an LM operand.
    LdFG {
        d: Dst,
        s: Src,
        sc: ShiftCtl,
        shift: u8,
        m: u32,
        keep: u32,
    },
    /// `local_csr_wr` of an LM index register.
    SetLm { k: u8, s: Src },
    /// `b<cond>`: taken if bit (Z | N<<1 | C<<2 | V<<3) of `mask` is
    /// set; the `d` defer slots after it are lean forms (checked at load).
    /// `t` is an instruction index (a sentinel when the target is outside
    /// the program); `back`: the target is at or before the branch.
    Br {
        mask: u16,
        d: u8,
        t: u16,
        back: bool,
    },
    /// `br_bset`/`br_bclr`: bit `file[bit] - 1` of `file[r]`.
    BrBit {
        set: bool,
        r: Fs,
        bit: Fs,
        d: u8,
        t: u16,
        back: bool,
    },
    /// `rtn`: to the address in `file[s]`, after `d` lean defer slots.
    Rtn { s: Fs, d: u8 },
    /// `mul_step` start: latch the operands (field order).
    MulLatch { a: Fs, b: Fs },
    /// `mul_step` last (`hi`: last2) of type `ty`.
    MulLast { ty: u8, hi: bool, d: Fd },
    /// A `mul_step` that does nothing.
    Nop,
    /// A memory command without defer slots.
    Mem(MemOp_),
    /// Past the program: control reached `pc` (DONE, a helper, or
    /// nothing).
    Leave { pc: u16 },
    /// Run on the general sequencer from here.
    Slow,
}

/// A memory command's resolved fields (file operands).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub(super) struct MemOp_ {
    pub(super) op: MemOp,
    /// CTM (32-bit mode), else EMEM (40-bit mode, B << 8 + A).
    pub(super) ctm: bool,
    pub(super) xfer: u8,
    pub(super) cnt: u8,
    pub(super) indirect: bool,
    pub(super) swap: bool,
    pub(super) a: Fs,
    pub(super) b: Fs,
}

/// A program in the lean form: one [`Op`] per instruction, then the
/// sentinels ([`Op::Leave`]) branches outside the program point at.
#[derive(Debug)]
pub(in crate::fp::exec) struct Code {
    pub(super) ops: Box<[Op]>,
    /// Run everything on the general sequencer (a program whose DONE
    /// address is inside it, or that wraps the 16-bit address space).
    pub(super) all_slow: bool,
}

/// The condition mask of a branch condition; `None` for one that faults.
fn cond_mask(c: BrCond) -> Option<u16> {
    let mut m = 0u16;
    for i in 0..16u16 {
        let (z, n, c_, v) = (i & 1 != 0, i & 2 != 0, i & 4 != 0, i & 8 != 0);
        let taken = match c {
            BrCond::Eq => z,
            BrCond::Ne => !z,
            BrCond::Mi => n,
            BrCond::Pl => !n,
            BrCond::Cs => c_,
            BrCond::Cc => !c_,
            BrCond::Vs => v,
            BrCond::Vc => !v,
            BrCond::Ge => n == v,
            BrCond::Lt => n != v,
            BrCond::Le => z || n != v,
            BrCond::Gt => !z && n == v,
            BrCond::Always => true,
            BrCond::Other(_) => return None,
        };
        m |= u16::from(taken) << i;
    }
    Some(m)
}

/// A file source; `None` for LM or a form that faults.
fn fs(o: Opnd) -> Option<Fs> {
    match o {
        Opnd::Gpr(b, n) => Some(bank(b) * 32 + u16::from(n & 31)),
        Opnd::Xfer(n) if usize::from(n) < XFER_REGS => Some(FILE_XFER_IN + u16::from(n)),
        Opnd::Imm(v) if v < 256 => Some(FILE_IMM + v as u16),
        _ => None,
    }
}

/// Any source; `None` for a form that faults.
fn src(o: Opnd) -> Option<Src> {
    if let Some(f) = fs(o) {
        return Some(Src::F(f));
    }
    match o {
        Opnd::Lm { ptr, mode } => Some(lm(ptr, mode, Src::Lm, Src::LmInc, Src::LmDec)),
        _ => None,
    }
}

fn lm<T>(ptr: u8, mode: LmMode, off: fn(u8, u8) -> T, inc: fn(u8) -> T, dec: fn(u8) -> T) -> T {
    let p = ptr & 3;
    match mode {
        LmMode::Offset(o) => off(p, o),
        LmMode::PostInc => inc(p),
        LmMode::PostDec => dec(p),
    }
}

fn bank(b: Bank) -> u16 {
    match b {
        Bank::A => 0,
        Bank::B => 1,
    }
}

/// A file destination; `None` for LM or a form that faults.
fn fd(o: Opnd, wr_both: bool) -> Option<Fd> {
    match o {
        Opnd::Gpr(b, n) => {
            let i = (bank(b) * 32 + u16::from(n & 31)) as u8;
            Some(Fd(i, if wr_both { i ^ 32 } else { i }))
        }
        Opnd::Xfer(n) if usize::from(n) < XFER_REGS => {
            let i = (FILE_XFER_OUT + u16::from(n)) as u8;
            Some(Fd(i, i))
        }
        Opnd::None => Some(Fd(FILE_SINK as u8, FILE_SINK as u8)),
        _ => None,
    }
}

/// Any destination; `None` for a form that faults.
fn dst(o: Opnd, wr_both: bool) -> Option<Dst> {
    if let Some(f) = fd(o, wr_both) {
        return Some(Dst::F(f));
    }
    match o {
        Opnd::Lm { ptr, mode } => Some(lm(ptr, mode, Dst::Lm, Dst::LmInc, Dst::LmDec)),
        _ => None,
    }
}

fn alu_k(op: AluOp) -> Option<AluK> {
    Some(match op {
        AluOp::None => AluK::B,
        AluOp::Add => AluK::Add,
        AluOp::AddC => AluK::AddC,
        AluOp::Add16 => AluK::Add16,
        AluOp::Sub => AluK::Sub,
        AluOp::SubC => AluK::SubC,
        AluOp::Not => AluK::Not,
        AluOp::And => AluK::And,
        AluOp::AndNotA => AluK::AndNotA,
        AluOp::AndNotB => AluK::AndNotB,
        AluOp::Or => AluK::Or,
        AluOp::Xor => AluK::Xor,
        AluOp::Other(_) => return None,
    })
}

fn shf_k(op: ShfOp, sc: ShiftCtl) -> Option<ShfK> {
    Some(match (op, sc) {
        (ShfOp::Ashr, _) => ShfK::Ashr,
        (_, ShiftCtl::DblR) => ShfK::Dbl,
        (ShfOp::B, _) => ShfK::B,
        (ShfOp::NotB, _) => ShfK::NotB,
        (ShfOp::And, _) => ShfK::And,
        (ShfOp::AndNotA, _) => ShfK::AndNotA,
        (ShfOp::AndNotB, _) => ShfK::AndNotB,
        (ShfOp::Or, _) => ShfK::Or,
        (ShfOp::ByteAlign, _) => return None,
    })
}

/// The bytes `bmask` selects, as a bit mask.
fn byte_mask(bmask: u8) -> u32 {
    (0..4)
        .filter(|k| bmask >> k & 1 != 0)
        .fold(0u32, |m, k| m | 0xff << (8 * k))
}

impl Code {
    /// The lean form of `insns` (word `k` at ustore address `start + k`;
    /// the program ends at `done`).
    pub(in crate::fp::exec) fn resolve(insns: &[Insn], start: u16, done: u16) -> Self {
        let len = insns.len();
        let end = usize::from(start) + len;
        // (Indexes are u16: a program and its sentinels stay below 64k.)
        let all_slow = end > 0x1_0000
            || len > 0x7fff
            || (usize::from(start)..end).contains(&usize::from(done));
        let mut ops: Vec<Op> = insns.iter().map(lean).collect();
        // Fallthrough off the end.
        ops.push(Op::Leave {
            pc: start.wrapping_add(len as u16),
        });
        if !all_slow {
            for i in 0..len {
                let pc = start.wrapping_add(i as u16);
                let (target, defer) = match insns[i] {
                    Insn::Br { target, defer, .. } | Insn::BrBit { target, defer, .. } => {
                        (Some(target), defer)
                    }
                    Insn::BrAlu { defer, .. } => (None, defer),
                    _ => continue,
                };
                if matches!(ops[i], Op::Slow) {
                    continue;
                }
                // Defer slots run inline: they must be lean, straight-line
                // instructions of the program.
                let slots_ok =
                    (1..=usize::from(defer)).all(|k| i + k < len && straight(&ops[i + k]));
                if !slots_ok {
                    ops[i] = Op::Slow;
                    continue;
                }
                if let Some(target) = target {
                    let t = index_of(target, start, len, &mut ops);
                    // DONE is never "back": arriving there ends the run.
                    let back = target <= pc && target != done;
                    match &mut ops[i] {
                        Op::Br { t: tt, back: b, .. } | Op::BrBit { t: tt, back: b, .. } => {
                            *tt = t;
                            *b = back;
                        }
                        _ => {}
                    }
                }
            }
        }
        Self {
            ops: ops.into_boxed_slice(),
            all_slow,
        }
    }
}

/// A branch target as an instruction index: in the program, or the
/// sentinel for that address (added if it is new).
fn index_of(pc: u16, start: u16, len: usize, ops: &mut Vec<Op>) -> u16 {
    if let Some(k) = pc.checked_sub(start).filter(|&k| usize::from(k) < len) {
        return k;
    }
    match ops[len..].iter().position(|o| *o == Op::Leave { pc }) {
        Some(j) => (len + j) as u16,
        None => {
            ops.push(Op::Leave { pc });
            (ops.len() - 1) as u16
        }
    }
}

/// Whether `op` runs straight through (may sit in a defer slot).
fn straight(op: &Op) -> bool {
    !matches!(
        op,
        Op::Br { .. } | Op::BrBit { .. } | Op::Rtn { .. } | Op::Leave { .. } | Op::Slow
    )
}

/// The lean form of one instruction (branch targets filled in later).
fn lean(insn: &Insn) -> Op {
    lean_opt(insn).unwrap_or(Op::Slow)
}

fn lean_opt(insn: &Insn) -> Option<Op> {
    Some(match *insn {
        Insn::Alu {
            op,
            dst: d,
            a,
            b,
            swap,
            wr_both,
            no_cc,
        } => {
            let k = alu_k(op)?;
            match (fd(d, wr_both), fs(a), fs(b)) {
                (Some(d), Some(a), Some(b)) => {
                    let (a, b) = if swap { (b, a) } else { (a, b) };
                    Op::Alu {
                        k,
                        cc: !no_cc,
                        d,
                        a,
                        b,
                    }
                }
                _ => Op::AluG {
                    k,
                    cc: !no_cc,
                    swap,
                    d: dst(d, wr_both)?,
                    a: src(a)?,
                    b: src(b)?,
                },
            }
        }
        Insn::AluShf {
            op,
            sc,
            shift,
            dst: d,
            a,
            b,
            swap,
            wr_both,
        } => {
            let k = shf_k(op, sc)?;
            match (fd(d, wr_both), fs(a), fs(b)) {
                (Some(d), Some(a), Some(b)) => {
                    let (a, b) = if swap { (b, a) } else { (a, b) };
                    Op::Shf {
                        k,
                        sc,
                        shift,
                        d,
                        a,
                        b,
                    }
                }
                _ => Op::ShfG {
                    k,
                    sc,
                    shift,
                    swap,
                    d: dst(d, wr_both)?,
                    a: src(a)?,
                    b: src(b)?,
                },
            }
        }
        Insn::Immed {
            dst: d,
            value,
            width,
            inv,
            shift,
            wr_both,
        } => {
            let sh = 8 * u32::from(shift);
            let v16 = u64::from(value);
            let (mut m, v) = if width == 0 {
                let r = (v16 << sh) as u32;
                (u32::MAX, if inv { !r } else { r })
            } else {
                let w: u64 = if width == 1 { 0xff } else { 0xffff };
                ((w << sh) as u32, ((v16 & w) << sh) as u32)
            };
            if d == Opnd::None {
                // No destination reads back as 0.
                m = u32::MAX;
            }
            match dst(d, wr_both)? {
                Dst::F(d) => Op::Immed { d, m, v },
                d => Op::ImmedG { d, m, v },
            }
        }
        Insn::LdField {
            dst: d,
            src: s,
            sc,
            shift,
            bmask,
            zero_fill,
            wr_both,
            ..
        } => {
            let m = byte_mask(bmask);
            // No destination reads back as 0.
            let keep = if zero_fill || d == Opnd::None { 0 } else { !m };
            match (fd(d, wr_both), fs(s)) {
                (Some(d), Some(s)) => Op::LdF {
                    d,
                    s,
                    sc,
                    shift,
                    m,
                    keep,
                },
                _ => Op::LdFG {
                    d: dst(d, wr_both)?,
                    s: src(s)?,
                    sc,
                    shift,
                    m,
                    keep,
                },
            }
        }
        Insn::LocalCsr {
            write: true,
            csr,
            a,
            b,
        } => {
            let s = if matches!(a, Opnd::Imm(_)) && !matches!(b, Opnd::Imm(_)) {
                b
            } else {
                a
            };
            // Other CSRs: ignored, with a trace line (the general path).
            Op::SetLm {
                k: lm_csr(csr)? as u8,
                s: src(s)?,
            }
        }
        Insn::Br { cond, defer, .. } => Op::Br {
            mask: cond_mask(cond)?,
            d: defer,
            t: 0,
            back: false,
        },
        Insn::BrBit {
            set, a, b, defer, ..
        } => {
            let (r, bit) = if matches!(a, Opnd::Imm(_)) {
                (b, a)
            } else {
                (a, b)
            };
            Op::BrBit {
                set,
                r: fs(r)?,
                bit: fs(bit)?,
                d: defer,
                t: 0,
                back: false,
            }
        }
        Insn::BrAlu {
            a,
            b,
            defer,
            imm: 0,
        } => {
            let r = if matches!(a, Opnd::Imm(_)) { b } else { a };
            Op::Rtn {
                s: fs(r)?,
                d: defer,
            }
        }
        Insn::MulStep {
            step,
            ty,
            a,
            b,
            dst: d,
            wr_both,
            ..
        } => match step {
            4 | 5 => Op::MulLast {
                ty,
                hi: step == 5,
                d: fd(d, wr_both)?,
            },
            0..=3 if ty == 0 => Op::MulLatch {
                a: fs(a)?,
                b: fs(b)?,
            },
            0..=3 => Op::Nop,
            _ => return None,
        },
        Insn::Cmd(c) => {
            let op = c.mem_op();
            let ctm = match u64::from(c.mode) {
                cmd_mode::M32 => true,
                cmd_mode::M40_BA => false,
                _ => return None,
            };
            let swap = u64::from(c.ctx) < cmd_ctx_swap::NO_SWAP;
            // A command with defer slots waits on the general sequencer.
            if op == MemOp::Other || swap && c.ctx != 0 {
                return None;
            }
            Op::Mem(MemOp_ {
                op,
                ctm,
                xfer: c.xfer,
                cnt: c.cnt,
                indirect: c.indirect,
                swap,
                a: fs(c.a)?,
                b: fs(c.b)?,
            })
        }
        Insn::LocalCsr { write: false, .. } | Insn::BrAlu { .. } | Insn::Invalid => {
            return None;
        }
    })
}
