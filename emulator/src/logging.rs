//! `tracing` set-up shared by the binaries: quiet by default (warnings),
//! `-v` for info, `-vv` for debug, `-vvv` for trace; `RUST_LOG` overrides.
//! Targets follow the subsystems: `nfp_emu::pcie`, `nfp_emu::vfio`, ...

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Route the `log` records of rust-vmm crates into tracing.
    let _ = tracing_log::LogTracer::init();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true)
        .try_init();
}
