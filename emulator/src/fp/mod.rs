//! The flow processor: microengines (MEs) running the microcode the
//! driver's BPF JIT emits (bpf.md §4-5).

pub mod asm;
pub mod disasm;
pub mod exec;
pub mod insn;
