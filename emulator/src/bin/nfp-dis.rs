//! `nfp-dis`: disassemble an NFP microcode image, as the driver DMAs it to
//! the card (little-endian 64-bit ustore words; `nfp-emu --bpf-dump` writes
//! them), in binutils' syntax.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// Disassemble a raw NFP ustore image (4-context mode, NFP-6xxx MEs).
#[derive(Debug, Parser)]
#[command(name = "nfp-dis", version)]
struct Args {
    /// The image: little-endian u64 words, ECC in bits 45..51.
    image: PathBuf,
    /// Code-store address of the first word (BPF programs: 3072,
    /// NFP_NET_CFG_BPF_START).
    #[arg(default_value_t = nfp_emu::nfd::vnic::NFD_BPF_START)]
    base: u16,
    /// Also check each word's ECC and say which are wrong.
    #[arg(long)]
    ecc: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bytes =
        std::fs::read(&args.image).with_context(|| format!("reading {}", args.image.display()))?;
    if bytes.len() % 8 != 0 {
        anyhow::bail!(
            "{}: {} bytes is not a whole number of 8-byte words",
            args.image.display(),
            bytes.len()
        );
    }
    let words = nfp_emu::fp::exec::le_words(&bytes);
    print!("{}", nfp_emu::fp::disasm::listing(&words, args.base));
    if args.ecc {
        for (i, w) in words.iter().enumerate() {
            if !nfp_emu::fp::word::ecc_ok(*w) {
                println!(
                    "ECC error in word {i} (.{}): {w:016x}",
                    usize::from(args.base) + i
                );
            }
        }
    }
    Ok(())
}
