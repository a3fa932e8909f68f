//! Placeholder: replaced by the binutils-compatible disassembler.

/// Disassemble one ustore word.
pub fn disasm(word: u64) -> String {
    format!("{word:#018x}")
}
