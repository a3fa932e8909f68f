//! Each instruction form the JIT emits, assembled, executed and checked;
//! the golden programs of docs/me-isa.md#golden-programs run end to end.

mod diff;
mod oracle;

use std::cell::RefCell;

use super::*;
use crate::fp::asm::{self, R, alu_op as op, br, cmd, sc, shf_op};
use crate::fp::word::{NFP_INSN_MASK, with_ecc};

const START: u16 = 3072;
const DONE: u16 = 1;
const PKT: u16 = 5;

struct T {
    ctx: Ctx,
    lm: Box<[u32; LM_WORDS]>,
    buf: Vec<u8>,
}

impl T {
    fn new() -> Self {
        Self {
            ctx: Ctx::default(),
            lm: Box::new([0; LM_WORDS]),
            buf: vec![0; CTM_PKT_BUF],
        }
    }

    /// Run `words` followed by `br[DONE]`.
    fn run(&mut self, words: &[u64]) -> Exit {
        self.run_env(words, &NoEnv)
    }

    fn run_env<E: Env>(&mut self, words: &[u64], env: &E) -> Exit {
        let mut w = words.to_vec();
        w.push(asm::br(br::UNC, DONE, 0));
        self.run_prog(&w, env)
    }

    fn run_prog<E: Env>(&mut self, words: &[u64], env: &E) -> Exit {
        self.run_observed(words, env, None)
    }

    /// Run `words` as they are, shown to `obs` if there is one.
    fn run_observed<E: Env>(
        &mut self,
        words: &[u64],
        env: &E,
        obs: Option<&mut dyn Observer>,
    ) -> Exit {
        let prog = Program::load(words, START, DONE, 4096).expect("valid program");
        let mut t = Thread {
            ctx: &mut self.ctx,
            lm: &mut self.lm,
            pkt: Packet::new(PKT, &mut self.buf),
            env,
        };
        match obs {
            Some(obs) => Interpreter.run_observed(&prog, &mut t, 10_000, obs),
            None => Interpreter.run(&prog, &mut t, 10_000),
        }
    }

    /// Value of an ALU result written to A0.
    fn alu(&mut self, a: u32, o: u64, b: u32) -> u32 {
        self.ctx.gpr[0][2] = a;
        self.ctx.gpr[1][3] = b;
        let e = self.run(&[asm::alu(R::A(0), R::A(2), o, R::B(3))]);
        assert_eq!(e.result, Ok(self.ctx.a(0)));
        self.ctx.a(0)
    }

    fn flags(&self) -> (bool, bool, bool, bool) {
        (self.ctx.z, self.ctx.n, self.ctx.c, self.ctx.v)
    }
}

/// CTM packet address of offset `off` of the test packet.
fn pkt_addr(off: u32) -> u32 {
    0x8000_0000 | u32::from(PKT) << 16 | off
}

#[test]
fn alu_operations_and_condition_codes() {
    let mut t = T::new();
    assert_eq!(t.alu(5, op::NONE, 9), 9);
    assert_eq!(t.alu(0xffff_fffe, op::ADD, 3), 1);
    assert_eq!(t.flags(), (false, false, true, false), "carry out of +");
    assert_eq!(t.alu(0x7fff_ffff, op::ADD, 1), 0x8000_0000);
    assert_eq!(
        t.flags(),
        (false, true, false, true),
        "signed overflow of +"
    );
    assert_eq!(t.alu(1, op::NOT, 0x0f0f_0f0f), 0xf0f0_f0f0);
    assert_eq!(
        t.alu(0xffff, op::ADD_2B, 0x0001_0002),
        1,
        "+16 keeps 16 bits"
    );
    assert_eq!(t.alu(0xff00, op::AND, 0x0ff0), 0x0f00);
    assert_eq!(t.alu(0xff00, op::AND_NOT_A, 0x0ff0), 0x00f0);
    assert_eq!(t.alu(0xff00, op::AND_NOT_B, 0x0ff0), 0xf000);
    assert_eq!(t.alu(0xff00, op::OR, 0x0ff0), 0xfff0);
    assert_eq!(t.alu(0xff00, op::XOR, 0x0ff0), 0xf0f0);
    assert_eq!(t.alu(0xff00, op::XOR, 0xff00), 0);
    assert!(t.ctx.z);
    // Subtraction: carry is "no borrow".
    assert_eq!(t.alu(5, op::SUB, 3), 2);
    assert_eq!(t.flags(), (false, false, true, false));
    assert_eq!(t.alu(3, op::SUB, 5), 0xffff_fffe);
    assert_eq!(t.flags(), (false, true, false, false));
    assert_eq!(t.alu(0x8000_0000, op::SUB, 1), 0x7fff_ffff);
    assert!(t.ctx.v, "signed overflow of -");
    // +carry / -carry consume C.
    t.ctx.c = true;
    assert_eq!(t.alu(1, op::ADD_C, 1), 3);
    t.ctx.c = false;
    assert_eq!(t.alu(1, op::ADD_C, 1), 2);
    t.ctx.c = true;
    assert_eq!(t.alu(5, op::SUB_C, 2), 3);
    t.ctx.c = false;
    assert_eq!(t.alu(5, op::SUB_C, 2), 2);
    assert!(t.ctx.c);
    t.ctx.c = false;
    assert_eq!(t.alu(0, op::SUB_C, 0), 0xffff_ffff);
    assert!(!t.ctx.c, "0 - 0 - borrow borrows");
}

#[test]
fn sixty_four_bit_add_and_compare_chains() {
    let mut t = T::new();
    // (A2:A3) + (B4:B5) -> A0:A1, as wrp_alu64_reg does (add, +carry).
    t.ctx.set_both(2, 0xffff_ffff);
    t.ctx.set_both(3, 1);
    t.ctx.set_both(4, 1);
    t.ctx.set_both(5, 2);
    t.run(&[
        asm::alu(R::Both(0), R::A(2), op::ADD, R::B(4)),
        asm::alu(R::Both(1), R::A(3), op::ADD_C, R::B(5)),
    ]);
    assert_eq!((t.ctx.a(0), t.ctx.a(1), t.ctx.b(1)), (0, 4, 4));
    // 64-bit unsigned compare 0x1_00000000 < 0x1_00000001: -, -carry, bcc.
    for (x, y, lower) in [
        (0x1_0000_0000u64, 0x1_0000_0001u64, true),
        (0x2_0000_0000, 0x1_ffff_ffff, false),
        (7, 7, false),
    ] {
        t.ctx.set_both(2, x as u32);
        t.ctx.set_both(3, (x >> 32) as u32);
        t.ctx.set_both(4, y as u32);
        t.ctx.set_both(5, (y >> 32) as u32);
        let taken = START + 6;
        t.run_prog(
            &[
                asm::alu(R::None, R::A(2), op::SUB, R::B(4)),
                asm::alu(R::None, R::A(3), op::SUB_C, R::B(5)),
                asm::br(br::BLO, taken, 0),
                asm::immed(R::Both(0), 0, 0, false, 0),
                asm::br(br::UNC, DONE, 0),
                asm::nop(),
                asm::immed(R::Both(0), 1, 0, false, 0),
                asm::br(br::UNC, DONE, 0),
            ],
            &NoEnv,
        );
        assert_eq!(t.ctx.a(0) == 1, lower, "{x:#x} < {y:#x}");
    }
    // Signed 64-bit: -1 < 1 (N != V after the chain).
    t.ctx.set_both(2, u32::MAX);
    t.ctx.set_both(3, u32::MAX);
    t.ctx.set_both(4, 1);
    t.ctx.set_both(5, 0);
    t.run(&[
        asm::alu(R::None, R::A(2), op::SUB, R::B(4)),
        asm::alu(R::None, R::A(3), op::SUB_C, R::B(5)),
    ]);
    assert!(t.ctx.n != t.ctx.v, "blt is taken");
}

#[test]
fn operand_placement_swap_wrboth_and_transfer_registers() {
    let mut t = T::new();
    t.ctx.gpr[1][7] = 100;
    t.ctx.gpr[0][8] = 30;
    // Left operand in bank B: swapped into the B field, still left.
    t.run(&[asm::alu(R::B(9), R::B(7), op::SUB, R::A(8))]);
    assert_eq!(t.ctx.b(9), 70);
    // Immediate on the left.
    t.run(&[asm::alu(R::A(9), R::Imm(3), op::SUB, R::B(7))]);
    assert_eq!(t.ctx.a(9), 3u32.wrapping_sub(100));
    // gpr_wrboth.
    t.run(&[asm::alu(R::Both(10), R::None, op::NONE, R::Imm(0x55))]);
    assert_eq!((t.ctx.a(10), t.ctx.b(10)), (0x55, 0x55));
    // Transfer registers: sources read xfer-in, destinations write
    // xfer-out (and transfer 32+).
    t.ctx.xfer_in[3] = 0x1234;
    t.ctx.xfer_in[40] = 0x99;
    t.run(&[
        asm::alu(R::X(3), R::None, op::NONE, R::X(3)),
        asm::alu(R::X(33), R::X(40), op::ADD, R::Imm(1)),
    ]);
    assert_eq!((t.ctx.xfer_out[3], t.ctx.xfer_in[3]), (0x1234, 0x1234));
    assert_eq!(t.ctx.xfer_out[33], 0x9a);
}

#[test]
fn local_memory_indexing_post_modify_and_extension() {
    let mut t = T::new();
    t.ctx.lm_addr = [0x100, 0x200, 0x300, 0x400];
    for (i, w) in t.lm.iter_mut().enumerate() {
        *w = i as u32;
    }
    // Offset is ORed into the word index: LM1 word 0x80 | 2.
    t.run(&[asm::alu(R::A(0), R::None, op::NONE, R::Lm(1, 2))]);
    assert_eq!(t.ctx.a(0), 0x82);
    // LM3 (extension bit) with an offset, restricted operand in alu_shf.
    t.run(&[asm::alu_shf(
        R::A(1),
        R::None,
        shf_op::NONE,
        R::Lm(3, 5),
        sc::R_ROT,
        0,
    )]);
    assert_eq!(t.ctx.a(1), 0x105);
    // Post-increment: reads word 0xc0 then 0xc1, pointer moves by 4 bytes
    // per access; writes through LM2 post-decrement.
    t.run(&[
        asm::alu(R::A(2), R::None, op::NONE, R::LmInc(2)),
        asm::alu(R::A(3), R::None, op::NONE, R::LmInc(2)),
        asm::alu(R::LmDec(0), R::None, op::NONE, R::Imm(0xaa)),
        asm::alu(R::LmDec(0), R::None, op::NONE, R::Imm(0xbb)),
    ]);
    assert_eq!((t.ctx.a(2), t.ctx.a(3)), (0xc0, 0xc1));
    assert_eq!(t.ctx.lm_addr[2], 0x308);
    assert_eq!((t.lm[0x40], t.lm[0x3f]), (0xaa, 0xbb));
    assert_eq!(t.ctx.lm_addr[0], 0xf8);
    // A partial write through a post-incremented pointer merges with the
    // word it writes and moves the pointer once.
    t.ctx.lm_addr[0] = 0x100;
    t.lm[0x40] = 0x1111_2222;
    t.run(&[asm::immed(R::LmInc(0), 0xabcd, 2, false, 2)]);
    assert_eq!((t.lm[0x40], t.lm[0x41]), (0xabcd_2222, 0x41));
    assert_eq!(t.ctx.lm_addr[0], 0x104);
    // A post-modified pointer wraps inside the 4 KiB LM.
    t.ctx.lm_addr[1] = 0xffc;
    t.run(&[asm::alu(R::A(0), R::None, op::NONE, R::LmInc(1))]);
    assert_eq!(t.ctx.lm_addr[1], 0);
}

#[test]
fn shifts_rotations_and_indirect_amounts() {
    let mut t = T::new();
    t.ctx.gpr[1][2] = 0x8000_00f1;
    let shf = |s: u64, amt: u64| asm::alu_shf(R::A(0), R::None, shf_op::NONE, R::B(2), s, amt);
    t.run(&[shf(sc::R_ROT, 4)]);
    assert_eq!(t.ctx.a(0), 0x1800_000f);
    t.run(&[shf(sc::R_ROT, 0)]);
    assert_eq!(t.ctx.a(0), 0x8000_00f1, "rotate by 0: no shift");
    t.run(&[shf(sc::R_SHF, 4)]);
    assert_eq!(t.ctx.a(0), 0x0800_000f);
    // Left shifts encode 32 - n.
    t.run(&[shf(sc::L_SHF, 32 - 4)]);
    assert_eq!(t.ctx.a(0), 0x0000_0f10);
    // Indirect: the amount is the A operand of the previous ALU op.
    t.ctx.gpr[0][5] = 8;
    t.run(&[
        asm::alu(R::None, R::A(5), op::OR, R::Imm(0)),
        shf(sc::R_SHF, 0),
    ]);
    assert_eq!(t.ctx.a(0), 0x0080_0000);
    t.run(&[
        asm::alu(R::None, R::A(5), op::OR, R::Imm(0)),
        shf(sc::L_SHF, 0),
    ]);
    assert_eq!(t.ctx.a(0), 0x0000_f100, "indirect left shift is direct");
    // ...also when the amount register is in bank B (the swap puts it on
    // the left).
    t.ctx.gpr[1][6] = 12;
    t.run(&[
        asm::alu(R::None, R::B(6), op::OR, R::Imm(0)),
        shf(sc::R_SHF, 0),
    ]);
    assert_eq!(t.ctx.a(0), 0x0008_0000);
    // AND / OR with the shifted operand.
    t.run(&[asm::alu_shf(
        R::A(0),
        R::Imm(0xff),
        shf_op::AND,
        R::B(2),
        sc::R_SHF,
        4,
    )]);
    assert_eq!(t.ctx.a(0), 0x0f);
    t.ctx.gpr[0][3] = 0x0001_0000;
    t.run(&[asm::alu_shf(
        R::A(0),
        R::A(3),
        shf_op::OR,
        R::B(2),
        sc::L_SHF,
        32 - 4,
    )]);
    assert_eq!(t.ctx.a(0), 0x0001_0f10);
    // dbl_shf: low word of (A:B) >> n, immediate and indirect.
    t.ctx.gpr[0][3] = 0x1234_5678;
    t.ctx.gpr[1][2] = 0x9abc_def0;
    t.run(&[asm::alu_shf(
        R::A(0),
        R::A(3),
        shf_op::OR,
        R::B(2),
        sc::R_DSHF,
        8,
    )]);
    assert_eq!(t.ctx.a(0), 0x789a_bcde);
    t.run(&[
        asm::alu(R::None, R::A(5), op::OR, R::Imm(0)),
        asm::alu_shf(R::A(0), R::A(3), shf_op::OR, R::B(2), sc::R_DSHF, 0),
    ]);
    assert_eq!(t.ctx.a(0), 0x789a_bcde);
    t.ctx.gpr[0][5] = 0;
    t.run(&[
        asm::alu(R::None, R::A(5), op::OR, R::Imm(0)),
        asm::alu_shf(R::A(0), R::A(3), shf_op::OR, R::B(2), sc::R_DSHF, 0),
    ]);
    assert_eq!(
        t.ctx.a(0),
        0x9abc_def0,
        "indirect dbl_shf by 0 is the low word"
    );
}

#[test]
fn arithmetic_shift_takes_its_sign_from_the_previous_result() {
    let mut t = T::new();
    t.ctx.gpr[1][2] = 0x8000_0100;
    let ashr = |amt| asm::alu_shf(R::A(0), R::None, shf_op::ASHR, R::B(2), sc::R_SHF, amt);
    // asr by constant: `alu[--, --, B, x]` sets the sign source first.
    t.run(&[asm::alu(R::None, R::None, op::NONE, R::B(2)), ashr(8)]);
    assert_eq!(t.ctx.a(0), 0xff80_0001);
    t.ctx.gpr[1][2] = 0x7000_0100;
    t.run(&[asm::alu(R::None, R::None, op::NONE, R::B(2)), ashr(8)]);
    assert_eq!(t.ctx.a(0), 0x0070_0001);
    // Indirect: `alu[--, amt, OR, x]`: amount from A, sign from the result.
    t.ctx.gpr[1][2] = 0x8000_0000;
    t.ctx.gpr[0][4] = 4;
    t.run(&[asm::alu(R::None, R::A(4), op::OR, R::B(2)), ashr(0)]);
    assert_eq!(t.ctx.a(0), 0xf800_0000);
}

#[test]
fn immed_widths_inversion_and_partial_writes() {
    let mut t = T::new();
    t.run(&[asm::immed(R::A(1), 0x3fff, 0, false, 0)]);
    assert_eq!(t.ctx.a(1), 0x3fff);
    t.run(&[asm::immed(R::B(1), 0x1234, 0, false, 1)]);
    assert_eq!(t.ctx.b(1), 0x0012_3400);
    t.run(&[asm::immed(R::Both(2), 0xff00, 0, true, 1)]);
    assert_eq!((t.ctx.a(2), t.ctx.b(2)), (0xff00_ffff, 0xff00_ffff));
    // immed_w1: the high half only; immed_b2: one byte.
    t.ctx.gpr[1][3] = 0x0000_2282;
    t.run(&[asm::immed(R::B(3), 0x4411, 2, false, 2)]);
    assert_eq!(t.ctx.b(3), 0x4411_2282);
    t.run(&[asm::immed(R::B(3), 0x00cc, 1, false, 2)]);
    assert_eq!(t.ctx.b(3), 0x44cc_2282);
    // No destination: only the previous-ALU value.
    t.run(&[asm::immed(R::None, 0x0c90, 0, false, 0)]);
    assert_eq!(t.ctx.prev_alu, 0x0c90);
    // immed leaves the condition codes alone.
    t.ctx.c = true;
    t.ctx.z = true;
    t.run(&[asm::immed(R::A(4), 7, 0, false, 0)]);
    assert!(t.ctx.c && t.ctx.z);
}

#[test]
fn ld_field_masks_clear_and_shifts() {
    let mut t = T::new();
    t.ctx.gpr[0][0] = 0x1122_3344;
    t.run(&[asm::ld_field(
        R::A(0),
        0b1100,
        R::Imm(0x82),
        sc::L_SHF,
        16,
        false,
    )]);
    assert_eq!(t.ctx.a(0), 0x0082_3344);
    t.ctx.xfer_in[0] = 0xaabb_ccdd;
    t.run(&[asm::ld_field(
        R::Both(2),
        0b0001,
        R::X(0),
        sc::R_ROT,
        0,
        true,
    )]);
    assert_eq!((t.ctx.a(2), t.ctx.b(2)), (0xdd, 0xdd));
    // Byte 2 of the word moved to byte 0, bank B destination.
    t.ctx.gpr[1][5] = 0xffff_ffff;
    t.run(&[asm::ld_field(
        R::B(5),
        0b0011,
        R::X(0),
        sc::R_SHF,
        16,
        false,
    )]);
    assert_eq!(t.ctx.b(5), 0xffff_aabb);
    assert_eq!(t.ctx.prev_alu, 0xffff_aabb);
}

#[test]
fn local_csrs_lm_pointers_and_csr_reads() {
    let mut t = T::new();
    t.lm[0x41] = 0xfeed;
    t.ctx.gpr[1][22] = 0x100;
    t.run(&[
        asm::csr_wr(NFP_CSR_ACT_LM_ADDR3, R::B(22)),
        asm::nop(),
        asm::nop(),
        asm::nop(),
        asm::alu(R::A(0), R::None, op::NONE, R::Lm(3, 1)),
    ]);
    assert_eq!(t.ctx.lm_addr[3], 0x100);
    assert_eq!(t.ctx.a(0), 0xfeed);
    // The low two address bits are dropped.
    t.run(&[asm::csr_wr(NFP_CSR_ACT_LM_ADDR0, R::Imm(0x47))]);
    assert_eq!(t.ctx.lm_addr[0], 0x44);
    // A CSR read lands in the following immed.
    t.run(&[
        asm::csr_rd(NFP_CSR_ACT_LM_ADDR3),
        asm::immed(R::Both(4), 0, 0, false, 0),
    ]);
    assert_eq!(t.ctx.a(4), 0x100);
    t.run(&[
        asm::csr_rd(NFP_CSR_PSEUDO_RND_NUM),
        asm::immed(R::Both(0), 0, 0, false, 0),
        asm::csr_rd(NFP_CSR_PSEUDO_RND_NUM),
        asm::immed(R::Both(1), 0, 0, false, 0),
        asm::immed(R::Both(2), 0, 0, false, 0),
    ]);
    assert_ne!(t.ctx.a(0), t.ctx.a(1), "pseudo-random numbers change");
    assert_eq!(t.ctx.a(2), 0, "only the next immed takes the CSR value");
}

#[test]
fn branches_conditions_and_defer_slots() {
    // Each condition against flags from `alu[--, x, -, y]`.
    let cases: [(u64, u32, u32, bool); 14] = [
        (br::BEQ, 4, 4, true),
        (br::BEQ, 4, 5, false),
        (br::BNE, 4, 5, true),
        (br::BMI, 4, 5, true),
        (br::BMI, 5, 4, false),
        (br::BHS, 5, 4, true),
        (br::BHS, 4, 4, true),
        (br::BHS, 4, 5, false),
        (br::BLO, 4, 5, true),
        (br::BLO, 5, 5, false),
        (br::BGE, (-3i32) as u32, (-4i32) as u32, true),
        (br::BGE, (-4i32) as u32, 1, false),
        (br::BLT, 0x8000_0000, 1, true),
        (br::BLT, 1, 0x8000_0000, false),
    ];
    for (cond, x, y, want) in cases {
        let mut t = T::new();
        t.ctx.gpr[0][2] = x;
        t.ctx.gpr[1][3] = y;
        t.run_prog(
            &[
                asm::immed(R::A(0), 0, 0, false, 0),
                asm::alu(R::None, R::A(2), op::SUB, R::B(3)),
                asm::br(cond, START + 4, 0),
                asm::br(br::UNC, DONE, 0),
                asm::immed(R::A(0), 1, 0, false, 0),
                asm::br(br::UNC, DONE, 0),
            ],
            &NoEnv,
        );
        assert_eq!(t.ctx.a(0) == 1, want, "cond {cond:#x} on {x:#x} - {y:#x}");
    }
    // Defer slots run whether or not the branch is taken, and cannot
    // change its decision.
    for taken in [false, true] {
        let mut t = T::new();
        t.ctx.gpr[0][2] = if taken { 1 } else { 0 };
        let e = t.run_prog(
            &[
                asm::alu(R::None, R::A(2), op::OR, R::Imm(0)),
                asm::br(br::BNE, START + 6, 2),
                asm::alu(R::None, R::None, op::NONE, R::Imm(0)), // Z := 1
                asm::immed(R::A(5), 0x11, 0, false, 0),
                asm::immed(R::A(6), 0x22, 0, false, 0), // fall-through path
                asm::br(br::UNC, DONE, 0),
                asm::immed(R::A(7), 0x33, 0, false, 0), // taken path
                asm::br(br::UNC, DONE, 0),
            ],
            &NoEnv,
        );
        assert_eq!(e.result, Ok(t.ctx.a(0)));
        assert_eq!(t.ctx.a(5), 0x11, "defer slot executed");
        assert_eq!(t.ctx.a(6) == 0x22, !taken);
        assert_eq!(t.ctx.a(7) == 0x33, taken);
    }
    // The outro's `br[DONE], defer[2]`: A0 is read after the two slots.
    let mut t = T::new();
    let e = t.run_prog(
        &[
            asm::br(br::UNC, DONE, 2),
            asm::alu(R::A(0), R::None, op::NONE, R::Imm(0)),
            asm::ld_field(R::A(0), 0b1100, R::Imm(0x82), sc::L_SHF, 16, false),
        ],
        &NoEnv,
    );
    assert_eq!(e.result, Ok(0x0082_0000));
    assert_eq!(e.steps, 3);
}

#[test]
fn bit_branches_and_returns() {
    let mut t = T::new();
    for (reg, set, want) in [
        (1u32 << 5, true, true),
        (1 << 5, false, false),
        (0, false, true),
        (0, true, false),
    ] {
        t.ctx.gpr[0][4] = reg;
        t.ctx.gpr[0][0] = 0;
        t.run_prog(
            &[
                asm::br_bit(set, R::A(4), 5, START + 2, 0),
                asm::br(br::UNC, DONE, 0),
                asm::immed(R::A(0), 1, 0, false, 0),
                asm::br(br::UNC, DONE, 0),
            ],
            &NoEnv,
        );
        assert_eq!(t.ctx.a(0) == 1, want, "bit 5 of {reg:#x}, set={set}");
    }
    // Bank B register in the B field.
    t.ctx.gpr[1][4] = 1 << 31;
    t.ctx.gpr[0][0] = 0;
    t.run_prog(
        &[
            asm::br_bit(true, R::B(4), 31, START + 2, 0),
            asm::br(br::UNC, DONE, 0),
            asm::immed(R::A(0), 1, 0, false, 0),
            asm::br(br::UNC, DONE, 0),
        ],
        &NoEnv,
    );
    assert_eq!(t.ctx.a(0), 1);
    // rtn[A21], defer[3] as in the register push/pop subroutines.
    let mut t = T::new();
    t.run_prog(
        &[
            asm::immed(R::A(21), START + 7, 0, false, 0),
            asm::rtn(R::A(21), 3),
            asm::immed(R::A(1), 1, 0, false, 0),
            asm::immed(R::A(2), 2, 0, false, 0),
            asm::immed(R::A(3), 3, 0, false, 0),
            asm::immed(R::A(4), 4, 0, false, 0),
            asm::br(br::UNC, DONE, 0),
            asm::immed(R::A(5), 5, 0, false, 0),
            asm::br(br::UNC, DONE, 0),
        ],
        &NoEnv,
    );
    assert_eq!(
        [1, 2, 3, 4, 5].map(|i| t.ctx.a(i)),
        [1, 2, 3, 0, 5],
        "3 defer slots, then the return address"
    );
}

#[test]
fn multiply_sequences() {
    let mut t = T::new();
    t.ctx.set_both(2, 0xdead_beef);
    t.ctx.set_both(4, 0x1234_5678);
    let mut w = vec![asm::mul_start(R::A(2), R::B(4))];
    for n in 1..=4 {
        w.push(asm::mul_step(R::A(2), R::B(4), 3, n));
    }
    w.push(asm::mul_last(R::Both(0), 3, false));
    w.push(asm::mul_last(R::Both(1), 3, true));
    t.run(&w);
    let p = 0xdead_beefu64 * 0x1234_5678;
    assert_eq!((t.ctx.a(0), t.ctx.b(1)), (p as u32, (p >> 32) as u32));
    // 16x16: the low halves.
    t.ctx.set_both(2, 0xffff_0300);
    t.ctx.set_both(4, 0x0004);
    t.run(&[
        asm::mul_start(R::A(2), R::B(4)),
        asm::mul_step(R::A(2), R::B(4), 2, 1),
        asm::mul_step(R::A(2), R::B(4), 2, 2),
        asm::mul_last(R::B(6), 2, false),
    ]);
    assert_eq!(t.ctx.b(6), 0xc00);
}

#[test]
fn packet_reads_in_every_byte_order() {
    let mut t = T::new();
    for (i, b) in t.buf.iter_mut().enumerate().take(256) {
        *b = i as u8;
    }
    t.ctx.set_both(2, pkt_addr(128));
    // read32_swap of 2 words at an unaligned offset, waits (ctx_swap).
    t.run(&[asm::mem(
        cmd::READ32_SWAP,
        0,
        R::A(2),
        R::Imm(3),
        1,
        4,
        0,
        false,
    )]);
    assert_eq!(&t.ctx.xfer_in[..2], &[0x8685_8483, 0x8a89_8887]);
    // read8 packs big-endian.
    t.run(&[asm::mem(cmd::READ8, 4, R::A(2), R::Imm(1), 2, 4, 0, false)]);
    assert_eq!(t.ctx.xfer_in[4], 0x8182_8300);
    // An indirect length override: 12 words.
    t.run(&[
        asm::immed(R::None, 0x80 | 11 << 8, 0, false, 0),
        asm::mem(cmd::READ32_SWAP, 8, R::A(2), R::Imm(0), 0, 4, 0, true),
    ]);
    assert_eq!(t.ctx.xfer_in[19], u32::from_le_bytes([172, 173, 174, 175]));
    assert_eq!(t.ctx.xfer_in[20], 0, "words past the override untouched");
    // Reads beyond the buffer succeed (zeros).
    t.ctx.set_both(2, pkt_addr(CTM_PKT_BUF as u32 - 2));
    let e = t.run(&[asm::mem(
        cmd::READ32_SWAP,
        0,
        R::A(2),
        R::Imm(0),
        1,
        4,
        0,
        false,
    )]);
    assert!(e.result.is_ok());
}

#[test]
fn packet_writes_and_copies() {
    let mut t = T::new();
    t.ctx.set_both(2, pkt_addr(128));
    t.ctx.xfer_out[0] = 0x4433_2211;
    t.ctx.xfer_out[1] = 0x0000_6655;
    // write8_swap of 6 bytes: little-endian unpacking of the words.
    t.run(&[asm::mem(
        cmd::WRITE8_SWAP,
        0,
        R::A(2),
        R::Imm(1),
        5,
        4,
        0,
        false,
    )]);
    assert_eq!(
        &t.buf[128..136],
        &[0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0]
    );
    // write32_swap.
    t.run(&[asm::mem(
        cmd::WRITE32_SWAP,
        0,
        R::A(2),
        R::Imm(8),
        1,
        4,
        0,
        false,
    )]);
    assert_eq!(
        &t.buf[136..144],
        &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0, 0]
    );
    // A copy: read32_swap, xfer-in -> xfer-out, write8_swap.
    t.run(&[
        asm::mem(cmd::READ32_SWAP, 0, R::A(2), R::Imm(8), 1, 4, 0, false),
        asm::alu(R::X(0), R::None, op::NONE, R::X(0)),
        asm::alu(R::X(1), R::None, op::NONE, R::X(1)),
        asm::mem(cmd::WRITE8_SWAP, 0, R::A(2), R::Imm(64), 7, 4, 0, false),
    ]);
    assert_eq!(&t.buf[192..200], &t.buf[136..144].to_vec()[..]);
    // Data placed in xfer-out in the defer slots is what is written.
    t.ctx.xfer_out[0] = 0;
    t.run(&[
        asm::mem(cmd::WRITE8_SWAP, 0, R::A(2), R::Imm(100), 3, 4, 2, false),
        asm::immed(R::X(0), 0xbeef, 0, false, 0),
        asm::immed(R::X(0), 0xdead, 2, false, 2),
    ]);
    assert_eq!(&t.buf[228..232], &[0xef, 0xbe, 0xad, 0xde]);
    // Out of the buffer: the packet aborts.
    t.ctx.set_both(2, pkt_addr(CTM_PKT_BUF as u32 - 2));
    let e = t.run(&[asm::mem(
        cmd::WRITE8_SWAP,
        0,
        R::A(2),
        R::Imm(0),
        3,
        4,
        0,
        false,
    )]);
    assert!(matches!(e.result, Err(Fault::Memory { .. })));
    // Another packet's (or a non-packet) address: aborts.
    t.ctx.set_both(2, 0x8000_0000 | 9 << 16 | 128);
    let e = t.run(&[asm::mem(
        cmd::READ32_SWAP,
        0,
        R::A(2),
        R::Imm(0),
        0,
        4,
        0,
        false,
    )]);
    assert!(matches!(e.result, Err(Fault::Memory { .. })));
}

/// EMEM of 64 bytes at 0x18_0000_1000 for atomic tests.
struct Emem(RefCell<[u8; 64]>);
const EMEM: u64 = 0x18_0000_1000;

impl Env for Emem {
    fn emem_read(&self, addr: u64, buf: &mut [u8]) -> bool {
        let m = self.0.borrow();
        let Some(o) = addr.checked_sub(EMEM).map(|o| o as usize) else {
            return false;
        };
        match m.get(o..o + buf.len()) {
            Some(s) => {
                buf.copy_from_slice(s);
                true
            }
            None => false,
        }
    }
    fn emem_add(&self, addr: u64, value: u64, wide: bool) -> bool {
        let mut m = self.0.borrow_mut();
        let Some(o) = addr
            .checked_sub(EMEM)
            .map(|o| o as usize)
            .filter(|o| o + 8 <= m.len())
        else {
            return false;
        };
        let w = |m: &[u8], i: usize| u32::from_be_bytes([m[i], m[i + 1], m[i + 2], m[i + 3]]);
        if wide {
            let v =
                (u64::from(w(&m[..], o + 4)) << 32 | u64::from(w(&m[..], o))).wrapping_add(value);
            m[o..o + 4].copy_from_slice(&(v as u32).to_be_bytes());
            m[o + 4..o + 8].copy_from_slice(&((v >> 32) as u32).to_be_bytes());
        } else {
            let v = w(&m[..], o).wrapping_add(value as u32);
            m[o..o + 4].copy_from_slice(&v.to_be_bytes());
        }
        true
    }
}

#[test]
fn emem_reads_and_atomic_adds_in_forty_bit_mode() {
    let env = Emem(RefCell::new([0; 64]));
    env.0.borrow_mut()[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let mut t = T::new();
    // 40-bit BA mode: A = address bits 31..0, B = bits 39..32 in 31..24.
    t.ctx.set_both(0, EMEM as u32);
    t.ctx.set_both(1, ((EMEM >> 32) as u32) << 24);
    t.run_env(
        &[asm::mem(
            cmd::READ32_SWAP,
            0,
            R::A(0),
            R::B(1),
            0,
            1,
            0,
            false,
        )],
        &Emem(RefCell::new([0; 64])),
    );
    t.run_env(
        &[
            asm::alu(R::A(2), R::A(0), op::ADD, R::Imm(8)),
            asm::mem(cmd::READ32_SWAP, 0, R::A(2), R::B(1), 0, 1, 0, false),
        ],
        &env,
    );
    assert_eq!(t.ctx.xfer_in[0], 0x0403_0201);
    // add64_imm of 1 through indirect_ref (jit.c:3077-3089): counter
    // 0x00000000_ffffffff + 1, big-endian words, low word first.
    env.0.borrow_mut()[..8].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    t.ctx.set_both(2, 1);
    t.run_env(
        &[
            asm::immed(R::A(21), 0xc90, 0, false, 0),
            asm::ld_field(R::A(21), 0b1100, R::B(2), sc::L_SHF, 16, false),
            asm::mem(cmd::ADD_IMM, 0, R::A(0), R::B(1), 0, 1, 3, true),
        ],
        &env,
    );
    assert_eq!(&env.0.borrow()[..8], &[0, 0, 0, 0, 0, 0, 0, 1]);
    // add (32-bit) of a register placed in xfer-out in the defer slot.
    t.ctx.set_both(3, 0x0102_0304);
    t.run_env(
        &[
            asm::mem(cmd::ADD, 0, R::A(0), R::B(1), 0, 1, 1, false),
            asm::alu(R::X(0), R::None, op::NONE, R::B(3)),
        ],
        &env,
    );
    assert_eq!(&env.0.borrow()[..4], &[1, 2, 3, 4]);
    // add64 of xfer-out 0 (low) and 1 (high), defer[2].
    t.ctx.set_both(4, 0xffff_ffff);
    t.ctx.set_both(5, 0x10);
    t.run_env(
        &[
            asm::mem(cmd::ADD, 0, R::A(0), R::B(1), 5, 1, 2, false),
            asm::alu(R::X(0), R::None, op::NONE, R::B(4)),
            asm::alu(R::X(1), R::None, op::NONE, R::B(5)),
        ],
        &env,
    );
    // 0x00000001_01020304 + 0x00000010_ffffffff = 0x00000012_01020303
    assert_eq!(&env.0.borrow()[..8], &[1, 2, 3, 3, 0, 0, 0, 0x12]);
    // Unmapped EMEM aborts.
    t.ctx.set_both(0, 0);
    let e = t.run_env(
        &[asm::mem(
            cmd::READ32_SWAP,
            0,
            R::A(0),
            R::B(1),
            0,
            1,
            0,
            false,
        )],
        &env,
    );
    assert!(matches!(e.result, Err(Fault::Memory { .. })));
}

#[test]
fn faults_abort_with_the_address_and_word() {
    let mut t = T::new();
    // ctx_arb: a class the JIT never emits.
    let bad = with_ecc(0x00e0_0000_0000);
    let e = t.run(&[asm::nop(), bad]);
    assert_eq!(
        e.result,
        Err(Fault::Invalid {
            pc: START + 1,
            word: bad & NFP_INSN_MASK
        })
    );
    let e = t.run_prog(&[asm::br(br::UNC, 100, 0)], &NoEnv);
    assert_eq!(e.result, Err(Fault::OutOfProgram { pc: 100 }));
    // Running off the end of the program.
    let e = t.run_prog(&[asm::nop()], &NoEnv);
    assert_eq!(e.result, Err(Fault::OutOfProgram { pc: START + 1 }));
    // An endless loop meets the budget.
    let e = t.run_prog(&[asm::br(br::UNC, START, 0)], &NoEnv);
    assert_eq!(e.result, Err(Fault::Budget { pc: START }));
    assert_eq!(e.steps, 10_000);
    // Bad ECC refuses the load.
    let mut w = asm::nop();
    w ^= 1 << 3;
    assert!(matches!(
        Program::load(&[asm::nop(), w], START, DONE, 10),
        Err(LoadError::Ecc { index: 1, .. })
    ));
    assert!(matches!(
        Program::load(&[asm::nop(); 11], START, DONE, 10),
        Err(LoadError::TooLong { len: 11, max: 10 })
    ));
}

fn golden(bytes: &[u8]) -> Vec<u64> {
    le_words(bytes)
}

/// Set up the firmware's entry state (docs/bpf-offload.md#the-programs-environment): PV at LM1,
/// stack at
/// LM0 and A22, packet data at offset 128.
fn enter(t: &mut T, frame: &[u8]) {
    let pv = 0x800u32;
    t.ctx.lm_addr[1] = pv;
    t.ctx.lm_addr[0] = 0;
    t.ctx.gpr[0][22] = 0;
    let w = (pv / 4) as usize;
    t.lm[w] = u32::from(PKT) << 16 | frame.len() as u32;
    t.lm[w + 2] = pkt_addr(128);
    t.buf[128..128 + frame.len()].copy_from_slice(frame);
}

#[test]
fn golden_drop_program() {
    let mut t = T::new();
    enter(&mut t, &[0; 60]);
    let e = t.run_prog(
        &golden(include_bytes!("../../testdata/p1_drop.ustore.bin")),
        &NoEnv,
    );
    assert_eq!(e.result, Ok(0x0022_0000));
    assert_eq!(t.ctx.b(22), 60, "intro computed the packet length");
}

#[test]
fn golden_byte_program() {
    let prog = golden(include_bytes!("../../testdata/p2_byte.ustore.bin"));
    for (first, want) in [(0xffu8, 0x0022_0000), (0x01, 0x0011_0000)] {
        let mut t = T::new();
        let mut f = [0u8; 60];
        f[0] = first;
        enter(&mut t, &f);
        assert_eq!(t.run_prog(&prog, &NoEnv).result, Ok(want));
    }
    let mut t = T::new();
    enter(&mut t, &[]);
    t.buf[128] = 0xff;
    assert_eq!(
        t.run_prog(&prog, &NoEnv).result,
        Ok(0x0011_0000),
        "empty packet: bounds check says PASS"
    );
}

/// `map_lookup_elem` at 0x200 for one array map (tid 1) whose element k
/// lives at EMEM + 8k.
struct OneArray(Emem);

impl Env for OneArray {
    fn emem_read(&self, addr: u64, buf: &mut [u8]) -> bool {
        self.0.emem_read(addr, buf)
    }
    fn emem_add(&self, addr: u64, value: u64, wide: bool) -> bool {
        self.0.emem_add(addr, value, wide)
    }
    fn helper(&self, addr: u16, ctx: &mut Ctx, lm: &mut [u32; LM_WORDS], _pkt: &Packet) -> bool {
        if addr != 0x200 || ctx.a(0) != 1 {
            return false;
        }
        let key = lm[(ctx.lm_addr[0] >> 2) as usize];
        difftest::return_value_addr(ctx, (key < 4).then(|| EMEM + 8 * u64::from(key)));
        true
    }
}

#[test]
fn golden_map_program_calls_the_helper_and_adds() {
    let env = OneArray(Emem(RefCell::new([0; 64])));
    env.0.0.borrow_mut()[..8].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    let mut t = T::new();
    enter(&mut t, &[0; 60]);
    let e = t.run_prog(
        &golden(include_bytes!("../../testdata/p3_map.ustore.bin")),
        &env,
    );
    assert_eq!(e.result, Ok(0x0011_0000));
    assert_eq!(&env.0.0.borrow()[..8], &[0, 0, 0, 0, 0, 0, 0, 1]);
    // A helper that returns to itself (B0 = its own address) meets the
    // budget instead of spinning forever.
    struct AnyHelper;
    impl Env for AnyHelper {
        fn helper(&self, _: u16, _: &mut Ctx, _: &mut [u32; LM_WORDS], _: &Packet) -> bool {
            true
        }
    }
    let mut t = T::new();
    let e = t.run_prog(
        &[
            asm::immed(R::B(0), 0x200, 0, false, 0),
            asm::br(br::UNC, 0x200, 0),
        ],
        &AnyHelper,
    );
    assert_eq!(e.result, Err(Fault::Budget { pc: 0x200 }));
    // Without the helper the call leaves the program: abort.
    let mut t = T::new();
    enter(&mut t, &[0; 60]);
    let e = t.run_prog(
        &golden(include_bytes!("../../testdata/p3_map.ustore.bin")),
        &NoEnv,
    );
    assert_eq!(e.result, Err(Fault::OutOfProgram { pc: 0x200 }));
}

#[test]
fn the_assembler_matches_the_golden_words() {
    let p1 = golden(include_bytes!("../../testdata/p1_drop.ustore.bin"));
    assert_eq!(p1[0], asm::immed(R::B(22), 0x3fff, 0, false, 0));
    assert_eq!(p1[1], asm::alu(R::B(22), R::B(22), op::AND, R::Lm(1, 0)));
    assert_eq!(p1[2], asm::immed(R::Both(0), 1, 0, false, 0));
    assert_eq!(p1[5], asm::br(br::UNC, DONE, 2));
    assert_eq!(
        p1[7],
        asm::ld_field(R::A(0), 0b1100, R::Imm(0x82), sc::L_SHF, 16, false)
    );
    assert_eq!(p1[9], asm::br(br::BLO, START + 5, 0));
    assert_eq!(p1[11], asm::immed(R::B(2), 0x4411, 2, false, 2));
    assert_eq!(
        p1[12],
        asm::alu_shf(R::A(1), R::None, shf_op::NONE, R::B(0), sc::L_SHF, 29)
    );
    assert_eq!(
        p1[14],
        asm::alu_shf(R::B(2), R::Imm(0xff), shf_op::AND, R::B(2), sc::R_SHF, 0)
    );
    assert_eq!(p1[18], asm::nop());
    let p2 = golden(include_bytes!("../../testdata/p2_byte.ustore.bin"));
    assert_eq!(
        p2[15],
        asm::mem(cmd::READ32_SWAP, 0, R::A(2), R::Imm(0), 0, 4, 0, false)
    );
    assert_eq!(
        p2[16],
        asm::ld_field(R::Both(2), 0b0001, R::X(0), sc::R_ROT, 0, true)
    );
    let p3 = golden(include_bytes!("../../testdata/p3_map.ustore.bin"));
    assert_eq!(p3[4], asm::alu(R::Lm(0, 0), R::None, op::NONE, R::B(2)));
    assert_eq!(
        p3[20],
        asm::mem(cmd::ADD_IMM, 0, R::A(0), R::B(1), 0, 1, 3, true)
    );
}

#[test]
fn random_programs_never_panic_and_always_stop() {
    // Random programs, half of their words well-formed instructions of the
    // JIT's forms with random operands, half random words of any class
    // (valid ECC); branch targets point into the program or at DONE. Every
    // run must end in DONE, a fault or the budget: never a panic or a hang.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let env = Emem(RefCell::new([0; 64]));
    let mut outcomes = [0u32; 3];
    for _ in 0..3000 {
        let len = 1 + (next() % 40) as usize;
        let mut words = Vec::with_capacity(len);
        for _ in 0..len {
            let r = next();
            let reg = |k: u64| match k % 5 {
                0 => R::A((k >> 3) as u8 % 32),
                1 => R::B((k >> 3) as u8 % 32),
                2 => R::Imm((k >> 3) as u32 % 128),
                3 => R::Lm((k >> 3) as u8 % 4, (k >> 5) as u8 % 8),
                _ => R::X((k >> 3) as u8 % 32),
            };
            let (a, b) = (reg(r >> 8), reg(r >> 24));
            let dst = match (r >> 40) % 3 {
                0 => R::A((r >> 44) as u8 % 32),
                1 => R::B((r >> 44) as u8 % 32),
                _ => R::Both((r >> 44) as u8 % 32),
            };
            let t = if r % 7 == 0 {
                DONE
            } else {
                START + ((r >> 50) % len as u64) as u16
            };
            let ops = [
                op::NONE,
                op::ADD,
                op::NOT,
                op::ADD_2B,
                op::AND,
                op::SUB_C,
                op::ADD_C,
                op::OR,
                op::SUB,
                op::XOR,
            ];
            let w = match r % 12 {
                0 | 1 => asm::alu(dst, a, ops[(r >> 4) as usize % ops.len()], b),
                2 => asm::alu_shf(
                    dst,
                    a,
                    [shf_op::NONE, shf_op::AND, shf_op::OR, shf_op::ASHR][(r >> 4) as usize % 4],
                    b,
                    (r >> 6) % 4,
                    (r >> 9) % 32,
                ),
                3 => asm::immed(
                    dst,
                    (r >> 16) as u16,
                    (r >> 4) % 3,
                    r & 0x100 != 0,
                    (r >> 6) % 3,
                ),
                4 => asm::ld_field(
                    dst,
                    (r >> 4) % 16,
                    b,
                    (r >> 8) % 3,
                    (r >> 10) % 32,
                    r & 0x8000 != 0,
                ),
                5 => asm::br(
                    [
                        br::BEQ,
                        br::BNE,
                        br::BMI,
                        br::BHS,
                        br::BLO,
                        br::BGE,
                        br::BLT,
                        br::UNC,
                    ][(r >> 4) as usize % 8],
                    t,
                    (r >> 8) % 3,
                ),
                6 => asm::br_bit(
                    r & 0x10 != 0,
                    R::A((r >> 5) as u8 % 32),
                    (r >> 10) as u32 % 32,
                    t,
                    (r >> 8) % 3,
                ),
                7 => asm::csr_wr(
                    [
                        NFP_CSR_ACT_LM_ADDR0,
                        NFP_CSR_ACT_LM_ADDR2,
                        NFP_CSR_ACT_LM_ADDR3,
                    ][(r >> 4) as usize % 3],
                    a,
                ),
                8 => asm::mul_start(R::A((r >> 4) as u8 % 32), R::B((r >> 9) as u8 % 32)),
                9 => asm::mul_last(dst, 3, r & 0x10 != 0),
                10 => asm::mem(
                    difftest::MEM_CMDS[(r >> 4) as usize % 6],
                    (r >> 8) % 32,
                    R::A((r >> 13) as u8 % 32),
                    R::Imm((r >> 18) as u32 % 64),
                    (r >> 25) % 8,
                    [1, 4][(r >> 28) as usize % 2],
                    (r >> 29) % 4,
                    r & 0x8000_0000 != 0,
                ),
                _ => {
                    let mut w = next() & NFP_INSN_MASK;
                    if w & 0x00f0_0000_0000 == 0x00d0_0000_0000 {
                        w = (w & !(0x1fff << 22) & !(1 << 40)) | u64::from(t & 0x1fff) << 22;
                    }
                    with_ecc(w)
                }
            };
            words.push(w);
        }
        let mut t = T::new();
        for (i, r) in t.ctx.gpr.iter_mut().flatten().enumerate() {
            *r = if i % 3 == 0 {
                pkt_addr((next() % 512) as u32)
            } else {
                next() as u32
            };
        }
        t.ctx.lm_addr = [next() as u32 & 0xffc, 0x800, 0x900, 0xa00];
        let e = t.run_prog(&words, &env);
        // The budget is checked on backward branches and helper calls: a
        // run may go on straight (and through defer slots) past it.
        assert!(e.steps <= 10_000 + words.len() as u64 + 3, "{}", e.steps);
        outcomes[match e.result {
            Ok(_) => 0,
            Err(Fault::Budget { .. }) => 1,
            Err(_) => 2,
        }] += 1;
    }
    assert!(
        outcomes.iter().all(|&n| n > 10),
        "runs that finished / hit the budget / faulted: {outcomes:?}"
    );
}

/// Everything an observer is shown.
#[derive(Debug, Default)]
struct Seen {
    insns: Vec<u16>,
    branches: Vec<(u16, u8, bool)>,
    mems: Vec<MemCmd>,
    /// (address, return address, A0 = the table id at the call)
    helpers: Vec<(u16, u16, u32)>,
    done: Option<(u16, u32)>,
}

impl Observer for Seen {
    fn insn(&mut self, prog: &Program, pc: u16, insn: &crate::fp::insn::Insn) {
        assert_eq!(prog.fetch(pc), Some(insn));
        self.insns.push(pc);
    }
    fn branch(&mut self, pc: u16, defer: u8, taken: bool) {
        self.branches.push((pc, defer, taken));
    }
    fn mem(&mut self, cmd: &MemCmd) {
        self.mems.push(*cmd);
    }
    fn helper(&mut self, pc: u16, ret: u16, ctx: &Ctx) {
        self.helpers.push((pc, ret, ctx.a(0)));
    }
    fn done(&mut self, pc: u16, result: u32) {
        self.done = Some((pc, result));
    }
}

#[test]
fn an_observer_sees_every_step_and_changes_nothing() {
    // The golden map program: a helper call, an atomic add to EMEM and
    // branches, run plainly and observed from the same state.
    let prog = golden(include_bytes!("../../testdata/p3_map.ustore.bin"));
    let run = |obs: Option<&mut dyn Observer>| {
        let env = OneArray(Emem(RefCell::new([0; 64])));
        let mut t = T::new();
        enter(&mut t, &[0; 60]);
        let e = t.run_observed(&prog, &env, obs);
        let mem = *env.0.0.borrow();
        (e, t.ctx.gpr, t.ctx.lm_addr, t.lm, mem)
    };
    let plain = run(None);
    let mut seen = Seen::default();
    let observed = run(Some(&mut seen));
    assert_eq!(plain, observed, "observing changes nothing");
    let exit = plain.0;
    assert_eq!(exit.result, Ok(0x0011_0000));
    // Every step is an instruction or a helper call.
    assert_eq!(
        (seen.insns.len() + seen.helpers.len()) as u64,
        exit.steps,
        "{seen:?}"
    );
    assert!(seen.insns.iter().all(|&pc| pc >= START));
    assert_eq!(seen.helpers.len(), 1);
    // map_lookup_elem, returning after the call's defer slots, shown its
    // arguments: the table id (1) in A0 (jit.c:1725-1764).
    assert_eq!(seen.helpers[0], (0x200, 3086, 1), "map_lookup_elem");
    assert!(!seen.branches.is_empty());
    assert!(
        seen.mems
            .iter()
            .any(|m| m.op == crate::fp::insn::MemOp::AddImm && !m.ctm && !m.swap),
        "the counter's add_imm to EMEM: {:?}",
        seen.mems
    );
    assert_eq!(seen.done, Some((DONE, 0x0011_0000)));
    // Without a DONE nothing says done.
    let mut seen = Seen::default();
    let e = T::new().run_observed(&[asm::br(br::UNC, 77, 0)], &NoEnv, Some(&mut seen));
    assert_eq!(e.result, Err(Fault::OutOfProgram { pc: 77 }));
    assert_eq!(
        (seen.insns, seen.branches),
        (vec![START], vec![(START, 0, true)])
    );
    assert_eq!(seen.done, None);
}

#[test]
fn faults_and_load_errors_are_errors_with_their_texts() {
    let f: &dyn std::error::Error = &Fault::Budget { pc: 7 };
    assert_eq!(f.to_string(), "instruction budget exhausted at .7");
    for (f, text) in [
        (
            Fault::Invalid {
                pc: 3072,
                word: 0x00e0_0000_0000,
            },
            "invalid instruction 0x000000e000000000 at .3072 (ctx_arb[kill])",
        ),
        (
            Fault::Operand {
                pc: 1,
                word: 0x0000_00f0_000c_0300,
            },
            "unsupported operand in 0x000000f0000c0300 at .1 (nop)",
        ),
        (
            Fault::OutOfProgram { pc: 77 },
            "jump to .77, outside the program and its helpers",
        ),
        (
            Fault::Memory {
                pc: 5,
                addr: 0x1234,
            },
            "memory command at .5 to unmapped address 0x1234",
        ),
    ] {
        assert_eq!(f.to_string(), text);
    }
    let e: &dyn std::error::Error = &LoadError::Empty;
    assert_eq!(e.to_string(), "empty program");
    assert_eq!(
        LoadError::TooLong { len: 11, max: 10 }.to_string(),
        "program of 11 instructions exceeds 10"
    );
    assert_eq!(
        LoadError::Ecc { index: 1, word: 8 }.to_string(),
        "word 1 (0x0000000000000008) fails its ECC check"
    );
}
