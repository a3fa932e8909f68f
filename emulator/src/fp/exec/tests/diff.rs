//! The lean interpreter against the oracle (the interpreter before it was
//! made lean, `oracle.rs`) through the differential harness
//! (`exec::difftest`): every corpus image, the golden programs, the
//! disassembler's corpus words and random programs, plain and observed.

use super::oracle::Oracle;
use crate::fp::asm::{self, br};
use crate::fp::exec::difftest::{
    self, DONE, Rng, START, Start, check, check_chain, corpus, frames, load, random_frames,
    random_program,
};
use crate::fp::exec::{Ctx, Executor, Interpreter, MemCmd, Observer, Program, Thread, le_words};
use crate::fp::insn::Insn;
use crate::fp::me::DEFAULT_BUDGET;

/// Each program of the corpus over the xdp-diff frames and random ones,
/// each from a random context state, then all of them back to back on one
/// context.
#[test]
fn the_corpus_runs_as_on_the_oracle() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut fs = frames();
    fs.extend(random_frames(&mut rng, 40));
    assert!(fs.len() > 100);
    let mut steps = 0u64;
    for (name, image) in corpus() {
        let prog = load(&le_words(image));
        let starts: Vec<Start> = fs
            .iter()
            .enumerate()
            .map(|(i, f)| Start::packet(f, (i % 48) as u16, i, &mut rng))
            .collect();
        for s in &starts[..4] {
            let mut s = s.clone();
            steps += difftest::run(&Interpreter, &prog, &mut s, DEFAULT_BUDGET)
                .exit
                .steps;
        }
        let n = check(&Interpreter, &Oracle, &prog, starts, DEFAULT_BUDGET)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(n, fs.len());
        let refs: Vec<&[u8]> = fs.iter().map(Vec::as_slice).collect();
        let first = Start::packet(&fs[0], 5, 0, &mut rng);
        check_chain(&Interpreter, &Oracle, &prog, first, &refs, DEFAULT_BUDGET)
            .unwrap_or_else(|e| panic!("{name}, chained: {e}"));
    }
    assert!(steps > 34 * 4 * 20, "the programs ran ({steps} steps)");
}

/// The golden programs (docs/me-isa.md#golden-programs): drop, a packet byte, a map lookup
/// with a helper call and an atomic add.
#[test]
fn the_golden_programs_run_as_on_the_oracle() {
    let mut rng = Rng(77);
    let mut fs = frames();
    fs.truncate(30);
    for image in [
        &include_bytes!("../../testdata/p1_drop.ustore.bin")[..],
        include_bytes!("../../testdata/p2_byte.ustore.bin"),
        include_bytes!("../../testdata/p3_map.ustore.bin"),
    ] {
        let prog = load(&le_words(image));
        let starts = fs
            .iter()
            .enumerate()
            .map(|(i, f)| Start::packet(f, 1, i, &mut rng));
        check(&Interpreter, &Oracle, &prog, starts, DEFAULT_BUDGET).unwrap();
    }
}

/// Every word of the disassembler's corpus (the JIT's forms, every
/// command, random words of every class) run alone, and windows of
/// consecutive words run as programs, from random states.
#[test]
fn the_disassembler_corpus_runs_as_on_the_oracle() {
    let words: Vec<u64> = include_str!("../../testdata/disasm_corpus.txt")
        .lines()
        .filter_map(|l| u64::from_str_radix(l.split_whitespace().next()?, 16).ok())
        .collect();
    assert!(words.len() > 5000);
    let mut rng = Rng(0xfeed_f00d);
    let starts: Vec<Start> = (0..6).map(|_| Start::random(&mut rng)).collect();
    let done = asm::br(br::UNC, DONE, 0);
    for (i, &w) in words.iter().enumerate() {
        let w = crate::fp::word::with_ecc(w & crate::fp::word::NFP_INSN_MASK);
        let prog = load(&[w, done]);
        let s = starts[i % starts.len()].clone();
        check(&Interpreter, &Oracle, &prog, [s], 2000)
            .unwrap_or_else(|e| panic!("word {i} {w:#018x}: {e}"));
    }
    for (i, chunk) in words.chunks(24).enumerate() {
        let chunk: Vec<u64> = chunk
            .iter()
            .map(|&w| crate::fp::word::with_ecc(w & crate::fp::word::NFP_INSN_MASK))
            .collect();
        let prog = load(&chunk);
        let s = starts[i % starts.len()].clone();
        check(&Interpreter, &Oracle, &prog, [s], 2000)
            .unwrap_or_else(|e| panic!("window {i}: {e}"));
    }
}

/// Random programs from random states, and some run back to back.
#[test]
fn random_programs_run_as_on_the_oracle() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let base: Vec<Start> = (0..8).map(|_| Start::random(&mut rng)).collect();
    let fs = random_frames(&mut rng, 8);
    let refs: Vec<&[u8]> = fs.iter().map(Vec::as_slice).collect();
    for i in 0..20_000 {
        let len = 1 + rng.below(48) as usize;
        let prog = load(&random_program(&mut rng, len));
        let s = base[i % base.len()].clone();
        let budget = [3000, 50, 1][i % 3];
        check(&Interpreter, &Oracle, &prog, [s], budget)
            .unwrap_or_else(|e| panic!("program {i} {:x?}: {e}", prog.words));
        if i % 20 == 0 {
            let first = base[(i / 20) % base.len()].clone();
            check_chain(&Interpreter, &Oracle, &prog, first, &refs, 3000)
                .unwrap_or_else(|e| panic!("program {i} chained {:x?}: {e}", prog.words));
        }
    }
}

/// One observer event.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Insn(u16, Insn),
    Branch(u16, u8, bool),
    Mem(MemCmd),
    Helper(u16, u16, u32),
    Done(u16, u32),
}

/// Records every event.
#[derive(Debug, Default)]
struct Record(Vec<Event>);

impl Observer for Record {
    fn insn(&mut self, _prog: &Program, pc: u16, insn: &Insn) {
        self.0.push(Event::Insn(pc, *insn));
    }
    fn branch(&mut self, pc: u16, defer: u8, taken: bool) {
        self.0.push(Event::Branch(pc, defer, taken));
    }
    fn mem(&mut self, cmd: &MemCmd) {
        self.0.push(Event::Mem(*cmd));
    }
    fn helper(&mut self, pc: u16, ret: u16, ctx: &Ctx) {
        self.0.push(Event::Helper(pc, ret, ctx.a(0)));
    }
    fn done(&mut self, pc: u16, result: u32) {
        self.0.push(Event::Done(pc, result));
    }
}

/// An observed run of `exec`: the events and the exit.
fn observed(exec: &dyn Executor, prog: &Program, s: &Start) -> (Vec<Event>, crate::fp::exec::Exit) {
    let mut s = s.clone();
    let env = difftest::DiffEnv::new(&s.emem, s.helpers);
    let mut t = Thread {
        ctx: &mut s.ctx,
        lm: &mut s.lm,
        pkt: crate::fp::exec::Packet::new(s.num, &mut s.ctm),
        env: &env,
    };
    let mut rec = Record::default();
    let exit = exec.run_observed(prog, &mut t, 3000, &mut rec);
    (rec.0, exit)
}

/// Observers (the trace, the timing model) see the same events in the
/// same order as on the oracle, and an observed run ends as a plain one.
#[test]
fn observers_see_what_they_saw_on_the_oracle() {
    let mut rng = Rng(99);
    let fs = frames();
    for (name, image) in corpus() {
        let prog = load(&le_words(image));
        for f in fs.iter().step_by(9) {
            let s = Start::packet(f, 2, 1, &mut rng);
            let (ev, exit) = observed(&Interpreter, &prog, &s);
            let (want, want_exit) = observed(&Oracle, &prog, &s);
            assert_eq!(exit, want_exit, "{name}");
            assert!(ev == want, "{name}: events differ");
            let mut plain = s.clone();
            assert_eq!(
                difftest::run(&Interpreter, &prog, &mut plain, 3000).exit,
                exit,
                "{name}"
            );
        }
    }
    for i in 0..3000 {
        let len = 1 + rng.below(40) as usize;
        let prog = load(&random_program(&mut rng, len));
        let s = Start::random(&mut rng);
        let (ev, exit) = observed(&Interpreter, &prog, &s);
        let (want, want_exit) = observed(&Oracle, &prog, &s);
        assert_eq!(exit, want_exit, "program {i}");
        assert!(ev == want, "program {i}: events differ: {ev:?}\n{want:?}");
    }
}

/// The budget is met on a backward branch or a helper call only: a
/// forward run goes past it, a loop stops at it with the exact count.
#[test]
fn the_budget_is_checked_on_backward_branches_and_helper_calls() {
    let nops = vec![asm::nop(); 30];
    let mut words = nops.clone();
    words.push(asm::br(br::UNC, DONE, 0));
    let prog = load(&words);
    let mut s = Start::zero(5);
    let e = difftest::run(&Interpreter, &prog, &mut s, 10);
    assert_eq!(e.exit.result, Ok(0));
    assert_eq!(e.exit.steps, 31, "straight-line code runs to the end");
    // A loop: 3 instructions, back to START.
    let prog = load(&[asm::nop(), asm::nop(), asm::br(br::UNC, START, 0)]);
    let mut s = Start::zero(5);
    let e = difftest::run(&Interpreter, &prog, &mut s, 10);
    assert_eq!(
        e.exit.result,
        Err(crate::fp::exec::Fault::Budget { pc: START })
    );
    assert_eq!(e.exit.steps, 12, "checked on arrival: 4 rounds");
}

/// Instructions each corpus program runs per frame of the xdp-diff set
/// (min, mean, max): `cargo test -p nfp-emu corpus_steps -- --ignored
/// --nocapture`.
#[test]
#[ignore = "a report, not a check"]
fn corpus_steps() {
    let mut rng = Rng(3);
    let fs = frames();
    for (name, image) in corpus() {
        let prog = load(&le_words(image));
        let steps: Vec<u64> = fs
            .iter()
            .map(|f| {
                let mut s = Start::packet(f, 0, 0, &mut rng);
                difftest::run(&Interpreter, &prog, &mut s, DEFAULT_BUDGET)
                    .exit
                    .steps
            })
            .collect();
        let (min, max) = (steps.iter().min(), steps.iter().max());
        let mean = steps.iter().sum::<u64>() / steps.len() as u64;
        println!(
            "{name:<12} {:>5} words  steps min {min:?} mean {mean} max {max:?}",
            prog.len()
        );
    }
}
