//! The microengine executor: runs a pre-decoded program on one context of
//! one ME against one packet (docs/me-isa.md, docs/bpf-offload.md#the-programs-environment).
//!
//! Everything the JIT relies on is modelled: GPR banks A/B, transfer-in and
//! transfer-out registers, the four LM address CSRs with post-modify, the
//! condition codes, the previous-ALU value (indirect shifts, ASHR sign,
//! `indirect_ref` overrides), the CSR-read-into-next-`immed` idiom, the
//! multiplier latch, branch and command defer slots. Memory commands reach
//! the context's packet buffer (CTM, 32-bit mode) or EMEM (40-bit mode)
//! through [`Env`]. Nothing here allocates per packet.
//!
//! Pieces: [`Executor`] is the seam a packet's program runs through (see
//! there for the design), [`Interpreter`] its reference implementation;
//! [`Program`] the decoded image, [`Ctx`] a context's registers,
//! [`Packet`] and [`Env`] what a program reaches besides them.

mod ctx;
#[cfg(test)]
pub(crate) mod difftest;
mod env;
mod executor;
mod interp;

mod program;

pub use ctx::{
    Ctx, NFP_CSR_ACT_LM_ADDR0, NFP_CSR_ACT_LM_ADDR1, NFP_CSR_ACT_LM_ADDR2, NFP_CSR_ACT_LM_ADDR3,
    NFP_CSR_PSEUDO_RND_NUM, XFER_REGS,
};
pub use env::{Env, NoEnv, Packet};
pub use executor::{
    Executor, ExecutorKind, MemCmd, NoObserver, Observer, Thread, Tracer, UnknownExecutor,
};
pub use interp::{Interpreter, interpret, interpret_from};
pub use program::{Artefact, LoadError, Program, le_words};

use super::disasm::Disasm;

/// Local memory per ME: 1024 words (nfp_me.h:513-533, bits 11..2 of an LM
/// address CSR).
pub const LM_WORDS: usize = 1024;
/// Bytes of a context's CTM packet buffer: headroom, the largest frame a
/// port carries, and room for reads past the end.
pub const CTM_PKT_BUF: usize = 16 * 1024;

/// Why a packet's program was cut short (the packet then counts as
/// XDP_ABORTED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// A word the executor cannot decode or run.
    #[error("invalid instruction {word:#018x} at .{pc} ({})", Disasm(*.word))]
    Invalid {
        /// Its address.
        pc: u16,
        /// The instruction (ECC bits cleared).
        word: u64,
    },
    /// An operand form outside the JIT's subset.
    #[error("unsupported operand in {word:#018x} at .{pc} ({})", Disasm(*.word))]
    Operand {
        /// Its address.
        pc: u16,
        /// The instruction (ECC bits cleared).
        word: u64,
    },
    /// Control reached an address outside the program, DONE and helpers.
    #[error("jump to .{pc}, outside the program and its helpers")]
    OutOfProgram {
        /// The address reached.
        pc: u16,
    },
    /// A memory command outside what the card maps.
    #[error("memory command at .{pc} to unmapped address {addr:#x}")]
    Memory {
        /// The command's address in the program.
        pc: u16,
        /// The address it named.
        addr: u64,
    },
    /// The per-packet instruction budget ran out.
    #[error("instruction budget exhausted at .{pc}")]
    Budget {
        /// Where the program was when it ran out.
        pc: u16,
    },
}

impl Fault {
    /// The fault with the instruction word it names filled in.
    fn with_word(self, w: u64) -> Self {
        match self {
            Fault::Invalid { pc, .. } => Fault::Invalid { pc, word: w },
            Fault::Operand { pc, .. } => Fault::Operand { pc, word: w },
            f => f,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Instructions executed.
    pub steps: u64,
    /// GPR A0 at DONE (the result word), or why the run stopped.
    pub result: Result<u32, Fault>,
}

#[cfg(test)]
mod tests;
