//! What the translator needs to know of a program before it emits code:
//! the GPRs it names and where blocks start.

use crate::fp::exec::Program;
use crate::fp::insn::{Bank, BrCond, Insn, Opnd};

/// Index of a GPR bank in `Ctx::gpr`.
pub(super) fn bank(b: Bank) -> usize {
    match b {
        Bank::A => 0,
        Bank::B => 1,
    }
}

/// The result of [`scan`].
pub(super) struct Scan {
    /// GPRs (by bank, number) an instruction names.
    pub gprs: [[bool; 32]; 2],
    /// Instructions that start a block: the start, branch targets, the
    /// instruction after a conditional branch's defer slots, addresses
    /// `immed` loads.
    pub leader: Vec<bool>,
    /// Leaders a dynamic jump may reach: the addresses `immed` loads (the
    /// JIT's return addresses, jit.c:1751, 3326).
    pub dyn_target: Vec<bool>,
}

/// The GPRs an operand names (and with `both`, the other bank's too).
fn gprs_of(o: Opnd, both: bool, seen: &mut [[bool; 32]; 2]) {
    if let Opnd::Gpr(b, n) = o {
        let n = usize::from(n & 31);
        seen[bank(b)][n] = true;
        if both {
            seen[0][n] = true;
            seen[1][n] = true;
        }
    }
}

/// Scan `prog`.
pub(super) fn scan(prog: &Program) -> Scan {
    let len = prog.len();
    let mut seen = [[false; 32]; 2];
    let mut leader = vec![false; len];
    let mut dyn_target = vec![false; len];
    let idx = |pc: u16| {
        pc.checked_sub(prog.start)
            .map(usize::from)
            .filter(|&i| i < len)
    };
    leader[0] = true;
    for (i, insn) in prog.insns.iter().enumerate() {
        let pc = prog.start.wrapping_add(i as u16);
        match *insn {
            Insn::Alu {
                dst, a, b, wr_both, ..
            }
            | Insn::AluShf {
                dst, a, b, wr_both, ..
            } => {
                gprs_of(dst, wr_both, &mut seen);
                gprs_of(a, false, &mut seen);
                gprs_of(b, false, &mut seen);
            }
            Insn::Immed {
                dst,
                wr_both,
                value,
                width,
                inv,
                shift,
            } => {
                gprs_of(dst, wr_both, &mut seen);
                if width == 0 {
                    let r = (u64::from(value) << (8 * u32::from(shift))) as u32;
                    let r = if inv { !r } else { r };
                    if let Some(i) = idx((r & 0x3fff) as u16) {
                        leader[i] = true;
                        dyn_target[i] = true;
                    }
                }
            }
            Insn::LdField {
                dst, src, wr_both, ..
            } => {
                gprs_of(dst, wr_both, &mut seen);
                gprs_of(src, false, &mut seen);
            }
            Insn::LocalCsr { a, b, .. } | Insn::BrAlu { a, b, .. } => {
                gprs_of(a, false, &mut seen);
                gprs_of(b, false, &mut seen);
            }
            Insn::MulStep {
                a, b, dst, wr_both, ..
            } => {
                gprs_of(dst, wr_both, &mut seen);
                gprs_of(a, false, &mut seen);
                gprs_of(b, false, &mut seen);
            }
            Insn::Cmd(c) => {
                gprs_of(c.a, false, &mut seen);
                gprs_of(c.b, false, &mut seen);
            }
            Insn::Br {
                cond,
                defer,
                target,
            } => {
                if let Some(t) = idx(target) {
                    leader[t] = true;
                }
                if cond != BrCond::Always {
                    if let Some(f) = idx(pc.wrapping_add(u16::from(defer) + 1)) {
                        leader[f] = true;
                    }
                }
            }
            Insn::BrBit {
                a,
                b,
                defer,
                target,
                ..
            } => {
                gprs_of(a, false, &mut seen);
                gprs_of(b, false, &mut seen);
                if let Some(t) = idx(target) {
                    leader[t] = true;
                }
                if let Some(f) = idx(pc.wrapping_add(u16::from(defer) + 1)) {
                    leader[f] = true;
                }
            }
            Insn::Invalid => {}
        }
    }
    Scan {
        gprs: seen,
        leader,
        dyn_target,
    }
}
