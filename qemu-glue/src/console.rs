//! The guest's two character channels.
//!
//! * ttyS0, the kernel console: copied verbatim to `console.log`.
//! * hvc0 (virtio console): the script's stdout/stderr plus the guest init's
//!   status lines (`@@nfp-vm: booted`, `@@nfp-vm: exit N`). Output is echoed to
//!   nfp-vm's stdout and saved to `script.log`; status lines are consumed.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// Printed by the guest init on hvc0 once userland is up.
pub const MARK_BOOTED: &str = "@@nfp-vm: booted";
/// Printed by the guest init on hvc0 after the script, followed by its status.
pub const MARK_EXIT: &str = "@@nfp-vm: exit ";

/// What the guest reported so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct GuestStatus {
    /// When the `@@nfp-vm: booted` line arrived on hvc0 (userland is up).
    pub booted: Option<Instant>,
    /// The script's exit status from the `@@nfp-vm: exit N` line.
    pub exit: Option<i32>,
}

/// The [`GuestStatus`] shared between the hvc0 reader thread, which fills it
/// in, and the VM's supervision loop, which polls it.
pub type SharedStatus = Arc<Mutex<GuestStatus>>;

/// A status line found in a line of hvc0 output.
#[derive(Debug, PartialEq, Eq)]
pub enum Mark {
    /// `@@nfp-vm: booted` ([`MARK_BOOTED`]): the guest init reached userland.
    Booted,
    /// `@@nfp-vm: exit N` ([`MARK_EXIT`]): the script ended with status N.
    Exit(i32),
}

/// Split a line of hvc0 output into the script's text before a status mark
/// and the mark itself.
pub fn parse_line(line: &str) -> (&str, Option<Mark>) {
    if let Some(pos) = line.find(MARK_EXIT) {
        let code = line[pos + MARK_EXIT.len()..].trim();
        return match code.parse::<i32>() {
            Ok(c) => (&line[..pos], Some(Mark::Exit(c))),
            Err(_) => (line, None),
        };
    }
    if let Some(pos) = line.find(MARK_BOOTED) {
        if line[pos + MARK_BOOTED.len()..].trim().is_empty() {
            return (&line[..pos], Some(Mark::Booted));
        }
    }
    (line, None)
}

/// Accept QEMU's connection on `listener` and copy everything to `log`.
pub fn spawn_log_copier(listener: UnixListener, mut log: File) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = log.write_all(&buf[..n]);
                }
            }
        }
        let _ = log.flush();
    })
}

/// Accept QEMU's connection for hvc0, echo the script output to stdout (if
/// `echo`) and `log`, and record status marks in `status`.
pub fn spawn_script_reader(
    listener: UnixListener,
    mut log: File,
    echo: bool,
    status: SharedStatus,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match reader.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.strip_suffix('\n').unwrap_or(&line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            let (text, mark) = parse_line(line);
            if mark.is_none() || !text.is_empty() {
                let _ = writeln!(log, "{text}");
                if echo {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{text}");
                    let _ = out.flush();
                }
            }
            match mark {
                Some(Mark::Booted) => {
                    status.lock().expect("status lock").booted = Some(Instant::now());
                }
                Some(Mark::Exit(c)) => status.lock().expect("status lock").exit = Some(c),
                None => {}
            }
        }
        let _ = log.flush();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_recognised_and_split_from_output() {
        assert_eq!(parse_line("hello"), ("hello", None));
        assert_eq!(parse_line("@@nfp-vm: booted"), ("", Some(Mark::Booted)));
        assert_eq!(parse_line("@@nfp-vm: exit 7"), ("", Some(Mark::Exit(7))));
        assert_eq!(
            parse_line("no newline@@nfp-vm: exit 0"),
            ("no newline", Some(Mark::Exit(0)))
        );
        assert_eq!(parse_line("@@nfp-vm: exit x"), ("@@nfp-vm: exit x", None));
        assert_eq!(
            parse_line("@@nfp-vm: booted later"),
            ("@@nfp-vm: booted later", None)
        );
    }

    #[test]
    fn script_reader_records_exit_status() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let log = File::create(dir.path().join("script.log")).unwrap();
        let status = SharedStatus::default();
        let h = spawn_script_reader(listener, log, false, status.clone());
        let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        c.write_all(b"@@nfp-vm: booted\nline one\npartial@@nfp-vm: exit 3\n")
            .unwrap();
        drop(c);
        h.join().unwrap();
        let st = *status.lock().unwrap();
        assert!(st.booted.is_some());
        assert_eq!(st.exit, Some(3));
        let text = std::fs::read_to_string(dir.path().join("script.log")).unwrap();
        assert_eq!(text, "line one\npartial\n");
    }
}
