//! Logging: `tracing` to stderr, filtered by `RUST_LOG` or the configured level, as text
//! for people or as one JSON object per line for a log collector (`log.format`).

use crate::config::{LogConfig, LogFormat};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (e.g. from tests) are ignored.
pub fn init(cfg: &LogConfig) {
    let _ = tracing::subscriber::set_global_default(subscriber(cfg, std::io::stderr));
}

/// The subscriber `init` installs, writing to `writer`.
fn subscriber<W>(cfg: &LogConfig, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match cfg.format {
        LogFormat::Text => Box::new(builder.finish()),
        // The span list carries the feed and producer that `ingest` records on its span.
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(false)
                .with_span_list(true)
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_logs_are_one_object_per_line_with_the_span_fields() {
        let out = Captured::default();
        let writer = out.clone();
        let cfg = LogConfig {
            level: "info".into(),
            format: LogFormat::Json,
        };
        tracing::subscriber::with_default(subscriber(&cfg, move || writer.clone()), || {
            let span = tracing::info_span!("ingest", feed = "beds", producer = "trust");
            let _entered = span.enter();
            tracing::info!(accepted = 3, "batch accepted");
            tracing::debug!("below the level: not written");
        });
        let text = String::from_utf8(out.0.lock().expect("not poisoned").clone()).expect("UTF-8");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "batch accepted");
        assert_eq!(line["fields"]["accepted"], 3);
        assert_eq!(line["spans"][0]["feed"], "beds");
        assert_eq!(line["spans"][0]["producer"], "trust");
        assert!(line["timestamp"].is_string());
    }
}
