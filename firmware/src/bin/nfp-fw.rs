//! `nfp-fw`: build the project's NFFW firmware images and inspect NFFW files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nfp_firmware::nffw::{NffwError, SHT_NFP_REGINIT};
use nfp_firmware::{MemType, Nffw, image};

/// Build and inspect NFFW firmware images for the emulated NFP-4000.
#[derive(Debug, Parser)]
#[command(name = "nfp-fw", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write every image the project ships under a firmware directory.
    ///
    /// Each image goes to OUT/<relative path>, e.g.
    /// OUT/netronome/nic_AMDA0099-0001_2x25.nffw; directories are created.
    /// The output is byte-for-byte reproducible.
    // The comment is clap's help text; `<relative path>` is not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    Build {
        /// Firmware directory to write into (like /lib/firmware).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Print the sections, runtime symbols, MIP and build information of an
    /// NFFW file.
    ///
    /// Exits with status 1 if the file is not a valid NFFW image, or if its
    /// runtime symbol table or MIP is present but corrupt.
    Dump {
        /// The NFFW file to read.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { out } => build(&out),
        Command::Dump { file } => dump(&file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("nfp-fw: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn build(out: &Path) -> Result<(), String> {
    for (rel, img) in image::project_images() {
        let path = out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let bytes = img.to_bytes();
        std::fs::write(&path, &bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("{} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}

fn type_name(t: u32) -> String {
    match t {
        0 => "NULL".into(),
        1 => "PROGBITS".into(),
        2 => "SYMTAB".into(),
        3 => "STRTAB".into(),
        4 => "RELA".into(),
        7 => "NOTE".into(),
        8 => "NOBITS".into(),
        9 => "REL".into(),
        SHT_NFP_REGINIT => "REGINIT".into(),
        t => format!("{t:#x}"),
    }
}

fn mem_name(m: MemType) -> String {
    match m {
        MemType::Mu => "mu".into(),
        MemType::EmuCache => "emucache".into(),
        MemType::Cls => "cls".into(),
        MemType::Lmem => "lmem".into(),
        MemType::Other(v) => format!("{v}"),
    }
}

fn dump(file: &Path) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let img = Nffw::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = String::new();
    let mut failed = None;

    let _ = writeln!(out, "{}: {} sections", file.display(), img.sections.len());
    let _ = writeln!(
        out,
        "  {:<4} {:<24} {:<9} {:>6} {:>3} {:<5} {:>12} {:>12}",
        "idx", "name", "type", "island", "me", "mem", "addr", "size"
    );
    for (i, s) in img.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:<4} {:<24} {:<9} {:>6} {:>3} {:<5} {:>#12x} {:>#12x}",
            i + 2,
            s.name,
            type_name(s.sh_type),
            s.island(),
            s.me(),
            mem_name(s.mem_type()),
            s.addr,
            s.size()
        );
    }

    match img.rtsyms() {
        Ok(syms) => {
            let _ = writeln!(out, "rtsyms: {}", syms.len());
            let _ = writeln!(
                out,
                "  {:<32} {:>4} {:>6} {:>6} {:>5} {:>12} {:>12}",
                "name", "type", "target", "island", "menum", "addr", "size"
            );
            for s in &syms {
                let _ = writeln!(
                    out,
                    "  {:<32} {:>4} {:>#6x} {:>6} {:>5} {:>#12x} {:>#12x}",
                    s.name, s.typ, s.target, s.island, s.menum, s.addr, s.size
                );
            }
        }
        Err(e @ NffwError::NoRtsymTable) => {
            let _ = writeln!(out, "rtsyms: none ({e})");
        }
        Err(e) => {
            let _ = writeln!(out, "rtsyms: error: {e}");
            failed = Some(e);
        }
    }

    match img.mip() {
        Ok((sym, m)) => {
            let _ = writeln!(
                out,
                "mip: island {} addr {:#x}\n  name {:?} toolchain {:?}\n  version {:#x} \
                 buildnum {} buildtime {} loadtime {} mip_size {} first_entry {:#x}\n  \
                 symtab {:#x}+{:#x} strtab {:#x}+{:#x}",
                sym.island,
                sym.addr,
                m.name,
                m.toolchain,
                m.version,
                m.buildnum,
                m.buildtime,
                m.loadtime,
                m.mip_size,
                m.first_entry,
                m.symtab_addr,
                m.symtab_size,
                m.strtab_addr,
                m.strtab_size
            );
        }
        Err(e @ (NffwError::NoRtsymTable | NffwError::NoMip)) => {
            let _ = writeln!(out, "mip: none ({e})");
        }
        Err(e) => {
            let _ = writeln!(out, "mip: error: {e}");
            failed.get_or_insert(e);
        }
    }

    // The loader's consistency checks (MIP tables, section overlaps); a
    // report only: the file is still a readable image.
    match nfp_firmware::check::check(&img) {
        Ok(c) => {
            let _ = writeln!(
                out,
                "check: ok ({} symbols through the MIP)",
                c.symbols.len()
            );
        }
        Err(e) => {
            let _ = writeln!(out, "check: refused: {e}");
        }
    }

    match img.build_info() {
        Some(text) => {
            let _ = writeln!(out, "build info:");
            for line in text.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        None => {
            let _ = writeln!(out, "build info: none");
        }
    }
    print!("{out}");
    match failed {
        Some(e) => Err(format!("{}: {e}", file.display())),
        None => Ok(()),
    }
}
