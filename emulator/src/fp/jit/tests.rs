//! Differential tests: every program of the corpus and thousands of random
//! programs run on the interpreter and on their translation, which must
//! leave the same registers (the whole context: GPRs, transfer registers,
//! LM pointers, condition codes, previous-ALU value, multiplier, CSR
//! value, random generator), local memory, packet buffer, EMEM, helper
//! calls, result, fault and steps.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::frame::SIDE_EXITS;
use super::*;
use crate::fp::asm::{self, R, alu_op as op, br, cmd, shf_op};
use crate::fp::exec::{
    CTM_PKT_BUF, Ctx, Env, Fault, Interpreter, LM_WORDS, NFP_CSR_ACT_LM_ADDR0,
    NFP_CSR_ACT_LM_ADDR2, NFP_CSR_ACT_LM_ADDR3, NFP_CSR_PSEUDO_RND_NUM, Packet, le_words,
};
use crate::fp::me::{DEFAULT_BUDGET, PKT_DATA_OFF, PV_BASE, PV_BYTES, STACK_BYTES};
use crate::fp::word::{NFP_INSN_MASK, with_ecc};

const START: u16 = 3072;
const DONE: u16 = 1;
/// EMEM the test environment maps (map values).
const EMEM: u64 = 0x18_0000_1000;
const EMEM_LEN: usize = 4096;

/// EMEM and four helpers in the manner of the firmware's (lookup, update,
/// delete, perf event at 0x200..0x203), recording every call.
struct TestEnv {
    mem: RefCell<Vec<u8>>,
    calls: RefCell<Vec<(u16, u32, u32)>>,
}

impl TestEnv {
    fn new() -> Self {
        let mem = (0..EMEM_LEN).map(|i| (i * 7) as u8).collect();
        Self {
            mem: RefCell::new(mem),
            calls: RefCell::default(),
        }
    }

    fn range(&self, addr: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let o = usize::try_from(addr.checked_sub(EMEM)?).ok()?;
        (o + len <= EMEM_LEN).then_some(o..o + len)
    }
}

impl Env for TestEnv {
    fn emem_read(&self, addr: u64, buf: &mut [u8]) -> bool {
        let Some(r) = self.range(addr, buf.len()) else {
            return false;
        };
        buf.copy_from_slice(&self.mem.borrow()[r]);
        true
    }
    fn emem_write(&self, addr: u64, data: &[u8]) -> bool {
        let Some(r) = self.range(addr, data.len()) else {
            return false;
        };
        self.mem.borrow_mut()[r].copy_from_slice(data);
        true
    }
    fn emem_add(&self, addr: u64, value: u64, wide: bool) -> bool {
        let Some(r) = self.range(addr, 8) else {
            return false;
        };
        let mut m = self.mem.borrow_mut();
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
        let r0: u64 = match addr {
            // lookup: a value per key, none for keys with bit 5 set
            0x200 if key & 0x20 == 0 => {
                let a = EMEM + 64 * u64::from(key & 31);
                a & 0xffff_ffff | (a >> 32) << 56
            }
            0x200 => 0,
            0x201 => {
                let v = lm[(ctx.lm_addr[2] >> 2) as usize & (LM_WORDS - 1)];
                let o = 64 * (key as usize & 31);
                self.mem.borrow_mut()[o..o + 4].copy_from_slice(&v.to_le_bytes());
                0
            }
            0x202 => (-2i64) as u64,
            0x203 => u64::from(pkt.buf[128]),
            _ => return false,
        };
        ctx.set_both(0, r0 as u32);
        ctx.set_both(1, (r0 >> 32) as u32);
        true
    }
}

/// What a run works on.
#[derive(Clone)]
struct State {
    ctx: Ctx,
    lm: Box<[u32; LM_WORDS]>,
    buf: Vec<u8>,
    num: u16,
    /// `Packet::low_write` after the last run (the ME clears the headroom
    /// below it).
    low_write: usize,
}

impl State {
    fn new() -> Self {
        Self {
            ctx: Ctx::default(),
            lm: Box::new([0; LM_WORDS]),
            buf: vec![0; CTM_PKT_BUF],
            num: 5,
            low_write: usize::MAX,
        }
    }

    /// The firmware's entry state for `frame` on context `c` of an ME, as
    /// `Me::run_on` sets it up.
    fn enter(&mut self, frame: &[u8], c: u32, num: u16) {
        let start = PKT_DATA_OFF as usize;
        self.num = num;
        self.buf[..start].fill(0);
        self.buf[start..start + frame.len()].copy_from_slice(frame);
        let pv = PV_BASE + c * PV_BYTES;
        let w = (pv / 4) as usize;
        self.lm[w..w + (PV_BYTES / 4) as usize].fill(0);
        self.lm[w] = u32::from(num) << 16 | frame.len() as u32;
        self.lm[w + 2] = 0x8000_0000 | u32::from(num) << 16 | PKT_DATA_OFF;
        self.ctx.lm_addr[1] = pv;
        self.ctx.lm_addr[0] = c * STACK_BYTES;
        self.ctx.gpr[0][22] = c * STACK_BYTES;
    }

    fn run(&mut self, exec: &dyn Executor, prog: &Program, env: &TestEnv, budget: u64) -> Exit {
        let mut t = Thread {
            ctx: &mut self.ctx,
            lm: &mut self.lm,
            pkt: Packet::new(self.num, &mut self.buf),
            env,
        };
        let e = exec.run(prog, &mut t, budget);
        self.low_write = t.pkt.low_write;
        e
    }
}

/// The interpreter and the translation side by side.
struct Pair {
    interp: (State, TestEnv),
    jit: (State, TestEnv),
}

impl Pair {
    fn new(st: &State) -> Self {
        Self {
            interp: (st.clone(), TestEnv::new()),
            jit: (st.clone(), TestEnv::new()),
        }
    }

    /// Run `prog` on both; everything must agree.
    fn run(&mut self, prog: &Program, budget: u64, what: &dyn std::fmt::Display) -> Exit {
        let a = self
            .interp
            .0
            .run(&Interpreter, prog, &self.interp.1, budget);
        let b = self.jit.0.run(&Jit, prog, &self.jit.1, budget);
        assert_eq!(a, b, "{what}: exit");
        let (x, y) = (&self.interp.0, &self.jit.0);
        assert_eq!(
            format!("{:?}", x.ctx),
            format!("{:?}", y.ctx),
            "{what}: context"
        );
        assert!(x.lm[..] == y.lm[..], "{what}: local memory");
        assert!(x.buf == y.buf, "{what}: packet buffer");
        assert_eq!(x.low_write, y.low_write, "{what}: lowest packet write");
        assert!(
            *self.interp.1.mem.borrow() == *self.jit.1.mem.borrow(),
            "{what}: EMEM"
        );
        assert_eq!(
            self.interp.1.calls, self.jit.1.calls,
            "{what}: helper calls"
        );
        a
    }

    /// Both sides: the entry state of a packet.
    fn enter(&mut self, frame: &[u8], c: u32, num: u16) {
        self.interp.0.enter(frame, c, num);
        self.jit.0.enter(frame, c, num);
    }
}

/// xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
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
        let mut pair = Pair::new(&State::new());
        let before = SIDE_EXITS.load(Ordering::Relaxed);
        for (i, f) in frames.iter().enumerate() {
            let c = (i % 4) as u32;
            pair.enter(f, c, 12 + c as u16);
            let what = format!("{name}, frame {i} ({} bytes)", f.len());
            pair.run(&prog, DEFAULT_BUDGET, &what);
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
        let mut full = Pair::new(&State::new());
        full.enter(f, 0, 1);
        let need = full.run(&prog, DEFAULT_BUDGET, &name).steps;
        for budget in (0..=need + 1).step_by(1 + need as usize / 97) {
            let mut pair = Pair::new(&State::new());
            pair.enter(f, 0, 1);
            pair.run(&prog, budget, &format_args!("{name}, budget {budget}"));
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
            1 => 0x200 + (x >> 20) as u16 % 4,
            2 => START + len as u16,
            _ => START + ((x >> 50) % len as u64) as u16,
        };
        let ops = [
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
        let w = match x % 16 {
            0 | 1 => asm::alu(dst10, a10, ops[(x >> 4) as usize % ops.len()], b10),
            2 => asm::alu_shf(
                dst,
                a,
                [
                    shf_op::NONE,
                    shf_op::NOT_B,
                    shf_op::AND,
                    shf_op::AND_NOT_A,
                    shf_op::AND_NOT_B,
                    shf_op::OR,
                    shf_op::ASHR,
                ][(x >> 4) as usize % 7],
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
            6 | 7 => asm::br(
                [
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
                ][(x >> 4) as usize % 13],
                t,
                (x >> 8) % 4,
            ),
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
                [
                    cmd::READ32_SWAP,
                    cmd::READ8,
                    cmd::WRITE8_SWAP,
                    cmd::WRITE32_SWAP,
                    cmd::ADD,
                    cmd::ADD_IMM,
                ][(x >> 4) as usize % 6],
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
fn random_state(r: &mut Rng, len: usize) -> State {
    let mut st = State::new();
    for (i, g) in st.ctx.gpr.iter_mut().flatten().enumerate() {
        let x = r.next();
        *g = match (x + i as u64) % 5 {
            0 => 0x8000_0000 | 5 << 16 | ((x >> 8) as u32 % 512),
            1 => (EMEM as u32).wrapping_add((x >> 8) as u32 % 4096),
            2 => u32::from(START) + (x >> 8) as u32 % (len as u32 + 2),
            3 => (x >> 8) as u32 % 64,
            _ => (x >> 16) as u32,
        };
    }
    // The EMEM pair's high word.
    st.ctx.gpr[1][1] = ((EMEM >> 32) as u32) << 24;
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
    st.buf[128..128 + 512]
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
            let mut pair = Pair::new(&st);
            // Twice: the second run starts from what the first left.
            for k in 0..2 {
                let what = format!("random program {i}, budget {budget}, run {k}: {words:x?}");
                let e = pair.run(&prog, budget, &what);
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
    let mut st = State::new();
    st.enter(&[0xff; 60], 0, 1);
    let before = st.clone().run(&jit, &prog, &TestEnv::new(), DEFAULT_BUDGET);
    // The loading thread translates; packets on other threads meanwhile
    // run on the interpreter.
    jit.prepare(&prog);
    assert!(prog.artefact().is_some(), "translation attached");
    let after = st.run(&jit, &prog, &TestEnv::new(), DEFAULT_BUDGET);
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
        let mut pair = Pair::new(&random_state(&mut r, n));
        pair.run(&prog, 5000, &what);
    }
}
