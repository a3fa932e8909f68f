//! `tracing` set-up shared by the binaries: quiet by default (warnings),
//! `-v` for info, `-vv` for debug, `-vvv` for trace; `RUST_LOG` overrides.
//! Targets follow the subsystems: `nfp_emu::pcie`, `nfp_emu::vfio`, ...

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `trace_prog`: also the per-instruction trace of offloaded programs
/// (target `nfp_emu::fp::trace`).
pub fn init(verbosity: u8, trace_prog: bool) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if trace_prog {
        if let Ok(d) = "nfp_emu::fp::trace=trace".parse() {
            filter = filter.add_directive(d);
        }
    }
    // Route the `log` records of rust-vmm crates into tracing.
    let _ = tracing_log::LogTracer::init();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true)
        .try_init();
}
