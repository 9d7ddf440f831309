//! Opening many signed-in live websockets cheaply.

use anyhow::{Context, Result};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Handshakes in flight at once: the server's listen backlog is finite, and a burst of
/// thousands of SYNs would measure the backlog rather than the server.
pub const CONNECTING_AT_ONCE: usize = 64;

/// Opens `/api/v1/live` with a session cookie. The client's own buffers are small so that
/// 10,000 clients fit in the bench beside the server.
pub async fn connect(url: &str, cookie: &str) -> Result<Socket> {
    let mut request = url.into_client_request().context("a websocket request")?;
    request
        .headers_mut()
        .insert("cookie", cookie.parse().context("a cookie header")?);
    let config = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .context("the websocket handshake")?;
    Ok(ws)
}

/// A permit to handshake, shared by every client of a run.
pub fn gate() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(CONNECTING_AT_ONCE))
}
