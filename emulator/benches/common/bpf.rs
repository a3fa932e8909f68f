//! The host kernel's eBPF, for the benchmarks' baselines: the raw `bpf(2)`
//! syscall (`BPF_MAP_CREATE`, `BPF_MAP_UPDATE_ELEM`, `BPF_PROG_LOAD`,
//! `BPF_PROG_TEST_RUN` with `repeat`) and an encoder for the few
//! instructions a hand-written baseline program needs. Shared by the
//! benches (`#[path]`); not every bench uses every item.
#![allow(dead_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `enum bpf_cmd` (include/uapi/linux/bpf.h).
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TEST_RUN: libc::c_long = 10;
/// `BPF_PROG_TYPE_XDP`.
pub const BPF_PROG_TYPE_XDP: u32 = 6;
/// `BPF_MAP_TYPE_HASH`.
pub const BPF_MAP_TYPE_HASH: u32 = 1;
/// `BPF_FUNC_map_lookup_elem`, `BPF_FUNC_get_prandom_u32`.
pub const BPF_FUNC_MAP_LOOKUP_ELEM: i32 = 1;
pub const BPF_FUNC_GET_PRANDOM_U32: i32 = 7;

/// Why the host gives no figure.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The object has no `xdp` section the loader can take.
    #[error("object: {0}")]
    Object(String),
    /// The kernel refused.
    #[error(
        "{what}: {err} (the kernel refuses; root, CONFIG_BPF_SYSCALL and the BPF JIT are needed)"
    )]
    Kernel {
        /// The command.
        what: &'static str,
        /// Its error.
        err: std::io::Error,
    },
}

/// A `union bpf_attr`, 8-byte aligned.
#[repr(C, align(8))]
struct Attr([u8; 128]);

impl Attr {
    fn put32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    fn put64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }
    fn get32(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().unwrap_or([0; 4]))
    }
}

fn bpf(cmd: libc::c_long, attr: &mut Attr, what: &'static str) -> Result<i64, HostError> {
    // SAFETY: the bpf syscall reads and writes at most the 128 bytes of
    // `attr`; the pointers inside it point at live buffers of the sizes
    // given next to them.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.0.as_mut_ptr(), attr.0.len()) };
    if r < 0 {
        Err(HostError::Kernel {
            what,
            err: std::io::Error::last_os_error(),
        })
    } else {
        Ok(r)
    }
}

fn owned(fd: i64) -> OwnedFd {
    // SAFETY: the kernel returned a new file descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Load `insns` (encoded `struct bpf_insn`s) as a program of `prog_type`.
pub fn prog_load(prog_type: u32, insns: &[u8]) -> Result<OwnedFd, HostError> {
    let license = c"GPL";
    let mut a = Attr([0; 128]);
    a.put32(0, prog_type);
    a.put32(4, (insns.len() / 8) as u32);
    a.put64(8, insns.as_ptr() as u64);
    a.put64(16, license.as_ptr() as u64);
    // No verifier log: a large program's overflows any buffer (ENOSPC).
    bpf(BPF_PROG_LOAD, &mut a, "BPF_PROG_LOAD").map(owned)
}

/// A map of `map_type` (preallocated, the kernel's default).
pub fn map_create(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
) -> Result<OwnedFd, HostError> {
    let mut a = Attr([0; 128]);
    a.put32(0, map_type);
    a.put32(4, key_size);
    a.put32(8, value_size);
    a.put32(12, max_entries);
    bpf(BPF_MAP_CREATE, &mut a, "BPF_MAP_CREATE").map(owned)
}

/// Set `key` to `value` in map `fd` (`BPF_ANY`).
pub fn map_update(fd: &OwnedFd, key: &[u8], value: &[u8]) -> Result<(), HostError> {
    let mut a = Attr([0; 128]);
    a.put32(0, fd.as_raw_fd() as u32);
    a.put64(8, key.as_ptr() as u64);
    a.put64(16, value.as_ptr() as u64);
    bpf(BPF_MAP_UPDATE_ELEM, &mut a, "BPF_MAP_UPDATE_ELEM").map(drop)
}

/// `repeat` runs of program `fd` on `frame`: the kernel's mean ns per run
/// (`duration`: time the program ran, its scheduling-out excluded) and
/// the last run's return value.
pub fn test_run(fd: &OwnedFd, frame: &[u8], repeat: u32) -> Result<(u32, u32), HostError> {
    let mut out = vec![0u8; frame.len() + 4096];
    let mut a = Attr([0; 128]);
    a.put32(0, fd.as_raw_fd() as u32);
    a.put32(8, frame.len() as u32);
    a.put32(12, out.len() as u32);
    a.put64(16, frame.as_ptr() as u64);
    a.put64(24, out.as_mut_ptr() as u64);
    a.put32(32, repeat);
    bpf(BPF_PROG_TEST_RUN, &mut a, "BPF_PROG_TEST_RUN")?;
    Ok((a.get32(36), a.get32(4)))
}

/// An eBPF program being written: `struct bpf_insn`s, little-endian.
#[derive(Default)]
pub struct Asm(pub Vec<u8>);

impl Asm {
    /// One instruction (`code`, registers, offset, immediate).
    pub fn insn(&mut self, code: u8, dst: u8, src: u8, off: i16, imm: i32) -> &mut Self {
        self.0.push(code);
        self.0.push(dst & 0xf | src << 4);
        self.0.extend_from_slice(&off.to_le_bytes());
        self.0.extend_from_slice(&imm.to_le_bytes());
        self
    }
    /// `dst = imm64` (`BPF_LD | BPF_IMM | BPF_DW`, `src` 0).
    pub fn ld64(&mut self, dst: u8, v: u64) -> &mut Self {
        self.insn(0x18, dst, 0, 0, v as u32 as i32)
            .insn(0, 0, 0, 0, (v >> 32) as u32 as i32)
    }
    /// `dst = map` (`BPF_PSEUDO_MAP_FD`).
    pub fn ld_map(&mut self, dst: u8, map: &OwnedFd) -> &mut Self {
        self.insn(0x18, dst, 1, 0, map.as_raw_fd())
            .insn(0, 0, 0, 0, 0)
    }
    /// `call helper`.
    pub fn call(&mut self, helper: i32) -> &mut Self {
        self.insn(0x85, 0, 0, 0, helper)
    }
    /// `r0 = v; exit`.
    pub fn ret(&mut self, v: i32) -> &mut Self {
        self.insn(0xb7, 0, 0, 0, v).insn(0x95, 0, 0, 0, 0)
    }
}
