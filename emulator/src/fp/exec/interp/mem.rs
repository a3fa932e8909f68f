//! Memory commands: issued with their operands, address and overrides,
//! performed after their defer slots against the packet (CTM) or EMEM
//! (docs/me-isa.md#memory-commands).

use super::ops::MemOp_;
use super::{Machine, rf};
use crate::cpp::mu::MU_ADDR_MASK as ADDR40_MASK;
use crate::fp::exec::{Fault, MemCmd, Observer, XFER_REGS};
use crate::fp::insn::{Cmd, MemOp};
use crate::fp::word::{cmd_ctx_swap, cmd_mode};

/// `indirect_ref` overrides in the previous ALU result: the length is
/// overridden (`CMD_OVE_LEN`, nfp_asm.h:258).
const CMD_OVE_LEN: u32 = 1 << 7;
/// The length override (`CMD_OV_LEN`, bits 12..8, nfp_asm.h:259).
const CMD_OV_LEN_SHIFT: u32 = 8;
/// Which data override (`CMD_OVE_DATA`, bits 5..3, nfp_asm.h:257).
const CMD_OVE_DATA_SHIFT: u32 = 3;
/// OveData = 2: PREV_ALU[31:16] is the command's 16-bit immediate data
/// (nfp_me.h:919-970).
const CMD_OVE_DATA_IMM16: u32 = 2;

/// A memory command issued and waiting for its defer slots.
#[derive(Clone, Copy, Debug)]
pub(in crate::fp::exec) struct Pending {
    countdown: u8,
    cmd: MemCmd,
}

impl<O: Observer + ?Sized> Machine<'_, '_, O> {
    /// Issue a memory command: operands, address and overrides are taken
    /// now, the access happens after its defer slots (docs/me-isa.md#memory-commands).
    pub(super) fn issue(&mut self, c: &Cmd, pc: u16, word: u64) -> Result<(), Fault> {
        let op = c.mem_op();
        if op == MemOp::Other {
            return Err(Fault::Invalid { pc, word });
        }
        let a = self.rd(c.a, pc, word)?;
        let b = self.rd(c.b, pc, word)?;
        let (ctm, addr) = match u64::from(c.mode) {
            cmd_mode::M32 => (true, u64::from(a.wrapping_add(b))),
            cmd_mode::M40_BA => (false, ((u64::from(b) << 8) + u64::from(a)) & ADDR40_MASK),
            _ => return Err(Fault::Invalid { pc, word }),
        };
        let prev = self.ctx.prev_alu;
        let mut len = c.cnt;
        let mut imm = 0;
        if c.indirect {
            if prev & CMD_OVE_LEN != 0 {
                len = ((prev >> CMD_OV_LEN_SHIFT) & 0x1f) as u8;
            }
            if (prev >> CMD_OVE_DATA_SHIFT) & 7 == CMD_OVE_DATA_IMM16 {
                imm = prev >> 16;
            }
        }
        let swap = u64::from(c.ctx) < cmd_ctx_swap::NO_SWAP;
        let defer = if swap { c.ctx } else { 0 };
        let cmd = MemCmd {
            pc,
            op,
            ctm,
            addr,
            xfer: c.xfer,
            len,
            imm,
            swap,
        };
        self.obs.mem(&cmd);
        if defer == 0 {
            return self.execute(&cmd);
        }
        // +1: the tick after this instruction itself does not count.
        let slot = self
            .pending
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(Fault::Invalid { pc, word })?;
        *slot = Some(Pending {
            countdown: defer + 1,
            cmd,
        });
        self.npending += 1;
        Ok(())
    }

    /// Issue a memory command of the lean form (no defer slots: it is
    /// performed now).
    #[inline]
    pub(super) fn issue_lean(&mut self, c: &MemOp_, pc: u16) -> Result<(), Fault> {
        let f = self.ctx.file();
        let (a, b) = (rf(f, c.a), rf(f, c.b));
        let addr = if c.ctm {
            u64::from(a.wrapping_add(b))
        } else {
            ((u64::from(b) << 8) + u64::from(a)) & ADDR40_MASK
        };
        let prev = self.ctx.prev_alu;
        let mut len = c.cnt;
        let mut imm = 0;
        if c.indirect {
            if prev & CMD_OVE_LEN != 0 {
                len = ((prev >> CMD_OV_LEN_SHIFT) & 0x1f) as u8;
            }
            if (prev >> CMD_OVE_DATA_SHIFT) & 7 == CMD_OVE_DATA_IMM16 {
                imm = prev >> 16;
            }
        }
        let cmd = MemCmd {
            pc,
            op: c.op,
            ctm: c.ctm,
            addr,
            xfer: c.xfer,
            len,
            imm,
            swap: c.swap,
        };
        self.obs.mem(&cmd);
        self.execute(&cmd)
    }

    fn mem_read(&self, p: &MemCmd, off: u64, out: &mut [u8]) -> Result<(), Fault> {
        let addr = p.addr + off;
        if p.ctm {
            let o = self
                .pkt
                .offset(addr as u32)
                .ok_or(Fault::Memory { pc: p.pc, addr })?;
            self.pkt.read(o, out);
            Ok(())
        } else if self.env.emem_read(addr & ADDR40_MASK, out) {
            Ok(())
        } else {
            Err(Fault::Memory { pc: p.pc, addr })
        }
    }

    fn mem_write(&mut self, p: &MemCmd, off: u64, data: &[u8]) -> Result<(), Fault> {
        let addr = p.addr + off;
        let ok = if p.ctm {
            match self.pkt.offset(addr as u32) {
                Some(o) => self.pkt.write(o, data),
                None => false,
            }
        } else {
            self.env.emem_write(addr & ADDR40_MASK, data)
        };
        ok.then_some(()).ok_or(Fault::Memory { pc: p.pc, addr })
    }

    fn execute(&mut self, p: &MemCmd) -> Result<(), Fault> {
        let x = usize::from(p.xfer);
        let n = usize::from(p.len) + 1;
        let bad = Fault::Memory {
            pc: p.pc,
            addr: p.addr,
        };
        match p.op {
            MemOp::Read32Swap => {
                if x + n > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                self.mem_read(p, 0, &mut bytes[..4 * n])?;
                for (k, w) in bytes[..4 * n].chunks_exact(4).enumerate() {
                    self.ctx.xfer_in[x + k] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                }
            }
            MemOp::Read8 => {
                let words = n.div_ceil(4);
                if x + words > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 8];
                let len = n.min(bytes.len());
                self.mem_read(p, 0, &mut bytes[..len])?;
                for k in 0..words {
                    let w = [0, 1, 2, 3].map(|i| bytes[4 * k + i]);
                    self.ctx.xfer_in[x + k] = u32::from_be_bytes(w);
                }
            }
            MemOp::Write8Swap => {
                if x + n.div_ceil(4) > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                // Byte k is byte k % 4 (little-endian) of word k / 4.
                for (chunk, w) in bytes[..n.div_ceil(4) * 4]
                    .chunks_exact_mut(4)
                    .zip(&self.ctx.xfer_out[x..])
                {
                    chunk.copy_from_slice(&w.to_le_bytes());
                }
                self.mem_write(p, 0, &bytes[..n])?;
            }
            MemOp::Write32Swap => {
                if x + n > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                for k in 0..n {
                    bytes[4 * k..4 * k + 4]
                        .copy_from_slice(&self.ctx.xfer_out[x + k].to_le_bytes());
                }
                self.mem_write(p, 0, &bytes[..4 * n])?;
            }
            MemOp::Add | MemOp::AddImm => {
                let wide = p.len & 4 != 0;
                let v = if p.op == MemOp::AddImm {
                    u64::from(p.imm)
                } else {
                    if x + 2 > XFER_REGS {
                        return Err(bad);
                    }
                    let lo = u64::from(self.ctx.xfer_out[x]);
                    if wide {
                        u64::from(self.ctx.xfer_out[x + 1]) << 32 | lo
                    } else {
                        lo
                    }
                };
                if p.ctm {
                    // Atomics on packet memory: never emitted (the verifier
                    // refuses them), done plainly for completeness.
                    let mut b = [0u8; 8];
                    self.mem_read(p, 0, &mut b)?;
                    let lo = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let hi = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    if wide {
                        let s = (u64::from(hi) << 32 | u64::from(lo)).wrapping_add(v);
                        b[..4].copy_from_slice(&(s as u32).to_be_bytes());
                        b[4..].copy_from_slice(&((s >> 32) as u32).to_be_bytes());
                        self.mem_write(p, 0, &b)?;
                    } else {
                        self.mem_write(p, 0, &lo.wrapping_add(v as u32).to_be_bytes())?;
                    }
                } else if !self.env.emem_add(p.addr, v, wide) {
                    return Err(bad);
                }
            }
            MemOp::Other => return Err(bad),
        }
        Ok(())
    }

    /// Count down the defer slots of pending commands; run the due ones.
    #[inline(always)]
    pub(super) fn tick(&mut self) -> Result<(), Fault> {
        if self.npending == 0 {
            return Ok(());
        }
        for i in 0..self.pending.len() {
            if let Some(p) = self.pending[i].as_mut() {
                p.countdown -= 1;
                if p.countdown == 0 {
                    let cmd = p.cmd;
                    self.pending[i] = None;
                    self.npending -= 1;
                    self.execute(&cmd)?;
                }
            }
        }
        Ok(())
    }

    /// Run every pending command now (before DONE and helper calls).
    pub(super) fn flush(&mut self) -> Result<(), Fault> {
        for i in 0..self.pending.len() {
            if let Some(p) = self.pending[i].take() {
                self.npending -= 1;
                self.execute(&p.cmd)?;
            }
        }
        Ok(())
    }
}
