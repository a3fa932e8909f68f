//! The NSP's port table (ETH_RESCAN / ETH_CONTROL), 48 entries of 32 bytes
//! (nfpcore/nfp_nsp_eth.c:19-87; docs/nsp.md#eth-table).

/// `NSP_ETH_MAX_COUNT` (nfp_nsp_eth.c:19-20): 2 NBIs x 24 ports.
pub const NSP_ETH_MAX_COUNT: usize = 48;
/// Size of one `struct eth_table_entry` (nfp_nsp_eth.c:76-98).
pub const NSP_ETH_ENTRY_SIZE: usize = 32;
/// `NSP_ETH_TABLE_SIZE`.
pub const NSP_ETH_TABLE_SIZE: usize = NSP_ETH_MAX_COUNT * NSP_ETH_ENTRY_SIZE;

/// `port` word: lanes of the port, bits 3:0 (nfp_nsp_eth.c:24).
const NSP_ETH_PORT_LANES: u64 = 0xf;
/// `port` word: the port's index (`NSP_ETH_PORT_INDEX`, bits 15:8) (nfp_nsp_eth.c:25).
const NSP_ETH_PORT_INDEX_SHIFT: u32 = 8;
/// `port` word: the port label (`NSP_ETH_PORT_LABEL`, bits 53:48) (nfp_nsp_eth.c:26).
const NSP_ETH_PORT_LABEL_SHIFT: u32 = 48;
/// `port` word: the physical label (`NSP_ETH_PORT_PHYLABEL`, bits 59:54) (nfp_nsp_eth.c:27).
const NSP_ETH_PORT_PHYLABEL_SHIFT: u32 = 54;
/// `port` word: BASE-R FEC supported (nfp_nsp_eth.c:28).
const NSP_ETH_PORT_FEC_SUPP_BASER: u64 = 1 << 60;
/// `port` word: Reed-Solomon FEC supported (nfp_nsp_eth.c:29).
const NSP_ETH_PORT_FEC_SUPP_RS: u64 = 1 << 61;
/// `port` word: autonegotiation supported (nfp_nsp_eth.c:30).
const NSP_ETH_PORT_SUPP_ANEG: u64 = 1 << 63;

/// `state` word: the port is configured (nfp_nsp_eth.c:34).
const NSP_ETH_STATE_CONFIGURED: u64 = 1 << 0;
/// `state` word: the port is enabled (nfp_nsp_eth.c:35).
const NSP_ETH_STATE_ENABLED: u64 = 1 << 1;
/// `state` word: transmit enabled (nfp_nsp_eth.c:36).
const NSP_ETH_STATE_TX_ENABLED: u64 = 1 << 2;
/// `state` word: receive enabled (nfp_nsp_eth.c:37).
const NSP_ETH_STATE_RX_ENABLED: u64 = 1 << 3;
/// `state` word: the link rate (`NSP_ETH_STATE_RATE`, bits 11:8) (nfp_nsp_eth.c:38).
const NSP_ETH_STATE_RATE_SHIFT: u32 = 8;
/// `state` word: the interface type (`NSP_ETH_STATE_INTERFACE`, bits 19:12) (nfp_nsp_eth.c:39).
const NSP_ETH_STATE_INTERFACE_SHIFT: u32 = 12;
/// `state` word: the media (`NSP_ETH_STATE_MEDIA`, bits 21:20) (nfp_nsp_eth.c:40).
const NSP_ETH_STATE_MEDIA_SHIFT: u32 = 20;
/// `state` word: the autonegotiation mode (`NSP_ETH_STATE_ANEG`, bits 25:23) (nfp_nsp_eth.c:42).
const NSP_ETH_STATE_ANEG_SHIFT: u32 = 23;
/// `state` word: the configured FEC (`NSP_ETH_STATE_FEC`, bits 27:26) (nfp_nsp_eth.c:43).
const NSP_ETH_STATE_FEC_SHIFT: u32 = 26;
/// `state` word: the active FEC (`NSP_ETH_STATE_ACT_FEC`, bits 29:28) (nfp_nsp_eth.c:44).
const NSP_ETH_STATE_ACT_FEC_SHIFT: u32 = 28;
/// `state` word: TX pause frames on (nfp_nsp_eth.c:45).
const NSP_ETH_STATE_TX_PAUSE: u64 = 1 << 31;
/// `state` word: RX pause frames on (nfp_nsp_eth.c:46).
const NSP_ETH_STATE_RX_PAUSE: u64 = 1 << 32;

/// `control` word: the values a SET writes, `NSP_ETH_CTRL_CONFIGURED`, `_ENABLED`, `_TX_ENABLED`, `_RX_ENABLED` (bits 3:0) (nfp_nsp_eth.c:48-51).
const NSP_ETH_CTRL_VALUE_BITS: u64 = 0xf;
/// `control` word: set the rate (nfp_nsp_eth.c:52).
const NSP_ETH_CTRL_SET_RATE: u64 = 1 << 4;
/// `control` word: set the lanes (nfp_nsp_eth.c:53).
const NSP_ETH_CTRL_SET_LANES: u64 = 1 << 5;
/// `control` word: set the autonegotiation mode (nfp_nsp_eth.c:54).
const NSP_ETH_CTRL_SET_ANEG: u64 = 1 << 6;
/// `control` word: set the FEC mode (nfp_nsp_eth.c:55).
const NSP_ETH_CTRL_SET_FEC: u64 = 1 << 7;
/// `control` word: set the identification (LED) mode (nfp_nsp_eth.c:56).
const NSP_ETH_CTRL_SET_IDMODE: u64 = 1 << 8;
/// `control` word: set TX pause (nfp_nsp_eth.c:57).
const NSP_ETH_CTRL_SET_TX_PAUSE: u64 = 1 << 10;
/// `control` word: set RX pause (nfp_nsp_eth.c:58).
const NSP_ETH_CTRL_SET_RX_PAUSE: u64 = 1 << 11;

/// `RATE_10G` (nfp_nsp_eth.c:69-76).
pub const NSP_ETH_RATE_10G: u8 = 4;
/// `RATE_25G` (nfp_nsp_eth.c:69-76).
pub const NSP_ETH_RATE_25G: u8 = 5;
/// `NFP_INTERFACE_SFPP` (nfp_nsp.h:76): SFP+.
pub const NFP_INTERFACE_SFPP: u8 = 10;
/// `NFP_INTERFACE_SFP28` (nfp_nsp.h:77).
pub const NFP_INTERFACE_SFP28: u8 = 28;
/// `NFP_INTERFACE_QSFP` (nfp_nsp.h:78): QSFP+.
pub const NFP_INTERFACE_QSFP: u8 = 40;
/// `NFP_MEDIA_DAC_PASSIVE` (nfp_nsp.h).
pub const NFP_MEDIA_DAC_PASSIVE: u8 = 0;
/// `NFP_MEDIA_25GBASE_CR` and `_CR_S` bits of the READ_MEDIA link-mode
/// words (enum nfp_ethtool_link_mode_list, nfp_nsp.h:106-146).
pub const NFP_MEDIA_25GBASE_CR: u32 = 18;
/// `NFP_MEDIA_25GBASE_CR_S` bit of the media masks (nfp_nsp.h:122-160).
pub const NFP_MEDIA_25GBASE_CR_S: u32 = 19;
/// `NFP_MEDIA_10GBASE_CR` bit of the media masks (nfp_nsp.h:120).
pub const NFP_MEDIA_10GBASE_CR: u32 = 13;
/// `NFP_MEDIA_40GBASE_CR4` bit of the media masks (nfp_nsp.h:128).
pub const NFP_MEDIA_40GBASE_CR4: u32 = 21;

/// One physical port as the NSP describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthPort {
    /// Table position = the chip-wide port index (MAC stats slot, devlink
    /// port index).
    pub index: usize,
    /// Index in the ETH table.
    pub eth_index: u8,
    /// Front-panel port label.
    pub label_port: u8,
    /// Sub-port label (breakout).
    pub label_subport: u8,
    /// Serdes lanes.
    pub lanes: u8,
    /// Lane rate code (`RATE_*`).
    pub rate: u8,
    /// Interface (module) type.
    pub interface: u8,
    /// Media type.
    pub media: u8,
    /// MAC address.
    pub mac: [u8; 6],
    /// Port configured (ifup).
    pub configured: bool,
    /// Port enabled.
    pub enabled: bool,
    /// Transmit enabled.
    pub tx_enabled: bool,
    /// Receive enabled.
    pub rx_enabled: bool,
    /// Auto-negotiation mode.
    pub aneg: u8,
    /// FEC mode.
    pub fec: u8,
    /// Transmit pause frames.
    pub tx_pause: bool,
    /// Receive pause frames.
    pub rx_pause: bool,
    /// Identify (LED blink) mode requested with SET_IDMODE.
    pub identify: bool,
}

impl EthPort {
    /// A 25G SFP28 port with a passive DAC, up and configured (other
    /// boards' ports start from it, `super::board`).
    pub fn sfp28_25g(index: usize, eth_index: u8, label_port: u8, mac: [u8; 6]) -> Self {
        Self {
            index,
            eth_index,
            label_port,
            label_subport: 0,
            lanes: 1,
            rate: NSP_ETH_RATE_25G,
            interface: NFP_INTERFACE_SFP28,
            media: NFP_MEDIA_DAC_PASSIVE,
            mac,
            configured: true,
            enabled: true,
            tx_enabled: true,
            rx_enabled: true,
            aneg: 0,
            fec: 0,
            tx_pause: true,
            rx_pause: true,
            identify: false,
        }
    }

    /// Link speed in Mb/s (`lanes x rate`, nfp_nsp_eth.c:152-153).
    pub fn speed_mbps(&self) -> u32 {
        let per_lane = match self.rate {
            1 => 10,
            2 => 100,
            3 => 1000,
            4 => 10_000,
            5 => 25_000,
            _ => 0,
        };
        u32::from(self.lanes) * per_lane
    }

    fn state_word(&self) -> u64 {
        let mut s = 0;
        s |= if self.configured {
            NSP_ETH_STATE_CONFIGURED
        } else {
            0
        };
        s |= if self.enabled {
            NSP_ETH_STATE_ENABLED
        } else {
            0
        };
        s |= if self.tx_enabled {
            NSP_ETH_STATE_TX_ENABLED
        } else {
            0
        };
        s |= if self.rx_enabled {
            NSP_ETH_STATE_RX_ENABLED
        } else {
            0
        };
        s |= u64::from(self.rate & 0xf) << NSP_ETH_STATE_RATE_SHIFT;
        s |= u64::from(self.interface) << NSP_ETH_STATE_INTERFACE_SHIFT;
        s |= u64::from(self.media & 3) << NSP_ETH_STATE_MEDIA_SHIFT;
        s |= u64::from(self.aneg & 7) << NSP_ETH_STATE_ANEG_SHIFT;
        s |= u64::from(self.fec & 3) << NSP_ETH_STATE_FEC_SHIFT;
        s |= u64::from(self.fec & 3) << NSP_ETH_STATE_ACT_FEC_SHIFT;
        s |= if self.tx_pause {
            NSP_ETH_STATE_TX_PAUSE
        } else {
            0
        };
        s |= if self.rx_pause {
            NSP_ETH_STATE_RX_PAUSE
        } else {
            0
        };
        s
    }

    fn entry(&self) -> [u8; NSP_ETH_ENTRY_SIZE] {
        let port = u64::from(self.lanes) & NSP_ETH_PORT_LANES
            | u64::from(self.eth_index) << NSP_ETH_PORT_INDEX_SHIFT
            | u64::from(self.label_subport & 0x3f) << NSP_ETH_PORT_LABEL_SHIFT
            | u64::from(self.label_port & 0x3f) << NSP_ETH_PORT_PHYLABEL_SHIFT
            | NSP_ETH_PORT_FEC_SUPP_BASER
            | NSP_ETH_PORT_FEC_SUPP_RS
            | NSP_ETH_PORT_SUPP_ANEG;
        let state = self.state_word();
        let mut e = [0u8; NSP_ETH_ENTRY_SIZE];
        e[0..8].copy_from_slice(&port.to_le_bytes());
        e[8..16].copy_from_slice(&state.to_le_bytes());
        // MACs are stored byte-reversed (nfp_nsp_eth.c:123-129).
        for i in 0..6 {
            e[16 + 5 - i] = self.mac[i];
        }
        // The control word mirrors the current values so a driver that
        // changes one bit keeps the others (nfp_eth_set_configured()).
        e[24..32].copy_from_slice(&(state & NSP_ETH_CTRL_VALUE_BITS).to_le_bytes());
        e
    }
}

/// The port table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EthTable {
    /// The ports, in table order.
    pub ports: Vec<EthPort>,
}

/// Why an ETH_CONTROL request was refused (the NSP answers EINVAL).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EthControlError {
    #[error("ETH_CONTROL table is {0} bytes, expected {NSP_ETH_TABLE_SIZE}")]
    /// The table the driver wrote is too short.
    Size(usize),
    #[error(
        "port {index}: rate {rate} x {lanes} lanes differs from the board's port mode \
         (change the mode with nfp-emu --board)"
    )]
    /// A port asked for a rate or lane count other than its board mode's.
    Rate {
        /// The port's index in the table.
        index: usize,
        /// The rate code asked for.
        rate: u8,
        /// The port's lanes.
        lanes: u8,
    },
}

impl EthTable {
    /// Agilio CX with `n` SFP28 ports at table positions 0 and 4 (MAC lanes
    /// 0-3 and 4-7), labelled 0.. (docs/nsp.md#eth-table).
    pub fn agilio_cx(macs: &[[u8; 6]]) -> Self {
        Self {
            ports: macs
                .iter()
                .enumerate()
                .map(|(i, &mac)| EthPort::sfp28_25g(i * 4, i as u8, i as u8, mac))
                .collect(),
        }
    }

    /// The table as ETH_RESCAN returns it.
    pub fn encode(&self) -> Vec<u8> {
        let mut t = vec![0u8; NSP_ETH_TABLE_SIZE];
        for p in &self.ports {
            if p.index < NSP_ETH_MAX_COUNT {
                let o = p.index * NSP_ETH_ENTRY_SIZE;
                t[o..o + NSP_ETH_ENTRY_SIZE].copy_from_slice(&p.entry());
            }
        }
        t
    }

    /// The port with this ETH table index.
    pub fn by_eth_index(&self, eth_index: u8) -> Option<&EthPort> {
        self.ports.iter().find(|p| p.eth_index == eth_index)
    }

    /// Apply an ETH_CONTROL table: for each present port, the value bits of
    /// `control` become the new state, and each SET_* bit applies the
    /// matching field of the entry's `state` word. All-or-nothing.
    pub fn apply_control(&mut self, table: &[u8]) -> Result<(), EthControlError> {
        if table.len() < NSP_ETH_TABLE_SIZE {
            return Err(EthControlError::Size(table.len()));
        }
        let mut next = self.ports.clone();
        for (p, now) in next.iter_mut().zip(&self.ports) {
            let o = p.index * NSP_ETH_ENTRY_SIZE;
            let e = &table[o..o + NSP_ETH_ENTRY_SIZE];
            let word = |i: usize| u64::from_le_bytes(e[i * 8..i * 8 + 8].try_into().expect("8"));
            let (port, state, control) = (word(0), word(1), word(3));
            p.configured = control & 1 != 0;
            p.enabled = control & 2 != 0;
            p.tx_enabled = control & 4 != 0;
            p.rx_enabled = control & 8 != 0;
            if control & NSP_ETH_CTRL_SET_RATE != 0 {
                p.rate = ((state >> NSP_ETH_STATE_RATE_SHIFT) & 0xf) as u8;
            }
            if control & NSP_ETH_CTRL_SET_LANES != 0 {
                p.lanes = (port & NSP_ETH_PORT_LANES) as u8;
            }
            if (p.rate, p.lanes) != (now.rate, now.lanes) {
                return Err(EthControlError::Rate {
                    index: p.index,
                    rate: p.rate,
                    lanes: p.lanes,
                });
            }
            if control & NSP_ETH_CTRL_SET_ANEG != 0 {
                p.aneg = ((state >> NSP_ETH_STATE_ANEG_SHIFT) & 7) as u8;
            }
            if control & NSP_ETH_CTRL_SET_FEC != 0 {
                p.fec = ((state >> NSP_ETH_STATE_FEC_SHIFT) & 3) as u8;
            }
            if control & NSP_ETH_CTRL_SET_IDMODE != 0 {
                p.identify = !p.identify;
            }
            if control & NSP_ETH_CTRL_SET_TX_PAUSE != 0 {
                p.tx_pause = state & NSP_ETH_STATE_TX_PAUSE != 0;
            }
            if control & NSP_ETH_CTRL_SET_RX_PAUSE != 0 {
                p.rx_pause = state & NSP_ETH_STATE_RX_PAUSE != 0;
            }
        }
        self.ports = next;
        Ok(())
    }

    /// READ_MEDIA answer for `eth_index`: (supported, advertised) link-mode
    /// words.
    pub fn media(&self, eth_index: u8) -> Option<([u64; 2], [u64; 2])> {
        let p = self.by_eth_index(eth_index)?;
        let modes = match p.speed_mbps() {
            10_000 => 1u64 << NFP_MEDIA_10GBASE_CR,
            25_000 => (1u64 << NFP_MEDIA_25GBASE_CR) | (1 << NFP_MEDIA_25GBASE_CR_S),
            40_000 => 1u64 << NFP_MEDIA_40GBASE_CR4,
            _ => 0,
        };
        Some(([modes, 0], [modes, 0]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> EthTable {
        EthTable::agilio_cx(&[[0, 0x15, 0x4d, 0, 0, 1], [0, 0x15, 0x4d, 0, 0, 2]])
    }

    fn word(t: &[u8], pos: usize, w: usize) -> u64 {
        let o = pos * 32 + w * 8;
        u64::from_le_bytes(t[o..o + 8].try_into().unwrap())
    }

    #[test]
    fn two_port_table_matches_the_driver_layout() {
        let t = table().encode();
        assert_eq!(t.len(), 1536);
        // Positions 0 and 4 present (lanes != 0), everything else empty.
        let present: Vec<usize> = (0..48).filter(|&i| word(&t, i, 0) & 0xf != 0).collect();
        assert_eq!(present, [0, 4]);
        let p1 = word(&t, 4, 0);
        assert_eq!(p1 & 0xf, 1, "lanes");
        assert_eq!((p1 >> 8) & 0xff, 1, "eth_index");
        assert_eq!((p1 >> 54) & 0x3f, 1, "label_port");
        assert_eq!((p1 >> 48) & 0x3f, 0, "label_subport");
        // configured|enabled|tx|rx, 25G, SFP28, DAC, no override change.
        let s = word(&t, 0, 1);
        assert_eq!(s & 0x003f_ffff, 0x1c50f);
        assert_eq!(s & (1 << 22), 0, "OVRD_CHNG must stay 0");
        // MAC byte-reversed.
        assert_eq!(&t[4 * 32 + 16..4 * 32 + 22], &[2, 0, 0, 0x4d, 0x15, 0]);
    }

    #[test]
    fn eth_control_applies_values_and_set_bits() {
        let mut e = table();
        let mut t = e.encode();
        // ifdown of port 1: clear CONFIGURED in its control word.
        let o = 4 * 32 + 24;
        let c = word(&t, 4, 3) & !1;
        t[o..o + 8].copy_from_slice(&c.to_le_bytes());
        e.apply_control(&t).unwrap();
        assert!(!e.ports[1].configured);
        assert!(e.ports[1].enabled);
        assert!(e.ports[0].configured, "other port untouched");
        // A rate change the port cannot do is refused and changes nothing.
        let before = e.clone();
        let mut t = e.encode();
        let s = (word(&t, 0, 1) & !(0xf << 8)) | (4 << 8);
        t[8..16].copy_from_slice(&s.to_le_bytes());
        let c = word(&t, 0, 3) | NSP_ETH_CTRL_SET_RATE;
        t[24..32].copy_from_slice(&c.to_le_bytes());
        assert!(matches!(
            e.apply_control(&t),
            Err(EthControlError::Rate { .. })
        ));
        assert_eq!(e, before);
        assert!(matches!(
            e.apply_control(&t[..100]),
            Err(EthControlError::Size(100))
        ));
    }

    #[test]
    fn media_words() {
        let (sup, adv) = table().media(1).unwrap();
        assert_eq!(sup[0], (1 << 18) | (1 << 19));
        assert_eq!(sup, adv);
        assert!(table().media(7).is_none());
    }
}
