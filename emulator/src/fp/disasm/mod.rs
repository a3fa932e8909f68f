//! NFP-6xxx (ME 2.8) microcode disassembler whose text is byte-for-byte
//! what binutils 2.40 prints (opcodes/nfp-dis.c, 4-context mode, as wrapped
//! by images/nfpdis/nfpdis.c), for any 64-bit ustore word: every instruction
//! class binutils knows, unknown operand encodings and invalid words
//! included (docs/me-isa.md).
//!
//! [`disasm`] (or the allocation-free [`Disasm`]) gives the text of one
//! word; [`listing`] the whole `nfpdis` output for an image. Branch targets
//! are absolute in the encoding, so the text of a word does not depend on
//! where it sits; only the listing's address columns do.
//!
//! Quirks of the reference kept on purpose: once an operand fails to decode,
//! the following operands of that instruction are not printed (their
//! separators are), and the line ends in `\t # ERROR`; values printed with
//! C's `%d` or `%x` keep their 32-bit wrap-around; a missing CRC byte-select
//! name prints as glibc's `(null)`.

mod print;
mod tables;

use std::fmt::{self, Write};

use print::Out;

/// Formats one ustore word as binutils' disassembler does (4-context mode,
/// ME 2.8), without allocating: `format!("{}", Disasm(word))` equals
/// [`disasm`]`(word)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disasm(pub u64);

impl fmt::Display for Disasm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Out { w: f, err: false }.insn(self.0)
    }
}

/// The text `nfpdis` prints for one ustore word after its `.PC` column,
/// e.g. `immed[gprB_22, 0x3fff]`. Words binutils cannot decode (fully or
/// in part) end in `\t # ERROR`, as there. The text does not depend on the
/// word's address (branch targets are absolute).
#[must_use]
pub fn disasm(word: u64) -> String {
    let mut s = String::with_capacity(64);
    // Writing into a String cannot fail.
    let _ = write!(s, "{}", Disasm(word));
    s
}

/// Decimal digits of `n` (at least one).
fn digits(mut n: u64) -> i64 {
    let mut d = 1;
    while n > 9 {
        n /= 10;
        d += 1;
    }
    d
}

/// Exactly what `nfpdis image.bin base ctx4` prints for an image of
/// `words` loaded at ustore word address `base`
/// (images/nfpdis/nfpdis.c): per word the address, the raw word, binutils'
/// `.PC` column and [`disasm`], e.g.
/// ` 3072: 000f20f003f05bff  .3072  immed[gprB_22, 0x3fff]`.
#[must_use]
pub fn listing(words: &[u64], base: u16) -> String {
    let mut out = String::with_capacity(words.len() * 72);
    let len_digits = digits(words.len() as u64);
    for (i, &w) in (0u64..).zip(words) {
        let pc = u64::from(base) + i;
        // The dot is printed with `%*c` and a width of (digits of the word
        // count) - (digits of the PC) + 1; a negative width left-justifies
        // (nfp-dis.c:2866-2890).
        let width = len_digits - digits(pc) + 1;
        let pad = width.unsigned_abs() as usize;
        // Writing into a String cannot fail.
        let _ = if width < 0 {
            write!(out, "{pc:5}: {w:016x}  {:<pad$}", '.')
        } else {
            write!(out, "{pc:5}: {w:016x}  {:>pad$}", '.')
        };
        let _ = writeln!(out, "{pc}  {}", Disasm(w));
    }
    out
}

#[cfg(test)]
mod tests;
