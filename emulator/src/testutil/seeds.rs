//! The fuzz targets' seed corpora, generated here from the project's own
//! artefacts (its firmware image, the golden ustore programs, driver-shaped
//! control messages and NSP commands, storms with a purpose) and checked in
//! under `fuzz/seeds/<target>/`. Unit tests keep the checked-in files equal
//! to what this module generates (`NFP_EMU_BLESS_SEEDS=1 cargo test -p
//! nfp-emu seeds` rewrites them) and replay every seed and every regression
//! input (`fuzz/regressions/<target>/`) through the harnesses.

use super::ccm::{alloc_msg, free_msg, op_msg};
use super::storm::{Ops, frame};
use crate::maps::ccm::{
    NFP_CCM_TYPE_BPF_MAP_DELETE, NFP_CCM_TYPE_BPF_MAP_GETFIRST, NFP_CCM_TYPE_BPF_MAP_GETNEXT,
    NFP_CCM_TYPE_BPF_MAP_LOOKUP, NFP_CCM_TYPE_BPF_MAP_UPDATE,
};
use crate::maps::{BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH};
use crate::nfd::ctrl::{NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_CTRL_ENABLE};
use crate::nsp::{
    SPCODE_ETH_RESCAN, SPCODE_FW_LOAD, SPCODE_FW_LOADED, SPCODE_FW_STORED, SPCODE_HWINFO_LOOKUP,
    SPCODE_NSP_IDENTIFY, SPCODE_NSP_SENSORS, SPCODE_NSP_WRITE_FLASH, SPCODE_READ_MEDIA,
    SPCODE_SOFT_RESET, SPCODE_VERSIONS,
};

/// The fuzz targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 5] = ["firmware", "me_program", "card_mmio", "map_ccm", "nsp"];

/// The golden ustore programs (fp/testdata): XDP_DROP, a packet-byte
/// read, a map lookup.
const PROGRAMS: [(&str, &[u8]); 3] = [
    (
        "p1_drop",
        include_bytes!("../fp/testdata/p1_drop.ustore.bin"),
    ),
    (
        "p2_byte",
        include_bytes!("../fp/testdata/p2_byte.ustore.bin"),
    ),
    ("p3_map", include_bytes!("../fp/testdata/p3_map.ustore.bin")),
];

/// Key and value slot sizes of the project firmware's map channel.
const SLOTS: (u32, u32) = (64, 64);

/// Every seed: (target, file name, bytes).
pub fn corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut v = Vec::new();
    // The AMDA0099-0001 2x25 and 1x25 images: the other boards' differ
    // only in their port count.
    for (name, img) in nfp_firmware::image::project_images().into_iter().take(2) {
        let file = name.rsplit('/').next().unwrap_or(&name).to_string();
        v.push(("firmware", file, img.to_bytes()));
    }
    let udp = frame(1 | 8, b"seed payload, 32 bytes long.....");
    for (name, bytes) in PROGRAMS {
        let n = (bytes.len() / 8) as u16;
        let mut s = vec![1];
        s.extend_from_slice(&n.to_le_bytes());
        s.extend_from_slice(bytes);
        s.extend_from_slice(&udp);
        v.push(("me_program", name.to_string(), s));
    }
    for (name, ops) in storms() {
        v.push(("card_mmio", name.to_string(), ops.0));
    }
    v.push(("map_ccm", "driver_session".into(), map_session()));
    for (name, s) in nsp_sessions() {
        v.push(("nsp", name.to_string(), s));
    }
    v
}

/// The control messages of a map's life as the driver sends them.
fn map_messages() -> Vec<Vec<u8>> {
    let k = |i: u32| i.to_le_bytes();
    vec![
        alloc_msg(4, 8, 16, BPF_MAP_TYPE_ARRAY),
        alloc_msg(8, 16, 64, BPF_MAP_TYPE_HASH),
        op_msg(NFP_CCM_TYPE_BPF_MAP_UPDATE, 1, 0, &k(2), &[7; 8], SLOTS),
        op_msg(NFP_CCM_TYPE_BPF_MAP_LOOKUP, 1, 0, &k(2), &[], SLOTS),
        op_msg(NFP_CCM_TYPE_BPF_MAP_UPDATE, 2, 0, &[1; 8], &[9; 16], SLOTS),
        op_msg(NFP_CCM_TYPE_BPF_MAP_UPDATE, 2, 1, &[2; 8], &[8; 16], SLOTS),
        op_msg(NFP_CCM_TYPE_BPF_MAP_GETFIRST, 2, 0, &[], &[], SLOTS),
        op_msg(NFP_CCM_TYPE_BPF_MAP_GETNEXT, 2, 0, &[1; 8], &[], SLOTS),
        op_msg(NFP_CCM_TYPE_BPF_MAP_DELETE, 2, 0, &[1; 8], &[], SLOTS),
        free_msg(2),
        free_msg(1),
    ]
}

fn map_session() -> Vec<u8> {
    let mut s = Vec::new();
    for m in map_messages() {
        s.push(0);
        s.extend_from_slice(&(m.len() as u16).to_le_bytes());
        s.extend_from_slice(&m);
    }
    // EMEM read, write and add of the first map's values.
    s.extend_from_slice(&[5, 0, 0, 0, 0, 8]);
    s.extend_from_slice(&[6, 8, 0, 0, 0, 4, 1, 2, 3, 4]);
    s.extend_from_slice(&[7, 0, 0, 0, 0, 1]);
    s.extend_from_slice(&5u64.to_le_bytes());
    s
}

/// One NSP command of the `nsp` harness's stream.
fn nsp_cmd(s: &mut Vec<u8>, code: u16, option: u32, input: &[u8], out_len: u16) {
    s.push(0);
    s.push(code as u8);
    s.extend_from_slice(&option.to_le_bytes());
    s.extend_from_slice(&(input.len() as u16).to_le_bytes());
    s.extend_from_slice(input);
    s.extend_from_slice(&out_len.to_le_bytes());
}

fn nsp_sessions() -> Vec<(&'static str, Vec<u8>)> {
    let img = super::firmware_image();
    let len = img.len() as u32;
    let mut load = vec![0];
    nsp_cmd(&mut load, SPCODE_FW_LOAD, len, &img, 0);
    nsp_cmd(&mut load, SPCODE_FW_LOADED, 0, &[], 0);
    nsp_cmd(&mut load, SPCODE_SOFT_RESET, 0, &[], 0);
    let mut flash = vec![0];
    nsp_cmd(&mut flash, SPCODE_NSP_WRITE_FLASH, len, &img, 0);
    nsp_cmd(&mut flash, SPCODE_FW_STORED, 0, &[], 0);
    nsp_cmd(&mut flash, SPCODE_VERSIONS, 4096, &[], 4096);
    let mut info = vec![1];
    nsp_cmd(&mut info, SPCODE_ETH_RESCAN, 1536, &[], 1536);
    let mut key = b"board.state".to_vec();
    key.resize(64, 0);
    nsp_cmd(&mut info, SPCODE_HWINFO_LOOKUP, 64, &key, 64);
    nsp_cmd(&mut info, SPCODE_NSP_SENSORS, 0xf, &[], 32);
    nsp_cmd(&mut info, SPCODE_NSP_IDENTIFY, 128, &[], 128);
    let mut media = vec![0u8; 40];
    media[0] = 1;
    nsp_cmd(&mut info, SPCODE_READ_MEDIA, 40, &media, 40);
    vec![
        ("fw_load", load),
        ("flash_and_stored", flash),
        ("info", info),
    ]
}

/// Storms with a purpose: each reaches one part of the card.
fn storms() -> Vec<(&'static str, Ops)> {
    let udp = |n: u8| frame(1 | 4 | 8, &[n; 64]);
    let tx_rx = Ops::default()
        .send(0, &udp(1))
        .wire_rx(0, 1 | 4, &[2; 100])
        .wire_rx(0, 2 | 8, &[3; 300])
        .drain(0)
        .unmask(0)
        .send(0, &udp(4));
    let mut ctrl = Ops::default();
    for m in map_messages() {
        ctrl = ctrl.send(1, &m).drain(1).unmask(1);
    }
    let words = crate::fp::exec::le_words(PROGRAMS[0].1);
    let bpf = Ops::default()
        .vnic_reg32(0, 0, NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_BPF)
        .reconfig(0, 1)
        .load_program(&words)
        .wire_rx(0, 1, &[5; 64])
        .drain(0);
    let reload = Ops::default()
        .nsp(SPCODE_SOFT_RESET as u8, 0, &[], 0)
        .nsp(SPCODE_FW_STORED as u8, 0, &[], 0)
        .enable(0)
        .enable(1)
        .send(0, &udp(6))
        .wire_rx(1, 1, &[7; 64]);
    let dma = Ops::default()
        .dma_toggle()
        .send(0, &udp(8))
        .wire_rx(0, 1, &[9; 64])
        .dma_toggle()
        .enable(0)
        .send(0, &udp(10));
    vec![
        ("tx_rx", tx_rx),
        ("ctrl_maps", ctrl),
        ("bpf_load", bpf),
        ("reset_reload", reload),
        ("dma_unmap", dma),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::testutil::fuzz;
    use crate::testutil::storm::Storm;

    fn fuzz_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
    }

    fn harness(target: &str) -> fn(&[u8]) {
        match target {
            "firmware" => fuzz::firmware,
            "me_program" => fuzz::me_program,
            "card_mmio" => fuzz::card_mmio,
            "map_ccm" => fuzz::map_ccm,
            "nsp" => fuzz::nsp,
            _ => panic!("no harness {target}"),
        }
    }

    /// The checked-in seeds are the generated ones (bless with
    /// `NFP_EMU_BLESS_SEEDS=1`).
    #[test]
    fn checked_in_seeds_are_current() {
        let bless = std::env::var_os("NFP_EMU_BLESS_SEEDS").is_some();
        for (target, name, bytes) in corpus() {
            let path = fuzz_dir().join("seeds").join(target).join(&name);
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let on_disk = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (bless the seeds)", path.display()));
            assert!(
                on_disk == bytes,
                "{} is stale: bless the seeds",
                path.display()
            );
        }
    }

    /// Every seed and regression input runs through its harness without
    /// a panic (the fuzz targets' regression test, without libFuzzer).
    #[test]
    fn seed_and_regression_corpora_replay() {
        let mut ran = 0;
        for target in TARGETS {
            for dir in ["seeds", "regressions"] {
                let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
                    continue;
                };
                for e in entries {
                    let path = e.unwrap().path();
                    harness(target)(&std::fs::read(&path).unwrap());
                    ran += 1;
                }
            }
        }
        assert!(ran >= corpus().len(), "{ran} inputs replayed");
    }

    /// The card storms reach what they are named after.
    #[test]
    fn storm_seeds_reach_their_parts_of_the_card() {
        let mut reach = std::collections::HashMap::new();
        for (name, ops) in storms() {
            let mut st = Storm::new();
            st.run(&ops.0);
            reach.insert(name, st.reach());
        }
        let r = reach["tx_rx"];
        assert!(r.tx_frames >= 2 && r.rx_frames >= 2 && r.irqs >= 1, "{r:?}");
        let r = reach["ctrl_maps"];
        assert_eq!(r.ctrl_rx_frames, map_messages().len() as u64, "{r:?}");
        let r = reach["reset_reload"];
        assert!(r.tx_frames >= 1, "{r:?}");
        let r = reach["dma_unmap"];
        assert!(r.dma_errors >= 1 && r.tx_frames >= 1, "{r:?}");
    }
}
