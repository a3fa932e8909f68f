//! nfp-emu: a full-system emulator of the Netronome Agilio CX SmartNIC
//! (NFP-4000) served to QEMU over vfio-user.
//!
//! The tree follows the hardware: [`pcie`] is the PCIe function (config
//! space, expansion BARs, MSI-X), [`cpp`] the on-chip bus and its memories,
//! [`nsp`] the service processor, [`app`] the loaded application firmware,
//! [`nfd`] its host interface (vNICs, queue controller), [`dma`] the card's
//! view of guest memory, [`fp`] the flow processor that runs offloaded
//! programs, [`datapath`] the firmware's packet path between [`ports`] and
//! the host, [`maps`] the offloaded BPF maps, [`pkt`] packet parsing and
//! checksums; [`chip`] and [`card`] tie them together and [`vfio`]
//! presents the card to QEMU; [`bench`](mod@bench) runs a program on a card's
//! datapath in-process (`nfp-emu bench`). Every counter of the card is
//! reachable by name through [`counters::Counters`]. `testutil` (tests, and the `test-utils`
//! feature) holds the fixtures shared by unit tests, fuzz targets and
//! benches.

pub mod app;
pub mod bench;
pub mod card;
pub mod chip;
pub mod counters;
pub mod cpp;
pub mod datapath;
pub mod dma;
pub mod fp;
pub mod logging;
pub mod maps;
pub mod monitor;
pub mod nfd;
pub mod nsp;
pub mod pcie;
pub mod pkt;
pub mod ports;
#[cfg(any(test, feature = "test-utils"))]
pub mod testutil;
pub mod vfio;

pub use card::{Card, CardConfig};
