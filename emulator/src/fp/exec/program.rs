//! A program image decoded once at load, with a slot for what an executor
//! makes of it.

use std::any::Any;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::interp::Code;
use crate::fp::insn::{Insn, decode};
use crate::fp::word::ecc_ok;

/// Why a program image was refused at load.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The image has no words.
    #[error("empty program")]
    Empty,
    /// The image is longer than the code store allows.
    #[error("program of {len} instructions exceeds {max}")]
    TooLong {
        /// Words in the image.
        len: usize,
        /// The most it may have.
        max: usize,
    },
    /// A word's ECC bits are wrong.
    #[error("word {index} ({word:#018x}) fails its ECC check")]
    Ecc {
        /// Index of the word in the image.
        index: usize,
        /// The word.
        word: u64,
    },
}

/// The ustore words of an image as the driver DMAs it (little-endian u64
/// each; a trailing partial word is ignored).
pub fn le_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

/// What an executor made of a program at [`super::Executor::prepare`]
/// (e.g. its translation to host code). The executor that made it
/// downcasts it back.
pub type Artefact = Box<dyn Any + Send + Sync>;

/// A program decoded once at load: word `k` sits at ustore address
/// `start + k`.
#[derive(Debug)]
pub struct Program {
    /// Load sequence number (unique in the process).
    pub seq: u64,
    /// Ustore address of the first word (`NFP_NET_CFG_BPF_START`).
    pub start: u16,
    /// The exit address (`NFP_NET_CFG_BPF_DONE`).
    pub done: u16,
    /// The words as loaded (ECC included).
    pub words: Box<[u64]>,
    /// The words decoded.
    pub insns: Box<[Insn]>,
    /// The interpreter's pre-resolved form of `insns`.
    pub(super) code: Code,
    faults: AtomicU64,
    artefact: OnceLock<Artefact>,
}

impl Program {
    /// Decode `words` (as DMAed: little-endian u64 with ECC), checking
    /// every word's ECC.
    pub fn load(words: &[u64], start: u16, done: u16, max: usize) -> Result<Self, LoadError> {
        if words.is_empty() {
            return Err(LoadError::Empty);
        }
        if words.len() > max {
            return Err(LoadError::TooLong {
                len: words.len(),
                max,
            });
        }
        if let Some((index, &word)) = words.iter().enumerate().find(|(_, w)| !ecc_ok(**w)) {
            return Err(LoadError::Ecc { index, word });
        }
        static SEQ: AtomicU64 = AtomicU64::new(1);
        let insns: Box<[Insn]> = words.iter().map(|&w| decode(w)).collect();
        Ok(Self {
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            start,
            done,
            words: words.into(),
            code: Code::resolve(&insns, start, done),
            insns,
            faults: AtomicU64::new(0),
            artefact: OnceLock::new(),
        })
    }

    /// Count a packet this program aborted; the count before it.
    pub fn count_fault(&self) -> u64 {
        self.faults.fetch_add(1, Ordering::Relaxed)
    }

    /// Packets this program aborted so far.
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }

    /// Instructions in the program.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program has no instructions (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The decoded instruction at ustore address `pc`, if it is in the
    /// program.
    #[inline(always)]
    pub fn fetch(&self, pc: u16) -> Option<&Insn> {
        self.insns.get(usize::from(pc.checked_sub(self.start)?))
    }

    /// The ustore word at `pc` (for logs and faults; 0 outside).
    pub fn word(&self, pc: u16) -> u64 {
        pc.checked_sub(self.start)
            .and_then(|i| self.words.get(usize::from(i)))
            .copied()
            .unwrap_or(0)
    }

    /// The executor's artefact, once one is set (one atomic load).
    #[inline]
    pub fn artefact(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.artefact.get().map(|a| &**a)
    }

    /// Attach an executor's artefact; a program keeps the first one it is
    /// given (the artefact comes back if one is set already).
    pub fn set_artefact(&self, a: Artefact) -> Result<(), Artefact> {
        self.artefact.set(a)
    }
}
