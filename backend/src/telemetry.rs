//! Logging: `tracing` to stderr, filtered by `RUST_LOG` or the configured level.

use crate::config::LogConfig;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (e.g. from tests) are ignored.
pub fn init(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
