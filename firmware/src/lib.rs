//! NFFW firmware images for the emulated NFP-4000.
//!
//! An NFFW image is an ELF file with `e_machine` 0x6000 whose sections fill
//! the card's memories and whose runtime symbol table (rtsym) tells the
//! Linux driver where the firmware's objects are.  This crate reads and
//! writes that format ([`nffw`]), decodes and encodes the runtime symbol
//! table ([`rtsym`]) and the MIP ([`mip`]), and builds the open images the
//! project ships ([`image`]; see docs/firmware.md).

pub mod check;
pub mod image;
pub mod mip;
pub mod nffw;
pub mod rtsym;

pub use mip::Mip;
pub use nffw::{MemType, Nffw, NffwError, Note, Section, SectionData};
pub use rtsym::RtSym;
