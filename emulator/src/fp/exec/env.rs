//! What a program reaches besides its context and LM: the packet in CTM,
//! and through [`Env`] EMEM and the firmware's helpers.

use super::{Ctx, LM_WORDS};

/// What a program reaches besides its context, LM and packet: EMEM (the
/// 40-bit space map values live in) and the firmware's helpers.
pub trait Env {
    /// Read EMEM bytes; false if the address is not mapped.
    fn emem_read(&self, _addr: u64, _buf: &mut [u8]) -> bool {
        false
    }
    /// Write EMEM bytes; false if the address is not mapped.
    fn emem_write(&self, _addr: u64, _data: &[u8]) -> bool {
        false
    }
    /// Atomically add to the big-endian 32-bit word (or, `wide`, the
    /// 64-bit value whose low word is at `addr`) at `addr`.
    fn emem_add(&self, _addr: u64, _value: u64, _wide: bool) -> bool {
        false
    }
    /// Run the firmware helper at ustore address `addr` (docs/bpf-offload.md#helpers);
    /// false if there is no helper there.
    fn helper(&self, _addr: u16, _ctx: &mut Ctx, _lm: &mut [u32; LM_WORDS], _pkt: &Packet) -> bool {
        false
    }
}

/// An environment without EMEM or helpers.
#[derive(Debug, Default)]
pub struct NoEnv;
impl Env for NoEnv {}

/// The packet a context works on: its number (the CTM packet-mode address
/// carries it), the buffer, and how low in the buffer the run wrote.
#[derive(Debug)]
pub struct Packet<'a> {
    /// Packet number (0..1023), bits 25..16 of its CTM addresses.
    pub num: u16,
    /// The context's CTM packet buffer.
    pub buf: &'a mut [u8],
    /// The lowest buffer offset written through [`Packet::write`]
    /// (`usize::MAX` if none): the ME clears the headroom below the
    /// packet only when a run wrote there. An executor writes packet bytes
    /// through [`Packet::write`], which keeps it.
    pub low_write: usize,
}

impl<'a> Packet<'a> {
    /// Packet `num` in `buf`, nothing written yet.
    pub fn new(num: u16, buf: &'a mut [u8]) -> Self {
        Self {
            num,
            buf,
            low_write: usize::MAX,
        }
    }

    /// Byte offset in the buffer of a 32-bit-mode (CTM packet) address.
    pub fn offset(&self, addr: u32) -> Option<usize> {
        // bit 31: CTM packet address; [25:16] packet number; [15:0] offset
        // (docs/bpf-offload.md#the-programs-environment).
        (addr >> 31 != 0 && (addr >> 16) & 0x3ff == u32::from(self.num))
            .then_some((addr & 0xffff) as usize)
    }

    /// Read bytes at `off`; bytes past the buffer read as zero.
    pub fn read(&self, off: usize, out: &mut [u8]) {
        if let Some(s) = self.buf.get(off..off.saturating_add(out.len())) {
            out.copy_from_slice(s);
            return;
        }
        // Reads past the buffer return zeros (the packet cache may reach
        // past the data; the verifier never lets those bytes be used).
        for (i, b) in out.iter_mut().enumerate() {
            *b = off
                .checked_add(i)
                .and_then(|o| self.buf.get(o))
                .copied()
                .unwrap_or(0);
        }
    }

    /// Write bytes at `off`; false (nothing written) past the buffer.
    pub fn write(&mut self, off: usize, data: &[u8]) -> bool {
        match self.buf.get_mut(off..off.saturating_add(data.len())) {
            Some(d) => {
                d.copy_from_slice(data);
                self.low_write = self.low_write.min(off);
                true
            }
            None => false,
        }
    }
}
