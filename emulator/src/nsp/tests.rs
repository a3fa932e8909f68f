//! Each NSP command, issued the way the driver does it: default buffer,
//! NSP_BUFFER, COMMAND with START, then COMMAND/STATUS read back
//! (nfp_nsp.c:359-491), all through BAR windows.

use super::*;
use crate::card::CardConfig;
use crate::testutil::{Driver, NspReply, firmware_image};
use nfp_firmware::image::{BoardSpec, bpf_image};

/// [`Driver::nsp_command`], checking the NSP's side of the protocol on
/// the way: idle (magic, BUSY clear) before the command; START and BUSY
/// clear when it is done; the ABI minor in STATUS.
fn cmd(h: &Driver, code: u16, option: u32, input: &[u8], out_len: usize) -> NspReply {
    let status = h.mu_read64(NSP_CSR_BASE + NSP_STATUS);
    assert_eq!(status >> 48, NSP_MAGIC);
    assert_eq!(status & 1, 0, "NSP busy before a command");
    let r = h.nsp_command(code, option, input, out_len);
    assert!(
        r.done,
        "START and BUSY must be clear when the command is done"
    );
    assert_eq!((r.status >> 32) & 0xfff, NSP_ABI_MINOR);
    r
}

fn host() -> Driver {
    Driver::new(&CardConfig::default())
}

fn cstr(b: &[u8]) -> String {
    c_str(b)
}

#[test]
fn noop_and_idle_status() {
    let h = host();
    let r = cmd(&h, SPCODE_NOOP, 0, &[], 0);
    assert_eq!((r.ret, r.errno), (0, 0));
    assert_eq!(
        h.mu_read64(NSP_CSR_BASE + NSP_DFLT_BUFFER_CONFIG) & 0xff,
        NSP_DFLT_BUFFER_MB
    );
}

#[test]
fn eth_rescan_returns_the_port_count_and_table() {
    let h = host();
    // The driver issues it with option = table size (nfp_nsp.c:825-838).
    let r = cmd(&h, SPCODE_ETH_RESCAN, 1536, &[], 1536);
    assert_eq!(
        (r.ret, r.errno),
        (2, 0),
        "the return value overwrites OPTION"
    );
    let lanes: Vec<usize> = (0..48).filter(|i| r.out[i * 32] & 0xf != 0).collect();
    assert_eq!(lanes, [0, 4]);
    // Too small a buffer.
    assert_eq!(cmd(&h, SPCODE_ETH_RESCAN, 64, &[], 64).errno, ENOSPC);
}

#[test]
fn eth_control_changes_port_state() {
    let h = host();
    let mut t = cmd(&h, SPCODE_ETH_RESCAN, 1536, &[], 1536).out;
    // ifdown of the port at position 4: CONFIGURED off in its control word.
    t[4 * 32 + 24] &= !1;
    let r = cmd(&h, SPCODE_ETH_CONTROL, 1536, &t, 0);
    assert_eq!(r.errno, 0);
    let t2 = cmd(&h, SPCODE_ETH_RESCAN, 1536, &[], 1536).out;
    assert_eq!(t2[4 * 32 + 8] & 1, 0, "port 1 no longer configured");
    assert_eq!(t2[8] & 1, 1, "port 0 still configured");
}

#[test]
fn identify_reports_bsp_and_sensors() {
    let h = host();
    let r = cmd(&h, SPCODE_NSP_IDENTIFY, 64, &[], 64);
    assert_eq!(r.errno, 0);
    assert!(cstr(&r.out[..40]).starts_with("nfp-emu-"));
    assert_eq!(
        u64::from_le_bytes(r.out[0x38..0x40].try_into().unwrap()),
        NSP_SENSOR_MASK_ALL
    );
    let s = cmd(&h, SPCODE_NSP_SENSORS, 1, &[], 16);
    assert_eq!(s.errno, 0);
    assert_eq!(u32::from_le_bytes(s.out[0..4].try_into().unwrap()), 52_000);
}

#[test]
fn hwinfo_lookup_and_set() {
    let h = host();
    let mut key = b"board.state".to_vec();
    key.resize(64, 0);
    let r = cmd(&h, SPCODE_HWINFO_LOOKUP, 64, &key, 64);
    assert_eq!((r.ret, r.errno), (0, 0));
    assert_eq!(cstr(&r.out), "15");
    let mut key = b"abi_drv_reset".to_vec();
    key.resize(64, 0);
    assert_eq!(cmd(&h, SPCODE_HWINFO_LOOKUP, 64, &key, 64).errno, ENOENT);
    let mut set = b"abi_drv_reset=2".to_vec();
    set.resize(32, 0);
    assert_eq!(cmd(&h, SPCODE_HWINFO_SET, 32, &set, 0).errno, 0);
    let r = cmd(&h, SPCODE_HWINFO_LOOKUP, 64, &key, 64);
    assert_eq!((r.errno, cstr(&r.out)), (0, "2".to_string()));
    let mut bad = b"novalue".to_vec();
    bad.resize(32, 0);
    assert_eq!(cmd(&h, SPCODE_HWINFO_SET, 32, &bad, 0).errno, EINVAL);
}

#[test]
fn firmware_load_reset_and_loaded_state() {
    let h = host();
    assert_eq!(cmd(&h, SPCODE_FW_LOADED, 0, &[], 0).ret, 0);
    let img = firmware_image();
    let r = cmd(&h, SPCODE_FW_LOAD, img.len() as u32, &img, 0);
    assert_eq!((r.ret, r.errno), (0, 0), "firmware from driver loaded");
    assert_eq!(cmd(&h, SPCODE_FW_LOADED, 0, &[], 0).ret, 1);
    // nfp.nffw: fwinfo[0] loaded, MIP in island 24 at the .mip symbol.
    let w0 = h.mu_read32(NFP_CPP_ACTION_RW, 0, NFFW_INFO_BASE + 0x328);
    assert_eq!(w0 >> 31, 1);
    let cppid = h.mu_read32(NFP_CPP_ACTION_RW, 0, NFFW_INFO_BASE + 0x32c);
    assert_eq!(cppid, 0x0700_2018);
    assert_eq!(
        h.mu_read32(NFP_CPP_ACTION_RW, 0, 0x18_0081_b000),
        0x0050_494d,
        "MIP signature"
    );
    // The data vNIC's BAR is published.
    assert_eq!(h.mu_read32(NFP_CPP_ACTION_RW, 0, 0x18_0080_8030), 0x500);
    let r = cmd(&h, SPCODE_SOFT_RESET, 0, &[], 0);
    assert_eq!(r.errno, 0);
    assert_eq!(cmd(&h, SPCODE_FW_LOADED, 0, &[], 0).ret, 0);
    assert_eq!(
        h.mu_read32(NFP_CPP_ACTION_RW, 0, 0x18_0080_8030),
        0,
        "memories cleared"
    );
    assert_eq!(
        h.mu_read32(NFP_CPP_ACTION_RW, 0, NFFW_INFO_BASE + 0x328) >> 31,
        0
    );
}

#[test]
fn bad_firmware_is_refused_with_a_load_status() {
    let h = host();
    let mut img = firmware_image();
    img.truncate(200);
    img.resize(208, 0xa5);
    let r = cmd(&h, SPCODE_FW_LOAD, img.len() as u32, &img, 0);
    assert_eq!(r.errno, EINVAL);
    assert_eq!(
        r.ret,
        fw_load_status(2, 5),
        "Firmware loading failure, can not parse FW file"
    );
    assert_eq!(cmd(&h, SPCODE_FW_LOADED, 0, &[], 0).ret, 0);
    // The NSP keeps serving.
    assert_eq!(cmd(&h, SPCODE_NOOP, 0, &[], 0).errno, 0);
}

#[test]
fn stored_firmware_flash_and_versions() {
    let h = host();
    let r = cmd(&h, SPCODE_FW_STORED, 0, &[], 0);
    assert_eq!(r.errno, ENOENT, "nothing in flash");
    assert_eq!(r.ret, fw_load_status(2, 1));
    let img = firmware_image();
    assert_eq!(
        cmd(&h, SPCODE_NSP_WRITE_FLASH, img.len() as u32, &img, 0).errno,
        0
    );
    let r = cmd(&h, SPCODE_FW_STORED, 0, &[], 0);
    assert_eq!((r.errno, r.ret), (0, fw_load_status(1, 0)));
    assert_eq!(cmd(&h, SPCODE_FW_LOADED, 0, &[], 0).ret, 1);
    // VERSIONS as nfp_nsp_versions_get() reads it.
    let v = cmd(&h, SPCODE_VERSIONS, 4096, &[], 4096).out;
    let get = |id: usize, flash: usize| {
        let cnt = usize::from(u16::from_le_bytes([v[0], v[1]]));
        assert!(cnt > id * 2 + flash);
        let off = usize::from(u16::from_le_bytes([
            v[2 + id * 4 + flash * 2],
            v[3 + id * 4 + flash * 2],
        ]));
        (off != 0).then(|| cstr(&v[off..]))
    };
    assert!(get(0, 0).unwrap().starts_with("nfp-emu-"), "BSP running");
    assert_eq!(get(1, 0).as_deref(), Some("0x44"), "CPLD");
    assert_eq!(get(2, 0).as_deref(), Some("nfp-emu-bpf"), "app running");
    assert_eq!(get(2, 1).as_deref(), Some("nfp-emu-bpf"), "app in flash");
    assert_eq!(get(3, 0), None, "no bundle version");
    // A bad image does not replace the flash.
    assert_eq!(
        cmd(&h, SPCODE_NSP_WRITE_FLASH, 16, &[0u8; 16], 0).errno,
        EINVAL
    );
}

#[test]
fn media_and_module_eeprom() {
    let h = host();
    let mut m = vec![0u8; 40];
    m[0] = 1; // eth_index
    let r = cmd(&h, SPCODE_READ_MEDIA, 40, &m, 40);
    assert_eq!(r.errno, 0);
    assert_eq!(
        u64::from_le_bytes(r.out[8..16].try_into().unwrap()),
        (1 << 18) | (1 << 19)
    );
    m[0] = 9;
    assert_eq!(cmd(&h, SPCODE_READ_MEDIA, 40, &m, 40).errno, ENOENT);
    // struct eeprom_buf: metalen 1 (8 bytes), length 16, offset 0, eth_index 0.
    let mut e = vec![0u8; 8 + 16];
    e[0] = 1;
    e[1] = 16;
    let r = cmd(&h, SPCODE_READ_SFF_EEPROM, e.len() as u32, &e, e.len());
    assert_eq!(r.errno, 0);
    assert_eq!(u16::from_le_bytes([r.out[5], r.out[6]]), 16, "readlen");
    assert_eq!(r.out[8], 0x03, "SFP identifier");
}

#[test]
fn unknown_commands_and_bad_buffers_are_refused() {
    let h = host();
    assert_eq!(cmd(&h, 99, 0, &[], 0).errno, EOPNOTSUPP);
    assert_eq!(cmd(&h, SPCODE_MAC_INIT, 0, &[], 0).errno, 0);
    // A buffer outside the default buffer.
    h.mu_write64(NSP_CSR_BASE + NSP_BUFFER, 7 << 56 | 0x18_0000_0000);
    h.mu_write64(
        NSP_CSR_BASE + NSP_COMMAND,
        1536 << 32 | u64::from(SPCODE_ETH_RESCAN) << 16 | 1,
    );
    assert_eq!(
        (h.mu_read64(NSP_CSR_BASE + NSP_STATUS) >> 8) & 0xff,
        u64::from(EINVAL)
    );
    // A DMA buffer (never offered).
    h.mu_write64(NSP_CSR_BASE + NSP_COMMAND, u64::from(SPCODE_NOOP) << 16 | 3);
    assert_eq!(
        (h.mu_read64(NSP_CSR_BASE + NSP_STATUS) >> 8) & 0xff,
        u64::from(EINVAL)
    );
    // The oversized FW_LOAD option cannot read past the buffer.
    let r = cmd(&h, SPCODE_FW_LOAD, u32::MAX, &[], 0);
    assert_eq!(r.errno, EINVAL);
}

/// FW_LOAD of `img` placed in the default buffer directly (fast for big
/// images); returns (ret, errno).
fn fw_load_direct(h: &Driver, img: &[u8]) -> (u32, u8) {
    let dflt = h.mu_read64(NSP_CSR_BASE + NSP_DFLT_BUFFER);
    h.card.chip().mu.write(dflt & ((1 << 40) - 1), img);
    h.mu_write64(NSP_CSR_BASE + NSP_BUFFER, dflt);
    h.mu_write64(
        NSP_CSR_BASE + NSP_COMMAND,
        u64::from(img.len() as u32) << 32 | u64::from(SPCODE_FW_LOAD) << 16 | 1,
    );
    let status = h.mu_read64(NSP_CSR_BASE + NSP_STATUS);
    let command = h.mu_read64(NSP_CSR_BASE + NSP_COMMAND);
    ((command >> 32) as u32, ((status >> 8) & 0xff) as u8)
}

#[test]
fn images_that_do_not_fit_are_refused_through_fw_load() {
    use nfp_firmware::Section;
    use nfp_firmware::image::EMEM_SECTION_INFO;
    use nfp_firmware::nffw::section_info;
    let h = host();
    // Overlapping sections; a section in a memory the card lacks; a
    // section past the end of EMEM.
    let cases: [(&str, Section); 3] = [
        (
            "overlap",
            Section::progbits(".x", 0x81_b000, EMEM_SECTION_INFO, vec![0; 8]),
        ),
        (
            "no memory",
            Section::nobits(".x", 0, section_info(26, 0, 4), 8),
        ),
        (
            "outside",
            Section::nobits(".x", 0x7fff_0000, EMEM_SECTION_INFO, 0x2_0000),
        ),
    ];
    for (what, s) in cases {
        let mut img = bpf_image(&BoardSpec::agilio_cx_2x25());
        img.sections.push(s);
        let (ret, errno) = fw_load_direct(&h, &img.to_bytes());
        assert_eq!((ret, errno), (fw_load_status(2, 5), EINVAL), "{what}");
        assert_eq!(cmd(&h, SPCODE_FW_LOADED, 0, &[], 0).ret, 0, "{what}");
    }
    // The good image still loads afterwards.
    assert_eq!(fw_load_direct(&h, &firmware_image()), (0, 0));
}

#[test]
fn the_default_buffer_holds_the_largest_debian_image() {
    use nfp_firmware::Section;
    use nfp_firmware::image::EMEM_SECTION_INFO;
    let h = host();
    assert_eq!(
        h.mu_read64(NSP_CSR_BASE + NSP_DFLT_BUFFER_CONFIG) & 0xff,
        8,
        "8 MiB (NSP_DFLT_BUFFER_SIZE_MB)"
    );
    // A 7 MB image (Debian's largest is 6.9 MB) loads through FW_LOAD.
    let mut img = bpf_image(&BoardSpec::agilio_cx_2x25());
    img.sections.push(Section::progbits(
        ".ememdata9.i24",
        0x100_0000,
        EMEM_SECTION_INFO,
        vec![0x5a; 7_000_000],
    ));
    let bytes = img.to_bytes();
    assert!(bytes.len() > 7_000_000);
    assert_eq!(fw_load_direct(&h, &bytes), (0, 0));
    assert_eq!(h.card.chip().mu.read_u32(0x18_0100_0000), 0x5a5a_5a5a);
}

/// Another board through the driver's own reads: hwinfo from card memory
/// (`nfp_hwinfo_read`, nfp_hwinfo.c), the ETH table through ETH_RESCAN
/// decoded as `nfp_eth_port_translate` does (nfp_nsp_eth.c:130-175), and
/// the file name `nfp_net_fw_find` builds from them (nfp_main.c:413-440).
#[test]
fn another_board_as_the_driver_reads_it() {
    use super::board::BoardConfig;
    let cfg = CardConfig {
        board: BoardConfig::parse("AMDA0097-0001:4x10_1x40", None).unwrap(),
        ..CardConfig::default()
    };
    let h = Driver::new(&cfg);
    let mut raw = vec![0u8; HWINFO_SIZE as usize];
    h.mu_read(HWINFO_BASE, &mut raw);
    let hw = hwinfo::parse(&raw).unwrap();
    let get = |k: &str| {
        hw.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no hwinfo key {k}"))
    };
    assert_eq!(get("assembly.partno"), "AMDA0097-0001");
    assert_eq!(get("assembly.model"), "beryllium");
    assert_eq!(get("pn"), "Agilio-CX-2x40GbE");
    assert_eq!(get("assembly.vendor"), "Netronome");
    assert_eq!(get("eth4.mac"), "00:15:4d:00:01:04");

    let r = cmd(&h, SPCODE_ETH_RESCAN, 1536, &[], 1536);
    assert_eq!((r.ret, r.errno), (5, 0), "five ports");
    let word = |e: usize, w: usize| {
        u64::from_le_bytes(
            r.out[e * 32 + w * 8..e * 32 + w * 8 + 8]
                .try_into()
                .unwrap(),
        )
    };
    // (index, lanes, speed in Mb/s, label port, label subport)
    let ports: Vec<(usize, u64, u64, u64, u64)> = (0..48)
        .filter(|&e| word(e, 0) & 0xf != 0)
        .map(|e| {
            let (port, state) = (word(e, 0), word(e, 1));
            let lanes = port & 0xf;
            let rate = match (state >> 8) & 0xf {
                4 => 10_000,
                5 => 25_000,
                r => panic!("rate {r}"),
            };
            (
                e,
                lanes,
                lanes * rate,
                (port >> 54) & 0x3f,
                (port >> 48) & 0x3f,
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (0, 1, 10_000, 0, 0),
            (1, 1, 10_000, 0, 1),
            (2, 1, 10_000, 0, 2),
            (3, 1, 10_000, 0, 3),
            (4, 4, 40_000, 1, 0),
        ]
    );
    let mut name = format!("netronome/nic_{}", get("assembly.partno"));
    let mut i = 0;
    while i < ports.len() {
        let j = ports[i..].iter().take_while(|p| p.2 == ports[i].2).count();
        name += &format!("_{j}x{}", ports[i].2 / 1000);
        i += j;
    }
    assert_eq!(name, "netronome/nic_AMDA0097-0001_4x10_1x40");
}
