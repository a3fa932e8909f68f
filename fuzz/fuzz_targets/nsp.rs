//! NSP commands through the NSP CSRs and the default buffer, raw CSR writes and resource-table mutexes.
//! Harness: `nfp_emu::testutil::fuzz::nsp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfp_emu::testutil::fuzz::nsp(data));
