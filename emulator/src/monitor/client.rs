//! A client of the monitor (what `nfp-ctl` uses): connect, check the
//! greeting, then one request and its reply at a time.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value, json};

/// Why a request did not get a `return`.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket failed or closed.
    #[error("monitor socket: {0}")]
    Io(#[from] std::io::Error),
    /// A line from the monitor is not JSON.
    #[error("monitor sent something that is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The first line is not a QMP greeting (or the monitor refused the
    /// client).
    #[error("not a monitor greeting: {0}")]
    Greeting(String),
    /// The monitor answered with an error.
    #[error("{class}: {desc}")]
    Command {
        /// QMP class (`CommandNotFound`, `GenericError`).
        class: String,
        /// What went wrong.
        desc: String,
    },
}

/// A connection to a monitor.
#[derive(Debug)]
pub struct Client {
    r: BufReader<UnixStream>,
    w: UnixStream,
    /// The greeting's `QMP` object (version, capabilities).
    pub greeting: Value,
}

impl Client {
    /// Connect to the monitor at `path` and read its greeting. Replies
    /// that take longer than `timeout` are an error.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Self, ClientError> {
        let w = UnixStream::connect(path)?;
        w.set_read_timeout(Some(timeout))?;
        w.set_write_timeout(Some(timeout))?;
        let mut c = Self {
            r: BufReader::new(w.try_clone()?),
            w,
            greeting: Value::Null,
        };
        let g = c.line()?;
        match g.get("QMP") {
            Some(q) => c.greeting = q.clone(),
            None => return Err(ClientError::Greeting(g.to_string())),
        }
        Ok(c)
    }

    fn line(&mut self) -> Result<Value, ClientError> {
        let mut l = String::new();
        if self.r.read_line(&mut l)? == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        Ok(serde_json::from_str(&l)?)
    }

    /// Run `command` with `args` (an object, or null for none): its
    /// `return` value.
    pub fn execute(&mut self, command: &str, args: Value) -> Result<Value, ClientError> {
        let mut req = Map::new();
        req.insert("execute".into(), json!(command));
        if !args.is_null() {
            req.insert("arguments".into(), args);
        }
        let mut line = serde_json::to_vec(&req)?;
        line.push(b'\n');
        self.w.write_all(&line)?;
        let reply = self.line()?;
        if let Some(v) = reply.get("return") {
            return Ok(v.clone());
        }
        let e = &reply["error"];
        Err(ClientError::Command {
            class: e["class"].as_str().unwrap_or("?").to_owned(),
            desc: e["desc"].as_str().unwrap_or("").to_owned(),
        })
    }
}
