//! The translating executor: NFP microcode to host code with Cranelift
//! (issue #12), behind [`Executor`].
//!
//! Each loaded program is translated once, when [`Executor::prepare`] is
//! given it at load, on the thread that loads it (the card's control
//! thread); until the translation is attached to the program (its artefact
//! slot) its packets run on the interpreter on the workers, afterwards on
//! the translation: a packet switches only at its start and never waits. A program the translator
//! refuses (too large once its defer slots are duplicated) keeps running
//! on the interpreter.
//!
//! The translation does what the interpreter does, with the same state,
//! steps and faults: `translate.rs` explains the shape of the code and
//! where it hands over to the interpreter (a *side exit*: a block that
//! would end with a branch, memory command or CSR value pending, a block
//! the budget may run out in, a dynamic jump to an address that is not a
//! block). Packet reads and writes that stay inside the context's packet
//! buffer run inline (`Tr::perform`); other memory commands and helpers
//! are calls out to Rust (`frame.rs`, `mem.rs`); everything else runs
//! inline. Observed runs (`--trace-prog`,
//! timing) use the interpreter, as [`Executor::run_observed`] does by
//! default.

mod emit;
mod frame;
mod mem;
mod scan;
mod translate;

#[cfg(test)]
mod difftests;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Instant;

use tracing::debug;

use super::exec::{Executor, Exit, NoObserver, Program, Thread, interpret};
use frame::Translation;

/// Why a program was not translated.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// The host has no code generator Cranelift supports.
    #[error("no code generator for this host: {0}")]
    Host(&'static str),
    /// A code generator setting was refused.
    #[error("code generator setting: {0}")]
    Setting(#[from] cranelift_codegen::settings::SetError),
    /// The code generator refused the host's ISA.
    #[error("code generator: {0}")]
    Codegen(#[from] cranelift_codegen::CodegenError),
    /// Compiling or linking the function failed.
    #[error("code generator: {0}")]
    Module(#[from] Box<cranelift_module::ModuleError>),
    /// The program would translate to more instructions than allowed.
    #[error("translation exceeds {limit} instructions")]
    TooLarge {
        /// The limit (a multiple of the program's length).
        limit: usize,
    },
    /// An earlier translation of the program was refused.
    #[error("translation refused before")]
    Refused,
}

impl From<cranelift_module::ModuleError> for JitError {
    fn from(e: cranelift_module::ModuleError) -> Self {
        JitError::Module(Box::new(e))
    }
}

/// What the executor leaves in a program's artefact slot.
// (Boxed whole into the program's artefact slot: the variants' sizes
// cost nothing, and a run reaches the code with one indirection.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Artefact {
    /// The program's host code.
    Code(Translation),
    /// The translator refused it: its packets stay on the interpreter.
    Refused,
}

/// Translate `prog` now, on this thread, and attach the result to it
/// (tests, benches, and the executor's own thread). The translation's
/// size in bytes of host code, or why there is none.
pub fn translate_now(prog: &Program) -> Result<usize, JitError> {
    if let Some(a) = prog.artefact().and_then(|a| a.downcast_ref::<Artefact>()) {
        return match a {
            Artefact::Code(t) => Ok(t.bytes),
            Artefact::Refused => Err(JitError::Refused),
        };
    }
    let t0 = Instant::now();
    match translate::translate(prog) {
        Ok(t) => {
            let bytes = t.bytes;
            debug!(
                target: "nfp_emu::fp::jit",
                seq = prog.seq,
                "program of {} instructions translated to {bytes} bytes in {:?}",
                prog.len(),
                t0.elapsed()
            );
            let _ = prog.set_artefact(Box::new(Artefact::Code(t)));
            Ok(bytes)
        }
        Err(e) => {
            crate::guest_warn!(
                "program {} ({} instructions) not translated, it runs interpreted: {e}",
                prog.seq,
                prog.len()
            );
            let _ = prog.set_artefact(Box::new(Artefact::Refused));
            Err(e)
        }
    }
}

/// The translating executor (`--fp-exec jit`).
#[derive(Debug, Default)]
pub struct Jit;

impl Executor for Jit {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn prepare(&self, prog: &Arc<Program>) {
        // A refusal is logged (and remembered) by translate_now; the
        // program's packets then stay on the interpreter.
        let _ = translate_now(prog);
    }

    fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit {
        match prog.artefact().and_then(|a| a.downcast_ref::<Artefact>()) {
            Some(Artefact::Code(code)) => code.run(prog, t, budget),
            _ => interpret(prog, t, budget, &mut NoObserver),
        }
    }
}
