//! What `--port N=SPEC` says is plugged into a port, and how it is opened.
//! Each backend parses its own `NAME:ARGS` and opens its own [`Link`]; this
//! file only knows their names.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use super::generator::GenSpec;
use super::{Cables, Link, PortError, cable, generator, none, pcap, tap, udp};

/// What is plugged into a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// Nothing: the link is down.
    None,
    /// A cable to port `P` of the same card.
    Loop(usize),
    /// One frame per UDP datagram between `local` and `remote`.
    Udp {
        /// Address the port's socket binds.
        local: SocketAddr,
        /// Address frames are sent to (and the only one received from).
        remote: SocketAddr,
    },
    /// A host tap device.
    Tap(String),
    /// Frames replayed from a capture file; what the card sends is
    /// discarded.
    Pcap {
        /// The pcap or pcapng file.
        path: PathBuf,
        /// Times the file is replayed (0: without end).
        loops: u64,
        /// Frames per second (`None`: as fast as the port takes them).
        rate: Option<u64>,
    },
    /// Frames from a traffic generator; what the card sends is discarded.
    Gen(GenSpec),
}

/// A backend `--port` knows by name.
struct Backend {
    /// `NAME` in `NAME:ARGS`.
    name: &'static str,
    /// Its syntax, for error messages.
    syntax: &'static str,
    /// Parse `ARGS`.
    parse: fn(&str) -> Result<PortSpec, PortError>,
}

/// The backends with arguments, by name (`none` has none).
const BACKENDS: &[Backend] = &[
    Backend {
        name: "loop",
        syntax: "loop:P",
        parse: cable::parse,
    },
    Backend {
        name: "udp",
        syntax: "udp:L@R",
        parse: udp::parse,
    },
    Backend {
        name: "tap",
        syntax: "tap:IF",
        parse: tap::parse,
    },
    Backend {
        name: "pcap",
        syntax: "pcap:FILE[,loop=K][,rate=PPS]",
        parse: pcap::parse,
    },
    Backend {
        name: "gen",
        syntax: "gen:[size=B][,count=N][,flows=F][,rate=PPS]",
        parse: generator::parse,
    },
];

/// "none, loop:P, udp:L@R, tap:IF, pcap:... or gen:...".
pub(super) fn expected() -> String {
    let mut s = String::from("none");
    for (i, b) in BACKENDS.iter().enumerate() {
        s.push_str(if i + 1 == BACKENDS.len() {
            " or "
        } else {
            ", "
        });
        s.push_str(b.syntax);
    }
    s
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSpec::None => write!(f, "none"),
            PortSpec::Loop(p) => write!(f, "loop:{p}"),
            PortSpec::Udp { local, remote } => write!(f, "udp:{local}@{remote}"),
            PortSpec::Tap(n) => write!(f, "tap:{n}"),
            PortSpec::Pcap { path, loops, rate } => {
                write!(f, "pcap:{}", path.display())?;
                if *loops != 1 {
                    write!(f, ",loop={loops}")?;
                }
                if let Some(r) = rate {
                    write!(f, ",rate={r}")?;
                }
                Ok(())
            }
            PortSpec::Gen(g) => g.fmt(f),
        }
    }
}

impl FromStr for PortSpec {
    type Err = PortError;

    /// `none`, `loop:P`, `udp:LOCALHOST:LPORT@REMOTEHOST:RPORT`, `tap:IFNAME`,
    /// `pcap:FILE[,loop=K][,rate=PPS]`,
    /// `gen:[size=B][,count=N][,flows=F][,rate=PPS]`.
    fn from_str(s: &str) -> Result<Self, PortError> {
        if s == "none" {
            return Ok(PortSpec::None);
        }
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| PortError::Syntax(s.to_string()))?;
        let b =
            BACKENDS
                .iter()
                .find(|b| b.name == kind)
                .ok_or_else(|| PortError::UnknownBackend {
                    kind: kind.to_string(),
                    spec: s.to_string(),
                })?;
        (b.parse)(rest)
    }
}

impl PortSpec {
    /// Open the backend for port `port` of a card whose loopback cables
    /// are `cables`.
    pub(super) fn open(&self, port: usize, cables: &Cables) -> Result<Link, PortError> {
        match self {
            PortSpec::None => Ok(none::open()),
            PortSpec::Loop(peer) => cable::open(port, *peer, cables),
            PortSpec::Udp { local, remote } => udp::open(port, *local, *remote),
            PortSpec::Tap(name) => tap::open(port, name),
            PortSpec::Pcap { path, loops, rate } => pcap::open(path, *loops, *rate),
            PortSpec::Gen(g) => Ok(generator::open(g)),
        }
    }
}

/// Parse a `--port` argument, `N=SPEC`: port `N` is cabled as `SPEC`.
pub fn parse_assignment(s: &str) -> Result<(usize, PortSpec), PortError> {
    let (n, spec) = s
        .split_once('=')
        .ok_or_else(|| PortError::Assignment(s.to_string()))?;
    let n = n.parse().map_err(|source| PortError::PortNumber {
        arg: n.to_string(),
        source,
    })?;
    Ok((n, spec.parse()?))
}
