//! Differential tests: every program of the corpus and thousands of random
//! programs run on the interpreter and on their translation, which must
//! leave the same registers (the whole context: GPRs, transfer registers,
//! LM pointers, condition codes, previous-ALU value, multiplier, CSR
//! value, random generator), local memory, packet buffer, EMEM, helper
//! calls, result, fault and steps. The runs and the comparison are the
//! differential harness's (`exec::difftest`, [`Twin`]), the one
//! `difftests.rs` and the interpreter's oracle tests use; the programs,
//! frames and states here are this file's own.

use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::frame::SIDE_EXITS;
use super::*;
use crate::fp::asm::{self, R, br, cmd};
use crate::fp::exec::difftest::{
    self, ALU_OPS, BR_CONDS, DONE, EMEM_BASE, HELPER_MAP_LOOKUP, Helpers, MEM_CMDS, Rng, SHF_OPS,
    START, Start, Twin,
};
use crate::fp::exec::{
    Fault, Interpreter, NFP_CSR_ACT_LM_ADDR0, NFP_CSR_ACT_LM_ADDR2, NFP_CSR_ACT_LM_ADDR3,
    NFP_CSR_PSEUDO_RND_NUM, le_words,
};
use crate::fp::me::DEFAULT_BUDGET;
use crate::fp::word::{NFP_INSN_MASK, with_ecc};

/// Bytes of EMEM the runs see at [`EMEM_BASE`] (map values).
const EMEM_LEN: usize = 4096;

/// Where the runs start: a zero context, packet 5, EMEM holding a pattern,
/// and four helpers in the manner of the firmware's ([`Helpers::MapOps`]:
/// lookup, update, delete, perf event at 0x200..0x203), every call
/// recorded and compared.
fn base() -> Start {
    Start {
        emem: (0..EMEM_LEN).map(|i| (i * 7) as u8).collect(),
        helpers: Helpers::MapOps,
        ..Start::zero(5)
    }
}

/// Run `prog` on the interpreter and on its translation, side by side in
/// `twin` (the differential harness, `exec::difftest`); everything must
/// agree (registers, LM, the packet buffer and its lowest write, EMEM,
/// helper calls, result, fault and steps).
fn agree(twin: &mut Twin<'_>, prog: &Program, budget: u64, what: &dyn Display) -> Exit {
    twin.run(prog, budget)
        .unwrap_or_else(|d| panic!("{what}: {d}"))
        .exit
}

/// The interpreter and the translation from `s`.
fn twin(s: Start) -> Twin<'static> {
    Twin::new(&Interpreter, &Jit, s)
}

/// Frames that take programs down many paths: Ethernet with IPv4 or IPv6,
/// UDP, TCP or ICMP, VLAN tags, ARP, runts and jumbo-ish lengths.
fn frames(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut r = Rng(seed);
    (0..n)
        .map(|i| {
            let len = match i % 7 {
                0 => (r.next() % 14) as usize,
                1 => 60,
                2 => 64 + (r.next() % 64) as usize,
                3 => 1514,
                _ => 14 + (r.next() % 300) as usize,
            };
            let mut f: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
            if len >= 14 {
                let et: [u8; 2] = match r.next() % 6 {
                    0..=2 => [0x08, 0x00],
                    3 => [0x86, 0xdd],
                    4 => [0x81, 0x00],
                    _ => [0x08, 0x06],
                };
                f[12..14].copy_from_slice(&et);
            }
            if len >= 34 && f[12..14] == [0x08, 0x00] {
                f[14] = 0x45;
                f[23] = [6, 17, 1, 17][(r.next() % 4) as usize];
                f[20] = 0;
                f[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
            }
            if len >= 54 && f[12..14] == [0x86, 0xdd] {
                f[14] = 0x60;
                f[20] = [6, 17, 58][(r.next() % 3) as usize];
            }
            if len >= 38 && r.next() % 2 == 0 {
                // well-known ports
                f[36..38].copy_from_slice(&[0, [53, 80, 22, 123][(r.next() % 4) as usize]]);
            }
            f
        })
        .collect()
}

/// The corpus: the golden images, the bench's largest program, and every
/// image the driver produced for ci/progs (src/fp/testdata/corpus).
fn corpus() -> Vec<(String, Vec<u64>)> {
    let mut progs = vec![
        (
            "p1_drop".to_owned(),
            le_words(include_bytes!("../testdata/p1_drop.ustore.bin")),
        ),
        (
            "p2_byte".to_owned(),
            le_words(include_bytes!("../testdata/p2_byte.ustore.bin")),
        ),
        (
            "p3_map".to_owned(),
            le_words(include_bytes!("../testdata/p3_map.ustore.bin")),
        ),
        (
            "jmp32_imm".to_owned(),
            le_words(include_bytes!(
                "../../../benches/data/diff/jmp32_imm.ustore.bin"
            )),
        ),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/fp/testdata/corpus");
    let mut more: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "bin"))
                .collect()
        })
        .unwrap_or_default();
    more.sort();
    for p in more {
        let name = p.file_stem().map(|s| s.to_string_lossy().into_owned());
        let bytes = std::fs::read(&p).expect("corpus image readable");
        progs.push((name.unwrap_or_default(), le_words(&bytes)));
    }
    progs
}

fn load(words: &[u64]) -> Program {
    Program::load(words, START, DONE, 4096).expect("valid image")
}

#[test]
fn every_corpus_program_runs_the_same_translated() {
    let frames = frames(48, 0x5eed);
    let mut runs = 0;
    let side0 = SIDE_EXITS.load(Ordering::Relaxed);
    let progs = corpus();
    for (name, words) in &progs {
        let prog = load(words);
        let bytes = translate_now(&prog).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(bytes > 0);
        // Packets one after another on the contexts of one ME, as a worker
        // runs them: state carries over from packet to packet.
        let mut pair = twin(base());
        let before = SIDE_EXITS.load(Ordering::Relaxed);
        for (i, f) in frames.iter().enumerate() {
            let c = i % 4;
            pair.enter(f, c, 12 + c as u16);
            let what = format!("{name}, frame {i} ({} bytes)", f.len());
            agree(&mut pair, &prog, DEFAULT_BUDGET, &what);
            runs += 1;
        }
        eprintln!(
            "{name}: {} instructions, {bytes} bytes of host code, {} side exits",
            prog.len(),
            SIDE_EXITS.load(Ordering::Relaxed) - before
        );
    }
    let side = SIDE_EXITS.load(Ordering::Relaxed) - side0;
    eprintln!(
        "{} corpus programs x {} frames: {runs} runs, {side} side exits",
        progs.len(),
        frames.len()
    );
}

#[test]
fn budgets_end_translated_runs_at_the_same_step() {
    // Every budget up to the program's need: the run ends at exactly the
    // interpreter's instruction (a backward branch or helper call reached
    // with the budget spent), with its state.
    for (name, words) in corpus().iter().take(4) {
        let prog = load(words);
        translate_now(&prog).expect("translated");
        let f = &frames(3, 7)[2];
        let mut full = twin(base());
        full.enter(f, 0, 1);
        let need = agree(&mut full, &prog, DEFAULT_BUDGET, &name).steps;
        for budget in (0..=need + 1).step_by(1 + need as usize / 97) {
            let mut pair = twin(base());
            pair.enter(f, 0, 1);
            agree(
                &mut pair,
                &prog,
                budget,
                &format_args!("{name}, budget {budget}"),
            );
        }
    }
}

/// A random program: half well-formed instructions of the JIT's forms with
/// random operands, half random words; targets in the program, at DONE,
/// at a helper, or just past the end.
fn random_program(r: &mut Rng) -> Vec<u64> {
    let len = 1 + (r.next() % 40) as usize;
    let mut words = Vec::with_capacity(len);
    for _ in 0..len {
        let x = r.next();
        // Unrestricted (10-bit) operands may post-modify LM pointers.
        let reg10 = |k: u64| match k % 6 {
            0 => R::A((k >> 3) as u8 % 32),
            1 => R::B((k >> 3) as u8 % 32),
            2 => R::Imm((k >> 3) as u32 % 128),
            3 => R::Lm((k >> 3) as u8 % 4, (k >> 5) as u8 % 8),
            4 => {
                [R::LmInc((k >> 3) as u8 % 4), R::LmDec((k >> 3) as u8 % 4)][(k >> 6) as usize % 2]
            }
            _ => R::X((k >> 3) as u8 % 32),
        };
        let reg = |k: u64| match reg10(k) {
            R::LmInc(p) | R::LmDec(p) => R::Lm(p, 0),
            o => o,
        };
        let (a, b) = (reg(x >> 8), reg(x >> 24));
        let (a10, b10) = (reg10(x >> 8), reg10(x >> 24));
        let dst10 = match (x >> 40) % 4 {
            0 => R::A((x >> 44) as u8 % 32),
            1 => R::B((x >> 44) as u8 % 32),
            2 => reg10(x >> 44),
            _ => R::Both((x >> 44) as u8 % 32),
        };
        let dst = match dst10 {
            R::LmInc(p) | R::LmDec(p) => R::Lm(p, 1),
            o => o,
        };
        let t = match x % 11 {
            0 => DONE,
            1 => HELPER_MAP_LOOKUP + (x >> 20) as u16 % 4,
            2 => START + len as u16,
            _ => START + ((x >> 50) % len as u64) as u16,
        };
        let w = match x % 16 {
            0 | 1 => asm::alu(dst10, a10, ALU_OPS[(x >> 4) as usize % ALU_OPS.len()], b10),
            2 => asm::alu_shf(
                dst,
                a,
                SHF_OPS[(x >> 4) as usize % 7],
                b,
                (x >> 7) % 4,
                (x >> 9) % 32,
            ),
            3 => asm::immed(
                dst10,
                (x >> 16) as u16,
                (x >> 4) % 3,
                x & 0x100 != 0,
                (x >> 6) % 3,
            ),
            4 => asm::immed(R::B(0), t, 0, false, 0),
            5 => asm::ld_field(
                dst,
                (x >> 4) % 16,
                b,
                (x >> 8) % 4,
                (x >> 10) % 32,
                x & 0x8000 != 0,
            ),
            6 | 7 => asm::br(BR_CONDS[(x >> 4) as usize % 13], t, (x >> 8) % 4),
            8 => asm::br_bit(
                x & 0x10 != 0,
                R::A((x >> 5) as u8 % 32),
                (x >> 10) as u32 % 32,
                t,
                (x >> 8) % 3,
            ),
            9 => asm::csr_wr(
                [
                    NFP_CSR_ACT_LM_ADDR0,
                    NFP_CSR_ACT_LM_ADDR2,
                    NFP_CSR_ACT_LM_ADDR3,
                    0x20,
                ][(x >> 4) as usize % 4],
                a,
            ),
            10 => asm::csr_rd(
                [
                    NFP_CSR_PSEUDO_RND_NUM,
                    NFP_CSR_ACT_LM_ADDR0,
                    NFP_CSR_ACT_LM_ADDR3,
                    0x40,
                ][(x >> 4) as usize % 4],
            ),
            11 => match (x >> 4) % 3 {
                0 => asm::mul_start(R::A((x >> 6) as u8 % 32), R::B((x >> 11) as u8 % 32)),
                1 => asm::mul_step(
                    R::A((x >> 6) as u8 % 32),
                    R::B((x >> 11) as u8 % 32),
                    1 + (x >> 16) % 3,
                    1 + (x >> 18) % 4,
                ),
                _ => asm::mul_last(dst, 1 + (x >> 6) % 3, x & 0x200 != 0),
            },
            12 => asm::mem(
                MEM_CMDS[(x >> 4) as usize % 6],
                (x >> 8) % 32,
                R::A((x >> 13) as u8 % 32),
                R::Imm((x >> 18) as u32 % 64),
                (x >> 25) % 8,
                [1, 4][(x >> 28) as usize % 2],
                (x >> 29) % 4,
                x & 0x8000_0000 != 0,
            ),
            13 => asm::rtn(reg10(x >> 30), (x >> 8) % 4),
            _ => {
                let mut w = r.next() & NFP_INSN_MASK;
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

/// A random context: GPRs hold packet addresses, EMEM addresses, code
/// addresses of the program or anything.
fn random_state(r: &mut Rng, len: usize) -> Start {
    let mut st = base();
    for (i, g) in st.ctx.gpr.iter_mut().flatten().enumerate() {
        let x = r.next();
        *g = match (x + i as u64) % 5 {
            0 => 0x8000_0000 | 5 << 16 | ((x >> 8) as u32 % 512),
            1 => (EMEM_BASE as u32).wrapping_add((x >> 8) as u32 % 4096),
            2 => u32::from(START) + (x >> 8) as u32 % (len as u32 + 2),
            3 => (x >> 8) as u32 % 64,
            _ => (x >> 16) as u32,
        };
    }
    // The EMEM pair's high word.
    st.ctx.gpr[1][1] = ((EMEM_BASE >> 32) as u32) << 24;
    st.ctx.lm_addr = [r.next() as u32 & 0xffc, 0x800, 0x900, 0xa00];
    for w in st.lm.iter_mut() {
        *w = r.next() as u32;
    }
    for (i, x) in st.ctx.xfer_in.iter_mut().enumerate() {
        *x = r.next() as u32 ^ i as u32;
    }
    for x in st.ctx.xfer_out.iter_mut() {
        *x = r.next() as u32;
    }
    let f = r.next();
    (st.ctx.z, st.ctx.n, st.ctx.c, st.ctx.v) =
        (f & 1 != 0 && f & 2 == 0, f & 2 != 0, f & 4 != 0, f & 8 != 0);
    st.ctx.prev_alu = r.next() as u32;
    st.ctx.prev_a = r.next() as u32;
    st.ctm[128..128 + 512]
        .iter_mut()
        .for_each(|b| *b = r.next() as u8);
    st
}

#[test]
fn random_programs_run_the_same_translated() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let mut ends = [0u32; 4];
    let side0 = SIDE_EXITS.load(Ordering::Relaxed);
    let n = 3000;
    for i in 0..n {
        let words = random_program(&mut r);
        let prog = load(&words);
        let translated = translate_now(&prog).is_ok();
        assert!(translated, "program {i} translated");
        let st = random_state(&mut r, words.len());
        for budget in [1000, r.next() % 40] {
            let mut pair = twin(st.clone());
            // Twice: the second run starts from what the first left.
            for k in 0..2 {
                let what = format!("random program {i}, budget {budget}, run {k}: {words:x?}");
                let e = agree(&mut pair, &prog, budget, &what);
                ends[match e.result {
                    Ok(_) => 0,
                    Err(Fault::Budget { .. }) => 1,
                    Err(Fault::Memory { .. }) => 2,
                    Err(_) => 3,
                }] += 1;
            }
        }
    }
    let side = SIDE_EXITS.load(Ordering::Relaxed) - side0;
    eprintln!("{n} random programs: done/budget/memory/other faults {ends:?}, {side} side exits");
    assert!(
        ends.iter().all(|&e| e > 50),
        "every ending is exercised: {ends:?}"
    );
}

#[test]
fn packets_run_interpreted_until_the_translation_is_attached() {
    let prog = Arc::new(load(&le_words(include_bytes!(
        "../testdata/p2_byte.ustore.bin"
    ))));
    let jit = Jit;
    assert!(prog.artefact().is_none());
    let mut st = base();
    st.num = 1;
    st.enter(&[0xff; 60], 0);
    let before = difftest::run(&jit, &prog, &mut st.clone(), DEFAULT_BUDGET).exit;
    // The loading thread translates; packets on other threads meanwhile
    // run on the interpreter.
    jit.prepare(&prog);
    assert!(prog.artefact().is_some(), "translation attached");
    let after = difftest::run(&jit, &prog, &mut st, DEFAULT_BUDGET).exit;
    assert_eq!(before, after);
    assert_eq!(after.result, Ok(0x0022_0000));
    assert!(matches!(
        prog.artefact().and_then(|a| a.downcast_ref::<Artefact>()),
        Some(Artefact::Code(_))
    ));
}

#[test]
fn hostile_images_translate_to_bounded_code_or_not_at_all() {
    // Images of the largest size the card loads, built to make the
    // translation grow: every word a leader, branches whose defer slots
    // are jump targets, commands pending across branches, random words.
    let n = 4096usize;
    let at = |i: usize| START + (i % n) as u16;
    let mut r = Rng(0x0bad_5eed);
    let images: [(&str, Vec<u64>); 4] = [
        (
            "every word a return address",
            (0..n)
                .map(|i| asm::immed(R::B(0), at(i + 1), 0, false, 0))
                .collect(),
        ),
        (
            "defer slots are jump targets",
            (0..n)
                .map(|i| asm::br(br::BNE, at(i + 1 + i % 3), 3))
                .collect(),
        ),
        (
            "commands pending across branches",
            (0..n)
                .map(|i| match i % 3 {
                    0 => asm::mem(cmd::ADD, 0, R::A(0), R::B(1), 0, 1, 2, false),
                    1 => asm::br(br::BEQ, at(i + 7), 0),
                    _ => asm::rtn(R::A(2), 0),
                })
                .collect(),
        ),
        (
            "random words",
            (0..n).map(|_| with_ecc(r.next() & NFP_INSN_MASK)).collect(),
        ),
    ];
    for (what, words) in &images {
        let prog = load(words);
        match translate_now(&prog) {
            Ok(bytes) => {
                eprintln!("{what}: {bytes} bytes of host code, {} per word", bytes / n);
                assert!(bytes <= 4096 * n, "{what}: {bytes} bytes");
            }
            Err(e) => eprintln!("{what}: refused: {e}"),
        }
        // Translated or not, it runs as the interpreter runs it.
        let mut pair = twin(random_state(&mut r, n));
        agree(&mut pair, &prog, 5000, &what);
    }
}

/// Packet reads and writes done inline (`read32_swap`, `write8_swap`,
/// `write32_swap` with a fixed length, `read32_swap` with the length of an
/// indirect reference) agree with the interpreter at the
/// edges the inline path checks: every length, offsets from inside the
/// packet buffer to across and past its end, the top of the 16-bit
/// offset, and another packet's number (which faults), with and without
/// defer slots.
#[test]
fn inline_packet_accesses_agree_at_the_buffer_edges() {
    use crate::fp::exec::CTM_PKT_BUF;
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ends = [0u32; 2];
    // (op, indirect: the length from the previous ALU result, as the
    // packet cache's reads set it)
    let ops = [
        (cmd::READ32_SWAP, false),
        (cmd::WRITE8_SWAP, false),
        (cmd::WRITE32_SWAP, false),
        (cmd::READ32_SWAP, true),
    ];
    let last = CTM_PKT_BUF as u32;
    let mut offsets: Vec<u32> = (0..140).map(|d| last - 132 + d).collect();
    offsets.extend([0, 1, 2, 3, 0x1ff, 0xfffc, 0xffff]);
    for (k, &(op, ind)) in ops.iter().enumerate() {
        for cnt in 0..32u64 {
            for &o in &offsets {
                for num in [5u32, 6] {
                    // (ctx 3: no swap, no defer slots; 1: two defer slots.)
                    let swap = [3, 1][(r.next() % 2) as usize];
                    let xfer = r.next() % 32;
                    let words = vec![
                        asm::mem(op, xfer, R::A(3), R::Imm(0), cnt, 4, swap, ind),
                        asm::nop(),
                        asm::nop(),
                        br(br::UNC, DONE, 0),
                    ];
                    let prog = load(&words);
                    assert!(translate_now(&prog).is_ok());
                    let mut st = base();
                    st.ctx.gpr[0][3] = 0x8000_0000 | num << 16 | (o & 0xffff);
                    if ind {
                        // CMD_OVE_LEN (bit 7) with the length in bits
                        // 12..8 (nfp_asm.h:258), or no override (the
                        // instruction's own count).
                        let ov = r.next() as u32 % 32;
                        st.ctx.prev_alu = if r.next() % 4 == 0 {
                            0
                        } else {
                            1 << 7 | ov << 8
                        };
                    }
                    st.ctm.iter_mut().for_each(|b| *b = r.next() as u8);
                    for x in st.ctx.xfer_out.iter_mut() {
                        *x = r.next() as u32;
                    }
                    let what =
                        format!("op {k}, cnt {cnt}, offset {o:#x}, packet {num}, ctx {swap}");
                    let e = agree(&mut twin(st), &prog, 1000, &what);
                    ends[usize::from(e.result.is_err())] += 1;
                }
            }
        }
    }
    assert!(
        ends.iter().all(|&n| n > 1000),
        "both ends exercised: {ends:?}"
    );
}
