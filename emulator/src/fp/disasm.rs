//! Placeholder: replaced by the binutils-compatible disassembler.

/// Disassemble one ustore word.
pub fn disasm(word: u64) -> String {
    format!("{word:#018x}")
}

/// An nfpdis-style listing of `words` loaded at `base` (placeholder).
pub fn listing(words: &[u64], base: u16) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            format!(
                "{:5}: {w:016x}  .{}  {}\n",
                usize::from(base) + i,
                usize::from(base) + i,
                disasm(*w)
            )
        })
        .collect()
}
