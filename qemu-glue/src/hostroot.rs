//! Running programs of the host tool root (Debian trixie) from this Debian 12
//! host: the child enters a private mount namespace, bind-mounts what it needs
//! into the root, mounts /proc, chroots and execs. The mounts disappear with
//! the child; nothing is left mounted on the host.
//!
//! Every child also gets `PR_SET_PDEATHSIG(SIGKILL)`, so it dies with
//! `nfp-vm` even when `nfp-vm` itself is killed.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

/// A host directory made visible inside the root at `target`.
#[derive(Clone, Debug)]
pub struct Bind {
    /// Host path (file or directory) to bind-mount; it must exist.
    pub source: PathBuf,
    /// Absolute path inside the root; the directory is created if missing.
    pub target: PathBuf,
    /// Remount the bind read-only inside the root.
    pub read_only: bool,
}

/// Process-group choice for a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Stay in nfp-vm's process group (needed to read the terminal).
    Inherit,
    /// Own process group: terminal signals (Ctrl-C) reach only nfp-vm, which
    /// then stops the child in order.
    Own,
}

fn cstr(p: &Path) -> anyhow::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).with_context(|| format!("NUL in path {}", p.display()))
}

fn check(ret: libc::c_int, what: &'static str) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// Make the child die with its parent and optionally leave our process group.
///
/// # Safety
/// Must run between fork and exec (inside `pre_exec`): only async-signal-safe
/// calls, no allocation.
unsafe fn child_common(parent: libc::pid_t, group: Group) -> io::Result<()> {
    // SAFETY: prctl/getppid/setpgid are async-signal-safe syscalls.
    unsafe {
        check(
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL),
            "prctl(PDEATHSIG)",
        )?;
        if libc::getppid() != parent {
            return Err(io::Error::other("parent exited before exec"));
        }
        if group == Group::Own {
            check(libc::setpgid(0, 0), "setpgid")?;
        }
    }
    Ok(())
}

/// A command for a host binary that dies with its parent.
pub fn host_command(program: &Path, group: Group) -> Command {
    let mut cmd = Command::new(program);
    // SAFETY: getpid is always safe.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure only makes async-signal-safe syscalls.
    unsafe {
        cmd.pre_exec(move || child_common(parent, group));
    }
    cmd
}

/// A command for `program` (a path inside `root`) run chrooted into `root`
/// with `binds` mounted and /dev and /proc available.
pub fn root_command(
    root: &Path,
    program: &str,
    binds: &[Bind],
    group: Group,
) -> anyhow::Result<Command> {
    let root = root
        .canonicalize()
        .with_context(|| format!("host tool root {}", root.display()))?;
    let mut mounts: Vec<(CString, CString, bool)> = Vec::new();
    let mut all = vec![Bind {
        source: "/dev".into(),
        target: "/dev".into(),
        read_only: false,
    }];
    all.extend(binds.iter().cloned());
    for b in &all {
        let rel = b.target.strip_prefix("/").unwrap_or(&b.target);
        let dst = root.join(rel);
        std::fs::create_dir_all(&dst)
            .with_context(|| format!("creating mount point {}", dst.display()))?;
        let src = b
            .source
            .canonicalize()
            .with_context(|| format!("bind source {}", b.source.display()))?;
        mounts.push((cstr(&src)?, cstr(&dst)?, b.read_only));
    }
    let proc_dst = cstr(&root.join("proc"))?;
    let root_c = cstr(&root)?;

    let mut cmd = Command::new(program);
    // SAFETY: getpid is always safe.
    let parent = unsafe { libc::getpid() };
    // SAFETY: between fork and exec the closure makes only async-signal-safe
    // syscalls on strings prepared before the fork; it does not allocate.
    unsafe {
        cmd.pre_exec(move || {
            child_common(parent, group)?;
            check(libc::unshare(libc::CLONE_NEWNS), "unshare(CLONE_NEWNS)")?;
            check(
                libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ),
                "making / private",
            )?;
            for (src, dst, ro) in &mounts {
                check(
                    libc::mount(
                        src.as_ptr(),
                        dst.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    ),
                    "bind mount",
                )?;
                if *ro {
                    check(
                        libc::mount(
                            std::ptr::null(),
                            dst.as_ptr(),
                            std::ptr::null(),
                            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                            std::ptr::null(),
                        ),
                        "read-only remount",
                    )?;
                }
            }
            check(
                libc::mount(
                    c"proc".as_ptr(),
                    proc_dst.as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                ),
                "mounting /proc",
            )?;
            check(libc::chroot(root_c.as_ptr()), "chroot")?;
            check(libc::chdir(c"/".as_ptr()), "chdir")?;
            Ok(())
        });
    }
    Ok(cmd)
}
