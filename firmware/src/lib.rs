//! NFFW firmware images for the emulated NFP-4000.
//!
//! An NFFW image is an ELF file with `e_machine` 0x6000 whose symbols become
//! the card's runtime symbol table (rtsym) and whose initialised sections fill
//! the card's memories. This crate will read and write that format and build
//! the open images the project ships (see DESIGN.md, "Firmware").
