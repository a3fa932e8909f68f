//! The differential tests' oracle: the interpreter's general sequencer
//! alone (`interp/slow.rs`, `interp/mem.rs`), which runs every instruction
//! in its decoded form ([`crate::fp::insn::Insn`]) with every rule of the
//! ME: defer slots counted down per instruction, memory commands waiting
//! for theirs, the budget on backward branches and helper calls.
//!
//! What it holds to account is what the lean interpreter does differently:
//! the pre-resolved form (`interp/ops.rs`: operands as register-file
//! indexes, masks precomputed at load), the lean loop (branches, defer
//! slots run inline, helper calls and side exits, the budget) and the lean
//! memory commands (`issue_lean`). The instruction semantics of the two
//! are written independently (`interp/slow.rs` against `interp/mod.rs` and
//! `interp/ops.rs`); what they share — the register file and LM
//! addressing of [`crate::fp::exec::Ctx`], the memory accesses of
//! `Machine::execute`, the helpers — they share in production too.
//!
//! This file was once a frozen copy of the interpreter of 3e8b830, the
//! general sequencer's origin; the two had stayed the same line for line,
//! so the copy went and the oracle runs the sequencer itself.

use crate::fp::exec::interp::interpret_general;
use crate::fp::exec::{Executor, Exit, NoObserver, Observer, Program, Thread};

/// Every instruction through the general sequencer, none through the lean
/// loop ([`interpret_general`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Oracle;

impl Executor for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit {
        interpret_general(prog, t, budget, &mut NoObserver)
    }

    fn run_observed(
        &self,
        prog: &Program,
        t: &mut Thread<'_>,
        budget: u64,
        obs: &mut dyn Observer,
    ) -> Exit {
        interpret_general(prog, t, budget, obs)
    }
}
