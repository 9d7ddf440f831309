//! The connection loop: accepts connections (plain or TLS) and serves each with hyper's
//! HTTP/1, upgrades (websockets) included, until told to stop; then lets requests in
//! flight finish.
//!
//! Written here rather than with `axum::serve` because that sets no timer, so hyper's
//! header read timeout never applies: a client trickling its request head in a byte at a
//! time would hold its connection open for ever. The shape follows `axum::serve`'s own.

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `router` on `listener` until `signal` completes, then stops accepting, asks each
/// connection to finish its current request, and waits for them all.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    header_timeout: Duration,
    signal: impl Future<Output = ()> + Send,
) where
    L: Listener<Addr = SocketAddr>,
{
    // Connections hold a receiver each; `closed()` on the sender completes when all are gone.
    let (open_tx, open_rx) = watch::channel(());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut signal = pin!(signal);
    loop {
        let (io, remote) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut signal => break,
        };
        // Each request knows its client's address, for sign-in limits and the audit log.
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        let service = TowerToHyperService::new(service);
        let (open, mut stop) = (open_rx.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut connection = pin!(http
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades());
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%remote, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
                }
            }
            drop(open);
        });
    }
    drop(open_rx);
    drop(listener);
    stop_tx.send_replace(true);
    open_tx.closed().await;
}
