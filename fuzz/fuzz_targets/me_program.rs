//! ME microcode: decoder, disassembler, program load (ECC, length) and a run of the program on a packet with the firmware's helpers and maps.
//! Harness: `nfp_emu::testutil::fuzz::me_program`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfp_emu::testutil::fuzz::me_program(data));
