//! A minimal websocket client of `/api/v1/live`, cheap enough that one process can hold
//! 10,000 of them beside the server on two cores.
//!
//! A general client (tungstenite) zeroes a fresh read chunk before every read, copies each
//! payload out of its buffer and validates it as UTF-8: measured, about a third more CPU per
//! delivery than this one, which reads frames straight into one reused buffer and hands out
//! the payload in place (the bench only scans it for a few byte patterns). It
//! speaks just what the server sends: unmasked frames, text (possibly fragmented), ping
//! (answered with a masked pong, as RFC 6455 requires of clients) and close.

use anyhow::{bail, Context, Result};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Handshakes in flight at once: the server's listen backlog is finite, and a burst of
/// thousands of SYNs would measure the backlog rather than the server.
pub const CONNECTING_AT_ONCE: usize = 64;

/// Read at least this much at a time.
const READ_CHUNK: usize = 16 * 1024;
/// The largest message accepted (a snapshot of a large system is a few hundred KB).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// A permit to handshake, shared by every client of a run.
pub fn gate() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(CONNECTING_AT_ONCE))
}

pub struct Client {
    stream: TcpStream,
    /// Bytes read; frames are parsed from `start`.
    buf: Vec<u8>,
    /// Bytes at the start of `buf` already consumed (the last message returned still lies
    /// there). They are dropped only before the next read, when what follows them is at
    /// most a partial frame: moving the rest down after every message would copy a
    /// backlog of messages once per message.
    start: usize,
    /// A fragmented text message being put together.
    fragments: Vec<u8>,
    in_fragments: bool,
}

/// Where the last message lies.
enum Found {
    Buffer(usize, usize),
    Fragments,
}

impl Client {
    /// Opens `ws://{addr}/api/v1/live` with a session cookie. `base` is `http://host:port`.
    pub async fn connect(base: &str, cookie: &str) -> Result<Client> {
        let host = base
            .strip_prefix("http://")
            .context("the server's address is http://host:port")?;
        let mut stream = TcpStream::connect(host)
            .await
            .with_context(|| format!("connecting to {host}"))?;
        stream.set_nodelay(true)?;
        // Closing resets the connection: a run leaves no 10,000 sockets in TIME_WAIT to
        // crowd the next one's ports.
        stream.set_zero_linger()?;
        // The key only has to be well formed; the bench does not check the accept hash.
        let request = format!(
            "GET /api/v1/live HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::with_capacity(READ_CHUNK);
        let end = loop {
            if let Some(at) = memchr::memmem::find(&buf, b"\r\n\r\n") {
                break at + 4;
            }
            if buf.len() > 64 * 1024 {
                bail!("the handshake's answer has no end");
            }
            buf.reserve(READ_CHUNK);
            if stream.read_buf(&mut buf).await? == 0 {
                bail!("the server closed the connection during the handshake");
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            bail!(
                "the upgrade was refused: {}",
                head.lines().next().unwrap_or("")
            );
        }
        // Whatever followed the answer is already the first frames.
        buf.drain(..end);
        Ok(Client {
            stream,
            buf,
            start: 0,
            fragments: Vec::new(),
            in_fragments: false,
        })
    }

    /// The next text message, or `None` once the server has closed the connection.
    pub async fn next(&mut self) -> Result<Option<&[u8]>> {
        let found = loop {
            match parse(&self.buf[self.start..])? {
                Some(frame) => {
                    let payload = self.start + frame.start..self.start + frame.end;
                    self.start += frame.end;
                    match frame.opcode {
                        // Text, or its continuation.
                        0x1 | 0x0 if frame.fin && !self.in_fragments => {
                            break Found::Buffer(payload.start, payload.end);
                        }
                        0x1 | 0x0 => {
                            if frame.opcode == 0x1 {
                                self.fragments.clear();
                            }
                            self.fragments.extend_from_slice(&self.buf[payload]);
                            self.in_fragments = !frame.fin;
                            if frame.fin {
                                break Found::Fragments;
                            }
                        }
                        // Close.
                        0x8 => return Ok(None),
                        // Ping: answer with the same payload, masked.
                        0x9 => {
                            let pong = pong(&self.buf[payload]);
                            self.stream.write_all(&pong).await?;
                        }
                        // Pong, binary: nothing the bench needs.
                        _ => {}
                    }
                }
                None => {
                    self.buf.drain(..self.start);
                    self.start = 0;
                    self.buf.reserve(READ_CHUNK);
                    // Reads into spare capacity: nothing is zeroed first.
                    if self.stream.read_buf(&mut self.buf).await? == 0 {
                        return Ok(None);
                    }
                }
            }
        };
        Ok(Some(match found {
            Found::Buffer(start, end) => &self.buf[start..end],
            Found::Fragments => &self.fragments,
        }))
    }
}

/// One complete frame at the start of a buffer: its opcode and where its payload lies.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub start: usize,
    pub end: usize,
}

/// The frame at the start of `buf`, or `None` if it has not all arrived.
pub fn parse(buf: &[u8]) -> Result<Option<Frame>> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b1 & 0x80 != 0 {
        bail!("the server sent a masked frame");
    }
    let (len, header) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len > MAX_MESSAGE as u64 {
        bail!("a frame of {len} bytes");
    }
    let end = header + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0F,
        start: header,
        end,
    }))
}

/// A client's pong frame carrying `payload` (at most 125 bytes, as a ping's is).
pub fn pong(payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(125)];
    let mask = [0x5a, 0x17, 0xc3, 0x8e];
    let mut frame = vec![0x8A, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frames_of_every_length_form_and_waits_for_the_rest() {
        assert_eq!(parse(&[0x81]).ok().flatten(), None);
        let short = [0x81, 0x02, b'h', b'i'];
        assert_eq!(
            parse(&short).ok().flatten(),
            Some(Frame {
                fin: true,
                opcode: 1,
                start: 2,
                end: 4
            })
        );
        assert_eq!(parse(&short[..3]).ok().flatten(), None);
        let mut medium = vec![0x01, 126, 0x01, 0x00];
        medium.extend(vec![b'x'; 256]);
        assert_eq!(
            parse(&medium).ok().flatten(),
            Some(Frame {
                fin: false,
                opcode: 1,
                start: 4,
                end: 260
            })
        );
        let mut long = vec![0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0];
        long.extend(vec![b'y'; 65536]);
        assert_eq!(
            parse(&long).ok().flatten().map(|f| (f.opcode, f.end)),
            Some((0, 65546))
        );
        assert!(parse(&[0x81, 0x82, 0, 0, 0, 0]).is_err(), "masked");
    }

    #[test]
    fn pongs_are_masked() {
        let frame = pong(b"ab");
        assert_eq!(&frame[..2], &[0x8A, 0x82]);
        let mask = &frame[2..6];
        let unmasked: Vec<u8> = frame[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        assert_eq!(unmasked, b"ab");
    }
}
