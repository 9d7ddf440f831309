//! The `levels` binary: runs the server (`levels [CONFIG]`), or manages accounts
//! (`levels user add|list`). Everything else is in the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use levels_shared::access::Role;
use std::io::BufRead;
use std::path::PathBuf;

/// Levels: real-time system flow and escalation.
#[derive(Parser)]
#[command(name = "levels", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// The configuration file (default: $LEVELS_CONFIG, else the built-in defaults).
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server (what `levels [CONFIG]` does).
    Serve { config: Option<PathBuf> },
    /// Manages people's accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates an account. The password is read from $LEVELS_PASSWORD or the first line of
    /// standard input, so it never appears in the shell's history or the process list.
    Add {
        /// The login name.
        name: String,
        /// display, site_manager, discharge_coordinator, system_leader or admin.
        #[arg(long)]
        role: Role,
        /// The ODS code of the person's organisation (required for discharge coordinators).
        #[arg(long)]
        organisation: Option<String>,
        /// The name shown for them (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Lists accounts.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn load(path: Option<PathBuf>) -> anyhow::Result<levels::config::Config> {
    let path = path.or_else(|| std::env::var("LEVELS_CONFIG").ok().map(PathBuf::from));
    levels::config::Config::load(path.as_deref().and_then(|p| p.to_str()))
        .context("reading the configuration")
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("LEVELS_PASSWORD") {
        return Ok(p);
    }
    eprintln!(
        "Password (at least {} characters), then Enter:",
        levels::accounts::MIN_PASSWORD
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.config).await,
        Some(Command::Serve { config }) => serve(config.or(cli.config)).await,
        Some(Command::User(command)) => user(command).await,
    }
}

async fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let config = load(config)?;
    levels::telemetry::init(&config.log);
    let app = levels::app::Application::build(config).await?;
    tracing::info!(url = %app.url(), "Levels is serving; open the URL in a browser");
    println!("Levels is running: open {}", app.url());
    app.run_until_stopped(levels::app::shutdown_signal())
        .await?;
    Ok(())
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            organisation,
            display_name,
            config,
        } => {
            let config = load(config)?;
            let store = levels::store::connect(&config.database.url).await?;
            let password = read_password()?;
            levels::accounts::create(
                store.as_ref(),
                &name,
                display_name.as_deref(),
                role,
                organisation.as_deref(),
                Some(&password),
            )
            .await
            .with_context(|| format!("creating the account {name}"))?;
            println!("Created {name} ({}).", role.label());
        }
        UserCommand::List { config } => {
            let config = load(config)?;
            let store = levels::store::connect(&config.database.url).await?;
            for u in store.users().await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.name,
                    u.role,
                    u.organisation.as_deref().unwrap_or("-"),
                    u.display_name,
                    if u.disabled { "\t(disabled)" } else { "" }
                );
            }
        }
    }
    Ok(())
}
