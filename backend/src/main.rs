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
    /// Manages producer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manages control-room screens.
    #[command(subcommand)]
    Display(DisplayCommand),
}

#[derive(Subcommand)]
enum DisplayCommand {
    /// Creates a one-time enrolment link for a screen (valid 7 days) and prints it.
    Add {
        name: String,
        /// Where the screen reaches Levels, e.g. https://levels.example.nhs.uk
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Revokes a screen: its sessions stop at once.
    Revoke {
        name: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Creates a token for a producer and prints it: the only time it is shown.
    Add {
        /// The producer's name, recorded with every batch it sends.
        name: String,
        /// Feeds it may post, comma-separated: beds,handovers,discharge-delays,community,ed.
        #[arg(long, value_delimiter = ',', required = true)]
        feeds: Vec<String>,
        /// Site codes it may post for, comma-separated, or * for every site.
        #[arg(long, value_delimiter = ',', required = true)]
        sites: Vec<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Lists tokens (names, feeds, sites; never the tokens).
    List {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Revokes a producer's token at once.
    Revoke {
        name: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates an account. The password is read from $NEW_ACCOUNT_PASSWORD or the first line
    /// of standard input, so it never appears in the shell's history or the process list.
    /// (Not a LEVELS_ variable: those are configuration.)
    Add {
        /// The login name.
        name: String,
        /// display, site_manager, discharge_coordinator, system_leader or admin.
        #[arg(long)]
        role: Role,
        /// The ODS code of the person's organisation (required for discharge coordinators,
        /// who see its sites' patients, and site managers, who act on its sites' levels).
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

/// Who ran a command, for the audit log: `cli:<the operating-system user>`.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Records a command-line change in the audit log, as the API records its own.
async fn audited(
    store: &dyn levels::store::Store,
    action: &str,
    subject: String,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    levels::audit::record(store, &cli_actor(), action, &subject, detail, None)
        .await
        .context("writing the audit log")
}

/// The store the configuration names, for a command that changes it.
async fn open_store(
    config: Option<PathBuf>,
) -> anyhow::Result<std::sync::Arc<dyn levels::store::Store>> {
    let config = load(config)?;
    Ok(levels::store::connect(&config.database.url).await?)
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("NEW_ACCOUNT_PASSWORD") {
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
        Some(Command::Token(command)) => token(command).await,
        Some(Command::Display(command)) => display(command).await,
    }
}

async fn display(command: DisplayCommand) -> anyhow::Result<()> {
    match command {
        DisplayCommand::Add { name, url, config } => {
            let store = open_store(config).await?;
            let token = levels::accounts::displays::enrolment(store.as_ref(), &name)
                .await
                .with_context(|| format!("enrolling the screen {name}"))?;
            let subject = format!("display:{name}");
            audited(
                store.as_ref(),
                "display_link",
                subject,
                serde_json::json!({}),
            )
            .await?;
            println!("{}/enrol?token={token}", url.trim_end_matches('/'));
            eprintln!("Open the link above once on the screen {name}, within 7 days.");
        }
        DisplayCommand::Revoke { name, config } => {
            let store = open_store(config).await?;
            levels::accounts::displays::revoke(store.as_ref(), &name).await?;
            let subject = format!("display:{name}");
            audited(
                store.as_ref(),
                "display_revoke",
                subject,
                serde_json::json!({}),
            )
            .await?;
            println!("Revoked the screen {name}.");
        }
    }
    Ok(())
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Add {
            name,
            feeds,
            sites,
            config,
        } => {
            let config = load(config)?;
            let feeds = feeds
                .iter()
                .map(|f| {
                    levels_shared::feed::Feed::parse(f).ok_or_else(|| {
                        anyhow::anyhow!("unknown feed {f}: give beds, handovers, discharge-delays, community or ed")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let reference =
                levels::reference::load(&config.reference).context("loading reference data")?;
            let store = levels::store::connect(&config.database.url).await?;
            let reserved = levels::accounts::tokens::reserved_names(&config);
            let token = levels::accounts::tokens::create(
                store.as_ref(),
                &reference,
                &reserved,
                &name,
                feeds,
                sites,
            )
            .await
            .with_context(|| format!("creating a token for {name}"))?;
            let subject = format!("producer:{name}");
            audited(
                store.as_ref(),
                "token_create",
                subject,
                serde_json::json!({}),
            )
            .await?;
            println!("{token}");
            eprintln!(
                "The token for {name} is above. It is shown only now: give it to the producer."
            );
        }
        TokenCommand::List { config } => {
            let store = open_store(config).await?;
            for t in store.producer_tokens().await? {
                let feeds: Vec<String> = t.feeds.iter().map(ToString::to_string).collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    t.name,
                    feeds.join(","),
                    t.sites.join(","),
                    t.revoked_at
                        .map_or("live".to_string(), |at| format!("revoked {at}"))
                );
            }
        }
        TokenCommand::Revoke { name, config } => {
            let store = open_store(config).await?;
            if store
                .revoke_producer_token(&name, chrono::Utc::now())
                .await?
            {
                let subject = format!("producer:{name}");
                audited(
                    store.as_ref(),
                    "token_revoke",
                    subject,
                    serde_json::json!({}),
                )
                .await?;
                println!("Revoked the token of {name}.");
            } else {
                anyhow::bail!("no live token for the producer {name}");
            }
        }
    }
    Ok(())
}

async fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let config = load(config)?;
    levels::telemetry::init(&config.log);
    let app = levels::app::Application::build(config).await?;
    tracing::info!(url = %app.url(), "Levels is serving; open the URL in a browser");
    println!("Levels is running: open {}", app.url());
    if app.state().config.demo.users {
        let names: Vec<&str> = levels::accounts::DEMO_USERS
            .iter()
            .map(|(n, _, _)| *n)
            .collect();
        println!(
            "Demo accounts: sign in as {} with the password {}",
            names.join(", "),
            app.state().config.demo.password
        );
    }
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
            let store = open_store(config).await?;
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
            let detail = serde_json::json!({"role": role, "organisation": organisation});
            audited(
                store.as_ref(),
                "user_create",
                format!("user:{name}"),
                detail,
            )
            .await?;
            println!("Created {name} ({}).", role.label());
        }
        UserCommand::List { config } => {
            let store = open_store(config).await?;
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
