//! Board models: the NFP-4000 Agilio CX boards Debian's firmware-netronome
//! ships images for, their cages and the port modes their images are built
//! for. A board and a port mode make the service processor's hwinfo
//! (assembly part number, model, product name) and ETH table (ports,
//! lanes, speed, interface, media), and so the firmware file name the
//! driver asks for (`nic_<assembly>_<N>x<S>...nffw`, [`fw_file_name`]).
//!
//! Where each port sits: a port's ETH table index is its first MAC SerDes
//! lane; cage `c` starts at lane `4c`, a breakout port `s` of a QSFP cage
//! uses lane `4c + s` (the port-to-SerDes maps of Netronome's nic-firmware
//! `include/platform.h`, platforms Hydrogen = AMDA0081, Lithium = AMDA0096,
//! Beryllium = AMDA0097, Carbon = AMDA0099). See docs/boards.md.

use super::eth::{
    EthPort, NFP_INTERFACE_QSFP, NFP_INTERFACE_SFP28, NFP_INTERFACE_SFPP, NSP_ETH_RATE_10G,
    NSP_ETH_RATE_25G,
};

/// The kind of a front-panel cage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cage {
    /// SFP+ (one lane, 10G).
    SfpPlus,
    /// SFP28 (one lane, 10G or 25G).
    Sfp28,
    /// QSFP+ (four lanes: one 40G port or four 10G breakout ports).
    Qsfp,
}

impl Cage {
    /// SerDes lanes of the cage.
    pub fn lanes(self) -> u8 {
        match self {
            Self::SfpPlus | Self::Sfp28 => 1,
            Self::Qsfp => 4,
        }
    }
}

/// An Agilio board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// `assembly.partno`, e.g. `AMDA0099-0001`.
    pub assembly: &'static str,
    /// `assembly.model`: the platform name in Netronome's nic-firmware.
    pub model: &'static str,
    /// `pn`: the product name (devlink `board.part_number`).
    pub product: &'static str,
    /// The front-panel cages, in label order.
    pub cages: &'static [Cage],
    /// The port modes Debian's firmware-netronome has images for (the
    /// first is the board's default), as in the file names.
    pub modes: &'static [&'static str],
}

/// Every board `--board` knows, the default first.
pub const BOARDS: [Board; 4] = [
    Board {
        assembly: "AMDA0099-0001",
        model: "carbon",
        product: "Agilio-CX-2x25GbE",
        cages: &[Cage::Sfp28, Cage::Sfp28],
        modes: &["2x25", "2x10", "1x10_1x25"],
    },
    Board {
        assembly: "AMDA0096-0001",
        model: "lithium",
        product: "Agilio-CX-2x10GbE",
        cages: &[Cage::SfpPlus, Cage::SfpPlus],
        modes: &["2x10"],
    },
    Board {
        assembly: "AMDA0081-0001",
        model: "hydrogen",
        product: "Agilio-CX-1x40GbE",
        cages: &[Cage::Qsfp],
        modes: &["1x40", "4x10"],
    },
    Board {
        assembly: "AMDA0097-0001",
        model: "beryllium",
        product: "Agilio-CX-2x40GbE",
        cages: &[Cage::Qsfp, Cage::Qsfp],
        modes: &["2x40", "4x10_1x40", "8x10"],
    },
];

/// Boards of the NFP-6000 (Agilio LX) Debian also ships images for, which
/// the card does not model (docs/boards.md says why).
pub const NFP6000_BOARDS: [&str; 3] = ["AMDA0058-0011", "AMDA0058-0012", "AMDA0078-0011"];

/// Most ports of a board (the AMDA0097 in 8x10).
pub const MAX_PORTS: usize = 8;

/// One port of a board in a mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortLayout {
    /// ETH table index: the port's first MAC SerDes lane.
    pub index: usize,
    /// Front-panel cage (`label_port`).
    pub cage: u8,
    /// Breakout sub-port (`label_subport`), 0 for a whole cage.
    pub subport: u8,
    /// SerDes lanes.
    pub lanes: u8,
    /// Lane rate (`RATE_*`).
    pub rate: u8,
    /// Interface (module) type.
    pub interface: u8,
    /// Speed in Gbit/s.
    pub speed_gbps: u32,
}

/// Why a `--board` value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    /// Not an assembly this emulator knows.
    #[error("unknown board {0:?}; known boards: {known}", known = known_boards())]
    Unknown(String),
    /// An NFP-6000 board.
    #[error(
        "{0} is an Agilio LX (NFP-6000) board, which nfp-emu does not model (it emulates the \
         NFP-4000); known boards: {known}",
        known = known_boards()
    )]
    Nfp6000(String),
    /// A port mode that is not `NxS[_NxS...]`.
    #[error("bad port mode {0:?}: expected NxS[_NxS...] such as 2x25 or 4x10_1x40")]
    Syntax(String),
    /// A port mode the board's cages cannot run.
    #[error("{assembly} cannot run {mode}: its cages are {cages}")]
    Mode {
        /// The board.
        assembly: &'static str,
        /// The mode asked for.
        mode: String,
        /// Its cages.
        cages: String,
    },
    /// More ports asked for than the mode has.
    #[error("{assembly} in mode {mode} has {has} port(s), not {asked}")]
    Ports {
        /// The board.
        assembly: &'static str,
        /// Its mode.
        mode: String,
        /// Ports of the mode.
        has: usize,
        /// Ports asked for.
        asked: usize,
    },
}

fn known_boards() -> String {
    BOARDS
        .iter()
        .map(|b| format!("{} ({})", b.assembly, b.modes.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A board, the port mode it runs and how many of its ports are in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardConfig {
    /// The board.
    pub board: Board,
    /// Its ports in use, in ETH table order.
    pub ports: Vec<PortLayout>,
}

impl Default for BoardConfig {
    /// The AMDA0099-0001 (Agilio CX 2x25GbE) with both ports.
    fn default() -> Self {
        Self::parse(BOARDS[0].assembly, None).expect("the default board is valid")
    }
}

/// Parse a port mode `NxS[_NxS...]` into port speeds in Gbit/s.
fn parse_mode(mode: &str) -> Option<Vec<u32>> {
    let mut speeds = Vec::new();
    for group in mode.split('_') {
        let (n, s) = group.split_once('x')?;
        let (n, s): (usize, u32) = (n.parse().ok()?, s.parse().ok()?);
        if n == 0 || speeds.len() + n > MAX_PORTS {
            return None;
        }
        speeds.extend(std::iter::repeat_n(s, n));
    }
    Some(speeds)
}

/// Lay ports of `speeds` out on `cages` in order: a QSFP cage takes one
/// 40G port or four 10G ports, an SFP28 cage one 10G or 25G port, an SFP+
/// cage one 10G port.
fn layout(cages: &[Cage], speeds: &[u32]) -> Option<Vec<PortLayout>> {
    let mut ports = Vec::new();
    let mut rest = speeds;
    for (c, &cage) in cages.iter().enumerate() {
        let Some(&speed) = rest.first() else { break };
        let base = 4 * c;
        let port = |subport: u8, lanes: u8, rate: u8, interface: u8| PortLayout {
            index: base + usize::from(subport),
            cage: c as u8,
            subport,
            lanes,
            rate,
            interface,
            speed_gbps: speed,
        };
        match (cage, speed) {
            (Cage::Qsfp, 40) => ports.push(port(0, 4, NSP_ETH_RATE_10G, NFP_INTERFACE_QSFP)),
            (Cage::Qsfp, 10) => {
                if rest.len() < 4 || rest[..4].iter().any(|&s| s != 10) {
                    return None;
                }
                for s in 0..4 {
                    ports.push(port(s, 1, NSP_ETH_RATE_10G, NFP_INTERFACE_QSFP));
                }
                rest = &rest[3..];
            }
            (Cage::Sfp28, 25) => ports.push(port(0, 1, NSP_ETH_RATE_25G, NFP_INTERFACE_SFP28)),
            (Cage::Sfp28 | Cage::SfpPlus, 10) => {
                ports.push(port(0, 1, NSP_ETH_RATE_10G, NFP_INTERFACE_SFPP));
            }
            _ => return None,
        }
        rest = &rest[1..];
    }
    rest.is_empty().then_some(ports)
}

impl BoardConfig {
    /// `ASSEMBLY[:MODE]` as `--board` takes it (the board's default mode
    /// when none is given), with the first `ports` ports in use (all when
    /// `None`).
    pub fn parse(spec: &str, ports: Option<usize>) -> Result<Self, BoardError> {
        let (assembly, mode) = match spec.split_once(':') {
            Some((a, m)) => (a, Some(m)),
            None => (spec, None),
        };
        let Some(board) = BOARDS
            .iter()
            .find(|b| b.assembly.eq_ignore_ascii_case(assembly))
        else {
            if NFP6000_BOARDS
                .iter()
                .any(|b| b.eq_ignore_ascii_case(assembly))
            {
                return Err(BoardError::Nfp6000(assembly.to_string()));
            }
            return Err(BoardError::Unknown(assembly.to_string()));
        };
        let mode = mode.unwrap_or(board.modes[0]);
        let speeds = parse_mode(mode).ok_or_else(|| BoardError::Syntax(mode.to_string()))?;
        let mut all = layout(board.cages, &speeds).ok_or_else(|| BoardError::Mode {
            assembly: board.assembly,
            mode: mode.to_string(),
            cages: format!("{:?}", board.cages),
        })?;
        if let Some(n) = ports {
            if n == 0 || n > all.len() {
                return Err(BoardError::Ports {
                    assembly: board.assembly,
                    mode: mode.to_string(),
                    has: all.len(),
                    asked: n,
                });
            }
            all.truncate(n);
        }
        Ok(Self {
            board: *board,
            ports: all,
        })
    }

    /// The ETH table ports with these MACs (one per port in use).
    pub fn eth_ports(&self, mac: impl Fn(u8) -> [u8; 6]) -> Vec<EthPort> {
        self.ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut e = EthPort::sfp28_25g(p.index, i as u8, p.cage, mac(i as u8));
                e.label_subport = p.subport;
                e.lanes = p.lanes;
                e.rate = p.rate;
                e.interface = p.interface;
                e
            })
            .collect()
    }

    /// The port mode of the ports in use, as the driver writes it into the
    /// firmware file name: runs of equal speed, `_<count>x<speed>` each.
    pub fn mode(&self) -> String {
        let speeds: Vec<u32> = self.ports.iter().map(|p| p.speed_gbps).collect();
        runs(&speeds)
    }
}

/// `NxS_NxS...` of consecutive equal speeds.
fn runs(speeds: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < speeds.len() {
        let j = speeds[i..].iter().take_while(|&&s| s == speeds[i]).count();
        out.push(format!("{j}x{}", speeds[i]));
        i += j;
    }
    out.join("_")
}

/// The file name `nfp_net_fw_find` (nfp_main.c:379-443) asks for last:
/// `netronome/nic_<partno>` and, for each run of ports of one speed in the
/// ETH table, `_<count>x<speed in Gbit/s>`, then `.nffw`. Written from
/// the driver's loop so the board tables can be checked against it.
pub fn fw_file_name(partno: &str, eth: &[EthPort]) -> String {
    let mut name = format!("netronome/nic_{partno}");
    let mut i = 0;
    while i < eth.len() {
        let speed = eth[i].speed_mbps();
        let mut j = 1;
        while i + j < eth.len() && eth[i + j].speed_mbps() == speed {
            j += 1;
        }
        name.push_str(&format!("_{j}x{}", speed / 1000));
        i += j;
    }
    name + ".nffw"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(spec: &str) -> BoardConfig {
        BoardConfig::parse(spec, None).unwrap()
    }

    fn name(c: &BoardConfig) -> String {
        fw_file_name(c.board.assembly, &c.eth_ports(|p| [0, 0x15, 0x4d, 0, 0, p]))
    }

    /// Every board in every mode makes the driver ask for the file Debian
    /// ships for it (firmware-netronome 20250410: `netronome/nic_*.nffw`
    /// and its bpf/, nic/, nic-sriov/, flower/ directories).
    #[test]
    fn each_board_requests_debians_file_name() {
        let debian = [
            "nic_AMDA0081-0001_1x40.nffw",
            "nic_AMDA0081-0001_4x10.nffw",
            "nic_AMDA0096-0001_2x10.nffw",
            "nic_AMDA0097-0001_2x40.nffw",
            "nic_AMDA0097-0001_4x10_1x40.nffw",
            "nic_AMDA0097-0001_8x10.nffw",
            "nic_AMDA0099-0001_1x10_1x25.nffw",
            "nic_AMDA0099-0001_2x10.nffw",
            "nic_AMDA0099-0001_2x25.nffw",
        ];
        let mut made = Vec::new();
        for b in BOARDS {
            for m in b.modes {
                let c = cfg(&format!("{}:{m}", b.assembly));
                assert_eq!(c.mode(), *m);
                made.push(name(&c).trim_start_matches("netronome/").to_string());
            }
        }
        made.sort();
        assert_eq!(made, debian);
        assert_eq!(
            name(&cfg("AMDA0097-0001")),
            "netronome/nic_AMDA0097-0001_2x40.nffw"
        );
        assert_eq!(
            name(&cfg("amda0081-0001")),
            "netronome/nic_AMDA0081-0001_1x40.nffw"
        );
    }

    /// The ETH tables: indices at the MAC lanes of nic-firmware's
    /// platform.h, breakout ports as sub-ports of their cage.
    #[test]
    fn eth_tables() {
        let idx = |s: &str| -> Vec<(usize, u8, u8, u8, u32)> {
            cfg(s)
                .eth_ports(|_| [0; 6])
                .iter()
                .map(|p| {
                    (
                        p.index,
                        p.label_port,
                        p.label_subport,
                        p.lanes,
                        p.speed_mbps(),
                    )
                })
                .collect()
        };
        assert_eq!(
            idx("AMDA0099-0001"),
            [(0, 0, 0, 1, 25_000), (4, 1, 0, 1, 25_000)]
        );
        assert_eq!(
            idx("AMDA0099-0001:1x10_1x25"),
            [(0, 0, 0, 1, 10_000), (4, 1, 0, 1, 25_000)]
        );
        assert_eq!(
            idx("AMDA0096-0001"),
            [(0, 0, 0, 1, 10_000), (4, 1, 0, 1, 10_000)]
        );
        assert_eq!(idx("AMDA0081-0001"), [(0, 0, 0, 4, 40_000)]);
        assert_eq!(
            idx("AMDA0081-0001:4x10"),
            [0, 1, 2, 3].map(|s| (s, 0, s as u8, 1, 10_000))
        );
        assert_eq!(
            idx("AMDA0097-0001:2x40"),
            [(0, 0, 0, 4, 40_000), (4, 1, 0, 4, 40_000)]
        );
        let mixed = idx("AMDA0097-0001:4x10_1x40");
        assert_eq!(mixed.len(), 5);
        assert_eq!(mixed[3], (3, 0, 3, 1, 10_000));
        assert_eq!(mixed[4], (4, 1, 0, 4, 40_000));
        let eight = idx("AMDA0097-0001:8x10");
        assert_eq!(
            eight.iter().map(|p| p.0).collect::<Vec<_>>(),
            (0..8).collect::<Vec<_>>()
        );
        assert_eq!(eight[5], (5, 1, 1, 1, 10_000));
        // Interfaces follow the cage and speed.
        let e = cfg("AMDA0099-0001:1x10_1x25").eth_ports(|_| [0; 6]);
        assert_eq!(
            (e[0].interface, e[1].interface),
            (NFP_INTERFACE_SFPP, NFP_INTERFACE_SFP28)
        );
        assert_eq!(
            cfg("AMDA0081-0001").eth_ports(|_| [0; 6])[0].interface,
            NFP_INTERFACE_QSFP
        );
    }

    /// The boards and modes are those the firmware crate builds the
    /// project's images for, so every board finds its file in the guest.
    #[test]
    fn boards_match_the_project_images() {
        let ours: Vec<(&str, Vec<&str>)> = BOARDS
            .iter()
            .map(|b| (b.assembly, b.modes.to_vec()))
            .collect();
        let fw: Vec<(&str, Vec<&str>)> = nfp_firmware::image::AGILIO_CX_BOARDS
            .iter()
            .map(|(a, m)| (*a, m.to_vec()))
            .collect();
        assert_eq!(ours, fw);
        for b in BOARDS {
            for m in b.modes {
                let c = cfg(&format!("{}:{m}", b.assembly));
                let spec = nfp_firmware::image::BoardSpec::new(b.assembly, m);
                assert_eq!(name(&c), format!("netronome/{}", spec.file_name()), "{m}");
                assert_eq!(spec.ports(), c.ports.len() as u64, "{m}");
            }
        }
    }

    #[test]
    fn ports_in_use_and_refusals() {
        let one = BoardConfig::parse("AMDA0099-0001", Some(1)).unwrap();
        assert_eq!(one.ports.len(), 1);
        assert_eq!(name(&one), "netronome/nic_AMDA0099-0001_1x25.nffw");
        let three = BoardConfig::parse("AMDA0097-0001:4x10_1x40", Some(3)).unwrap();
        assert_eq!(three.mode(), "3x10");
        assert!(matches!(
            BoardConfig::parse("AMDA0099-0001", Some(3)),
            Err(BoardError::Ports {
                has: 2,
                asked: 3,
                ..
            })
        ));
        assert!(matches!(
            BoardConfig::parse("AMDA0099-0001", Some(0)),
            Err(BoardError::Ports { .. })
        ));
        assert!(matches!(
            BoardConfig::parse("AMDA0058-0011", None),
            Err(BoardError::Nfp6000(_))
        ));
        assert!(matches!(
            BoardConfig::parse("AMDA9999", None),
            Err(BoardError::Unknown(_))
        ));
        for bad in [
            "AMDA0099-0001:2x40",
            "AMDA0096-0001:2x25",
            "AMDA0081-0001:2x40",
            "AMDA0081-0001:3x10",
            "AMDA0099-0001:3x25",
            "AMDA0097-0001:1x40_4x10_1x10",
        ] {
            assert!(
                matches!(BoardConfig::parse(bad, None), Err(BoardError::Mode { .. })),
                "{bad}"
            );
        }
        for bad in [
            "AMDA0099-0001:",
            "AMDA0099-0001:2x",
            "AMDA0099-0001:x25",
            "AMDA0099-0001:0x25",
            "AMDA0099-0001:9x10",
        ] {
            assert!(
                matches!(BoardConfig::parse(bad, None), Err(BoardError::Syntax(_))),
                "{bad}"
            );
        }
        // A mode may leave cages empty.
        assert_eq!(cfg("AMDA0097-0001:1x40").ports.len(), 1);
        let e = BoardError::Unknown("x".into()).to_string();
        assert!(e.contains("AMDA0097-0001 (2x40, 4x10_1x40, 8x10)"), "{e}");
        assert_eq!(BoardConfig::default(), cfg("AMDA0099-0001:2x25"));
    }
}
