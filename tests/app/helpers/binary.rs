//! The real `fuzhi` binary in a process of its own: the one way the tests
//! and the benches run it. A command (`command`) runs once and ends; a
//! server (`Serve`) listens on a free port, counts as started once its
//! `/healthz` answers 200, keeps what it writes (in memory, or in a file for
//! long runs) and is killed when dropped.
//!
//! It needs nothing of the test harness: benches include this file with
//! `#[path = "../tests/app/helpers/binary.rs"] mod binary;`.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The built `fuzhi` binary with `args` (to run once: `.output()`).
pub fn command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fuzhi"));
    cmd.args(args);
    cmd
}

/// How a server is started: `fuzhi serve --addr 127.0.0.1:0`, from the
/// checkout, on a database, with its data folder, without the mail worker
/// and without refreshing the report rollup (each can be changed).
pub struct Serve {
    cmd: Command,
    log_file: Option<PathBuf>,
    limit: Duration,
}

impl Serve {
    pub fn new(db_url: &str, data_dir: &Path) -> Serve {
        let mut cmd = command(&["serve", "--addr", "127.0.0.1:0"]);
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", db_url)
            .env("FUZHI_DATA_DIR", data_dir)
            .env("FUZHI_MAIL__WORKER", "false")
            .env("FUZHI_REPORT_REFRESH_SECS", "0");
        Serve {
            cmd,
            log_file: None,
            limit: Duration::from_secs(120),
        }
    }

    /// One more argument after `serve` (e.g. `--demo`).
    pub fn arg(mut self, arg: &str) -> Serve {
        self.cmd.arg(arg);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Serve {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Serve {
        self.cmd.env_remove(key);
        self
    }

    /// The folder it runs from (the checkout unless set).
    pub fn current_dir(mut self, dir: &Path) -> Serve {
        self.cmd.current_dir(dir);
        self
    }

    /// Appends what the server prints to `file` instead of keeping it in
    /// memory (for long runs under load).
    pub fn log_to(mut self, file: &Path) -> Serve {
        self.log_file = Some(file.to_path_buf());
        self
    }

    /// How long it may take to answer `/healthz` (120 s unless set).
    pub fn limit(mut self, limit: Duration) -> Serve {
        self.limit = limit;
        self
    }

    /// Starts it and returns once its `/healthz` answers 200 (the blocking
    /// wait runs off the async workers).
    pub async fn start(self) -> Served {
        match tokio::task::spawn_blocking(move || self.start_blocking()).await {
            Ok(served) => served,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// `start` for callers outside an async runtime.
    pub fn start_blocking(mut self) -> Served {
        let started = Instant::now();
        let log = match &self.log_file {
            Some(path) => Log::File(
                Arc::new(Mutex::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .expect("server log"),
                )),
                path.clone(),
            ),
            None => Log::Memory(Arc::default()),
        };
        let mut child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the fuzhi binary");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        let sink = log.clone();
        // The address is the line the server prints once it listens; the
        // rest of stdout, and stderr, is its log.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(addr) = line.trim().strip_prefix("fuzhi: serving on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.to_string());
                } else {
                    sink.push(line);
                }
            }
        });
        let err = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                sink.push(line);
            }
        });
        let mut served = Served {
            child,
            addr: String::new(),
            log,
            started: Duration::ZERO,
        };
        served.addr = match rx.recv_timeout(self.limit) {
            Ok(addr) => addr,
            Err(e) => panic!(
                "the server did not say where it listens ({e}); its log:\n{}",
                served.log()
            ),
        };
        loop {
            match served.health() {
                Some(200) => break,
                status if started.elapsed() > self.limit => panic!(
                    "/healthz did not answer 200 within {:?} (last: {status:?}); its log:\n{}",
                    self.limit,
                    served.log()
                ),
                // Not ready yet: ask again shortly.
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        served.started = started.elapsed();
        served
    }
}

/// Where a server's output goes.
#[derive(Clone)]
enum Log {
    Memory(Arc<Mutex<Vec<String>>>),
    File(Arc<Mutex<std::fs::File>>, PathBuf),
}

impl Log {
    fn push(&self, line: String) {
        match self {
            Log::Memory(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).push(line),
            Log::File(file, _) => {
                let _ = writeln!(file.lock().unwrap_or_else(|e| e.into_inner()), "{line}");
            }
        }
    }
}

/// A running `fuzhi serve`; killed (SIGKILL) when dropped.
pub struct Served {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    log: Log,
    started: Duration,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    /// How long it took from the start until `/healthz` answered 200.
    pub fn startup(&self) -> Duration {
        self.started
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it has printed so far (but the address line).
    pub fn log(&self) -> String {
        match &self.log {
            Log::Memory(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).join("\n"),
            Log::File(_, path) => std::fs::read_to_string(path).unwrap_or_default(),
        }
    }

    /// Whether a line it printed contains `what`.
    pub fn logged(&self, what: &str) -> bool {
        match &self.log {
            Log::Memory(lines) => lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|l| l.contains(what)),
            Log::File(..) => self.log().contains(what),
        }
    }

    /// Waits (asking every 5 ms, at most `limit`) until it has printed a
    /// line containing `what`; whether it did.
    pub async fn until_logged(&self, what: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while !self.logged(what) {
            if start.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// The status of one `GET /healthz` (plain HTTP over a socket, so that
    /// it works in any context); `None` when it does not answer.
    pub fn health(&self) -> Option<u16> {
        let host = self.addr.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(host).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    }

    /// SIGKILL: no chance to release anything; waits for it to end.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait for the killed server");
    }

    /// SIGTERM (actix shuts down gracefully), then waits for it to end.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
