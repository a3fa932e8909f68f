//! The state of one ME context and how operands reach it: GPR banks,
//! transfer registers, LM through the index CSRs, condition codes, the
//! shifter.

use super::LM_WORDS;
use crate::fp::insn::{Bank, BrCond, Opnd, ShiftCtl};
use crate::fp::word::LmMode;

/// Transfer registers per context in 4-context mode.
pub const XFER_REGS: usize = 64;

/// `ActLMAddr0`: LM index register 0 (local CSR byte address,
/// nfp_asm.h:278).
pub const NFP_CSR_ACT_LM_ADDR0: u16 = 0x064;
/// `ActLMAddr1` (nfp_asm.h:279).
pub const NFP_CSR_ACT_LM_ADDR1: u16 = 0x06c;
/// `ActLMAddr2` (nfp_asm.h:280).
pub const NFP_CSR_ACT_LM_ADDR2: u16 = 0x094;
/// `ActLMAddr3` (nfp_asm.h:281).
pub const NFP_CSR_ACT_LM_ADDR3: u16 = 0x09c;
/// `PseudoRandomNumber` (nfp_asm.h:282).
pub const NFP_CSR_PSEUDO_RND_NUM: u16 = 0x148;

/// Words of a context's register file as the interpreter indexes it
/// ([`Ctx::file`]): GPR A 0..31, GPR B 32..63, transfer-in 64..127,
/// transfer-out 128..191, a write sink 192..255 and the constants 0..255 at
/// 256..511.
pub(super) const FILE_WORDS: usize = 512;
/// Where the transfer-in registers start in the file.
pub(super) const FILE_XFER_IN: u16 = 64;
/// Where the transfer-out registers start in the file.
pub(super) const FILE_XFER_OUT: u16 = 128;
/// The file word writes to no destination (`--`) go to.
pub(super) const FILE_SINK: u16 = 192;
/// Where the constant `k` (0..255) sits in the file: `FILE_IMM + k`.
pub(super) const FILE_IMM: u16 = 256;

/// The state of one ME context (docs/flow-processor.md#one-packet-on-one-context).
///
/// `repr(C)`: the GPRs, the transfer registers, the sink and the constants
/// are laid out back to back from offset 0, so that `Ctx::file` can show
/// them as one array (and generated code can address them by offset).
#[derive(Clone)]
#[repr(C)]
pub struct Ctx {
    /// GPR banks A and B.
    pub gpr: [[u32; 32]; 2],
    /// Transfer-in registers: what memory reads return.
    pub xfer_in: [u32; XFER_REGS],
    /// Transfer-out registers: what memory writes send.
    pub xfer_out: [u32; XFER_REGS],
    /// Where writes to no destination go (never read as a register).
    sink: [u32; 64],
    /// The constants 0..255, so that an immediate operand is read like a
    /// register (never written).
    imm: [u32; 256],
    /// `ActLMAddr0..3` (byte addresses).
    pub lm_addr: [u32; 4],
    /// Condition code Z.
    pub z: bool,
    /// Condition code N.
    pub n: bool,
    /// Condition code C.
    pub c: bool,
    /// Condition code V.
    pub v: bool,
    /// Result of the previous ALU-class instruction.
    pub prev_alu: u32,
    /// Its A operand (indirect shift amounts).
    pub prev_a: u32,
    /// A `local_csr_rd` value waiting for the next `immed`.
    pub(crate) csr_read: Option<u32>,
    /// The multiplier's latched operands.
    pub(crate) mul: [u32; 2],
    rnd: u32,
}

impl Default for Ctx {
    fn default() -> Self {
        Self::new(0x9e37_79b9)
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("gpr", &self.gpr)
            .field("xfer_in", &self.xfer_in)
            .field("xfer_out", &self.xfer_out)
            .field("lm_addr", &self.lm_addr)
            .field("zncv", &(self.z, self.n, self.c, self.v))
            .field("prev_alu", &self.prev_alu)
            .field("prev_a", &self.prev_a)
            .field("csr_read", &self.csr_read)
            .field("mul", &self.mul)
            .finish_non_exhaustive()
    }
}

/// A resolved destination.
#[derive(Clone, Copy, Debug)]
pub(super) enum Place {
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
            sink: [0; 64],
            imm: std::array::from_fn(|k| k as u32),
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

    /// The GPRs, transfer registers, sink and constants as one array
    /// (layout: [`FILE_WORDS`]).
    #[inline(always)]
    pub(super) fn file(&mut self) -> &mut [u32; FILE_WORDS] {
        const {
            assert!(std::mem::offset_of!(Ctx, gpr) == 0);
            assert!(std::mem::offset_of!(Ctx, xfer_in) == 4 * FILE_XFER_IN as usize);
            assert!(std::mem::offset_of!(Ctx, xfer_out) == 4 * FILE_XFER_OUT as usize);
            assert!(std::mem::offset_of!(Ctx, sink) == 4 * FILE_SINK as usize);
            assert!(std::mem::offset_of!(Ctx, imm) == 4 * FILE_IMM as usize);
            assert!(std::mem::offset_of!(Ctx, lm_addr) == 4 * FILE_WORDS);
        }
        // SAFETY: `Ctx` is `repr(C)` and its first fields are u32 arrays
        // lying back to back from offset 0 to 4 * FILE_WORDS (the offsets
        // are checked above at compile time), so the first FILE_WORDS u32s
        // of a `Ctx` are initialised, aligned u32s, all inside `*self`.
        // The pointer is derived from `&mut self`, whose borrow the result
        // keeps for its lifetime: nothing else can reach those fields
        // meanwhile.
        unsafe { &mut *std::ptr::from_mut(self).cast::<[u32; FILE_WORDS]>() }
    }

    /// GPR A `n` (0..31).
    pub fn a(&self, n: usize) -> u32 {
        self.gpr[0][n & 31]
    }

    /// GPR B `n` (0..31).
    pub fn b(&self, n: usize) -> u32 {
        self.gpr[1][n & 31]
    }

    /// Write GPR `n` of both banks.
    pub fn set_both(&mut self, n: usize, v: u32) {
        self.gpr[0][n & 31] = v;
        self.gpr[1][n & 31] = v;
    }

    /// The pseudo-random generator's state.
    #[cfg(test)]
    pub(super) fn rnd(&self) -> u32 {
        self.rnd
    }

    /// Whether the constants of the register file still hold 0..255.
    #[cfg(test)]
    pub(super) fn constants_intact(&self) -> bool {
        self.imm.iter().enumerate().all(|(k, &v)| v == k as u32)
    }

    /// The next value of `PseudoRandomNumber`.
    pub(crate) fn next_random(&mut self) -> u32 {
        let mut x = self.rnd;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rnd = x;
        x
    }

    #[inline(always)]
    pub(super) fn lm_word(&mut self, ptr: u8, mode: LmMode) -> usize {
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

    /// The value of a source operand; `None` for a form outside the JIT's.
    #[inline(always)]
    pub(super) fn read(&mut self, lm: &[u32; LM_WORDS], o: Opnd) -> Option<u32> {
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
    pub(super) fn place(&mut self, o: Opnd) -> Option<Place> {
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
    pub(super) fn get(&self, lm: &[u32; LM_WORDS], p: Place) -> u32 {
        match p {
            Place::Gpr(b, n) => self.gpr[b][n],
            Place::XferOut(n) => self.xfer_out[n],
            Place::Lm(w) => lm[w],
            Place::None => 0,
        }
    }

    /// Write a resolved destination (`wr_both`: a GPR in both banks).
    #[inline(always)]
    pub(super) fn put(&mut self, lm: &mut [u32; LM_WORDS], p: Place, v: u32, wr_both: bool) {
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

    /// Write a destination operand; `None` for a form outside the JIT's.
    #[inline(always)]
    pub(super) fn write(
        &mut self,
        lm: &mut [u32; LM_WORDS],
        o: Opnd,
        v: u32,
        wr_both: bool,
    ) -> Option<()> {
        let p = self.place(o)?;
        self.put(lm, p, v, wr_both);
        Some(())
    }

    /// Z and N from a result.
    #[inline(always)]
    pub(super) fn set_zn(&mut self, r: u32) {
        self.z = r == 0;
        self.n = r >> 31 != 0;
    }

    /// Whether a branch condition holds; `None` for a condition the JIT
    /// never emits.
    #[inline(always)]
    pub(super) fn cond(&self, c: BrCond) -> Option<bool> {
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

    /// The shifter (docs/me-isa.md#alu_shf): `field` is the raw SHIFT field; 0 with
    /// a shifting control means "by the previous A operand".
    #[inline(always)]
    pub(super) fn shift(&self, sc: ShiftCtl, field: u8, a: u32, b: u32) -> u32 {
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

/// The LM index register a local CSR address names.
pub(super) fn lm_csr(csr: u16) -> Option<usize> {
    match csr {
        NFP_CSR_ACT_LM_ADDR0 => Some(0),
        NFP_CSR_ACT_LM_ADDR1 => Some(1),
        NFP_CSR_ACT_LM_ADDR2 => Some(2),
        NFP_CSR_ACT_LM_ADDR3 => Some(3),
        _ => None,
    }
}
