//! nfp-emu: a full-system emulator of the Netronome Agilio CX SmartNIC
//! (NFP-4000) served to QEMU over vfio-user.
//!
//! The tree follows the hardware: [`pcie`] is the PCIe function (config
//! space, BARs, MSI-X), [`dma`] the card's view of guest memory, [`card`] ties
//! them together and [`vfio`] presents the card to QEMU.

pub mod card;
pub mod dma;
pub mod logging;
pub mod pcie;
pub mod vfio;

pub use card::{Card, CardConfig};
