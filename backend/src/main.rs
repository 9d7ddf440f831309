//! The `levels` binary: reads the configuration and runs the server until Ctrl-C.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config_path = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("LEVELS_CONFIG").ok());
    let config = levels::config::Config::load(config_path.as_deref())
        .context("reading the configuration")?;
    levels::telemetry::init(&config.log);
    let app = levels::app::Application::build(config).await?;
    tracing::info!(url = %app.url(), "Levels is serving; open the URL in a browser");
    println!("Levels is running: open {}", app.url());
    app.run_until_stopped(levels::app::shutdown_signal())
        .await?;
    Ok(())
}
