//! Memory commands for translated code (called out to once a command's
//! defer slots are done): the semantics of docs/me-isa.md "Memory
//! commands", the same as the interpreter's, which the differential tests
//! hold it to.

use crate::cpp::mu::MU_ADDR_MASK as ADDR40_MASK;
use crate::fp::exec::{Ctx, Env, Fault, MemCmd, Packet, XFER_REGS};
use crate::fp::insn::MemOp;

/// Read `out.len()` bytes at `p.addr` (packet bytes past the buffer read
/// as zero).
fn read(pkt: &Packet<'_>, env: &dyn Env, p: &MemCmd, out: &mut [u8]) -> Result<(), Fault> {
    let bad = Fault::Memory {
        pc: p.pc,
        addr: p.addr,
    };
    if p.ctm {
        let o = pkt.offset(p.addr as u32).ok_or(bad)?;
        pkt.read(o, out);
        Ok(())
    } else if env.emem_read(p.addr & ADDR40_MASK, out) {
        Ok(())
    } else {
        Err(bad)
    }
}

/// Write `data` at `p.addr`; a packet write past the buffer faults.
fn write(pkt: &mut Packet<'_>, env: &dyn Env, p: &MemCmd, data: &[u8]) -> Result<(), Fault> {
    let ok = if p.ctm {
        // (Packet::write keeps the lowest offset written.)
        pkt.offset(p.addr as u32)
            .is_some_and(|o| pkt.write(o, data))
    } else {
        env.emem_write(p.addr & ADDR40_MASK, data)
    };
    ok.then_some(()).ok_or(Fault::Memory {
        pc: p.pc,
        addr: p.addr,
    })
}

/// Perform command `p` on the context's transfer registers, the packet and
/// EMEM.
pub(super) fn execute(
    ctx: &mut Ctx,
    pkt: &mut Packet<'_>,
    env: &dyn Env,
    p: &MemCmd,
) -> Result<(), Fault> {
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
            read(pkt, env, p, &mut bytes[..4 * n])?;
            for (k, w) in bytes[..4 * n].chunks_exact(4).enumerate() {
                ctx.xfer_in[x + k] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            }
        }
        MemOp::Read8 => {
            let words = n.div_ceil(4);
            if x + words > XFER_REGS {
                return Err(bad);
            }
            let mut bytes = [0u8; 4 * 8];
            let len = n.min(bytes.len());
            read(pkt, env, p, &mut bytes[..len])?;
            for k in 0..words {
                let w = [0, 1, 2, 3].map(|i| bytes[4 * k + i]);
                ctx.xfer_in[x + k] = u32::from_be_bytes(w);
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
                .zip(&ctx.xfer_out[x..])
            {
                chunk.copy_from_slice(&w.to_le_bytes());
            }
            write(pkt, env, p, &bytes[..n])?;
        }
        MemOp::Write32Swap => {
            if x + n > XFER_REGS {
                return Err(bad);
            }
            let mut bytes = [0u8; 4 * 32];
            for k in 0..n {
                bytes[4 * k..4 * k + 4].copy_from_slice(&ctx.xfer_out[x + k].to_le_bytes());
            }
            write(pkt, env, p, &bytes[..4 * n])?;
        }
        MemOp::Add | MemOp::AddImm => {
            let wide = p.len & 4 != 0;
            let v = if p.op == MemOp::AddImm {
                u64::from(p.imm)
            } else {
                if x + 2 > XFER_REGS {
                    return Err(bad);
                }
                let lo = u64::from(ctx.xfer_out[x]);
                if wide {
                    u64::from(ctx.xfer_out[x + 1]) << 32 | lo
                } else {
                    lo
                }
            };
            if p.ctm {
                // Atomics on packet memory: never emitted, done plainly.
                let mut b = [0u8; 8];
                read(pkt, env, p, &mut b)?;
                let lo = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                let hi = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                if wide {
                    let s = (u64::from(hi) << 32 | u64::from(lo)).wrapping_add(v);
                    b[..4].copy_from_slice(&(s as u32).to_be_bytes());
                    b[4..].copy_from_slice(&((s >> 32) as u32).to_be_bytes());
                    write(pkt, env, p, &b)?;
                } else {
                    write(pkt, env, p, &lo.wrapping_add(v as u32).to_be_bytes())?;
                }
            } else if !env.emem_add(p.addr, v, wide) {
                return Err(bad);
            }
        }
        MemOp::Other => return Err(bad),
    }
    Ok(())
}
