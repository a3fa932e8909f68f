//! A hostile guest: config-space and BAR sequences, descriptors and buffers in guest memory, doorbells, frames, control messages, program loads, on a card whose firmware runs with vNIC rings up.
//! Harness: `nfp_emu::testutil::fuzz::card_mmio`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfp_emu::testutil::fuzz::card_mmio(data));
