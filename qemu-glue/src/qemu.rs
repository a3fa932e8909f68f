//! QEMU's command line for an nfp-vm guest.
//!
//! Paths are as QEMU sees them inside the host root (see [`crate::hostroot`]):
//! the guest image at [`GUEST_DIR`], the run directory (sockets) at
//! [`RUN_DIR`], the shared directory at [`SHARE_DIR`].

/// Where the guest image directory is mounted inside the host root.
pub const GUEST_DIR: &str = "/nfp-vm/guest";
/// Where the run directory (sockets, logs) is mounted inside the host root.
pub const RUN_DIR: &str = "/nfp-vm/run";
/// Where the shared directory is mounted inside the host root.
pub const SHARE_DIR: &str = "/nfp-vm/share";
/// 9p mount tag of the shared directory; the guest mounts it at /mnt/host.
pub const SHARE_TAG: &str = "host";

/// Kernel arguments for a TCG guest on a busy host. Under TCG the vCPUs and
/// QEMU's timers are ordinary host threads: on a loaded machine they stall
/// for many milliseconds at a time, which the kernel's self-checks read as
/// broken hardware.
pub const TCG_UNDER_LOAD: &[&str] = &[
    // check_timer() (arch/x86/kernel/apic/io_apic.c) waits ~10 ticks of
    // mdelay for the PIT interrupt to advance jiffies and panics with
    // "IO-APIC + timer doesn't work!" when QEMU's timer thread did not run
    // in time.
    "no_timer_check",
    // The TCG guest's TSC is the host's (cpu_get_host_ticks): constant
    // rate. Without this the clocksource watchdog compares it with HPET
    // from a vCPU that may be descheduled between the two reads, can mark
    // it unstable and move timekeeping to the slow HPET.
    "tsc=reliable",
    // A descheduled vCPU thread looks like a CPU stuck with interrupts off
    // (soft lockup after 20 s) or one that never passes a quiescent state
    // (RCU stall after 21 s); both print backtraces, neither is a guest bug.
    "nowatchdog",
    "rcupdate.rcu_cpu_stall_suppress=1",
];

/// How long QEMU's vfio-user client waits for a reply from nfp-emu, in ms
/// (`x-msg-timeout`, QEMU's default 5000). A reply can be slow on a busy
/// host, and slower behind a backlog of posted writes; a reply that misses
/// the deadline makes QEMU fail the access and, when the reply does come,
/// lose its place in the message stream ("unexpected reply"), which ends
/// the connection. A guard against a card that hangs, not a wait.
pub const VFIO_USER_MSG_TIMEOUT_MS: u32 = 120_000;

/// How the guest's serial console (ttyS0) is connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Console {
    /// QEMU's own stdin/stdout (interactive shell).
    Stdio,
    /// A UNIX socket nfp-vm listens on (file name in the run directory).
    Socket(String),
}

/// Everything that varies between nfp-vm guests.
#[derive(Clone, Debug)]
pub struct QemuSpec {
    /// Name shown by QEMU and in its command line (`-name`), unique per run so
    /// a run's processes can be found.
    pub name: String,
    /// Guest vCPUs (`-smp`).
    pub cpus: u32,
    /// Guest RAM in MiB (`-m`), backed by a shared memfd so the vfio-user
    /// servers (the cards) can map it for DMA.
    pub memory_mib: u32,
    /// vfio-user sockets of the cards, file names in the run directory.
    pub card_sockets: Vec<String>,
    /// Where the serial console (ttyS0) goes.
    pub console: Console,
    /// Socket (file name in the run directory) for the guest's hvc0, which
    /// carries the script's output and the init's status lines.
    pub script_socket: Option<String>,
    /// Export the share directory ([`SHARE_DIR`] inside the host tool root)
    /// to the guest as a virtio-9p device with tag [`SHARE_TAG`].
    pub share: bool,
    /// Extra kernel command-line words (`nfpvm.*` settings for the init).
    pub kernel_args: Vec<String>,
}

/// The arguments after the QEMU binary.
pub fn args(spec: &QemuSpec) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
    let mem = format!("{}M", spec.memory_mib);
    push(&[
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
    ]);
    // QEMU's option syntax: a comma in a value is written twice.
    push(&["-name", &spec.name.replace(',', ",,")]);
    push(&["-accel", "tcg", "-cpu", "max"]);
    push(&["-smp", &spec.cpus.to_string(), "-m", &mem]);
    // Shared memfd RAM: DMA maps reach nfp-emu with an fd it can mmap.
    push(&[
        "-object",
        &format!("memory-backend-memfd,id=mem,size={mem},share=on"),
        "-machine",
        "q35,memory-backend=mem",
    ]);
    // The uncompressed kernel through its PVH entry: no real-mode setup, no
    // decompressor in TCG (images/guest-image.sh extracts it).
    push(&[
        "-kernel",
        &format!("{GUEST_DIR}/vmlinux"),
        "-initrd",
        &format!("{GUEST_DIR}/initrd.img"),
    ]);
    let mut cmdline = vec![
        "console=ttyS0,115200".to_string(),
        "panic=-1".into(),
        "mitigations=off".into(),
        "random.trust_cpu=on".into(),
        "net.ifnames=0".into(),
    ];
    cmdline.extend(TCG_UNDER_LOAD.iter().map(|a| a.to_string()));
    cmdline.extend(spec.kernel_args.iter().cloned());
    push(&["-append", &cmdline.join(" ")]);
    // Root file system; writes go to a throw-away overlay.
    push(&[
        "-drive",
        &format!("file={GUEST_DIR}/rootfs.ext4,format=raw,if=none,id=rootfs,snapshot=on"),
        "-device",
        "virtio-blk-pci,drive=rootfs",
    ]);
    if spec.share {
        push(&[
            "-fsdev",
            &format!("local,id=share,path={SHARE_DIR},security_model=none"),
            "-device",
            &format!("virtio-9p-pci,fsdev=share,mount_tag={SHARE_TAG}"),
        ]);
    }
    match &spec.console {
        Console::Stdio => push(&["-chardev", "stdio,id=ttyS0,signal=off"]),
        Console::Socket(name) => push(&[
            "-chardev",
            &format!("socket,id=ttyS0,path={RUN_DIR}/{name}"),
        ]),
    }
    push(&["-serial", "chardev:ttyS0"]);
    if let Some(name) = &spec.script_socket {
        push(&[
            "-chardev",
            &format!("socket,id=hvc0,path={RUN_DIR}/{name}"),
            "-device",
            "virtio-serial-pci,id=vser",
            "-device",
            "virtconsole,chardev=hvc0,bus=vser.0",
        ]);
    }
    // Each card sits in its own PCIe root port, as in a server slot, so the
    // guest sees an Express endpoint with its link (not an integrated one).
    for (i, sock) in spec.card_sockets.iter().enumerate() {
        let port = format!("rp{i}");
        push(&[
            "-device",
            &format!("pcie-root-port,id={port},chassis={},slot=0", i + 1),
        ]);
        let dev = serde_json::json!({
            "driver": "vfio-user-pci",
            "id": format!("nfp{i}"),
            "bus": port,
            "socket": {"type": "unix", "path": format!("{RUN_DIR}/{sock}")},
            "x-msg-timeout": VFIO_USER_MSG_TIMEOUT_MS,
        });
        push(&["-device", &dev.to_string()]);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> QemuSpec {
        QemuSpec {
            name: "nfp-vm-test".into(),
            cpus: 2,
            memory_mib: 1024,
            card_sockets: vec!["nfp0.sock".into(), "nfp1.sock".into()],
            console: Console::Socket("console.sock".into()),
            script_socket: Some("script.sock".into()),
            share: true,
            kernel_args: vec!["nfpvm.mode=run".into()],
        }
    }

    fn after<'a>(a: &'a [String], flag: &str) -> Vec<&'a str> {
        a.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn shared_memfd_ram_and_tcg() {
        let a = args(&spec());
        assert!(
            after(&a, "-object")[0].contains("memory-backend-memfd,id=mem,size=1024M,share=on")
        );
        assert_eq!(after(&a, "-machine"), ["q35,memory-backend=mem"]);
        assert_eq!(after(&a, "-kernel"), [format!("{GUEST_DIR}/vmlinux")]);
        assert_eq!(after(&a, "-accel"), ["tcg"]);
        assert_eq!(
            after(&a, "-name"),
            [spec().name.as_str()],
            "findable by name"
        );
    }

    #[test]
    fn one_vfio_user_device_per_card_in_json_syntax() {
        let a = args(&spec());
        let devs: Vec<serde_json::Value> = after(&a, "-device")
            .into_iter()
            .filter(|d| d.starts_with('{'))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert_eq!(devs.len(), 2);
        assert_eq!(devs[1]["driver"], "vfio-user-pci");
        assert_eq!(devs[1]["socket"]["type"], "unix");
        assert_eq!(devs[1]["socket"]["path"], "/nfp-vm/run/nfp1.sock");
        assert_eq!(devs[1]["x-msg-timeout"], VFIO_USER_MSG_TIMEOUT_MS);
    }

    #[test]
    fn kernel_survives_a_busy_host() {
        let a = args(&spec());
        let cmdline = after(&a, "-append")[0];
        for w in ["no_timer_check", "tsc=reliable", "nowatchdog"] {
            assert!(cmdline.split(' ').any(|x| x == w), "{w} in {cmdline}");
        }
    }

    #[test]
    fn commas_in_the_name_are_escaped() {
        let mut s = spec();
        s.name = "nfp-vm:/tmp/a,b".into();
        assert_eq!(after(&args(&s), "-name"), ["nfp-vm:/tmp/a,,b"]);
    }

    #[test]
    fn console_and_share_options() {
        let mut s = spec();
        let a = args(&s);
        assert!(after(&a, "-append")[0].contains("nfpvm.mode=run"));
        assert!(after(&a, "-fsdev")[0].contains("path=/nfp-vm/share"));
        s.console = Console::Stdio;
        s.share = false;
        s.script_socket = None;
        let a = args(&s);
        assert_eq!(after(&a, "-chardev"), ["stdio,id=ttyS0,signal=off"]);
        assert!(after(&a, "-fsdev").is_empty());
    }
}
