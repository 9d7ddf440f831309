//! Assembles the server: opens the store, loads reference data and the policy, rebuilds
//! the live state, starts the background tasks (outbox follower, measures' refresh, history
//! sampling, the simulator) and serves the routes.

use crate::accounts::producers::Producers;
use crate::config::{Config, ProducerConfig};
use crate::escalation::policy::Policy;
use crate::escalation::Escalator;
use crate::live::hub::Hub;
use crate::routes::{router, AppState};
use crate::{escalation, history, reference, sim, state};
use anyhow::Context;
use levels_shared::feed::Feed;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A built server, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
    /// HTTPS, when `server.tls` is configured.
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Application {
    /// Opens the store, loads reference data, rebuilds the live state and binds the port.
    pub async fn build(mut config: Config) -> anyhow::Result<Application> {
        // Certificates are checked at start-up; served over TLS, cookies are Secure.
        let tls = match &config.server.tls {
            Some(t) => Some(crate::tls::server_config(t).context("setting up TLS")?),
            None => None,
        };
        if tls.is_some() {
            config.sessions.secure_cookies = true;
        }
        // Demo accounts and the demo producer token are for a server on this machine only:
        // one that others can reach refuses to start with them.
        let reachable = !config.server.bind.ip().is_loopback();
        if reachable && config.demo.users {
            anyhow::bail!("demo.users is on but the server listens on {}: demo accounts are for a local demo only; create real accounts with `levels user add`", config.server.bind);
        }
        if reachable
            && config
                .producers
                .iter()
                .any(|p| p.token == "demo-token-change-me")
        {
            anyhow::bail!("a producer uses the demo token demo-token-change-me and the server listens on {}: create real tokens with `levels token add`", config.server.bind);
        }
        let reference = reference::load(&config.reference).context("loading reference data")?;
        let store = crate::store::connect(&config.database.url)
            .await
            .with_context(|| {
                format!(
                    "opening the database {}",
                    crate::store::redacted(&config.database.url)
                )
            })?;
        // Demo accounts made earlier stay in the database: one that others can reach refuses
        // to start while any still signs in with the demo password.
        if reachable {
            for (name, _, _) in crate::accounts::DEMO_USERS {
                let user = store.user_by_name(name).await?;
                let hash = user.filter(|u| !u.disabled).and_then(|u| u.password_hash);
                if hash
                    .is_some_and(|h| crate::accounts::passwords::verify(&config.demo.password, &h))
                {
                    anyhow::bail!("the demo account {name} still has the demo password and the server listens on {}: disable it or use another database", config.server.bind);
                }
            }
        }
        // A token made before a producer of the same name was configured would share its
        // record ids (see accounts::tokens): refused until one of them is renamed or revoked.
        let reserved = crate::accounts::tokens::reserved_names(&config);
        for token in store.producer_tokens().await? {
            let clash = reserved.iter().any(|r| r.eq_ignore_ascii_case(&token.name));
            if clash && token.revoked_at.is_none() {
                anyhow::bail!("the producer token {:?} has the name of a configured producer or of the simulator, so their record ids would collide: revoke it (`levels token revoke {}`) or rename the configured producer", token.name, token.name);
            }
        }
        if config.demo.users {
            crate::accounts::create_demo_users(store.as_ref(), &config.demo.password)
                .await
                .context("creating the demo accounts")?;
        }
        // A fresh demo starts with a simulated last week (docs/simulator.md).
        if let Err(e) = sim::backfill::run(store.as_ref(), &config, &reference).await {
            tracing::error!(error = %e, "the simulated backfill failed");
        }
        // Everything up to this outbox entry is in the state read next; the follower starts
        // after it (anything also in that state is applied again, which changes nothing).
        let outbox = store.outbox_last().await?;
        let rows = store.current_state().await?;
        let shown = store.latest_calculated().await?;
        let policy = Arc::new(
            Policy::load(&config.escalation.policy).context("loading the escalation policy")?,
        );
        tracing::info!(policy = %policy.name, version = %policy.version, "escalation policy loaded");
        let reference = Arc::new(reference);
        let escalator = state::Escalation {
            assessor: Box::new(Escalator::new(
                policy.clone(),
                reference.clone(),
                config.escalation.settle_minutes,
            )),
            reference: reference.clone(),
        };
        let (mut live_state, mut projection) =
            state::project(&rows, chrono::Utc::now(), Some(escalator), shown)?;
        // Levels recalculated from the stored state: recorded if they moved while we were
        // down; the alerts that raises reach the screens through the outbox. Every replica
        // does this as it starts: levels already stored are skipped.
        escalation::alerts::record(store.as_ref(), &policy, projection.take_level_changes())
            .await?;
        escalation::alerts::restore(store.as_ref(), &mut live_state).await?;
        tracing::info!(
            sites = reference.sites.len(),
            state_rows = rows.len(),
            "reference data and state loaded"
        );
        let mut producers = Producers::from_config(&config.producers);
        let listener = TcpListener::bind(config.server.bind)
            .await
            .with_context(|| format!("binding {}", config.server.bind))?;
        let addr = listener.local_addr()?;
        let sim_token = config.simulator.enabled.then(|| {
            let token = random_token();
            producers.add(&ProducerConfig {
                name: crate::sim::PRODUCER.into(),
                token: token.clone(),
                feeds: Feed::ALL.to_vec(),
                sites: vec!["*".into()],
            });
            token
        });
        let (progress, follower) = crate::live::follower::start(outbox);
        let hub = Arc::new(Hub::new(
            live_state,
            config.live.replay_deltas,
            config.live.session_queue,
            config.live.fragment_bytes,
        ));
        let config_live_threads = config.live.threads;
        let password_checks = Arc::new(crate::accounts::passwords::PasswordChecks::new(
            config.sessions.password_checks,
            Duration::from_millis(config.sessions.password_wait_milliseconds),
        ));
        let state = AppState {
            config: Arc::new(config),
            reference,
            store,
            hub,
            policy,
            // Five failures per account, twenty per address, in 15 minutes; room for more
            // locked entries than the password checks can produce in that time.
            logins: Arc::new(
                crate::accounts::limits::LoginLimiter::new(
                    std::time::Duration::from_secs(15 * 60),
                    5,
                    20,
                )
                .with_max_keys(crate::accounts::limits::max_keys_for(
                    password_checks.size(),
                )),
            ),
            password_checks,
            producers: Arc::new(producers),
            projection: Arc::new(tokio::sync::Mutex::new(projection)),
            metrics: Arc::default(),
            revocations: Arc::default(),
            follower,
            live_threads: Arc::new(
                crate::live::threads::SessionThreads::new(config_live_threads)
                    .context("starting the live sessions' threads")?,
            ),
        };
        tokio::spawn(crate::live::follower::run(state.publisher(), progress));
        let period = Duration::from_secs(state.config.live.measures_refresh_seconds.max(1));
        tokio::spawn(state.publisher().refresh_measures(period));
        tokio::spawn(history::run(
            state.store.clone(),
            state.hub.clone(),
            state.reference.clone(),
            state.config.history.clone(),
        ));
        if let Some(token) = sim_token {
            let base = format!("http://{}", loopback(addr));
            tokio::spawn(sim::run(
                state.config.simulator.clone(),
                state.reference.clone(),
                base,
                token,
                state.hub.closed(),
            ));
        }
        Ok(Application {
            listener,
            state,
            addr,
            tls,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address to open in a browser.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", loopback(self.addr))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes, then closes live sessions and finishes requests.
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let hub = self.state.hub.clone();
        let store = self.state.store.clone();
        let header_timeout =
            Duration::from_secs(self.state.config.server.request_timeout_seconds.max(1));
        let app = router(self.state);
        let stopping = async move {
            signal.await;
            tracing::info!("shutting down: closing live sessions");
            hub.close();
        };
        match self.tls {
            None => crate::serve::serve(self.listener, app, header_timeout, stopping).await,
            Some(config) => {
                let listener = crate::tls::TlsListener::new(self.listener, config)?;
                crate::serve::serve(listener, app, header_timeout, stopping).await
            }
        }
        // Another replica may lead at once.
        store.close().await;
        Ok(())
    }
}

/// An unspecified bind address (0.0.0.0) is reached on loopback from this machine.
fn loopback(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

/// A 256-bit random token, hex-encoded, from the operating system's generator.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is unrecoverable for a server that needs secrets.
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
