//! NFP-6xxx (ME 2.8) microengine instruction words, decoded once at load
//! into [`Insn`]: the forms the Linux nfp JIT emits (bpf.md §4; class masks
//! from binutils include/opcode/nfp.h:100-158, operand encodings from
//! opcodes/nfp-dis.c:961-1098), 4-context mode.

/// Bits 0..44 hold the instruction, 45..51 the ECC (nfp_asm.c:285-320).
pub const NFP_INSN_MASK: u64 = (1 << 45) - 1;
const ECC_POLY: [u64; 7] = [
    0x0ff8_0000_7fff,
    0x11f8_01ff_801f,
    0x1e38_7e07_81e1,
    0x17cb_8e38_8e22,
    0x1af5_b2c9_3244,
    0x1f56_d552_5488,
    0x0daf_69a4_6910,
];

/// The 7 ECC bits of a 45-bit instruction (nfp_asm.c:288-296, 311-320).
pub fn ecc(insn: u64) -> u64 {
    ECC_POLY.iter().enumerate().fold(0, |e, (i, p)| {
        e | u64::from((insn & p).count_ones() & 1) << i
    })
}

/// Whether a ustore word carries a correct ECC and nothing above bit 51.
pub fn ecc_ok(word: u64) -> bool {
    word >> 52 == 0 && (word >> 45) & 0x7f == ecc(word & NFP_INSN_MASK)
}

/// A word with its ECC filled in (what the driver DMAs).
pub fn with_ecc(insn: u64) -> u64 {
    let i = insn & NFP_INSN_MASK;
    i | ecc(i) << 45
}

fn bf(w: u64, hi: u32, lo: u32) -> u32 {
    ((w >> lo) & ((1 << (hi - lo + 1)) - 1)) as u32
}

fn bit(w: u64, n: u32) -> bool {
    (w >> n) & 1 != 0
}

/// GPR bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bank {
    A,
    B,
}

/// Post-modification of an LM index register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LmMode {
    /// `*l$indexN[off]`: word offset ORed into the index.
    Offset(u8),
    /// `*l$indexN++`
    PostInc,
    /// `*l$indexN--`
    PostDec,
}

/// An operand field after decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opnd {
    /// Context-relative GPR.
    Gpr(Bank, u8),
    /// Transfer register: reads the transfer-in file, writes the
    /// transfer-out file.
    Xfer(u8),
    /// Local memory through index register `ptr` (0..3).
    Lm { ptr: u8, mode: LmMode },
    /// Immediate value (sources only).
    Imm(u32),
    /// No destination (`--`).
    None,
    /// An operand form the JIT never emits (absolute GPR, indexed
    /// transfer/next-neighbour, NN registers): kept raw for the
    /// disassembler; executing it aborts the packet.
    Other(u16),
}

/// Decode a 10-bit (unrestricted) operand (nfp-dis.c:961-1030).
fn opnd10(v: u32, bank: Bank, lm_ext: bool, dst: bool) -> Opnd {
    let n = (v & 0x1f) as u8;
    if v >> 6 == 0 {
        Opnd::Gpr(bank, n)
    } else if v >> 7 == 0x3 {
        Opnd::Xfer(n + if v & 0x40 != 0 { 32 } else { 0 })
    } else if v >> 6 == 0x8 {
        let ptr = ((v >> 5) & 1) as u8 + if lm_ext { 2 } else { 0 };
        let mode = if v & 0x10 != 0 {
            if v & 1 != 0 {
                LmMode::PostDec
            } else {
                LmMode::PostInc
            }
        } else {
            LmMode::Offset((v & 0xf) as u8)
        };
        Opnd::Lm { ptr, mode }
    } else if v >> 8 == 0x3 {
        if dst { Opnd::None } else { Opnd::Imm(v & 0xff) }
    } else {
        Opnd::Other(v as u16)
    }
}

/// Decode an 8-bit (restricted) operand (nfp-dis.c:1035-1098).
fn opnd8(v: u32, bank: Bank, lm_ext: bool, imm8_msb: bool, dst: bool) -> Opnd {
    let n = (v & 0x1f) as u8;
    match v >> 5 {
        0 => return Opnd::Gpr(bank, n),
        4 => return Opnd::Xfer(n),
        6 => return Opnd::Xfer(n + 32),
        _ => {}
    }
    if v >> 4 == 0x5 {
        let ptr = ((v >> 3) & 1) as u8 + if lm_ext { 2 } else { 0 };
        return Opnd::Lm {
            ptr,
            mode: LmMode::Offset((v & 7) as u8),
        };
    }
    if v & 0x20 != 0 {
        return if dst {
            Opnd::None
        } else {
            Opnd::Imm(u32::from(imm8_msb) << 7 | ((v >> 6) & 3) << 5 | (v & 0x1f))
        };
    }
    Opnd::Other(v as u16)
}

fn is_imm10(v: u32) -> bool {
    v >> 8 == 0x3
}

/// ALU operations (nfp_asm.h:179-192).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    /// `B`
    None,
    /// `+`
    Add,
    /// `~B`
    Not,
    /// `+16`
    Add16,
    /// `AND`
    And,
    /// `~AND`: `~a & b`
    AndNotA,
    /// `-carry`
    SubC,
    /// `AND~`: `a & ~b`
    AndNotB,
    /// `+carry`
    AddC,
    /// `OR`
    Or,
    /// `-`
    Sub,
    /// `XOR`
    Xor,
    /// An ALU op the JIT never emits.
    Other(u8),
}

impl AluOp {
    fn from_bits(v: u32) -> Self {
        match v {
            0x00 => AluOp::None,
            0x01 => AluOp::Add,
            0x04 => AluOp::Not,
            0x05 => AluOp::Add16,
            0x08 => AluOp::And,
            0x0c => AluOp::AndNotA,
            0x0d => AluOp::SubC,
            0x10 => AluOp::AndNotB,
            0x11 => AluOp::AddC,
            0x14 => AluOp::Or,
            0x15 => AluOp::Sub,
            0x18 => AluOp::Xor,
            o => AluOp::Other(o as u8),
        }
    }
}

/// Shift control of `alu_shf` and `ld_field` (nfp_asm.h:151-156).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftCtl {
    /// Rotate right (0 = no shift).
    RotR,
    /// Logical right.
    ShR,
    /// Left by `32 - field`.
    ShL,
    /// Double shift (`dbl_shf`).
    DblR,
}

impl ShiftCtl {
    fn from_bits(v: u32) -> Self {
        match v & 3 {
            0 => ShiftCtl::RotR,
            1 => ShiftCtl::ShR,
            2 => ShiftCtl::ShL,
            _ => ShiftCtl::DblR,
        }
    }
}

/// `alu_shf` operations (nfp-dis.c:75-85).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShfOp {
    /// `B`
    B,
    /// `~B`
    NotB,
    /// `AND`
    And,
    /// `~AND`
    AndNotA,
    /// `AND~`
    AndNotB,
    /// `OR`
    Or,
    /// `ASHR`
    Ashr,
    /// `byte_align` (never emitted)
    ByteAlign,
}

impl ShfOp {
    fn from_bits(v: u32) -> Self {
        match v & 7 {
            0 => ShfOp::B,
            1 => ShfOp::NotB,
            2 => ShfOp::And,
            3 => ShfOp::AndNotA,
            4 => ShfOp::AndNotB,
            5 => ShfOp::Or,
            6 => ShfOp::Ashr,
            _ => ShfOp::ByteAlign,
        }
    }
}

/// Branch conditions (nfp_asm.h:70-80; 0x18 = unconditional).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrCond {
    Eq,
    Ne,
    Mi,
    Pl,
    Cs,
    Cc,
    Vs,
    Vc,
    Ge,
    Lt,
    Le,
    Gt,
    Always,
    /// Context/signal/state conditions the JIT never emits.
    Other(u8),
}

impl BrCond {
    fn from_bits(v: u32) -> Self {
        match v {
            0x00 => BrCond::Eq,
            0x01 => BrCond::Ne,
            0x02 => BrCond::Mi,
            0x03 => BrCond::Pl,
            0x04 => BrCond::Cs,
            0x05 => BrCond::Cc,
            0x06 => BrCond::Vs,
            0x07 => BrCond::Vc,
            0x08 => BrCond::Ge,
            0x09 => BrCond::Lt,
            0x0a => BrCond::Le,
            0x0b => BrCond::Gt,
            0x18 => BrCond::Always,
            o => BrCond::Other(o as u8),
        }
    }
}

/// A CPP memory command (bpf.md §4.4.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmd {
    /// TGT_CMD field (target and action).
    pub tgt_cmd: u8,
    pub token: u8,
    /// First transfer register.
    pub xfer: u8,
    /// Length - 1 (units depend on the command).
    pub cnt: u8,
    /// 0..2: swap context after `ctx` defer slots; 3: no swap.
    pub ctx: u8,
    pub sig: u8,
    /// `indirect_ref`: PREV_ALU overrides fields.
    pub indirect: bool,
    /// Address mode: 0 `(A<<8)+B`, 1 `(B<<8)+A`, 4 `A+B`.
    pub mode: u8,
    pub a: Opnd,
    pub b: Opnd,
}

/// The MU commands the JIT emits: (target-action, token) pairs
/// (nfp_asm.c:12-23, binutils nfp-dis.c:613-818).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemOp {
    Read8,
    Read32Swap,
    Write8Swap,
    Write32Swap,
    /// `add`/`add64` of transfer registers.
    Add,
    /// `add_imm`/`add64_imm` of PREV_ALU data.
    AddImm,
    /// Any other command.
    Other,
}

impl Cmd {
    pub fn mem_op(&self) -> MemOp {
        match (self.tgt_cmd, self.token) {
            (0x43, 1) => MemOp::Read8,
            (0x5c, 2) => MemOp::Read32Swap,
            (0x42, 2) => MemOp::Write8Swap,
            (0x5f, 2) => MemOp::Write32Swap,
            (0x47, 0) => MemOp::Add,
            (0x47, 2) => MemOp::AddImm,
            _ => MemOp::Other,
        }
    }
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    Alu {
        op: AluOp,
        dst: Opnd,
        a: Opnd,
        b: Opnd,
        swap: bool,
        wr_both: bool,
        no_cc: bool,
    },
    AluShf {
        op: ShfOp,
        sc: ShiftCtl,
        /// Raw SHIFT field (for SC=ShL the left amount is 32 - field; 0
        /// with SC≠RotR means an indirect amount).
        shift: u8,
        dst: Opnd,
        a: Opnd,
        b: Opnd,
        swap: bool,
        wr_both: bool,
    },
    Immed {
        dst: Opnd,
        /// The 16-bit constant before inversion and shift.
        value: u16,
        /// 0 whole word, 1 byte, 2 word (partial writes).
        width: u8,
        inv: bool,
        /// Byte shift (0..2; width=word uses 0 or 2).
        shift: u8,
        wr_both: bool,
    },
    LdField {
        /// Destination, also the first source.
        dst: Opnd,
        src: Opnd,
        sc: ShiftCtl,
        shift: u8,
        bmask: u8,
        zero_fill: bool,
        wr_both: bool,
        swap: bool,
    },
    LocalCsr {
        write: bool,
        /// CSR byte address.
        csr: u16,
        a: Opnd,
        b: Opnd,
    },
    Br {
        cond: BrCond,
        defer: u8,
        target: u16,
    },
    BrBit {
        set: bool,
        a: Opnd,
        b: Opnd,
        defer: u8,
        target: u16,
    },
    /// `rtn[reg]` when `imm == 0`, else `jump[reg, imm]`.
    BrAlu {
        a: Opnd,
        b: Opnd,
        defer: u8,
        imm: u32,
    },
    MulStep {
        /// 0..3 step1..4, 4 last, 5 last2.
        step: u8,
        /// 0 start, 1 24x8, 2 16x16, 3 32x32.
        ty: u8,
        a: Opnd,
        b: Opnd,
        /// For last/last2: the destination.
        dst: Opnd,
        swap: bool,
        wr_both: bool,
    },
    Cmd(Cmd),
    /// A word outside the emitted subset (or a class the JIT never uses).
    Invalid,
}

fn br_target(w: u64) -> u16 {
    (u32::from(bit(w, 40)) << 13 | bf(w, 34, 22)) as u16
}

/// Decode bits 0..44 of a ustore word.
pub fn decode(word: u64) -> Insn {
    let w = word & NFP_INSN_MASK;
    let src_ext = bit(w, 42);
    let dst_ext = bit(w, 43);
    let wr_both = bit(w, 41);
    if w & 0x0080_0000_0000 == 0 {
        return Insn::Cmd(Cmd {
            tgt_cmd: bf(w, 38, 32) as u8,
            token: bf(w, 19, 18) as u8,
            // bit 40: transfer register bit 5 (nfp-dis.c).
            xfer: (bf(w, 24, 20) | u32::from(bit(w, 40)) << 5) as u8,
            cnt: bf(w, 27, 25) as u8,
            ctx: bf(w, 9, 8) as u8,
            sig: bf(w, 31, 28) as u8,
            indirect: bit(w, 41),
            mode: bf(w, 44, 42) as u8,
            a: opnd8(bf(w, 7, 0), Bank::A, false, false, false),
            b: opnd8(bf(w, 17, 10), Bank::B, false, false, false),
        });
    }
    if w & 0x00e0_0000_0000 == 0x0080_0000_0000 {
        let i8 = bit(w, 18);
        return Insn::AluShf {
            op: ShfOp::from_bits(bf(w, 35, 33)),
            sc: ShiftCtl::from_bits(bf(w, 9, 8)),
            shift: bf(w, 32, 28) as u8,
            dst: opnd8(
                bf(w, 27, 20),
                if bit(w, 36) { Bank::B } else { Bank::A },
                dst_ext,
                false,
                true,
            ),
            a: opnd8(bf(w, 7, 0), Bank::A, src_ext, i8, false),
            b: opnd8(bf(w, 17, 10), Bank::B, src_ext, i8, false),
            swap: bit(w, 19),
            wr_both,
        };
    }
    if w & 0x00e0_0000_0000 == 0x00a0_0000_0000 {
        return Insn::Alu {
            op: AluOp::from_bits(bf(w, 35, 31)),
            dst: opnd10(
                bf(w, 29, 20),
                if bit(w, 36) { Bank::B } else { Bank::A },
                dst_ext,
                true,
            ),
            a: opnd10(bf(w, 9, 0), Bank::A, src_ext, false),
            b: opnd10(bf(w, 19, 10), Bank::B, src_ext, false),
            swap: bit(w, 30),
            wr_both,
            no_cc: bit(w, 40),
        };
    }
    if w & 0x01f9_0000_0000 == 0x00f0_0000_0000 {
        let (sa, sb) = (bf(w, 9, 0), bf(w, 19, 10));
        let (lo, dst) = if is_imm10(sb) {
            let dst = if is_imm10(sa) {
                Opnd::None
            } else {
                opnd10(sa, Bank::A, dst_ext, true)
            };
            (sb & 0xff, dst)
        } else {
            (sa & 0xff, opnd10(sb, Bank::B, dst_ext, true))
        };
        let width = if bit(w, 29) {
            1
        } else if bit(w, 30) {
            2
        } else {
            0
        };
        return Insn::Immed {
            dst,
            value: (bf(w, 27, 20) << 8 | lo) as u16,
            width,
            inv: bit(w, 31),
            shift: bf(w, 34, 33) as u8,
            wr_both,
        };
    }
    if w & 0x01fa_00e0_0000 == 0x00c0_0000_0000 {
        let swap = bit(w, 19);
        let i8 = bit(w, 18);
        let (dst, src) = if swap {
            (
                opnd8(bf(w, 17, 10), Bank::B, dst_ext, false, true),
                opnd8(bf(w, 7, 0), Bank::A, src_ext, i8, false),
            )
        } else {
            (
                opnd8(bf(w, 7, 0), Bank::A, dst_ext, false, true),
                opnd8(bf(w, 17, 10), Bank::B, src_ext, i8, false),
            )
        };
        return Insn::LdField {
            dst,
            src,
            sc: ShiftCtl::from_bits(bf(w, 9, 8)),
            shift: bf(w, 32, 28) as u8,
            bmask: bf(w, 27, 24) as u8,
            zero_fill: bit(w, 20),
            wr_both,
            swap,
        };
    }
    if w & 0x00f8_0000_0000 == 0x00e0_0000_0000 {
        return Insn::Invalid; // ctx_arb
    }
    if w & 0x01fe_0010_0000 == 0x00fc_0000_0000 {
        return Insn::LocalCsr {
            write: bit(w, 21),
            csr: (bf(w, 32, 22) * 4) as u16,
            a: opnd10(bf(w, 9, 0), Bank::A, src_ext, false),
            b: opnd10(bf(w, 19, 10), Bank::B, src_ext, false),
        };
    }
    if w & 0x00f8_000c_3ce0 == 0x00d8_0000_0020 {
        return Insn::Br {
            cond: BrCond::from_bits(bf(w, 4, 0)),
            defer: bf(w, 21, 20) as u8,
            target: br_target(w),
        };
    }
    if w & 0x00f8_0000_0000 == 0x00c8_0000_0000 {
        return Insn::Invalid; // br=byte
    }
    if w & 0x00f8_0008_0300 == 0x00d0_0000_0000 {
        return Insn::BrBit {
            set: bit(w, 18),
            a: opnd8(bf(w, 7, 0), Bank::A, src_ext, false, false),
            b: opnd8(bf(w, 17, 10), Bank::B, src_ext, false, false),
            defer: bf(w, 21, 20) as u8,
            target: br_target(w),
        };
    }
    if w & 0x00ff_8000_0000 == 0x00e8_0000_0000 {
        let (sa, sb) = (bf(w, 9, 0), bf(w, 19, 10));
        let lo = if is_imm10(sb) {
            sb & 0xff
        } else if is_imm10(sa) {
            sa & 0xff
        } else {
            0
        };
        return Insn::BrAlu {
            a: opnd10(sa, Bank::A, src_ext, false),
            b: opnd10(sb, Bank::B, src_ext, false),
            defer: bf(w, 21, 20) as u8,
            imm: bf(w, 30, 22) << 8 | lo,
        };
    }
    if w & 0x00fe_3f00_0000 == 0x00f8_0000_0000 {
        let step = bf(w, 22, 20) as u8;
        let bank = if bit(w, 23) { Bank::B } else { Bank::A };
        let last = step >= 4;
        return Insn::MulStep {
            step,
            ty: bf(w, 32, 31) as u8,
            a: opnd10(bf(w, 9, 0), Bank::A, src_ext, false),
            b: opnd10(bf(w, 19, 10), Bank::B, src_ext, false),
            dst: if last {
                opnd10(bf(w, 9, 0), bank, dst_ext, true)
            } else {
                Opnd::None
            },
            swap: bit(w, 30),
            wr_both,
        };
    }
    Insn::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecc_matches_the_golden_words() {
        for w in [
            0x000f_20f0_03f0_5bffu64,
            0x0007_00b4_4160_5a20,
            0x0000_60d8_0060_8038,
            0x0008_8647_0008_0700,
            0x0000_00f0_000c_0300,
        ] {
            assert!(ecc_ok(w), "{w:#x}");
            assert_eq!(with_ecc(w & NFP_INSN_MASK), w);
        }
        assert!(!ecc_ok(0x0000_60d8_0060_8039), "one flipped bit");
        assert!(!ecc_ok(0x0100_60d8_0060_8038), "bits above 51");
    }

    #[test]
    fn decodes_the_golden_drop_program() {
        // immed[gprB_22, 0x3fff]
        assert_eq!(
            decode(0x000f_20f0_03f0_5bff),
            Insn::Immed {
                dst: Opnd::Gpr(Bank::B, 22),
                value: 0x3fff,
                width: 0,
                inv: false,
                shift: 0,
                wr_both: false
            }
        );
        // alu[gprB_22, gprB_22, AND, *l$index1]
        assert_eq!(
            decode(0x0007_00b4_4160_5a20),
            Insn::Alu {
                op: AluOp::And,
                dst: Opnd::Gpr(Bank::B, 22),
                a: Opnd::Lm {
                    ptr: 1,
                    mode: LmMode::Offset(0)
                },
                b: Opnd::Gpr(Bank::B, 22),
                swap: true,
                wr_both: false,
                no_cc: false
            }
        );
        // br[.1], defer[2]
        assert_eq!(
            decode(0x0000_60d8_0060_8038),
            Insn::Br {
                cond: BrCond::Always,
                defer: 2,
                target: 1
            }
        );
        // bcc[.3077]
        assert_eq!(
            decode(0x0005_40db_0140_8125),
            Insn::Br {
                cond: BrCond::Cc,
                defer: 0,
                target: 3077
            }
        );
        // ld_field[gprA_0, 1100, 0x82, <<16]
        assert_eq!(
            decode(0x0008_00c1_0c04_8a00),
            Insn::LdField {
                dst: Opnd::Gpr(Bank::A, 0),
                src: Opnd::Imm(0x82),
                sc: ShiftCtl::ShL,
                shift: 16,
                bmask: 0b1100,
                zero_fill: false,
                wr_both: false,
                swap: false
            }
        );
        // alu_shf[gprB_2, 0xff, AND, gprB_2, >>indirect]
        assert_eq!(
            decode(0x000b_c094_0024_09ff),
            Insn::AluShf {
                op: ShfOp::And,
                sc: ShiftCtl::ShR,
                shift: 0,
                dst: Opnd::Gpr(Bank::B, 2),
                a: Opnd::Imm(0xff),
                b: Opnd::Gpr(Bank::B, 2),
                swap: false,
                wr_both: false
            }
        );
        // immed_w1[gprB_2, 0x4411]
        assert!(matches!(
            decode(0x000b_60f4_4440_0b11),
            Insn::Immed {
                dst: Opnd::Gpr(Bank::B, 2),
                value: 0x4411,
                width: 2,
                shift: 2,
                ..
            }
        ));
        // nop
        assert!(matches!(
            decode(0x0000_00f0_000c_0300),
            Insn::Immed {
                dst: Opnd::None,
                value: 0,
                ..
            }
        ));
    }

    #[test]
    fn decodes_memory_commands() {
        // mem[add_imm, $xfer_0, gprB_1, <<8, gprA_0, 1], indirect_ref
        let Insn::Cmd(c) = decode(0x0008_8647_0008_0700) else {
            panic!()
        };
        assert_eq!(c.mem_op(), MemOp::AddImm);
        assert_eq!(
            (c.mode, c.indirect, c.ctx, c.xfer, c.cnt),
            (1, true, 3, 0, 0)
        );
        assert_eq!((c.a, c.b), (Opnd::Gpr(Bank::A, 0), Opnd::Gpr(Bank::B, 1)));
        // mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]
        let Insn::Cmd(c) = decode(0x0004_d05c_1008_8002) else {
            panic!()
        };
        assert_eq!(c.mem_op(), MemOp::Read32Swap);
        assert_eq!((c.mode, c.ctx, c.sig, c.cnt), (4, 0, 1, 0));
        assert_eq!(c.b, Opnd::Imm(0));
    }

    #[test]
    fn every_word_decodes_without_panicking() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let _ = decode(x);
        }
    }
}
