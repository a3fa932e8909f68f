//! The vfio-user face of the card: regions, interrupts and DMA as QEMU's
//! `vfio-user-pci` client sees them (rust-vmm `vfio_user` server).

use std::fs::File;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;

use tracing::{debug, info};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER,
    VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
    VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_REGIONS,
    VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, vfio_region_info,
};
use vfio_user::{DmaMapFlags, DmaUnmapFlags, IrqInfo, Server, ServerBackend, ServerRegion};

use crate::card::Card;
use crate::dma::DmaMapping;
use crate::pcie::NFP_BARS;
use crate::pcie::NFP_MSIX_VECTORS;
use crate::pcie::config::PCI_CFG_SPACE_EXP_SIZE;

/// Region table: the BARs of [`NFP_BARS`] and the 4 KiB config space.
pub fn regions() -> Vec<ServerRegion> {
    (0..VFIO_PCI_NUM_REGIONS)
        .map(|index| {
            let size = if index == VFIO_PCI_CONFIG_REGION_INDEX {
                PCI_CFG_SPACE_EXP_SIZE as u64
            } else {
                NFP_BARS
                    .iter()
                    .find(|b| b.index as u32 == index)
                    .map_or(0, |b| b.size)
            };
            let flags = if size > 0 {
                VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE
            } else {
                0
            };
            ServerRegion {
                region_info: vfio_region_info {
                    argsz: std::mem::size_of::<vfio_region_info>() as u32,
                    flags,
                    index,
                    cap_offset: 0,
                    size,
                    offset: 0,
                },
                sparse_areas: Vec::new(),
                mmap_fd: None,
            }
        })
        .collect()
}

/// Interrupt table: MSI-X only (no INTx pin, no MSI capability).
pub fn irqs() -> Vec<IrqInfo> {
    (0..VFIO_PCI_NUM_IRQS)
        .map(|index| {
            let (count, flags) = if index == VFIO_PCI_MSIX_IRQ_INDEX {
                (u32::from(NFP_MSIX_VECTORS), VFIO_IRQ_INFO_EVENTFD)
            } else {
                (0, 0)
            };
            IrqInfo {
                index,
                count,
                flags,
            }
        })
        .collect()
}

/// Adapter from the vfio-user server callbacks to the [`Card`].
pub struct VfioUserBackend {
    card: Arc<Card>,
}

impl VfioUserBackend {
    /// A backend serving `card`: region accesses go to its config space and
    /// BARs, DMA map/unmap to its guest-memory table, IRQ set-up to its
    /// MSI-X eventfds.
    pub fn new(card: Arc<Card>) -> Self {
        Self { card }
    }
}

fn region_name(region: u32) -> String {
    if region == VFIO_PCI_CONFIG_REGION_INDEX {
        "config".into()
    } else if region < 6 {
        format!("BAR{region}")
    } else {
        format!("region {region}")
    }
}

impl ServerBackend for VfioUserBackend {
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()> {
        match region {
            VFIO_PCI_CONFIG_REGION_INDEX => self.card.config_read(offset, data),
            0..=5 => self.card.bar_read(region as usize, offset, data),
            _ => {
                crate::guest_warn!(
                    "read of {} bytes at {} offset {offset:#x}: no such region",
                    data.len(),
                    region_name(region)
                );
                data.fill(0xff);
            }
        }
        Ok(())
    }

    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> io::Result<()> {
        match region {
            VFIO_PCI_CONFIG_REGION_INDEX => self.card.config_write(offset, data),
            0..=5 => self.card.bar_write(region as usize, offset, data),
            _ => crate::guest_warn!(
                "write of {} bytes at {} offset {offset:#x}: no such region; ignored",
                data.len(),
                region_name(region)
            ),
        }
        Ok(())
    }

    fn dma_map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> io::Result<()> {
        let mapping = DmaMapping {
            iova: address,
            size,
            offset,
            fd,
            readable: flags.contains(DmaMapFlags::READ),
            writable: flags.contains(DmaMapFlags::WRITE),
        };
        self.card.datapath().host.mem.map(mapping).map_err(|e| {
            crate::guest_warn!("{e}");
            io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
        })
    }

    fn dma_unmap(&mut self, flags: DmaUnmapFlags, address: u64, size: u64) -> io::Result<()> {
        let mem = &self.card.datapath().host.mem;
        let removed = if flags.contains(DmaUnmapFlags::UNMAP_ALL) {
            let n = mem.mappings();
            mem.clear();
            n
        } else {
            mem.unmap(address, size)
        };
        debug!(target: "nfp_emu::vfio", ?flags, "unmap {address:#x}+{size:#x}: {removed} mapping(s) removed");
        Ok(())
    }

    fn reset(&mut self) -> io::Result<()> {
        info!(target: "nfp_emu::vfio", "device reset");
        self.card.reset();
        Ok(())
    }

    fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        debug!(
            target: "nfp_emu::vfio",
            index, flags, start, count, fds = fds.len(), "set_irqs"
        );
        if index != VFIO_PCI_MSIX_IRQ_INDEX {
            if count == 0 && flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                return Ok(()); // disabling an index we do not have: a no-op
            }
            crate::guest_warn!("set_irqs on IRQ index {index}, which the card does not have");
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no such IRQ index",
            ));
        }
        let mut msix = self.card.datapath().host.msix.write();
        if flags & VFIO_IRQ_SET_ACTION_TRIGGER != 0 {
            if flags & VFIO_IRQ_SET_DATA_NONE != 0 && count == 0 {
                msix.release_all();
                return Ok(());
            }
            if flags & VFIO_IRQ_SET_DATA_EVENTFD != 0 {
                // QEMU sends either one fd per vector or none (= release).
                return if fds.is_empty() {
                    msix.release(start, count)
                } else if fds.len() == count as usize {
                    msix.assign(start, fds)
                } else {
                    crate::guest_warn!("set_irqs: {count} vectors but {} fds", fds.len());
                    Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "fd count mismatch",
                    ))
                };
            }
            if flags & VFIO_IRQ_SET_DATA_NONE != 0 {
                // Loopback trigger of vectors start..start+count.
                for v in start..start.saturating_add(count) {
                    if let Ok(v) = u16::try_from(v) {
                        msix.trigger(v);
                    }
                }
                return Ok(());
            }
        }
        if flags & (VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK) != 0 {
            // MSI-X masking is done by QEMU in the emulated table.
            return Ok(());
        }
        crate::guest_warn!("set_irqs: unsupported flags {flags:#x}");
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "unsupported set_irqs flags",
        ))
    }
}

/// Serve `card` on the vfio-user socket at `path` until the client (QEMU)
/// disconnects. A stale socket file (nobody listening) is replaced.
pub fn serve(path: &Path, card: Arc<Card>) -> anyhow::Result<()> {
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            anyhow::bail!("{} is in use by another vfio-user server", path.display());
        }
        std::fs::remove_file(path)?;
    }
    let server = Server::new(path, true, irqs(), regions())
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e:?}", path.display()))?;
    info!(target: "nfp_emu::vfio", "listening on {}", path.display());
    let mut backend = VfioUserBackend::new(card);
    match server.run(&mut backend) {
        Ok(()) => info!(target: "nfp_emu::vfio", "client disconnected"),
        Err(e) if peer_gone(&e) => {
            info!(target: "nfp_emu::vfio", "client gone without closing the connection ({e})");
        }
        Err(e) => anyhow::bail!("vfio-user connection failed: {e:?}"),
    }
    Ok(())
}

/// Whether a vfio-user error only says the client went away: a client
/// killed with unread data in its socket resets the connection
/// (ECONNRESET) instead of closing it, and a reply to a client that has
/// gone fails with EPIPE. Either ends the session as a close does.
fn peer_gone(e: &vfio_user::Error) -> bool {
    use std::io::ErrorKind;
    use vfio_user::Error as E;
    let gone = |errno: i32| errno == libc::ECONNRESET || errno == libc::EPIPE;
    match e {
        E::ReceiveWithFd(err) | E::SendWithFd(err) => gone(err.errno()),
        E::StreamRead(err) | E::StreamWrite(err) => matches!(
            err.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::CardConfig;

    #[test]
    fn a_reset_connection_is_a_disconnect_not_a_failure() {
        use vfio_user::Error as E;
        use vmm_sys_util::errno::Error as Errno;
        assert!(peer_gone(&E::ReceiveWithFd(Errno::new(libc::ECONNRESET))));
        assert!(peer_gone(&E::SendWithFd(Errno::new(libc::EPIPE))));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(peer_gone(&E::StreamWrite(reset)));
        assert!(!peer_gone(&E::ReceiveWithFd(Errno::new(libc::EBADF))));
        assert!(!peer_gone(&E::InvalidInput));
    }

    #[test]
    fn region_table_has_three_64bit_bar_pairs_and_extended_config() {
        let r = regions();
        assert_eq!(r.len(), VFIO_PCI_NUM_REGIONS as usize);
        let sizes: Vec<u64> = r.iter().map(|r| r.region_info.size).collect();
        assert_eq!(
            &sizes[..8],
            &[128 << 20, 0, 64 << 20, 0, 16 << 20, 0, 0, 4096]
        );
    }

    #[test]
    fn irq_table_has_only_msix() {
        let i = irqs();
        assert_eq!(i[VFIO_PCI_MSIX_IRQ_INDEX as usize].count, 256);
        assert_eq!(i.iter().filter(|i| i.count > 0).count(), 1);
    }

    #[test]
    fn set_irqs_rejects_bad_requests_without_panicking() {
        let card = Arc::new(Card::new(&CardConfig::default()).unwrap());
        let mut b = VfioUserBackend::new(card);
        let trig_fd = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
        assert!(
            b.set_irqs(VFIO_PCI_MSIX_IRQ_INDEX, trig_fd, 250, 10, vec![])
                .is_err()
        );
        assert!(b.set_irqs(0, trig_fd, 0, 1, vec![]).is_err());
        let none = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE;
        assert!(
            b.set_irqs(VFIO_PCI_MSIX_IRQ_INDEX, none, 0, 0, vec![])
                .is_ok()
        );
        assert!(b.set_irqs(0, none, 0, 0, vec![]).is_ok());
        assert!(
            b.set_irqs(VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, 0, vec![])
                .is_err()
        );
    }

    #[test]
    fn region_accesses_reach_the_card() {
        let card = Arc::new(Card::new(&CardConfig::default()).unwrap());
        let mut b = VfioUserBackend::new(card);
        let mut id = [0u8; 4];
        b.region_read(VFIO_PCI_CONFIG_REGION_INDEX, 0, &mut id)
            .unwrap();
        assert_eq!(u32::from_le_bytes(id), 0x4000_19ee);
        b.region_read(8, 0, &mut id).unwrap();
        assert_eq!(id, [0xff; 4]);
        b.region_write(8, 0, &id).unwrap();
    }
}
