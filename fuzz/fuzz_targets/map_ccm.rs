//! Control messages to the offloaded-map channel (MapStore::handle_ccm) and EMEM accesses to map values.
//! Harness: `nfp_emu::testutil::fuzz::map_ccm`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfp_emu::testutil::fuzz::map_ccm(data));
