//! The harnesses of the fuzz targets in `fuzz/fuzz_targets` (one function
//! each, input = any bytes). They live here, in the crate, so that the
//! workspace build, clippy and unit tests compile them and replay the
//! checked-in seed and regression corpora through them
//! ([`super::seeds`]); the targets only hand libFuzzer's input over.
//!
//! The property checked is the one a device model owes untrusted input:
//! no panic (overflow checks are on in test and fuzz builds), no hang, no
//! unbounded allocation (libFuzzer's `-rss_limit_mb` and `-timeout`).

use std::sync::{Arc, OnceLock};

use nfp_firmware::Nffw;

use super::Driver;
use super::storm::{ByteStream, Storm};
use crate::card::{Card, CardConfig};
use crate::datapath::helpers::FirmwareEnv;
use crate::fp::exec::{Program, le_words};
use crate::fp::insn::decode;
use crate::fp::me::{Me, MeStats};
use crate::fp::word::{NFP_INSN_MASK, with_ecc};
use crate::maps::MapStore;
use crate::maps::caps::BpfCaps;
use crate::nfd::vnic::{NFD_BPF_DONE, NFD_BPF_MAX_LEN, NFD_BPF_START};
use crate::nsp::{NSP_CSR_BASE, NSP_DFLT_BUFFER_BASE, NSP_DFLT_BUFFER_MB};

/// Instructions a fuzzed program may run per packet: enough for every
/// program of the corpus, small enough that a loop costs milliseconds.
pub const FUZZ_BUDGET: u64 = 1 << 15;

/// `firmware`: an NFFW image through the firmware crate's parser and
/// accessors, then installed as the card's flash firmware (the path of
/// `nfp-emu --firmware`; FW_LOAD runs the same loader, see [`nsp`]); if
/// the card accepts it, the driver mock reads its rtsym table back through
/// the MIP.
pub fn firmware(data: &[u8]) {
    if let Ok(img) = Nffw::parse(data) {
        let _ = img.rtsyms();
        let _ = img.mip();
        let _ = img.build_info();
    }
    let cfg = CardConfig {
        flash_firmware: Some(data.to_vec()),
        ..CardConfig::default()
    };
    if let Ok(drv) = Driver::try_new(&cfg) {
        let _ = drv.rtsyms();
    }
}

/// A card running the project's firmware, shared by the runs of
/// [`me_program`]: only its BPF capabilities (helper addresses) are used,
/// read-only, so runs stay independent.
fn helper_card() -> &'static Card {
    static CARD: OnceLock<Card> = OnceLock::new();
    CARD.get_or_init(|| {
        Card::new(&CardConfig {
            flash_firmware: Some(super::firmware_image()),
            ..CardConfig::default()
        })
        .expect("the project's firmware boots")
    })
}

/// `me_program`: `[flags][words: le16][words x le64][frame...]`. Every
/// word is decoded and disassembled, the image listed and loaded as the
/// vNIC's UPDATE_BPF loads it (ECC, length; flags bit 0 keeps the input's
/// ECC bits, otherwise they are made valid so most images load), then run
/// on the frame (and again on the next context) with the firmware's
/// helpers over a fresh map store holding an array and a hash map; flags
/// bit 1 turns the instruction trace on.
pub fn me_program(data: &[u8]) {
    let mut s = ByteStream::new(data);
    let flags = s.u8();
    let n = usize::from(s.u16()) % (usize::from(NFD_BPF_MAX_LEN) + 2);
    let mut words = le_words(s.bytes(8 * n));
    if flags & 1 == 0 {
        for w in &mut words {
            *w = with_ecc(*w & NFP_INSN_MASK);
        }
    }
    for &w in &words {
        let _ = decode(w);
        let _ = crate::fp::disasm::disasm(w);
    }
    let _ = crate::fp::disasm::listing(&words, NFD_BPF_START);
    let Ok(prog) = Program::load(
        &words,
        NFD_BPF_START,
        NFD_BPF_DONE,
        usize::from(NFD_BPF_MAX_LEN),
    ) else {
        return;
    };
    let dp = helper_card().datapath();
    let maps = Arc::new(MapStore::new());
    maps.reset(dp.maps.limits());
    // tids 1 and 2, as the driver's first two maps get.
    let _ = maps.alloc(4, 8, 64, crate::maps::BPF_MAP_TYPE_ARRAY, 0);
    let _ = maps.alloc(8, 16, 64, crate::maps::BPF_MAP_TYPE_HASH, 0);
    let env = FirmwareEnv {
        maps,
        dp: Arc::downgrade(dp),
    };
    let frame = s.rest();
    let stats = MeStats::default();
    let mut me = Me::new(0, std::sync::Arc::new(crate::fp::exec::Interpreter));
    let trace = flags & 2 != 0;
    me.run(&prog, frame, &env, FUZZ_BUDGET, trace, &stats);
    me.run(&prog, frame, &env, FUZZ_BUDGET, trace, &stats);
}

/// `card_mmio`: a hostile guest's operation stream ([`Storm`]) on a card
/// with firmware running and the data and control vNICs' rings up.
pub fn card_mmio(data: &[u8]) {
    Storm::new().run(data);
}

/// Largest control message one operation of [`map_ccm`] carries.
const MAX_CCM: usize = 16 << 10;

/// `map_ccm`: operations on a fresh map store with the project firmware's
/// limits, each `[op]` then its fields: op 0-4 a control message
/// `[len: le16][bytes]` (`MapStore::handle_ccm`, the replies' length
/// checked against the request), 5 an EMEM read, 6 a write, 7 an atomic
/// add of map values (`[addr: le32 offset into the map EMEM][len][...]`),
/// as the flow processor's programs do them.
pub fn map_ccm(data: &[u8]) {
    let caps = BpfCaps::parse(&nfp_firmware::image::bpf_capabilities());
    let store = MapStore::new();
    store.reset(caps.maps);
    let slots = caps.cmsg_slots();
    let mut s = ByteStream::new(data);
    while !s.is_empty() {
        let op = s.u8() % 8;
        if op < 5 {
            let len = usize::from(s.u16()) % (MAX_CCM + 1);
            let msg = s.bytes(len);
            if let Some(reply) = store.handle_ccm(msg, slots) {
                // A reply echoes the request's header: never more than
                // the 16 entries of a GETNEXT reply of the biggest slots.
                let entry = (slots.0 + slots.1) as usize;
                assert!(
                    reply.len() <= 16 + 17 * entry,
                    "reply of {} bytes",
                    reply.len()
                );
            }
            continue;
        }
        let addr = store.region().start + u64::from(s.u32());
        let len = usize::from(s.u8());
        match op {
            5 => {
                let mut b = vec![0u8; len];
                let _ = store.emem_read(addr, &mut b);
            }
            6 => {
                let d = s.bytes(len);
                let _ = store.emem_write(addr, d);
            }
            _ => {
                let _ = store.emem_add(addr, s.u64(), len & 1 != 0);
            }
        }
    }
}

/// `nsp`: `[flags]` (bit 0: the project's firmware in flash) then
/// operations: op 0-3 a command through the CSRs and the default buffer
/// (`[code][option: le32][input: le16 length + bytes][out_len: le16]`),
/// 4 a raw write of an NSP CSR, 5 bytes written into the default buffer,
/// 6 a resource-table mutex lock and unlock.
pub fn nsp(data: &[u8]) {
    let mut s = ByteStream::new(data);
    let flags = s.u8();
    let cfg = CardConfig {
        flash_firmware: (flags & 1 != 0).then(super::firmware_image),
        ..CardConfig::default()
    };
    let drv = Driver::new(&cfg);
    while !s.is_empty() {
        match s.u8() % 7 {
            0..=3 => {
                let code = match s.u8() {
                    0xff => s.u16(),
                    c => u16::from(c % 26),
                };
                let option = s.u32();
                let len = usize::from(s.u16());
                let input = s.bytes(len);
                let out_len = usize::from(s.u16()) % 8192;
                let r = drv.nsp_command(code, option, input, out_len);
                assert!(r.done, "NSP command {code} left START or BUSY set");
            }
            4 => {
                let off = u64::from(s.u8() % 0x30) & !7;
                let v = s.u64();
                drv.mu_write64(NSP_CSR_BASE + off, v);
            }
            5 => {
                let off = u64::from(s.u32()) % (NSP_DFLT_BUFFER_MB << 20);
                let len = usize::from(s.u16());
                drv.mu_write(NSP_DFLT_BUFFER_BASE + off, s.bytes(len));
            }
            _ => {
                let entry = u64::from(s.u8() % 8);
                let key = s.u32();
                let owner = s.u16();
                let addr = crate::nsp::resource::NFP_RESOURCE_TBL_BASE + 32 * entry;
                let _ = drv.trylock(addr, key, owner);
                if s.u8() & 1 == 0 {
                    let _ = drv.unlock(addr, key, owner);
                }
            }
        }
    }
}
