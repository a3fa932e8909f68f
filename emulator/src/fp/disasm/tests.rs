use std::fmt::Write;

use super::*;
use crate::fp::asm::{self, R, cmd};
use crate::fp::word::{Class, NFP_INSN_MASK, with_ecc};

fn words_of(image: &[u8]) -> Vec<u64> {
    crate::fp::exec::le_words(image)
}

/// Compares line by line and reports every differing line.
fn assert_same_lines(what: &str, actual: &str, expected: &str) {
    let mut bad = String::new();
    let (a, e): (Vec<_>, Vec<_>) = (actual.lines().collect(), expected.lines().collect());
    for (i, (x, y)) in a.iter().zip(&e).enumerate() {
        if x != y {
            bad += &format!("line {}:\n  expected {y:?}\n  actual   {x:?}\n", i + 1);
        }
    }
    assert_eq!(a.len(), e.len(), "{what}: line count\n{bad}");
    assert!(bad.is_empty(), "{what}:\n{bad}");
    assert_eq!(actual, expected, "{what}: line ends");
}

/// The three golden programs of docs/me-isa.md#golden-programs, listed by nfpdis at ustore
/// address 3072 (testdata/*.dis.txt).
#[test]
fn golden_programs_match_nfpdis() {
    for (name, image, text) in [
        (
            "p1_drop",
            &include_bytes!("../testdata/p1_drop.ustore.bin")[..],
            include_str!("../testdata/p1_drop.dis.txt"),
        ),
        (
            "p2_byte",
            &include_bytes!("../testdata/p2_byte.ustore.bin")[..],
            include_str!("../testdata/p2_byte.dis.txt"),
        ),
        (
            "p3_map",
            &include_bytes!("../testdata/p3_map.ustore.bin")[..],
            include_str!("../testdata/p3_map.dis.txt"),
        ),
    ] {
        assert_same_lines(name, &listing(&words_of(image), 3072), text);
    }
}

/// The `.PC` column's width follows the digit counts of the word count
/// and of the PC (expected texts from nfpdis).
#[test]
fn listing_columns_match_nfpdis() {
    let nop = 0x0000_00f0_000c_0300u64;
    let imm = 0x000f_20f0_03f0_5bffu64;
    assert_eq!(listing(&[], 0), "");
    assert_eq!(
        listing(&[imm, nop], 3072),
        " 3072: 000f20f003f05bff  . 3072  immed[gprB_22, 0x3fff]\n\
         \x203073: 000000f0000c0300  . 3073  nop\n"
    );
    assert_eq!(
        listing(&[imm], 65535),
        "65535: 000f20f003f05bff  .  65535  immed[gprB_22, 0x3fff]\n"
    );
    let twelve: Vec<u64> = (0..12)
        .map(|i| if i % 2 == 0 { imm } else { nop })
        .collect();
    let text = listing(&twelve, 5);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(
        lines[0],
        "    5: 000f20f003f05bff   .5  immed[gprB_22, 0x3fff]"
    );
    assert_eq!(
        lines[4],
        "    9: 000f20f003f05bff   .9  immed[gprB_22, 0x3fff]"
    );
    assert_eq!(lines[5], "   10: 000000f0000c0300  .10  nop");
    assert_eq!(lines[11], "   16: 000000f0000c0300  .16  nop");
    let many = vec![nop; 100];
    let text = listing(&many, 65500);
    assert!(
        text.ends_with("65599: 000000f0000c0300  .65599  nop\n"),
        "{text}"
    );
    assert!(text.contains("\n65535: 000000f0000c0300  .65535  nop\n65536: "));
    assert!(text.contains("\n65536: 000000f0000c0300  .65536  nop\n"));
}

/// Every line of testdata/disasm_corpus.txt (`<word hex> <nfpdis text>`,
/// made by `regenerate_corpus`) must match; all mismatches are reported.
#[test]
fn corpus_matches_nfpdis() {
    let corpus = include_str!("../testdata/disasm_corpus.txt");
    let mut bad = Vec::new();
    let mut n = 0;
    for line in corpus.lines() {
        let (hex, expected) = line.split_once(' ').unwrap_or((line, ""));
        let word = u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let actual = disasm(word);
        if actual != expected {
            bad.push(format!(
                "{word:016x}\n  expected {expected:?}\n  actual   {actual:?}"
            ));
        }
        n += 1;
    }
    assert!(n >= 5000, "corpus too small: {n} words");
    assert!(
        bad.is_empty(),
        "{} of {n} words differ from nfpdis:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The corpus generator, built on the test assembler, still makes exactly
/// the fixture's words: `regenerate_corpus` would change only the
/// reference's text, and the assembler encodes as the driver does.
#[test]
fn the_corpus_generator_makes_the_fixture_words() {
    let fixture: Vec<u64> = include_str!("../testdata/disasm_corpus.txt")
        .lines()
        .map(|l| {
            let hex = l.split_once(' ').map_or(l, |(h, _)| h);
            u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{l:?}: {e}"))
        })
        .collect();
    let words = corpus_words();
    assert_eq!(words.len(), fixture.len());
    for (i, (w, f)) in words.iter().zip(&fixture).enumerate() {
        assert_eq!(w, f, "word {i}: {w:016x}, fixture {f:016x}");
    }
}

#[test]
fn display_and_string_agree_and_nothing_panics() {
    let mut r = Rng(0x0123_4567_89ab_cdef);
    let mut buf = String::new();
    for _ in 0..100_000 {
        let w = r.next();
        buf.clear();
        let _ = write!(buf, "{}", Disasm(w));
        assert_eq!(buf, disasm(w));
        assert!(!buf.is_empty() && !buf.contains('\n'));
    }
    for w in [0, u64::MAX, 0x00ff_ffff_ffff, 0x1fff_ffff_ffff] {
        assert!(!disasm(w).is_empty());
    }
}

// ------------------------------------------------------------------
// Corpus generator.

/// xorshift64*: deterministic, so the corpus is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random 10-bit operand, every encoding kind represented.
fn rand_opnd10(r: &mut Rng) -> u64 {
    match r.below(12) {
        0 | 1 => r.below(0x40),           // GPR
        2 => 0x80 + r.below(0x80),        // absolute GPR
        3 => 0x100 + r.below(0x80),       // indexed xfer
        4 => 0x180 + r.below(0x80),       // xfer
        5 | 6 => 0x200 + r.below(0x40),   // LM
        7 => 0x240 + r.below(0x40),       // indexed NN
        8 => 0x280 + r.below(0x40),       // NN
        9 | 10 => 0x300 + r.below(0x100), // immediate / none
        _ => {
            // Undecodable.
            let x = r.below(0x40);
            if r.below(2) == 0 { 0x40 + x } else { 0x2c0 + x }
        }
    }
}

/// A random 8-bit operand, every encoding kind represented.
fn rand_opnd8(r: &mut Rng) -> u64 {
    match r.below(8) {
        0 | 1 => r.below(0x20),
        2 => 0x80 + r.below(0x20),
        3 => 0xc0 + r.below(0x20),
        4 => 0x40 + r.below(0x10),
        5 => 0x50 + r.below(0x10),
        _ => r.below(0x100) | 0x20,
    }
}

/// Random 8-bit A and B operand fields.
fn opnds8(r: &mut Rng) -> [(u32, u32, u64); 2] {
    [(0, 8, rand_opnd8(r)), (10, 8, rand_opnd8(r))]
}

/// A 10-bit operand pair where usually exactly one is an immediate.
fn rand_pair10(r: &mut Rng) -> (u64, u64) {
    let (x, i) = (rand_opnd10(r), 0x300 + r.below(0x100));
    match r.below(10) {
        0..=4 => (x, i),
        5..=7 => (i, x),
        8 => (i, 0x300 + r.below(0x100)),
        _ => (x, rand_opnd10(r)),
    }
}

/// Random bits with the class bits forced and operand fields placed.
fn in_class(r: &mut Rng, class: Class, fields: &[(u32, u32, u64)]) -> u64 {
    let mut w = r.next() & NFP_INSN_MASK;
    for &(lo, width, v) in fields {
        w = (w & !(((1u64 << width) - 1) << lo)) | v << lo;
    }
    (w & !class.mask()) | class.base()
}

/// `wrp_immed`: one immed if the value or its complement is 16 bits at
/// byte 0, 1 or 2, else immed + immed_w1 (jit.c:590-623).
fn wrp_immed(out: &mut Vec<u64>, dst: R, v: u32) {
    let pack = |v: u32| {
        if v & 0xffff_0000 == 0 {
            Some((v as u16, 0))
        } else if v & 0xff00_00ff == 0 {
            Some(((v >> 8) as u16, 1))
        } else if v & 0xffff == 0 {
            Some(((v >> 16) as u16, 2))
        } else {
            None
        }
    };
    if let Some((x, s)) = pack(v) {
        out.push(asm::immed(dst, x, 0, false, s));
    } else if let Some((x, s)) = pack(!v) {
        out.push(asm::immed(dst, x, 0, true, s));
    } else {
        out.push(asm::immed(dst, v as u16, 0, false, 0));
        out.push(asm::immed(dst, (v >> 16) as u16, 2, false, 2));
    }
}

/// The forms the Linux 6.12 nfp JIT emits, assembled (without ECC).
fn jit_words() -> Vec<u64> {
    use R::{A, B, Both, Imm, Lm, LmDec, LmInc, None, X as Xfer};
    let mut v = Vec::new();
    let alu_ops = [
        0x00, 0x01, 0x04, 0x05, 0x08, 0x0c, 0x0d, 0x10, 0x11, 0x14, 0x15, 0x18,
    ];
    let alu_regs = [
        (Both(6), A(6), B(8)),
        (None, A(4), Imm(0x7f)),
        (None, Imm(0xff), B(0)),
        (Both(2), None, B(4)),
        (A(0), None, Imm(0)),
        (Xfer(1), None, A(5)),
        (Xfer(0), B(3), Imm(3)),
        (Lm(0, 3), None, B(2)),
        (Lm(3, 0), None, B(9)),
        (LmInc(3), None, B(12)),
        (Both(4), None, Lm(0, 5)),
        (Both(4), None, LmInc(3)),
        (None, None, LmDec(2)),
        (B(22), B(22), Lm(1, 0)),
        (Both(20), Xfer(2), B(1)),
        (Both(3), A(3), Lm(2, 15)),
    ];
    for op in alu_ops {
        for &(d, l, r) in &alu_regs {
            v.push(asm::alu(d, l, op, r));
        }
    }
    let shf_regs = [
        (Both(2), Imm(0xff), B(2)),
        (Both(4), None, Xfer(0)),
        (Both(6), A(7), B(6)),
        (Lm(1, 4), Lm(1, 4), Imm(0x10)),
        (None, None, A(21)),
        (B(2), A(2), B(2)),
    ];
    for op in [0, 2, 5, 6] {
        for sc in 0..4 {
            for shift in [0, 1, 8, 16, 24, 31] {
                for &(d, l, r) in &shf_regs {
                    if shift % 3 == 0 || matches!(d, Both(_)) {
                        // The SHIFT field of a left shift is 32 - n.
                        let field = if sc == 2 && shift != 0 {
                            32 - shift
                        } else {
                            shift
                        };
                        v.push(asm::alu_shf(d, l, op, r, sc, field));
                    }
                }
            }
        }
    }
    for dst in [
        Both(0),
        A(3),
        B(22),
        Xfer(0),
        Xfer(5),
        None,
        Lm(0, 2),
        Lm(3, 1),
    ] {
        for c in [
            0u32,
            1,
            0xff,
            0x100,
            0xffff,
            0x1_0000,
            0xff_0000,
            0xffff_0000,
            0xffff_ffff,
            0xffff_fffe,
            0x1234_5678,
            0x3fff,
            0xff00_ffff,
            0x0c90,
            0x890,
            0x8000_0000,
        ] {
            wrp_immed(&mut v, dst, c);
        }
        for (width, shift) in [
            (1, 0),
            (1, 1),
            (1, 2),
            (1, 3),
            (2, 0),
            (2, 1),
            (2, 2),
            (2, 3),
        ] {
            v.push(asm::immed(dst, 0x4411, width, false, shift));
            v.push(asm::immed(dst, 0x0f, width, true, shift));
        }
    }
    for mask in 1..16 {
        for (sc, shift) in [
            (0, 0),
            (0, 8),
            (0, 16),
            (1, 8),
            (1, 0),
            (2, 16),
            (2, 24),
            (2, 0),
            (3, 4),
        ] {
            for (d, s) in [
                (A(0), Imm(0x82)),
                (Both(2), Xfer(0)),
                (Both(4), B(4)),
                (Lm(0, 1), B(3)),
                (Lm(3, 7), B(3)),
                (A(21), A(5)),
                (Both(8), Lm(2, 3)),
            ] {
                if (mask + shift) % 4 == 0 || matches!(d, Both(_)) {
                    v.push(asm::ld_field(d, mask, s, sc, shift, mask & 4 != 0));
                }
            }
        }
    }
    for csr in [0x64, 0x6c, 0x94, 0x9c, 0x148] {
        v.push(asm::csr_rd(csr));
        v.push(asm::local_csr(false, Imm(0), Imm(0), csr));
        v.push(asm::csr_wr(csr, A(5)));
        v.push(asm::csr_wr(csr, B(22)));
        v.push(asm::local_csr(true, Imm(0xff), Imm(0xff), csr));
        v.push(asm::csr_wr(csr, Xfer(0)));
    }
    for cond in [0, 1, 2, 4, 5, 8, 9, 0x18] {
        for defer in 0..4 {
            for addr in [0, 1, 3077, 0x1fff, 0x2000, 0x3fff] {
                v.push(asm::br(cond, addr, defer));
            }
        }
    }
    for set in [false, true] {
        for reg in [A(3), B(7), A(21)] {
            for bitn in [0, 5, 31] {
                for defer in [0, 2] {
                    v.push(asm::br_bit(set, reg, bitn, 3100 + bitn as u16, defer));
                }
            }
        }
    }
    for reg in [A(21), B(21), A(0), B(0)] {
        for defer in 0..4 {
            v.push(asm::rtn(reg, defer));
        }
    }
    for (a, b) in [
        (A(2), B(4)),
        (B(2), A(4)),
        (A(6), Imm(0x13)),
        (Imm(0xff), B(3)),
    ] {
        v.push(asm::mul_start(a, b));
        for ty in 1..4 {
            for n in 1..=4 {
                v.push(asm::mul_step(a, b, ty, n));
            }
        }
    }
    for d in [Both(0), A(1), B(5), Both(22)] {
        for ty in 1..4 {
            for hi in [false, true] {
                v.push(asm::mul_last(d, ty, hi));
            }
        }
    }
    for (i, cmd) in cmd::ALL.into_iter().enumerate() {
        for mode in [0, 1, 4] {
            for ctx in 0..4 {
                for ind in [false, true] {
                    let k = i as u64 + mode + ctx;
                    let (l, r) = [
                        (A(0), B(1)),
                        (Lm(1, 2), A(3)),
                        (A(2), Imm(0)),
                        (A(4), Xfer(0)),
                    ][(k % 4) as usize];
                    v.push(asm::mem(cmd, k % 3, l, r, k % 8, mode, ctx, ind));
                }
            }
        }
    }
    for w in &mut v {
        *w &= NFP_INSN_MASK;
    }
    v
}

/// All words of the corpus: the JIT's forms, every command name (each
/// TGT_CMD, token and length) and random words of every class.
fn corpus_words() -> Vec<u64> {
    let mut r = Rng(0x6e66_705f_6469_7361);
    let mut v = jit_words();
    for tc in 0..128u64 {
        for token in 0..4 {
            for len in 0..8 {
                let f = opnds8(&mut r);
                let w = in_class(&mut r, Class::Cmd, &f);
                let keep = !(0x7f << 32 | 3 << 18 | 7 << 25);
                v.push(w & keep | tc << 32 | token << 18 | len << 25);
            }
        }
    }
    for _ in 0..500 {
        let f = [
            (0, 8, rand_opnd8(&mut r)),
            (10, 8, rand_opnd8(&mut r)),
            (20, 8, rand_opnd8(&mut r)),
        ];
        v.push(in_class(&mut r, Class::AluShf, &f));
    }
    for _ in 0..800 {
        let f = [
            (0, 10, rand_opnd10(&mut r)),
            (10, 10, rand_opnd10(&mut r)),
            (20, 10, rand_opnd10(&mut r)),
        ];
        v.push(in_class(&mut r, Class::Alu, &f));
    }
    for _ in 0..500 {
        let (a, b) = rand_pair10(&mut r);
        let w = in_class(&mut r, Class::Immed, &[(0, 10, a), (10, 10, b)]);
        // Mostly a 16-bit constant of 0 to also reach `nop`.
        let w = if r.below(8) == 0 {
            w & !(0xff << 20) & !0xff & !(0xff << 10)
        } else {
            w
        };
        v.push(w);
    }
    for _ in 0..400 {
        let f = opnds8(&mut r);
        v.push(in_class(&mut r, Class::LdField, &f));
    }
    for _ in 0..200 {
        let ev = match r.below(5) {
            0 => 0,
            1 => 1,
            2 => 1 << r.below(16),
            _ => r.below(0x1_0000),
        };
        let w = in_class(&mut r, Class::CtxArb, &[]);
        // Breakpoints are rare, so the event list shows.
        let w = if r.below(4) == 0 { w } else { w & !(1 << 17) };
        v.push(w & !0xffff | ev);
    }
    for csr in 0..=101u64 {
        for write in 0..2 {
            let (a, b) = rand_pair10(&mut r);
            let w = in_class(&mut r, Class::LocalCsr, &[(0, 10, a), (10, 10, b)]);
            v.push(w & !(0x7ff << 22 | 1 << 21) | csr << 22 | write << 21);
        }
    }
    for _ in 0..300 {
        let (a, b) = rand_pair10(&mut r);
        v.push(in_class(
            &mut r,
            Class::LocalCsr,
            &[(0, 10, a), (10, 10, b)],
        ));
    }
    for _ in 0..400 {
        v.push(in_class(&mut r, Class::Branch, &[]));
    }
    for _ in 0..150 {
        let f = opnds8(&mut r);
        v.push(in_class(&mut r, Class::BrByte, &f));
    }
    for _ in 0..300 {
        let (a, b) = (rand_opnd8(&mut r), rand_opnd8(&mut r));
        v.push(in_class(&mut r, Class::BrBit, &[(0, 8, a), (10, 8, b)]));
    }
    for _ in 0..300 {
        let (a, b) = rand_pair10(&mut r);
        let w = in_class(&mut r, Class::BrAlu, &[(0, 10, a), (10, 10, b)]);
        v.push(if r.below(2) == 0 {
            w & !(0x1ff << 22)
        } else {
            w
        });
    }
    for _ in 0..400 {
        let f = [(0, 10, rand_opnd10(&mut r)), (10, 10, rand_opnd10(&mut r))];
        v.push(in_class(&mut r, Class::Mult, &f));
    }
    // Anything with bit 39 set (the non-command classes and invalid
    // words), and anything at all.
    for _ in 0..600 {
        v.push(r.next() & NFP_INSN_MASK | 1 << 39);
    }
    for _ in 0..300 {
        v.push(r.next());
    }
    // Real ECC on most words, random upper bits on the others.
    for w in &mut v {
        *w = match r.below(4) {
            0 => *w | r.next() & !NFP_INSN_MASK,
            _ => with_ecc(*w),
        };
    }
    v
}

/// The text after nfpdis' address, word and `.PC` columns.
fn strip_columns(line: &str) -> &str {
    let rest = line.split_once(": ").map_or("", |(_, r)| r);
    let rest = rest.get(18..).unwrap_or("");
    let rest = rest.trim_start_matches([' ', '.']);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.strip_prefix("  ").unwrap_or(rest)
}

/// Rebuilds testdata/disasm_corpus.txt with the reference disassembler
/// (`images/build nfpdis`): `cargo test -p nfp-emu --lib
/// fp::disasm::tests::regenerate_corpus -- --ignored` (NFPDIS overrides
/// its path, default $NFP_EMU_CACHE or ~/.cache/nfp-emu + /nfpdis/nfpdis).
#[test]
#[ignore = "needs the reference nfpdis; rewrites the fixture"]
fn regenerate_corpus() {
    let words = corpus_words();
    let nfpdis = std::env::var("NFPDIS").unwrap_or_else(|_| {
        let cache = std::env::var("NFP_EMU_CACHE").unwrap_or_else(|_| {
            format!(
                "{}/.cache/nfp-emu",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        format!("{cache}/nfpdis/nfpdis")
    });
    let image = std::env::temp_dir().join(format!("disasm-corpus-{}.bin", std::process::id()));
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    std::fs::write(&image, bytes).expect("write image");
    let out = std::process::Command::new(&nfpdis)
        .arg(&image)
        .args(["0", "ctx4"])
        .output()
        .expect("run nfpdis");
    let _ = std::fs::remove_file(&image);
    assert!(out.status.success(), "nfpdis failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), words.len());
    let mut fixture = String::new();
    for (line, w) in lines.iter().zip(&words) {
        assert!(line.contains(&format!(": {w:016x}  ")), "{line}");
        fixture += &format!("{w:016x} {}\n", strip_columns(line));
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/fp/testdata/disasm_corpus.txt"
    );
    std::fs::write(path, fixture).expect("write fixture");
}
