//! Helpers for the end-to-end tests: start the real `balade-sync` binary on a loopback port
//! with a temporary data directory, run the real `balade` headless commands, generate real
//! JPEG photos, and put small misbehaving network pieces (a TCP proxy that loses answers, a
//! captive portal) between them.
//!
//! The binaries are found next to the test executable (`target/debug/`); build them first
//! with `cargo test --workspace --no-run` (or `cargo build --workspace --bins`).

pub mod net;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// `target/debug` (or `target/release`): the grandparent of the test executable.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// Path of a workspace binary; panics with the command to run when it is missing.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "binary {} not found: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// A free loopback port (bound then released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `../shared/data` relative to the repository root.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// A running `balade-sync serve`.
pub struct Server {
    pub child: Child,
    pub data: PathBuf,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts the server on `127.0.0.1:0` and learns its port from the first stdout line.
    pub fn start(data: &Path) -> Server {
        Server::start_on(data, "127.0.0.1:0")
    }

    /// Starts the server on a given address (used to restart on the same port).
    pub fn start_on(data: &Path, listen: &str) -> Server {
        let mut last_error = String::new();
        // A port just released by a killed server can take a moment to be free again.
        for _ in 0..50 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(data.with_extension("log"))
                .unwrap();
            let mut child = Command::new(bin("balade-sync"))
                .arg("serve")
                .env("BALADE_DATA", data)
                .env("BALADE_LISTEN", listen)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .expect("spawn balade-sync");
            let stdout = child.stdout.take().unwrap();
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            if let Some(addr) = first.trim().strip_prefix("listening on http://") {
                let addr: SocketAddr = addr.parse().expect("listening address");
                // Keep draining stdout so the server never blocks on a full pipe.
                std::thread::spawn(move || {
                    let mut sink = String::new();
                    while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                        sink.clear();
                    }
                });
                return Server {
                    child,
                    data: data.to_path_buf(),
                    addr,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_error = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("balade-sync did not start on {listen}:\n{last_error}");
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills and starts again on the same port and data.
    pub fn restart(&mut self) {
        self.kill();
        let restarted = Server::start_on(&self.data, &self.addr.to_string());
        *self = restarted;
    }

    /// Peak resident memory (VmHWM) of the server process, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// A read connection to the server's database.
    pub fn db(&self) -> rusqlite::Connection {
        server_db(&self.data)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A connection to a server data dir's database.
pub fn server_db(data: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(data.join("balade.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn
}

/// Number of rows in a server table.
pub fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Runs `balade-sync` with `BALADE_DATA` set.
pub fn server_cli(data: &Path, args: &[&str]) -> Output {
    Command::new(bin("balade-sync"))
        .args(args)
        .env("BALADE_DATA", data)
        .output()
        .unwrap()
}

/// Makes a one-time enrolment code (the last line of `balade-sync enroll`'s stdout).
pub fn enrollment_code(data: &Path, name: &str) -> String {
    let output = server_cli(data, &["enroll", "--name", name]);
    assert!(
        output.status.success(),
        "enroll failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("a code")
        .trim()
        .to_string()
}

/// Runs an operator command (`balade-sync request ...`) and checks it succeeded.
pub fn operator(data: &Path, args: &[&str]) -> String {
    let mut full = vec!["request"];
    full.extend_from_slice(args);
    let output = server_cli(data, &full);
    assert!(
        output.status.success(),
        "balade-sync {full:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One device data directory driven through the real `balade` binary.
pub struct Device {
    pub dir: PathBuf,
}

impl Device {
    pub fn new(dir: &Path) -> Device {
        std::fs::create_dir_all(dir).unwrap();
        Device {
            dir: dir.to_path_buf(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin("balade"));
        command.arg("--data").arg(&self.dir).args(args);
        command
            .env_remove("BALADE_SERVER")
            .env_remove("BALADE_DATA");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "balade {args:?} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Enrols against a running server with a fresh code.
    pub fn enroll(&self, server: &Server) {
        let code = enrollment_code(&server.data, "test device");
        self.ok(&["--server", &server.url(), "enroll", &code]);
    }

    /// Captures one incident; returns its id.
    pub fn capture(&self, photos: &[&Path], extra_args: &[&str]) -> String {
        let mut args = vec![
            "capture",
            "--category",
            "voirie",
            "--subcategory",
            "nid_de_poule",
            "--comment",
            "Nid-de-poule devant l'école",
            "--lat",
            "46.1591",
            "--lon",
            "-1.1520",
            "--accuracy",
            "5",
        ];
        let photo_args: Vec<String> = photos.iter().map(|p| p.display().to_string()).collect();
        for photo in &photo_args {
            args.push("--photo");
            args.push(photo);
        }
        args.extend_from_slice(extra_args);
        self.ok(&args).lines().last().unwrap().trim().to_string()
    }

    /// `queue --json`.
    pub fn queue(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["queue", "--json"])).unwrap()
    }

    /// `status ID --json`.
    pub fn status(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["status", id, "--json"])).unwrap()
    }

    /// (id, local_state) of every incident, read from the device database directly.
    pub fn local_states(&self) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(self.dir.join("device.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, local_state FROM incidents ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

/// Writes a real JPEG of `width × height` with content that depends on `seed` (noise plus
/// gradients, so it does not compress to nothing and every seed has another hash).
pub fn write_jpeg(path: &Path, width: u32, height: u32, seed: u32) {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state & 0x3f) as u8;
        image::Rgb([
            ((x * 255 / width.max(1)) as u8).wrapping_add(noise),
            ((y * 255 / height.max(1)) as u8).wrapping_add(noise / 2),
            (seed as u8).wrapping_mul(37).wrapping_add(noise),
        ])
    });
    image
        .save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

/// Lower-case hex SHA-256 of a file.
pub fn file_sha256(path: &Path) -> String {
    balade_protocol::incident::sha256_hex(&std::fs::read(path).unwrap())
}

/// Where the server keeps a photo: `<data>/photos/<aa>/<sha256>`.
pub fn server_photo_path(data: &Path, sha256: &str) -> PathBuf {
    data.join("photos").join(&sha256[..2]).join(sha256)
}

/// The real server router served in-process on a loopback port (for client tests that need no
/// binaries, and for the benchmark), with one enrolled device.
pub struct InProcessServer {
    pub runtime: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    pub data: PathBuf,
    pub enrollment: balade_app::engine::store::Enrollment,
}

impl InProcessServer {
    pub fn start(data: &Path) -> InProcessServer {
        use balade_sync::state::{AppState, Config};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::open(Config::new(data.to_path_buf(), addr)).unwrap();
        // Enrol directly in the server store: a device row holding the token's hash.
        let token = format!("test-{}", uuid::Uuid::new_v4().simple());
        let device_id = uuid::Uuid::now_v7();
        let conn = balade_sync::store::open_connection(state.store.path()).unwrap();
        conn.execute(
            "INSERT INTO devices (id, name, token_hash, created_at) VALUES (?1, 'test', ?2, ?3)",
            rusqlite::params![
                device_id.to_string(),
                balade_sync::store::secret_hash(&token),
                balade_sync::store::now_text()
            ],
        )
        .unwrap();
        let app = balade_sync::app::app(state);
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        let enrollment = balade_app::engine::store::Enrollment {
            server_url: format!("http://{addr}"),
            device_id,
            token,
        };
        InProcessServer {
            runtime,
            addr,
            data: data.to_path_buf(),
            enrollment,
        }
    }
}
