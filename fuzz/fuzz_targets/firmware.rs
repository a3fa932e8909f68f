//! NFFW firmware images: the firmware crate's parser, then the card's install path (flash firmware at power-on) and the rtsym table the driver reads back.
//! Harness: `nfp_emu::testutil::fuzz::firmware`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfp_emu::testutil::fuzz::firmware(data));
