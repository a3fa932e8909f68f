//! qemu-glue: boots a Debian guest under QEMU (TCG) with emulated NFP cards
//! attached through `vfio-user-pci`, runs a script or a shell in it, and
//! tears everything down. The `nfp-vm` binary is a thin CLI over [`vm::run`].
//!
//! QEMU comes from the host tool root (Debian trixie + trixie-backports, built
//! by `images/build`) and runs chrooted into it inside a private mount
//! namespace, so the bind mounts it needs vanish with it.

pub mod console;
pub mod hostroot;
pub mod images;
pub mod proc;
pub mod qemu;
pub mod vm;

/// Exit status of `nfp-vm` when the guest did not finish in time.
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit status of `nfp-vm` when the VM could not be started or stopped before
/// the guest reported the script's exit status (boot failure, crash).
pub const EXIT_BOOT_FAILURE: i32 = 125;
/// Exit status after SIGINT/SIGTERM/SIGHUP.
pub const EXIT_INTERRUPTED: i32 = 130;
