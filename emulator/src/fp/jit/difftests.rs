//! The translation against the interpreter through the differential
//! harness the interpreter is held to its oracle with (`exec::difftest`):
//! every image of the differential corpus over the xdp-diff frames and
//! random ones from random context states, alone and back to back; the
//! golden programs; every word of the disassembler's corpus alone and in
//! windows; thousands of random programs at budgets that end them early.
//! Registers, transfer registers, condition codes, LM, the packet buffer
//! and its lowest write, EMEM, helper calls, steps, verdicts and faults
//! must all be the same.

use super::{Jit, translate_now};
use crate::fp::asm::{self, br};
use crate::fp::exec::difftest::{
    DONE, Rng, Start, check, check_chain, corpus, frames, load, random_frames, random_program,
};
use crate::fp::exec::{Interpreter, Program, le_words};
use crate::fp::me::DEFAULT_BUDGET;
use crate::fp::word::{NFP_INSN_MASK, with_ecc};

/// Translate `prog` (attached to it: `Jit` then runs the translation);
/// whether it was.
fn translated(prog: &Program) -> bool {
    translate_now(prog).is_ok()
}

#[test]
fn the_corpus_runs_as_on_the_interpreter() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut fs = frames();
    fs.extend(random_frames(&mut rng, 40));
    let refs: Vec<&[u8]> = fs.iter().map(Vec::as_slice).collect();
    let images = corpus();
    assert!(images.len() >= 30);
    for (name, image) in images {
        let prog = load(&le_words(image));
        assert!(translated(&prog), "{name}: translated");
        let starts = fs
            .iter()
            .enumerate()
            .map(|(i, f)| Start::packet(f, (i % 48) as u16, i, &mut rng));
        let n = check(&Interpreter, &Jit, &prog, starts, DEFAULT_BUDGET)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(n, fs.len());
        let first = Start::packet(&fs[0], 7, 0, &mut rng);
        check_chain(&Interpreter, &Jit, &prog, first, &refs, DEFAULT_BUDGET)
            .unwrap_or_else(|e| panic!("{name}, chained: {e}"));
        // Small budgets end the runs in their loops and helper calls.
        let starts: Vec<Start> = fs
            .iter()
            .take(8)
            .enumerate()
            .map(|(i, f)| Start::packet(f, 3, i, &mut rng))
            .collect();
        for budget in [0, 1, 17, 100, 400] {
            check(&Interpreter, &Jit, &prog, starts.clone(), budget)
                .unwrap_or_else(|e| panic!("{name}, budget {budget}: {e}"));
        }
    }
}

#[test]
fn the_golden_programs_run_as_on_the_interpreter() {
    let mut rng = Rng(78);
    let mut fs = frames();
    fs.truncate(30);
    for image in [
        &include_bytes!("../testdata/p1_drop.ustore.bin")[..],
        include_bytes!("../testdata/p2_byte.ustore.bin"),
        include_bytes!("../testdata/p3_map.ustore.bin"),
    ] {
        let prog = load(&le_words(image));
        assert!(translated(&prog));
        let starts = fs
            .iter()
            .enumerate()
            .map(|(i, f)| Start::packet(f, 1, i, &mut rng));
        check(&Interpreter, &Jit, &prog, starts, DEFAULT_BUDGET).unwrap();
    }
}

#[test]
fn the_disassembler_corpus_runs_as_on_the_interpreter() {
    let words: Vec<u64> = include_str!("../testdata/disasm_corpus.txt")
        .lines()
        .filter_map(|l| u64::from_str_radix(l.split_whitespace().next()?, 16).ok())
        .collect();
    assert!(words.len() > 5000);
    let mut rng = Rng(0xfeed_f00e);
    let starts: Vec<Start> = (0..6).map(|_| Start::random(&mut rng)).collect();
    let done = asm::br(br::UNC, DONE, 0);
    let mut n = 0;
    // Every 7th word alone (translating each is the cost), every window.
    for (i, &w) in words.iter().enumerate().step_by(7) {
        let prog = load(&[with_ecc(w & NFP_INSN_MASK), done]);
        n += usize::from(translated(&prog));
        let s = starts[i % starts.len()].clone();
        check(&Interpreter, &Jit, &prog, [s], 2000)
            .unwrap_or_else(|e| panic!("word {i} {w:#018x}: {e}"));
    }
    for (i, chunk) in words.chunks(24).enumerate() {
        let chunk: Vec<u64> = chunk.iter().map(|&w| with_ecc(w & NFP_INSN_MASK)).collect();
        let prog = load(&chunk);
        n += usize::from(translated(&prog));
        let s = starts[i % starts.len()].clone();
        check(&Interpreter, &Jit, &prog, [s], 2000).unwrap_or_else(|e| panic!("window {i}: {e}"));
    }
    assert!(n > 500, "most translate ({n})");
}

#[test]
fn random_programs_run_as_on_the_interpreter() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1e);
    let base: Vec<Start> = (0..8).map(|_| Start::random(&mut rng)).collect();
    let fs = random_frames(&mut rng, 6);
    let refs: Vec<&[u8]> = fs.iter().map(Vec::as_slice).collect();
    let mut n = 0;
    for i in 0..3000 {
        let len = 1 + rng.below(48) as usize;
        let prog = load(&random_program(&mut rng, len));
        n += usize::from(translated(&prog));
        for (k, budget) in [3000, 50, 1].into_iter().enumerate() {
            let s = base[(i + k) % base.len()].clone();
            check(&Interpreter, &Jit, &prog, [s], budget)
                .unwrap_or_else(|e| panic!("program {i} {:x?}, budget {budget}: {e}", prog.words));
        }
        if i % 10 == 0 {
            let first = base[(i / 10) % base.len()].clone();
            check_chain(&Interpreter, &Jit, &prog, first, &refs, 3000)
                .unwrap_or_else(|e| panic!("program {i} chained {:x?}: {e}", prog.words));
        }
    }
    assert!(n > 1500, "most translate ({n})");
}
