//! Resident memory per idle connection: the server's RSS before and after N signed-in
//! websockets that read their snapshot and heartbeat and then sit idle (answering pings,
//! as a browser does), divided by N. Measured for Levels' own websocket buffers and, in
//! the same run, for tungstenite's defaults (128 KiB read and write buffers).

use crate::live::{gate, Client};
use crate::server::{seed, Levels};
use anyhow::{Context, Result};
use std::time::Duration;
use tokio::task::JoinSet;

/// The configuration under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffers {
    /// Levels' configured defaults.
    Levels,
    /// tungstenite's defaults, set through the configuration's environment overrides.
    Tungstenite,
}

impl Buffers {
    pub fn label(self) -> &'static str {
        match self {
            Buffers::Levels => "Levels' buffers",
            Buffers::Tungstenite => "tungstenite default buffers",
        }
    }

    fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Buffers::Levels => &[],
            Buffers::Tungstenite => &[
                ("LEVELS_LIVE__READ_BUFFER_BYTES", "131072"),
                ("LEVELS_LIVE__WRITE_BUFFER_BYTES", "131072"),
            ],
        }
    }
}

pub struct Row {
    pub connections: usize,
    pub before_kib: u64,
    pub after_kib: u64,
    pub snapshot_bytes: usize,
}

impl Row {
    pub fn per_connection_kib(&self) -> f64 {
        self.after_kib.saturating_sub(self.before_kib) as f64 / self.connections.max(1) as f64
    }
}

pub async fn run(levels: &Levels, buffers: Buffers, n: usize, idle: Duration) -> Result<Row> {
    let server = levels.start(buffers.env()).await?;
    let result: Result<Row> = async {
        seed(&server, &levels.root).await?;
        let cookie = server.sign_in().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before_kib = server.rss_kib()?;
        let gate = gate();
        let mut opening = JoinSet::new();
        for _ in 0..n {
            let (base, cookie, gate) = (server.base.clone(), cookie.clone(), gate.clone());
            opening.spawn(async move {
                let mut ws = {
                    let _permit = gate.acquire().await?;
                    Client::connect(&base, &cookie).await?
                };
                let first = first_messages(&mut ws).await?;
                Ok::<_, anyhow::Error>((ws, first))
            });
        }
        let mut sockets = Vec::with_capacity(n);
        let mut snapshot_bytes = 0;
        while let Some(opened) = opening.join_next().await {
            let (ws, bytes) = opened??;
            snapshot_bytes = bytes;
            sockets.push(ws);
        }
        // Idle: each socket keeps being read so pings get their pongs.
        let idle_readers: Vec<_> = sockets
            .into_iter()
            .map(|mut ws| tokio::spawn(async move { while let Ok(Some(_)) = ws.next().await {} }))
            .collect();
        tokio::time::sleep(idle).await;
        let after_kib = server.rss_kib()?;
        for reader in idle_readers {
            reader.abort();
        }
        Ok(Row {
            connections: n,
            before_kib,
            after_kib,
            snapshot_bytes,
        })
    }
    .await;
    if result.is_err() {
        eprintln!("server log:\n{}", server.log_tail());
    }
    server.stop().await;
    let row = result?;
    eprintln!(
        "  memory, {} idle connections, {}: {:.1} KiB each",
        row.connections,
        buffers.label(),
        row.per_connection_kib()
    );
    Ok(row)
}

/// Reads up to the first heartbeat (after the snapshot); the snapshot's size.
async fn first_messages(ws: &mut Client) -> Result<usize> {
    let mut snapshot = 0;
    loop {
        let text = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .context("no live message within 60 s")??
            .context("the socket closed")?;
        match crate::stats::kind(text) {
            crate::stats::Kind::Snapshot => snapshot = text.len(),
            crate::stats::Kind::Heartbeat => return Ok(snapshot),
            _ => {}
        }
    }
}
