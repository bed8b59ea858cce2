//! Small misbehaving network pieces on loopback, with std threads only: a TCP proxy that can
//! lose the server's answer to chosen requests (after the server has committed: the answer's
//! first bytes have arrived), and a captive portal that answers 200 to everything.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Which answers the proxy loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropRule {
    /// The answer to the first `POST /api/v1/push` only.
    FirstPushAnswer,
    /// Every photo upload request (`POST`/`PATCH`/`HEAD` under `/api/v1/uploads`).
    AllUploads,
}

/// A loopback TCP proxy in front of `upstream`.
pub struct LossyProxy {
    pub addr: SocketAddr,
    /// How many answers were dropped.
    pub n_dropped: Arc<AtomicUsize>,
}

impl LossyProxy {
    pub fn start(upstream: SocketAddr, rule: DropRule) -> LossyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let n_dropped = Arc::new(AtomicUsize::new(0));
        let armed = Arc::new(AtomicBool::new(true));
        let dropped = n_dropped.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (dropped, armed) = (dropped.clone(), armed.clone());
                std::thread::spawn(move || relay(client, server, rule, armed, dropped));
            }
        });
        LossyProxy { addr, n_dropped }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn relay(
    client: TcpStream,
    server: TcpStream,
    rule: DropRule,
    armed: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
) {
    let doomed = Arc::new(AtomicBool::new(false));
    let (mut client_read, mut server_write) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up_doomed = doomed.clone();
    let up = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let head = String::from_utf8_lossy(&buf[..n.min(64)]).into_owned();
            let hit = match rule {
                DropRule::FirstPushAnswer => {
                    head.starts_with("POST /api/v1/push") && armed.swap(false, Ordering::SeqCst)
                }
                DropRule::AllUploads => ["POST", "PATCH", "HEAD"]
                    .iter()
                    .any(|m| head.starts_with(&format!("{m} /api/v1/uploads"))),
            };
            if hit {
                up_doomed.store(true, Ordering::SeqCst);
            }
            if server_write.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = server_write.shutdown(Shutdown::Write);
    });
    let (mut server_read, mut client_write) = (server, client);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if doomed.load(Ordering::SeqCst) {
            // The server has answered, so it has committed: lose the answer.
            dropped.fetch_add(1, Ordering::SeqCst);
            let _ = client_write.shutdown(Shutdown::Both);
            let _ = server_read.shutdown(Shutdown::Both);
            break;
        }
        if client_write.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = up.join();
}

/// What the captive portal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalAnswer {
    /// `200 text/html` login page.
    Html,
    /// `200 application/json` without the protocol envelope.
    JsonWithoutProtocol,
}

/// A loopback HTTP server answering 200 to every request; counts requests.
pub struct CaptivePortal {
    pub addr: SocketAddr,
    pub n_requests: Arc<AtomicUsize>,
}

impl CaptivePortal {
    pub fn start(answer: PortalAnswer) -> CaptivePortal {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let n_requests = Arc::new(AtomicUsize::new(0));
        let counter = n_requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 8192];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    // Read the body too, so the client sees the answer and not a reset.
                    let header_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let headers = String::from_utf8_lossy(&request[..header_end]).to_lowercase();
                    let length: usize = headers
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while request.len() < header_end + length {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let (content_type, body) = match answer {
                        PortalAnswer::Html => (
                            "text/html; charset=utf-8",
                            "<html><body><h1>Wi-Fi gratuit</h1><form>Acceptez les conditions</form></body></html>",
                        ),
                        PortalAnswer::JsonWithoutProtocol => {
                            ("application/json", r#"{"ok":true,"results":[]}"#)
                        }
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes());
                    let _ = stream.shutdown(Shutdown::Both);
                });
            }
        });
        CaptivePortal { addr, n_requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
