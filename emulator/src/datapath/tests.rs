//! Frames across the loopback cable between the two ports of one card.

use super::*;
use crate::datapath::pkt::tests::tcp4;

#[test]
fn mac_counters_count_frames_and_sizes() {
    let m = MacStats::default();
    m.count(&[0u8; 60], true);
    m.count(&[0xffu8; 1514], true);
    m.count(&[0u8; 200], false);
    assert_eq!(m.get(mac::RX_FRAMES_RECEIVED_OK), 2);
    assert_eq!(m.get(mac::RX_IN_OCTETS), 64 + 1518);
    assert_eq!(m.get(mac::RX_PKTS_64_OCTETS), 1);
    assert_eq!(m.get(mac::RX_PKTS_1024_TO_1518_OCTETS), 1);
    assert_eq!(m.get(mac::RX_IN_BROADCAST_PKTS), 1);
    assert_eq!(m.get(mac::TX_FRAMES_TRANSMITTED_OK), 1);
    assert_eq!(m.get(mac::TX_PKTS_128_TO_255_OCTETS), 1);
}

#[test]
fn loopback_cable_moves_frames_between_ports() {
    let dp = Datapath::new(
        256,
        &[PortSpec::Loop(1), PortSpec::Loop(0)],
        vec![0, 4],
        None,
    )
    .unwrap();
    dp.start();
    assert!(dp.link_up(0) && dp.link_up(1));
    let f = tcp4(b"across the cable", 1, 0x18);
    dp.wire_tx(0, &f);
    // No firmware attached: the frame arrives at port 1's MAC and is dropped
    // there (no vNIC), counted by the MAC.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while dp.mac_stats[1].get(mac::RX_DROP_EVENTS) == 0 {
        assert!(std::time::Instant::now() < deadline, "frame never arrived");
        std::thread::yield_now();
    }
    assert_eq!(dp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK), 1);
    assert_eq!(dp.mac_stats[1].get(mac::RX_FRAMES_RECEIVED_OK), 1);
}

#[test]
fn mac_stats_overlay_reads_the_port_slot() {
    let dp = Datapath::new(256, &[PortSpec::None, PortSpec::None], vec![0, 4], None).unwrap();
    assert!(!dp.link_up(0));
    dp.attach(Vec::new(), Some(0x18_0086_0c00));
    dp.mac_stats[1].add(mac::TX_OUT_OCTETS, 1234);
    let mut b = [0u8; 8];
    dp.overlay_read(
        0x18_0086_0c00 + 4 * NFP_MAC_STATS_SIZE + mac::TX_OUT_OCTETS as u64,
        &mut b,
    );
    assert_eq!(u64::from_le_bytes(b), 1234);
    // Port 0's slot is untouched.
    dp.overlay_read(0x18_0086_0c00 + mac::TX_OUT_OCTETS as u64, &mut b);
    assert_eq!(u64::from_le_bytes(b), 0);
}
