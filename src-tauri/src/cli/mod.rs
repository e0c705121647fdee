//! The `switchyard` command line: argument definitions (clap) and the dispatch of each
//! subcommand to the management layer or the gateway. Output formatting is in `output`.
//! No logic lives here beyond parsing, calling and printing.

mod login_ui;
mod output;

use crate::gateway;
use crate::manage::{Manager, StoreLocation, UsageGroup};
use crate::providers::{AuthStyle, Format};
use crate::routing::{ComboStrategy, Strategy};
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use switchyard_api::{AccountChange, ComboSpec, KeyChange, NewAccount, NewProvider, ProviderChange};

#[derive(Parser, Debug)]
#[command(
    name = "switchyard",
    version,
    about = "A local AI model gateway for coding tools",
    long_about = "A local AI model gateway for coding tools. With no command: the tray app where there is a display, the headless gateway (`serve`) otherwise."
)]
pub struct Cli {
    /// Where the database and master key live [default: the OS data dir, e.g. ~/.local/share/switchyard]
    #[arg(long, global = true, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Team mode: the PostgreSQL database many gateways share (postgres://USER:PASSWORD@HOST:PORT/DB)
    /// [default: the SQLite file in the data dir]
    #[arg(long, global = true, env = "SWITCHYARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The master key every gateway of a fleet shares (made by `master-key new`) [default: the
    /// data dir's own key, or the OS keychain's]
    #[arg(long, global = true, env = "SWITCHYARD_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The app: port the gateway listens on [default: the `port` setting, 20130]
    #[arg(long, env = "SWITCHYARD_PORT")]
    pub port: Option<u16>,
    /// The app: start in the tray without opening the window (what start-on-login does)
    #[arg(long)]
    pub hidden: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway headless (no tray, no window) until SIGINT/SIGTERM
    Serve(ServeArgs),
    /// Upstream providers: catalog ones (openai, anthropic, groq, ...) or your own base URL
    #[command(subcommand)]
    Provider(ProviderCmd),
    /// Accounts (API keys and subscription logins) of a provider
    #[command(subcommand)]
    Account(AccountCmd),
    /// Sign in with a subscription (claude, codex, copilot, gemini-cli, qwen, kiro): opens the browser or shows a
    /// device code, and saves the login as an account
    Login(LoginArgs),
    /// Combos: named, ordered fallback chains usable as a model name
    #[command(subcommand)]
    Combo(ComboCmd),
    /// Aliases: short model names that stand for PROVIDER/MODEL (or a combo)
    #[command(subcommand)]
    Alias(AliasCmd),
    /// Gateway keys that clients present to Switchyard
    #[command(subcommand)]
    Key(KeyCmd),
    /// Usage records: the request log and totals
    #[command(subcommand)]
    Usage(UsageCmd),
    /// Prices (USD per million tokens) that usage costs are computed with
    #[command(subcommand)]
    Price(PriceCmd),
    /// Settings (require-key, max-body-mb)
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Coding tools (Claude Code, Codex, Gemini CLI, OpenCode, Qwen Code, Aider, Factory Droid,
    /// Continue): point one at Switchyard, see its state, put its config back
    #[command(subcommand)]
    Tools(ToolsCmd),
    /// The master key that seals secrets: make one for a fleet of gateways
    #[command(subcommand)]
    MasterKey(MasterKeyCmd),
    /// The store itself: copy this one (configuration, sealed secrets, usage) into PostgreSQL
    #[command(subcommand)]
    Store(StoreCmd),
}

#[derive(Subcommand, Debug)]
pub enum MasterKeyCmd {
    /// Write a new random master key to FILE (0600; an existing file is never replaced). Give
    /// the same file to every gateway of a fleet with --master-key-file
    New { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum StoreCmd {
    /// Copy this store (the data dir's, or --database-url's) into an empty database at URL
    Copy {
        /// Where to: postgres://USER:PASSWORD@HOST:PORT/DB
        #[arg(long)]
        to: String,
        /// Seal the copied secrets with this master key (the fleet's) instead of this store's
        #[arg(long)]
        to_master_key_file: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ToolsCmd {
    /// Every tool Switchyard can set up: installed, set up, drifted
    List {
        #[arg(long)]
        json: bool,
    },
    /// One tool: its files, the model it asks for, keys changed since setup
    Status {
        tool: String,
        #[arg(long)]
        json: bool,
    },
    /// Point a tool at Switchyard (on the `port` setting): only the keys Switchyard owns change,
    /// the old file is backed up
    Apply {
        tool: String,
        /// The model it should ask for [default: the `default` alias, else the first combo]
        #[arg(long)]
        model: Option<String>,
        /// Show the change as a diff, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Put a tool's config back as it was and revoke the key made for it
    Restore { tool: String },
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback always requires a gateway key
    #[arg(long, env = "SWITCHYARD_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one) [default: the `port` setting, 20130]
    #[arg(long, env = "SWITCHYARD_PORT")]
    pub port: Option<u16>,
}

#[derive(Subcommand, Debug)]
pub enum ProviderCmd {
    /// Add a provider. Catalog ids need nothing else; custom ones need --kind and --base-url
    Add {
        id: String,
        #[arg(long)]
        kind: Option<Format>,
        /// As the provider documents it: OpenAI-style URLs end in /v1, Anthropic and Gemini are the host root
        #[arg(long)]
        base_url: Option<String>,
        /// bearer, x-api-key, x-goog-api-key, api-key or none [default: the kind's usual one]
        #[arg(long)]
        auth: Option<AuthStyle>,
        /// Model ids this provider offers, comma-separated (listed in /v1/models)
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// Also add an account with this API key ('-' reads it from stdin)
        #[arg(long)]
        api_key: Option<String>,
    },
    /// List configured providers
    List {
        #[arg(long)]
        json: bool,
    },
    /// List the built-in catalog of providers
    Catalog {
        #[arg(long)]
        json: bool,
    },
    /// Change how a provider is used: account rotation, outbound proxy, timeouts
    Set {
        id: String,
        /// fill-first, round-robin, sticky-round-robin (sticky) or least-used
        #[arg(long)]
        strategy: Option<Strategy>,
        /// sticky-round-robin: requests per account before moving on [default: 3]
        #[arg(long)]
        sticky: Option<i64>,
        /// http://, https://, socks5:// proxy URL; `none` to go direct; `default` for the global setting
        #[arg(long)]
        proxy: Option<String>,
        /// Seconds to wait for an answer to begin (0: the global setting)
        #[arg(long)]
        first_byte_timeout: Option<u64>,
        /// Seconds a stream may go silent (0: the global setting)
        #[arg(long)]
        stall_timeout: Option<u64>,
    },
    /// Remove a provider and its accounts
    Remove { id: String },
}

#[derive(Subcommand, Debug)]
pub enum ComboCmd {
    /// Create or replace a combo: its members in order (PROVIDER/MODEL, other combos, aliases)
    Set {
        name: String,
        #[arg(required = true)]
        models: Vec<String>,
        /// fallback (in order), round-robin (each request starts at the next member) or
        /// synthesize (all members answer, the --judge model writes the final answer)
        #[arg(long, default_value = "fallback")]
        strategy: ComboStrategy,
        /// synthesize: the model that writes the final answer from the members' (PROVIDER/MODEL)
        #[arg(long)]
        judge: Option<String>,
        /// synthesize: seconds the members get before the judge goes on with the answers in (default 60)
        #[arg(long)]
        deadline: Option<u64>,
    },
    /// List combos
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a combo
    Remove { name: String },
}

#[derive(Subcommand, Debug)]
pub enum AliasCmd {
    /// Create or replace an alias
    Set { name: String, target: String },
    /// List aliases
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an alias
    Remove { name: String },
}

#[derive(Subcommand, Debug)]
pub enum AccountCmd {
    /// Add an account (API key) to a provider; catalog providers are added on the way
    Add {
        provider: String,
        /// The API key ('-' reads it from stdin, keeping it out of shell history)
        #[arg(long)]
        api_key: Option<String>,
        #[arg(long, default_value = "")]
        label: String,
        /// Lower goes first
        #[arg(long, default_value_t = 0)]
        priority: i64,
    },
    /// List accounts (keys are shown as hints only)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change an account: priority (lower goes first), enabled, label. Also clears "needs attention".
    Set {
        id: i64,
        #[arg(long)]
        priority: Option<i64>,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        label: Option<String>,
        /// Requests this account may serve at once (0: no cap)
        #[arg(long)]
        max_concurrent: Option<i64>,
    },
    /// Remove an account
    Remove { id: i64 },
    /// A login account's subscription quota, asked of the provider now
    Quota {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// claude, codex, copilot, gemini-cli, qwen or kiro
    pub provider: String,
    /// Import the login the official CLI saved on this machine instead of signing in
    #[arg(long)]
    pub import: bool,
    /// Print the sign-in address instead of opening the browser
    #[arg(long)]
    pub no_browser: bool,
    #[arg(long, default_value = "")]
    pub label: String,
}

#[derive(Subcommand, Debug)]
pub enum PriceCmd {
    /// Set a model's price, overriding the shipped table
    Set {
        /// PROVIDER/MODEL
        model: String,
        #[arg(long)]
        input: f64,
        #[arg(long)]
        output: f64,
        /// [default: the input price]
        #[arg(long)]
        cache_read: Option<f64>,
        /// [default: the input price]
        #[arg(long)]
        cache_write: Option<f64>,
    },
    /// Prices in force for the configured models
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UsageCmd {
    /// The newest requests, with each one's attempt chain
    Log {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Totals per hour or day, grouped
    Series {
        #[arg(long, default_value = "7d")]
        since: String,
        /// hour or day
        #[arg(long, default_value = "day")]
        bucket: String,
        #[arg(long, default_value = "provider")]
        by: UsageGroup,
        #[arg(long)]
        json: bool,
    },
    /// Every record of a period as CSV
    Export {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long, default_value = "30d")]
        since: String,
    },
    /// Totals over a period, grouped
    Summary {
        /// 30m, 24h, 7d, ...
        #[arg(long, default_value = "24h")]
        since: String,
        /// provider, model, account, key or tool
        #[arg(long, default_value = "model")]
        by: UsageGroup,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Create a gateway key; it is printed once and only its hash is stored
    Create {
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List gateway keys
    List {
        #[arg(long)]
        json: bool,
    },
    /// Budgets and limits of a gateway key (0, an empty list or `never` removes one)
    Set {
        id: i64,
        /// USD per UTC day
        #[arg(long)]
        budget_daily: Option<f64>,
        /// USD per UTC month
        #[arg(long)]
        budget_monthly: Option<f64>,
        /// Requests per minute
        #[arg(long)]
        rpm: Option<i64>,
        /// Tokens (input + output) per minute
        #[arg(long)]
        tpm: Option<i64>,
        /// Model names it may use, comma-separated globs ('cc/*,openai/*')
        #[arg(long)]
        models: Option<String>,
        /// 2027-01-01, an RFC 3339 time, or never
        #[arg(long)]
        expires: Option<String>,
        /// Compress long tool outputs in this key's requests: on, off, or default (the
        /// global `token-saver` setting)
        #[arg(long)]
        token_saver: Option<String>,
    },
    /// Revoke a gateway key
    Revoke { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum SettingsCmd {
    /// Set a setting: require-key on|off, token-saver on|off, max-body-mb N,
    /// first-byte-timeout-secs N, stall-timeout-secs N, proxy URL, no-proxy HOSTS,
    /// retention-days N, dashboard-password -
    /// (a value of '-' is read from stdin, so a password stays out of the shell history)
    Set { key: String, value: String },
    /// Show the settings in force
    List {
        #[arg(long)]
        json: bool,
    },
}

/// The default data directory: the OS data dir plus `switchyard`.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("switchyard")
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Reads a secret given as '-' from stdin.
fn secret_arg(value: Option<String>) -> anyhow::Result<Option<String>> {
    match value.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            Ok(Some(s.trim().to_string()))
        }
        _ => Ok(value),
    }
}

/// Runs the command line; returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    #[cfg(feature = "desktop")]
    if cli.command.is_none() && crate::desktop::display_available() {
        let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
        init_logging("info");
        return crate::desktop::run(crate::desktop::Launch { data_dir, port: cli.port, hidden: cli.hidden });
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let at = StoreLocation { database_url: cli.database_url.clone(), master_key_file: cli.master_key_file.clone() };
    let command = cli.command.unwrap_or_else(|| {
        eprintln!("No display here; running the headless gateway (`switchyard serve`).");
        Command::Serve(ServeArgs { host: "127.0.0.1".into(), port: cli.port })
    });
    let command = match command {
        Command::Serve(mut args) => {
            init_logging("info");
            args.port = args.port.or(cli.port);
            return serve(&data_dir, &at, &args).await;
        }
        Command::MasterKey(MasterKeyCmd::New { file }) => {
            crate::store::secrets::write_new_key_file(&file)?;
            println!(
                "wrote a new master key to {} (0600): give it to every gateway with --master-key-file",
                file.display()
            );
            return Ok(());
        }
        other => other,
    };
    init_logging("warn");
    let manager = Manager::open_at(&data_dir, &at).await?;
    match command {
        Command::Serve(_) => unreachable!("handled above"),
        Command::Provider(cmd) => match cmd {
            ProviderCmd::Add { id, kind, base_url, auth, models, api_key } => {
                let api_key = secret_arg(api_key)?;
                let request = NewProvider {
                    id,
                    kind: kind.map(|k| k.to_string()),
                    base_url,
                    auth: auth.map(|a| a.to_string()),
                    models,
                    api_key,
                };
                let added = manager.provider_add(request).await?;
                output::provider_added(&added.provider, added.account_id);
            }
            ProviderCmd::List { json } => {
                output::providers(&manager.provider_list().await?, &manager.account_list().await?, json)?
            }
            ProviderCmd::Catalog { json } => output::catalog(&manager.provider_catalog(), json)?,
            ProviderCmd::Set { id, strategy, sticky, proxy, first_byte_timeout, stall_timeout } => {
                let change = ProviderChange {
                    strategy: strategy.map(|s| s.to_string()),
                    sticky_uses: sticky,
                    proxy,
                    first_byte_timeout_secs: first_byte_timeout,
                    stall_timeout_secs: stall_timeout,
                };
                manager.provider_set(&id, change).await?;
                println!("updated provider {id}");
            }
            ProviderCmd::Remove { id } => {
                manager.provider_remove(&id).await?;
                println!("removed provider {id} and its accounts");
            }
        },
        Command::Combo(cmd) => match cmd {
            ComboCmd::Set { name, models, strategy, judge, deadline } => {
                let shown = models.join(if strategy == ComboStrategy::Synthesize { " + " } else { " → " });
                let judged = judge.as_ref().map(|j| format!(", judged by {j}")).unwrap_or_default();
                let spec =
                    ComboSpec { strategy: strategy.as_str().into(), members: models, judge, deadline_secs: deadline };
                manager.combo_set(&name, spec).await?;
                println!("combo {name} ({}): {shown}{judged}", strategy.as_str());
            }
            ComboCmd::List { json } => output::combos(&manager.combo_list().await?, json)?,
            ComboCmd::Remove { name } => {
                manager.combo_remove(&name).await?;
                println!("removed combo {name}");
            }
        },
        Command::Alias(cmd) => match cmd {
            AliasCmd::Set { name, target } => {
                manager.alias_set(&name, &target).await?;
                println!("alias {name} → {target}");
            }
            AliasCmd::List { json } => output::aliases(&manager.alias_list().await?, json)?,
            AliasCmd::Remove { name } => {
                manager.alias_remove(&name).await?;
                println!("removed alias {name}");
            }
        },
        Command::Account(cmd) => match cmd {
            AccountCmd::Add { provider, api_key, label, priority } => {
                let api_key = secret_arg(api_key)?;
                let account = manager.account_add(NewAccount { provider, api_key, label, priority }).await?;
                println!("added account {} to {} (key {})", account.id, account.provider_id, account.key_hint);
            }
            AccountCmd::List { json } => output::accounts(&manager.account_list().await?, json)?,
            AccountCmd::Set { id, priority, enabled, label, max_concurrent } => {
                let change = AccountChange { priority, enabled, label, max_concurrent };
                manager.account_set(id, change).await?;
                println!("updated account {id}");
            }
            AccountCmd::Remove { id } => {
                manager.account_remove(id).await?;
                println!("removed account {id}");
            }
            AccountCmd::Quota { id, json } => output::quota(&manager.account_quota(id).await?, json)?,
        },
        Command::Login(args) => {
            let kind: crate::login::LoginKind = args.provider.parse().map_err(anyhow::Error::msg)?;
            let account = if args.import {
                let home = dirs::home_dir().ok_or_else(|| anyhow::anyhow!("no home folder to import from"))?;
                manager.login_import(kind, &home, &args.label).await?
            } else {
                let ui = login_ui::TerminalLogin { open_browser: !args.no_browser };
                manager.login(kind, &ui, &args.label, std::time::Duration::from_secs(1)).await?
            };
            output::login_saved(&account);
        }
        Command::Price(cmd) => match cmd {
            PriceCmd::Set { model, input, output, cache_read, cache_write } => {
                manager.price_set(&model, crate::usage::Price { input, output, cache_read, cache_write }).await?;
                println!("price of {model}: input {input}, output {output} USD per million tokens");
            }
            PriceCmd::List { json } => output::prices(&manager.price_list().await?, json)?,
        },
        Command::Usage(cmd) => match cmd {
            UsageCmd::Log { limit, json } => output::usage_log(&manager.usage_log(limit).await?, json)?,
            UsageCmd::Series { since, bucket, by, json } => {
                output::usage_series(&manager.usage_series(&since, &bucket, by).await?, json)?
            }
            UsageCmd::Export { csv, since } => {
                let n = manager.usage_export_csv(&since, &csv).await?;
                println!("wrote {n} records to {}", csv.display());
            }
            UsageCmd::Summary { since, by, json } => {
                output::usage_summary(&manager.usage_summary(&since, by).await?, json)?
            }
        },
        Command::Key(cmd) => match cmd {
            KeyCmd::Create { name } => output::key_created(&manager.key_create(&name).await?),
            KeyCmd::List { json } => output::keys(&manager.key_list().await?, json)?,
            KeyCmd::Set { id, budget_daily, budget_monthly, rpm, tpm, models, expires, token_saver } => {
                let change = KeyChange {
                    budget_daily_usd: budget_daily,
                    budget_monthly_usd: budget_monthly,
                    rpm,
                    tpm,
                    models,
                    expires,
                    token_saver,
                };
                manager.key_set(id, change).await?;
                println!("updated gateway key {id}");
            }
            KeyCmd::Revoke { id } => {
                manager.key_revoke(id).await?;
                println!("revoked gateway key {id}");
            }
        },
        Command::Tools(cmd) => match cmd {
            ToolsCmd::List { json } => output::tools(&manager.tools_list().await?, json)?,
            ToolsCmd::Status { tool, json } => output::tools(&[manager.tool_status(&tool).await?], json)?,
            ToolsCmd::Apply { tool, model, dry_run } => {
                output::tool_plan(&manager.tool_apply(&tool, model.as_deref(), None, dry_run).await?, dry_run)
            }
            ToolsCmd::Restore { tool } => {
                for line in manager.tool_restore(&tool).await? {
                    println!("{line}");
                }
            }
        },
        Command::Settings(cmd) => match cmd {
            SettingsCmd::Set { key, value } => {
                let value = secret_arg(Some(value))?.unwrap_or_default();
                manager.settings_set(&key, &value).await?;
                if key == crate::manage::dashboard::SETTING_NAME {
                    println!("{key} set (only its Argon2 hash is stored)");
                } else {
                    println!("{key} = {value}");
                }
            }
            SettingsCmd::List { json } => output::settings(&manager.settings_get().await?, json)?,
        },
        Command::MasterKey(_) => unreachable!("handled above"),
        Command::Store(StoreCmd::Copy { to, to_master_key_file }) => {
            let copied = manager.store_copy(&to, to_master_key_file.as_deref()).await?;
            output::store_copied(&copied);
        }
    }
    manager.store().close().await;
    Ok(())
}

async fn serve(data_dir: &std::path::Path, at: &StoreLocation, args: &ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let manager = Manager::open_at(data_dir, at).await?;
    let port = match args.port {
        Some(port) => port,
        None => manager.settings_get().await?.port,
    };
    let bound = gateway::bind(manager, &args.host, port).await?;
    let addr = bound.local_addr()?;
    tracing::info!(data_dir = %data_dir.display(), startup_ms = started.elapsed().as_millis() as u64, "gateway ready");
    output::listening(addr);
    bound.run(gateway::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
