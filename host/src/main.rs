//! The `plantwire` command: capability queries, adapter inspection, the demo, and the
//! connection lifecycle on the state directory (`connect`, `connections`, `reauthorize`,
//! `disconnect`), bulk writes and durable jobs (`bulk`, `jobs`), webhook endpoints and
//! delivery, and the sealed vault's key.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use plantwire::bulk::{JobStore, RecordOutcome};
use plantwire::capabilities::{self, Format};
use plantwire::health::{HealthSnapshot, HealthState};
use plantwire::store::{
    ConnectRequest, ConnectionRecord, CredentialKind, DeliveryPass, MAX_CREDENTIAL_BYTES,
    MasterKeySource, StoreError, VaultBackend, Workspace, WorkspaceConfig, WorkspaceError,
};
use plantwire::vault::{AwsSecretsManagerConfig, MasterKey};
use plantwire::{Registry, Runtime, RuntimeConfig};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

#[derive(Debug, Parser)]
#[command(
    name = "plantwire",
    version,
    about = "One CRUD API over maintenance and ERP systems, through sandboxed WebAssembly adapters"
)]
struct Cli {
    /// Directory of adapter components (`*.wasm`).
    #[arg(
        long,
        global = true,
        env = "PLANTWIRE_ADAPTERS",
        default_value = "target/adapters"
    )]
    adapters: PathBuf,
    /// Directory for compiled components; compiling is skipped when a component is cached.
    #[arg(long, global = true, env = "PLANTWIRE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    state: StateArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Which operations and fields each system supports, and why not where not.
    Capabilities {
        /// A system id (`maintainx`, ...); all systems when omitted.
        system: Option<String>,
        /// Narrow to one entity and show its fields.
        #[arg(long)]
        entity: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Checks one component file and prints its contract version, imports and entities.
    Inspect {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Runs the tour against MaintainX, IBM Maximo and SAP S/4HANA simulators on loopback.
    Demo {
        /// Pages of work orders to list.
        #[arg(long, default_value_t = 3)]
        pages: usize,
    },
    /// Lists the stored connections with their health.
    Connections(ConnectionsArgs),
    /// Makes a connection: probes the system with the credential, then stores both.
    #[command(after_help = plantwire::store::CREDENTIAL_FORMS)]
    Connect(ConnectArgs),
    /// Replaces a connection's credential after probing the system with the new one.
    #[command(after_help = plantwire::store::CREDENTIAL_FORMS)]
    Reauthorize(ReauthorizeArgs),
    /// Streams every record of one entity as JSON Lines (one object per line), page by page:
    /// memory stays bounded by one page however many records there are. A progress bar shows
    /// on a terminal; piped output is quiet.
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Serves the unified read API over HTTP for the stored connections (see the `api`
    /// module: `GET /v1/connections/{id}/{entity}` with page tokens, filters, fields, raw).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Creates, updates or runs an action on many records from a JSON Lines file, in batches;
    /// writes one result line per input record, in input order. Above 1,000 records (or with
    /// --job) the run is a durable job that `plantwire jobs run` resumes after a crash.
    #[command(after_help = BULK_HELP)]
    Bulk(BulkArgs),
    /// Durable bulk jobs: list (the default), watch, cancel, run, results.
    Jobs(JobsArgs),
    /// Removes a connection and its credential.
    Disconnect {
        /// The connection's id.
        id: String,
    },
    /// Webhook endpoints and the delivery of their events.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// The sealed vault's master key.
    #[command(subcommand)]
    Vault(VaultCommand),
}

fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("plantwire"))
}

async fn registry(runtime: &Runtime, dir: &Path) -> anyhow::Result<Registry> {
    let registry = Registry::load_dir(runtime, dir)
        .await
        .with_context(|| format!("loading adapters from {}", dir.display()))?;
    for (file, error) in registry.failures() {
        eprintln!("warning: {file} was not loaded: {error}");
    }
    Ok(registry)
}

/// The adapter runtime, made only by the commands that load adapters.
fn runtime(cache_dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
    let config = RuntimeConfig {
        cache_dir: cache_dir.or_else(default_cache_dir),
        ..RuntimeConfig::default()
    };
    Ok(Runtime::new(config)?)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let adapters = || Adapters {
        dir: cli.adapters.clone(),
        cache_dir: cli.cache_dir.clone(),
    };
    match cli.command {
        Command::Capabilities {
            system,
            entity,
            format,
        } => {
            let runtime = runtime(cli.cache_dir.clone())?;
            let registry = registry(&runtime, &cli.adapters).await?;
            let infos: Vec<_> = match &system {
                Some(id) => match registry.get(id) {
                    Some(c) => vec![c.info()],
                    None => bail!(
                        "no adapter for system `{id}` in {} (loaded: {})",
                        cli.adapters.display(),
                        registry.systems().join(", ")
                    ),
                },
                None => registry.adapters().map(|c| c.info()).collect(),
            };
            if infos.is_empty() {
                bail!("no adapters in {}", cli.adapters.display());
            }
            if let Some(e) = &entity
                && !plantwire::sdk::contract::ENTITIES.contains(&e.as_str())
            {
                bail!(
                    "unknown entity `{e}` (the unified model has: {})",
                    plantwire::sdk::contract::ENTITIES.join(", ")
                );
            }
            print!(
                "{}",
                capabilities::render(&infos, entity.as_deref(), format)
            );
        }
        Command::Inspect { file, format } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let runtime = runtime(cli.cache_dir.clone())?;
            let component = runtime
                .load(&bytes)
                .await
                .with_context(|| format!("{} is not a valid Plantwire adapter", file.display()))?;
            if format == Format::Json {
                let out = serde_json::json!({
                    "file": file.display().to_string(),
                    "sha256": component.digest(),
                    "contract": format!("{}@{}", plantwire::runtime::CONTRACT_PACKAGE, component.contract_version()),
                    "imports": component.imports(),
                    "adapter": component.info(),
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                let info = component.info();
                println!("{}: valid adapter component", file.display());
                println!("  sha256:   {}", component.digest());
                println!(
                    "  contract: {}@{} (this host implements {}@{})",
                    plantwire::runtime::CONTRACT_PACKAGE,
                    component.contract_version(),
                    plantwire::runtime::CONTRACT_PACKAGE,
                    plantwire::runtime::CONTRACT_VERSION
                );
                println!(
                    "  system:   {} ({}), adapter {}, API {}",
                    info.system, info.display_name, info.adapter_version, info.api_version
                );
                println!("  auth:     {}", info.auth.describe());
                println!("  imports:");
                for i in component.imports() {
                    println!("    {i}");
                }
                println!("  entities:");
                for e in &info.entities {
                    let ops: Vec<&str> = plantwire::sdk::Operation::ALL
                        .iter()
                        .filter(|op| e.support(**op).is_supported())
                        .map(|op| op.as_str())
                        .collect();
                    println!(
                        "    {:<16} {}",
                        e.name,
                        if ops.is_empty() {
                            "(none)".to_owned()
                        } else {
                            ops.join(", ")
                        }
                    );
                }
            }
        }
        Command::Demo { pages } => {
            let runtime = runtime(cli.cache_dir.clone())?;
            let registry = registry(&runtime, &cli.adapters).await?;
            let mut out = String::new();
            let result = plantwire::demo::run(&registry, pages, &mut out).await;
            print!("{out}");
            result?;
        }
        Command::Connections(args) => connections(&cli.state, &adapters(), args).await?,
        Command::Connect(args) => connect(&cli.state, &adapters(), args).await?,
        Command::Reauthorize(args) => {
            reauthorize(&cli.state, &adapters(), args).await?;
        }
        Command::Export(args) => export(&cli.state, &adapters(), args).await?,
        Command::Bulk(args) => bulk(&cli.state, &adapters(), args).await?,
        Command::Jobs(args) => jobs(&cli.state, &adapters(), args).await?,
        Command::Serve { listen } => serve(&cli.state, &adapters(), listen).await?,
        Command::Disconnect { id } => disconnect(&cli.state, &id).await?,
        Command::Webhooks(command) => webhooks(&cli.state, command).await?,
        Command::Vault(command) => vault(&cli.state, command).await?,
    }
    Ok(())
}

/// How long `connect`, `reauthorize` and `connections --check` spend delivering the webhook
/// events they caused; what is left waits in the outbox.
const DELIVERY_BUDGET: Duration = Duration::from_secs(5);

/// How long `webhooks deliver` (without `--watch`) spends.
const DELIVER_COMMAND_BUDGET: Duration = Duration::from_secs(60);

/// Where state lives and how the vault is opened (global options).
#[derive(Debug, clap::Args)]
struct StateArgs {
    /// The state directory: connections, their health, webhook endpoints, the outbox and the
    /// sealed vault [default: $XDG_STATE_HOME/plantwire or ~/.local/state/plantwire].
    #[arg(long, global = true, env = "PLANTWIRE_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// The vault new credentials and webhook secrets go to (existing ones stay where they
    /// were stored).
    #[arg(long, global = true, env = "PLANTWIRE_VAULT", value_enum, default_value_t = VaultChoice::Sealed)]
    vault: VaultChoice,
    /// The sealed vault file [default: vault.json in the state directory].
    #[arg(long, global = true, env = "PLANTWIRE_VAULT_FILE")]
    vault_file: Option<PathBuf>,
    /// The sealed vault's master key file (64 hex characters, mode 0600). Without it the key
    /// is read from PLANTWIRE_MASTER_KEY (64 hex characters).
    #[arg(long, global = true, env = "PLANTWIRE_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// AWS Secrets Manager: the region [default: AWS_REGION or AWS_DEFAULT_REGION]. AWS
    /// credentials come from the standard chain (environment, profile, web identity, ECS or
    /// instance role).
    #[arg(long, global = true, env = "PLANTWIRE_AWS_REGION")]
    aws_region: Option<String>,
    /// AWS Secrets Manager: an endpoint instead of the region's (a VPC endpoint; `http` only
    /// to loopback).
    #[arg(long, global = true, env = "PLANTWIRE_AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,
    /// AWS Secrets Manager: prepended to credential ids to name the secrets.
    #[arg(
        long,
        global = true,
        env = "PLANTWIRE_AWS_SECRET_PREFIX",
        default_value = "plantwire/"
    )]
    aws_secret_prefix: String,
    /// AWS Secrets Manager: the KMS key new secrets are encrypted with [default: the
    /// account's aws/secretsmanager key].
    #[arg(long, global = true, env = "PLANTWIRE_AWS_KMS_KEY_ID")]
    aws_kms_key_id: Option<String>,
    /// Where durable bulk jobs are kept: a SQLite file path (or `sqlite://PATH`), or a
    /// `postgres://` URL that several hosts share [default: jobs.db in the state directory].
    #[arg(long, global = true, env = "PLANTWIRE_JOB_STORE", value_name = "URL")]
    job_store: Option<String>,
    /// The PostgreSQL schema holding the job store's tables, so that several deployments can
    /// share one database [default: plantwire].
    #[arg(
        long,
        global = true,
        env = "PLANTWIRE_JOB_STORE_SCHEMA",
        value_name = "NAME"
    )]
    job_store_schema: Option<String>,
    /// How long a runner's claim on a job lasts without renewal (it renews every third of
    /// that): after a crash, another runner can take the job over once it runs out.
    #[arg(long, global = true, env = "PLANTWIRE_JOB_LEASE", value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(2..=3600))]
    job_lease: u64,
}

/// The vault backends offered on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VaultChoice {
    /// A sealed file (XChaCha20-Poly1305) under the master key.
    Sealed,
    /// PLANTWIRE_CRED_* environment variables (read-only).
    Env,
    /// AWS Secrets Manager (see the --aws-* options).
    Aws,
}

impl From<VaultChoice> for VaultBackend {
    fn from(v: VaultChoice) -> VaultBackend {
        match v {
            VaultChoice::Sealed => VaultBackend::Sealed,
            VaultChoice::Env => VaultBackend::Env,
            VaultChoice::Aws => VaultBackend::Aws,
        }
    }
}

impl StateArgs {
    fn config(&self) -> anyhow::Result<WorkspaceConfig> {
        let state_dir = match &self.state_dir {
            Some(dir) => dir.clone(),
            None => plantwire::store::default_state_dir().ok_or(WorkspaceError::NoStateDir)?,
        };
        Ok(WorkspaceConfig {
            state_dir,
            vault: self.vault.into(),
            vault_file: self.vault_file.clone(),
            master_key: MasterKeySource::resolve(self.master_key_file.clone()),
            aws: self.aws_config(),
        })
    }

    fn aws_config(&self) -> AwsSecretsManagerConfig {
        let mut aws = AwsSecretsManagerConfig::from_env();
        if let Some(region) = &self.aws_region {
            aws.region = Some(region.clone());
        }
        aws.endpoint_url.clone_from(&self.aws_endpoint_url);
        aws.prefix.clone_from(&self.aws_secret_prefix);
        aws.kms_key_id.clone_from(&self.aws_kms_key_id);
        aws
    }

    fn open(&self) -> anyhow::Result<Workspace> {
        Ok(Workspace::open(self.config()?)?)
    }
}

/// Where adapters come from (global options).
struct Adapters {
    dir: PathBuf,
    cache_dir: Option<PathBuf>,
}

impl Adapters {
    async fn load(&self) -> anyhow::Result<Registry> {
        let runtime = runtime(self.cache_dir.clone())?;
        registry(&runtime, &self.dir).await
    }
}

const EXPORT_HELP: &str = "Filters (repeat --filter; all must hold):
  status=open                      equal          status!=cancelled    not equal
  updatedAt>=2024-06-01T00:00:00Z  comparisons (<, <=, >, >=) on numbers, dates, times, text
  status in (open, on-hold)        one of         title~pump           contains
Values may be \"quoted\" to keep commas or spaces. A filter the system cannot run is refused
with the reason (`plantwire capabilities SYSTEM --entity ENTITY` shows what each field allows).";

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The connection's id.
    connection: String,
    /// The entity (`work-order`, `asset`, ...).
    entity: String,
    /// A filter, e.g. `status=open` or `updatedAt>=2024-06-01T00:00:00Z`; repeatable.
    #[arg(long = "filter", value_name = "FILTER")]
    filters: Vec<String>,
    /// The fields to write, comma-separated (`key` always comes) [default: every field
    /// returned by list].
    #[arg(long, value_delimiter = ',')]
    fields: Option<Vec<String>>,
    /// Sort by a field; `-` first for descending.
    #[arg(long, allow_hyphen_values = true)]
    sort: Option<String>,
    /// Records per upstream page [default: the entity's default, at most its maximum].
    #[arg(long)]
    page_size: Option<u32>,
    /// Write each record with the system's own payload beside it, under `raw`.
    #[arg(long)]
    raw: bool,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// No progress bar, even on a terminal.
    #[arg(long, short)]
    quiet: bool,
}

async fn export(state: &StateArgs, adapters: &Adapters, args: ExportArgs) -> anyhow::Result<()> {
    use plantwire::paging::{Export, PagingConfig, Query, parse_filter, write_jsonl};
    use std::io::IsTerminal as _;

    let filters = args
        .filters
        .iter()
        .map(|f| parse_filter(f))
        .collect::<Result<Vec<_>, _>>()?;
    let query = Query {
        filters,
        fields: args.fields,
        sort: args.sort,
        page_size: args.page_size,
        include_raw: args.raw,
    };
    let Some(workspace) = Workspace::open_existing(state.config()?)? else {
        bail!(
            "no connection `{}` (there are no connections yet; `plantwire connect` makes one)",
            args.connection
        );
    };
    let registry = adapters.load().await?;
    let connection = workspace
        .connection(&registry, &args.connection)
        .await
        .map_err(|e| explain(e, &args.connection))?;
    let mut export = Export::new(&connection, &args.entity, query, PagingConfig::default())?;

    let mut out: Box<dyn std::io::Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        )),
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let started = std::time::Instant::now();
    let result = write_jsonl(&mut export, &mut out, |p| {
        let Some(bar) = &bar else { return };
        if let Some(total) = p.total
            && bar.length().is_none()
        {
            bar.set_length(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} records, {msg}, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
        }
        bar.set_position(p.records);
        bar.set_message(format!("{} pages", p.pages));
    })
    .await;
    drop(out);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = result?;
    if !args.quiet && std::io::stderr().is_terminal() {
        eprintln!(
            "exported {} records in {} pages in {:.1} s",
            summary.records,
            summary.pages,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The variable holding the page-token key (64 hex characters) that replicas share.
const TOKEN_KEY_VAR: &str = "PLANTWIRE_TOKEN_KEY";

async fn serve(
    state: &StateArgs,
    adapters: &Adapters,
    listen: std::net::SocketAddr,
) -> anyhow::Result<()> {
    use plantwire::paging::{Pager, PagingConfig, TokenSealer};

    let sealer = match std::env::var(TOKEN_KEY_VAR) {
        Ok(hex_key) => TokenSealer::from_hex(&Zeroizing::new(hex_key))
            .map_err(|e| anyhow::anyhow!("{TOKEN_KEY_VAR}: {e}"))?,
        Err(_) => {
            eprintln!(
                "note: {TOKEN_KEY_VAR} is not set: page tokens are sealed with a key of this process only"
            );
            TokenSealer::ephemeral()
        }
    };
    let workspace = state.open()?;
    let registry = adapters.load().await?;
    let api = std::sync::Arc::new(plantwire::api::ApiState::new(
        registry,
        workspace,
        Pager::new(sealer, PagingConfig::default()),
    ));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    eprintln!("plantwire serving on http://{}", listener.local_addr()?);
    axum::serve(listener, plantwire::api::router(api))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
    Ok(())
}

/// Output formats of lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
struct ConnectionsArgs {
    /// Probe each connection (one page of one record) and update its health; a change is
    /// announced to the webhook endpoints.
    #[arg(long)]
    check: bool,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(Debug, clap::Args)]
struct ConnectArgs {
    /// The connection's id: 1 to 64 of A-Z a-z 0-9 . _ - (not starting with . or -).
    id: String,
    /// The system (`plantwire capabilities` lists them).
    #[arg(long)]
    system: String,
    /// The system's API base URL (http or https).
    #[arg(long)]
    base_url: String,
    /// The tenant owning the connection; its events go only to that tenant's endpoints (and
    /// to endpoints without a tenant).
    #[arg(long)]
    tenant: Option<String>,
    /// Allow a loopback, private or link-local base URL (an on-premises system).
    #[arg(long)]
    allow_private_network: bool,
    /// An origin besides the base URL's to grant (the adapter must declare it); repeatable.
    #[arg(long = "grant-origin", value_name = "ORIGIN")]
    grant_origins: Vec<String>,
    /// Seconds one upstream request may take (1 to 300).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// The credential as JSON (see below); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    credential_file: Option<PathBuf>,
    /// Store without probing the system first.
    #[arg(long)]
    no_check: bool,
}

#[derive(Debug, clap::Args)]
struct ReauthorizeArgs {
    /// The connection's id.
    id: String,
    /// The new credential as JSON (see below); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    credential_file: Option<PathBuf>,
    /// Confirm where the adapter now sends the credential (login path and fields, token
    /// URL) after an adapter update changed it; shown before it is used.
    #[arg(long)]
    confirm_endpoints: bool,
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// Adds an endpoint that receives connection events, signed per Standard Webhooks.
    Add {
        /// The endpoint's id.
        id: String,
        /// Where events are POSTed (http or https).
        url: String,
        /// Only this tenant's events; every event when omitted.
        #[arg(long)]
        tenant: Option<String>,
        /// The signing secret (`whsec_` and base64 of 24 to 64 bytes) in a file; `-` reads
        /// standard input. A new one is generated, and shown once, when omitted.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
    },
    /// Lists the endpoints and the outbox.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Removes an endpoint and its secret.
    Remove {
        /// The endpoint's id.
        id: String,
    },
    /// Delivers what is due in the outbox: one pass, or until Ctrl-C with `--watch`.
    Deliver {
        /// Keep delivering (retries included) until Ctrl-C. The endpoints are read at start:
        /// restart it after adding or removing one.
        #[arg(long)]
        watch: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VaultCommand {
    /// Writes a new random master key to FILE (mode 0600); refuses to overwrite.
    Keygen {
        /// Where to write the key.
        file: PathBuf,
    },
    /// Creates the empty sealed vault under the configured master key.
    Init,
    /// Re-seals every credential under a new master key.
    Rotate {
        /// The new key (from `plantwire vault keygen`).
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
    },
}

/// Reads a secret input from a file or, for `-`, standard input, into a buffer zeroed on
/// drop; at most `limit` bytes.
fn read_secret_input(path: &Path, limit: usize) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(limit + 1));
    let cap = u64::try_from(limit + 1).unwrap_or(u64::MAX);
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(cap)
            .read_to_end(&mut buf)
            .context("reading standard input")?;
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let meta = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?;
        if !meta.is_file() {
            bail!("{} is not a regular file", path.display());
        }
        file.take(cap)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if buf.len() > limit {
        bail!("the input is larger than {limit} bytes");
    }
    Ok(buf)
}

/// The credential for `system` from `--credential-file`, parsed for its auth scheme.
async fn read_credential(
    adapters: &Registry,
    system: &str,
    file: Option<&Path>,
) -> anyhow::Result<Option<plantwire::vault::StoredCredential>> {
    let Some(file) = file else { return Ok(None) };
    let Some(component) = adapters.get(system) else {
        // The workspace names the loaded systems.
        return Ok(None);
    };
    let kind = CredentialKind::for_scheme(&component.info().auth);
    let input = read_secret_input(file, MAX_CREDENTIAL_BYTES)?;
    Ok(Some(plantwire::store::parse_credential(&input, kind)?))
}

fn time(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `since` and the reason of a health state, for tables.
fn health_detail(state: &HealthState) -> (String, Option<String>) {
    match state {
        HealthState::Healthy => ("-".into(), None),
        HealthState::Degraded {
            since,
            consecutive_failures,
            last_error,
        } => (
            time(*since),
            Some(format!(
                "{consecutive_failures} consecutive failures; last: {last_error}"
            )),
        ),
        HealthState::NeedsReauthorization {
            since,
            status,
            reason,
        } => (time(*since), Some(format!("HTTP {status}: {reason}"))),
    }
}

/// A table with left-aligned columns.
fn table(header: &[&str], rows: &[Vec<String>], notes: &[Option<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (cell, w) in cells.zip(&widths) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for (i, row) in rows.iter().enumerate() {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
        if let Some(Some(note)) = notes.get(i) {
            out.push_str(&format!("  reason: {note}\n"));
        }
    }
    out
}

fn connection_json(record: &ConnectionRecord, health: &HealthSnapshot) -> serde_json::Value {
    let mut h = serde_json::to_value(&health.state).unwrap_or_default();
    if let Some(obj) = h.as_object_mut() {
        obj.insert(
            "consecutiveFailures".into(),
            health.consecutive_failures.into(),
        );
    }
    serde_json::json!({
        "id": record.id,
        "system": record.system,
        "baseUrl": record.base_url.as_str(),
        "tenant": record.tenant,
        "vault": record.vault.as_str(),
        "credentialId": record.credential_id.as_ref().map(|c| c.as_str()),
        "allowPrivateNetwork": record.allow_private_network,
        "grantedOrigins": record.granted_origins.iter().map(|o| o.origin().ascii_serialization()).collect::<Vec<_>>(),
        "timeoutSeconds": record.timeout.as_secs(),
        "createdAt": time(record.created_at),
        "updatedAt": time(record.updated_at),
        "health": h,
    })
}

/// One bounded delivery pass after a command that may have emitted events; says on stderr
/// what became of them.
async fn deliver_after(workspace: &Workspace) {
    match workspace.deliver(DELIVERY_BUDGET).await {
        Ok(pass) => report_delivery(&pass, true),
        Err(e) => eprintln!(
            "warning: webhook events are in the outbox but could not be delivered now ({e:#}); `plantwire webhooks deliver` retries"
        ),
    }
}

fn report_delivery(pass: &DeliveryPass, quiet_when_idle: bool) {
    for (id, reason) in &pass.skipped {
        eprintln!("warning: webhook endpoint {id} was skipped: {reason}");
    }
    let idle = pass.delivered == 0 && pass.pending == 0 && pass.failed == 0;
    if quiet_when_idle && idle {
        return;
    }
    let mut parts = vec![format!("{} delivered", pass.delivered)];
    if pass.failed > 0 {
        parts.push(format!("{} given up", pass.failed));
    }
    if pass.pending > 0 {
        parts.push(format!(
            "{} pending in the outbox (`plantwire webhooks deliver` retries them)",
            pass.pending
        ));
    }
    eprintln!("webhooks: {}", parts.join(", "));
}

/// A workspace error, with the next step where there is an obvious one.
fn explain(e: WorkspaceError, id: &str) -> anyhow::Error {
    match e {
        WorkspaceError::Store(StoreError::AlreadyExists {
            what: "connection", ..
        }) => anyhow::anyhow!(
            "connection `{id}` already exists; `plantwire reauthorize {id}` replaces its credential, `plantwire disconnect {id}` removes it"
        ),
        WorkspaceError::Store(StoreError::NotFound {
            what: "connection", ..
        }) => anyhow::anyhow!("no connection `{id}` (`plantwire connections` lists them)"),
        WorkspaceError::Egress(e @ plantwire::egress::EgressError::PrivateAddress(_)) => {
            anyhow::anyhow!("{e} (on the command line: --allow-private-network)")
        }
        other => other.into(),
    }
}

async fn connections(
    state: &StateArgs,
    adapters: &Adapters,
    args: ConnectionsArgs,
) -> anyhow::Result<()> {
    let workspace = if args.check {
        Some(state.open()?)
    } else {
        Workspace::open_existing(state.config()?)?
    };
    let Some(workspace) = workspace else {
        match args.format {
            ListFormat::Table => println!("no connections (`plantwire connect` makes one)"),
            ListFormat::Json => println!("[]"),
        }
        return Ok(());
    };
    let mut checks = std::collections::BTreeMap::new();
    let mut unchecked = 0;
    if args.check && !workspace.store().connections()?.is_empty() {
        let registry = adapters.load().await?;
        for outcome in workspace.check_all(&registry).await? {
            if args.format == ListFormat::Table {
                match &outcome.result {
                    Ok(p) => {
                        println!(
                            "{}: {} (listed {} {})",
                            outcome.id,
                            outcome.health.label(),
                            p.records,
                            p.entity
                        );
                        if matches!(outcome.health, HealthState::NeedsReauthorization { .. }) {
                            println!(
                                "  the stored credential works again; `plantwire reauthorize {}` confirms it (or supplies a new one)",
                                outcome.id
                            );
                        }
                    }
                    Err(e) => println!("{}: {} ({e})", outcome.id, outcome.health.label()),
                }
            }
            if outcome
                .result
                .as_ref()
                .is_err_and(|e| e.starts_with("cannot check"))
            {
                unchecked += 1;
            }
            checks.insert(outcome.id.clone(), outcome.result);
        }
        if args.format == ListFormat::Table {
            println!();
        }
    }
    let list = workspace.connections()?;
    match args.format {
        ListFormat::Json => {
            let items: Vec<serde_json::Value> = list
                .iter()
                .map(|(record, health)| {
                    let mut v = connection_json(record, health);
                    if let (Some(obj), Some(check)) = (v.as_object_mut(), checks.get(&record.id)) {
                        obj.insert(
                            "check".into(),
                            match check {
                                Ok(p) => serde_json::json!({"ok": true, "entity": p.entity}),
                                Err(e) => serde_json::json!({"ok": false, "error": e}),
                            },
                        );
                    }
                    v
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&items)?);
        }
        ListFormat::Table if list.is_empty() => {
            println!("no connections (`plantwire connect` makes one)");
        }
        ListFormat::Table => {
            let mut rows = Vec::new();
            let mut notes = Vec::new();
            for (record, health) in &list {
                let (since, note) = health_detail(&health.state);
                rows.push(vec![
                    record.id.clone(),
                    record.system.clone(),
                    health.state.label().to_owned(),
                    since,
                    record.tenant.clone().unwrap_or_else(|| "-".into()),
                    record.vault.to_string(),
                    record.base_url.to_string(),
                ]);
                notes.push(note);
            }
            print!(
                "{}",
                table(
                    &[
                        "ID", "SYSTEM", "HEALTH", "SINCE", "TENANT", "VAULT", "BASE URL"
                    ],
                    &rows,
                    &notes
                )
            );
        }
    }
    if args.check {
        deliver_after(&workspace).await;
    }
    if unchecked > 0 {
        bail!("{unchecked} connection(s) could not be checked");
    }
    Ok(())
}

async fn connect(state: &StateArgs, adapters: &Adapters, args: ConnectArgs) -> anyhow::Result<()> {
    let workspace = state.open()?;
    if workspace
        .store()
        .connection(&args.id)
        .ok()
        .flatten()
        .is_some()
    {
        return Err(explain(
            WorkspaceError::Store(StoreError::AlreadyExists {
                what: "connection",
                id: args.id.clone(),
            }),
            &args.id,
        ));
    }
    let registry = adapters.load().await?;
    if let Some(component) = registry.get(&args.system) {
        println!(
            "the credential is sent to: {}",
            plantwire::egress::credential_endpoints(&component.info().auth)
        );
    }
    let credential =
        read_credential(&registry, &args.system, args.credential_file.as_deref()).await?;
    let request = ConnectRequest {
        id: args.id.clone(),
        system: args.system,
        base_url: args.base_url,
        tenant: args.tenant,
        allow_private_network: args.allow_private_network,
        granted_origins: args.grant_origins,
        timeout: Some(Duration::from_secs(args.timeout)),
        credential,
        check: !args.no_check,
    };
    let (record, probe) = workspace
        .connect(&registry, request)
        .await
        .map_err(|e| explain(e, &args.id))?;
    let probed = match probe {
        Some(p) => format!("the probe listed {} {}", p.records, p.entity),
        None => "not probed (--no-check)".to_owned(),
    };
    println!(
        "connected {} ({} at {}): healthy; {probed}",
        record.id, record.system, record.base_url
    );
    if let Some(cid) = &record.credential_id {
        println!("credential stored as `{cid}` in the {} vault", record.vault);
    }
    if let Some(endpoints) = &record.credential_endpoints {
        println!("credential endpoints confirmed: {endpoints}");
    }
    deliver_after(&workspace).await;
    Ok(())
}

async fn reauthorize(
    state: &StateArgs,
    adapters: &Adapters,
    args: ReauthorizeArgs,
) -> anyhow::Result<()> {
    let workspace = state.open()?;
    let Some(record) = workspace.store().connection(&args.id)? else {
        return Err(explain(
            WorkspaceError::Store(StoreError::NotFound {
                what: "connection",
                id: args.id.clone(),
            }),
            &args.id,
        ));
    };
    let registry = adapters.load().await?;
    let (confirmed, declared) = workspace
        .credential_endpoints(&registry, &args.id)
        .map_err(|e| explain(e, &args.id))?;
    if confirmed != declared {
        if !args.confirm_endpoints {
            bail!(
                "the adapter now sends the credential to: {declared}\n  the operator confirmed: {confirmed}\n  review it, then run `plantwire reauthorize {} --confirm-endpoints`",
                args.id
            );
        }
        workspace
            .confirm_endpoints(&registry, &args.id)
            .map_err(|e| explain(e, &args.id))?;
        println!("credential endpoints confirmed: {declared} (were: {confirmed})");
    }
    let credential =
        read_credential(&registry, &record.system, args.credential_file.as_deref()).await?;
    let done = workspace
        .reauthorize(&registry, &args.id, credential)
        .await
        .map_err(|e| explain(e, &args.id))?;
    println!(
        "reauthorized {}: {} -> {}; the probe listed {} {}",
        args.id,
        done.before.label(),
        done.after.label(),
        done.probe.records,
        done.probe.entity
    );
    deliver_after(&workspace).await;
    Ok(())
}

async fn disconnect(state: &StateArgs, id: &str) -> anyhow::Result<()> {
    let Some(workspace) = Workspace::open_existing(state.config()?)? else {
        return Err(explain(
            WorkspaceError::Store(StoreError::NotFound {
                what: "connection",
                id: id.to_owned(),
            }),
            id,
        ));
    };
    let record = workspace.disconnect(id).await.map_err(|e| explain(e, id))?;
    match (&record.credential_id, record.vault.writable()) {
        (Some(cid), true) => println!(
            "disconnected {id}; its credential `{cid}` was removed from the {} vault",
            record.vault
        ),
        (Some(cid), false) => println!(
            "disconnected {id}; its credential `{cid}` stays in the {} vault",
            record.vault
        ),
        (None, _) => println!("disconnected {id}"),
    }
    Ok(())
}

async fn webhooks(state: &StateArgs, command: WebhooksCommand) -> anyhow::Result<()> {
    match command {
        WebhooksCommand::Add {
            id,
            url,
            tenant,
            secret_file,
        } => {
            let secret = match &secret_file {
                Some(file) => {
                    let input = read_secret_input(file, 1024)?;
                    let text = std::str::from_utf8(&input)
                        .map_err(|_| anyhow::anyhow!("the secret is not UTF-8 text"))?;
                    Some(SecretString::from(text.trim().to_owned()))
                }
                None => None,
            };
            let workspace = state.open()?;
            let (record, generated) = workspace.add_endpoint(&id, &url, tenant, secret).await?;
            println!(
                "added webhook endpoint {} -> {} ({})",
                record.id,
                record.shown_url(),
                match &record.tenant {
                    Some(t) => format!("tenant {t} only"),
                    None => "every tenant".to_owned(),
                }
            );
            if let Some(secret) = generated {
                println!(
                    "signing secret, shown this once (the receiver verifies deliveries with it):\n{}",
                    secret.expose_secret()
                );
            }
        }
        WebhooksCommand::List { format } => {
            let Some(workspace) = Workspace::open_existing(state.config()?)? else {
                match format {
                    ListFormat::Table => println!("no webhook endpoints"),
                    ListFormat::Json => println!("{{\"endpoints\": [], \"outbox\": null}}"),
                }
                return Ok(());
            };
            let endpoints = workspace.store().endpoints()?;
            let counts = workspace.outbox().counts()?;
            match format {
                ListFormat::Json => {
                    let items: Vec<serde_json::Value> = endpoints
                        .iter()
                        .map(|e| {
                            serde_json::json!({
                                "id": e.id,
                                "origin": e.url.origin().ascii_serialization(),
                                "tenant": e.tenant,
                                "vault": e.vault.as_str(),
                                "secretId": e.secret_id.as_str(),
                                "createdAt": time(e.created_at),
                            })
                        })
                        .collect();
                    let out = serde_json::json!({
                        "endpoints": items,
                        "outbox": {"pending": counts.pending, "delivered": counts.delivered, "failed": counts.failed},
                    });
                    println!("{}", serde_json::to_string_pretty(&out)?);
                }
                ListFormat::Table => {
                    if endpoints.is_empty() {
                        println!("no webhook endpoints");
                    } else {
                        let rows: Vec<Vec<String>> = endpoints
                            .iter()
                            .map(|e| {
                                vec![
                                    e.id.clone(),
                                    e.shown_url(),
                                    e.tenant.clone().unwrap_or_else(|| "(every tenant)".into()),
                                    e.vault.to_string(),
                                ]
                            })
                            .collect();
                        print!("{}", table(&["ID", "URL", "TENANT", "VAULT"], &rows, &[]));
                    }
                    println!(
                        "outbox: {} pending, {} delivered, {} given up",
                        counts.pending, counts.delivered, counts.failed
                    );
                }
            }
        }
        WebhooksCommand::Remove { id } => {
            let Some(workspace) = Workspace::open_existing(state.config()?)? else {
                bail!("no webhook endpoint `{id}`");
            };
            let record = workspace.remove_endpoint(&id).await?;
            println!("removed webhook endpoint {}", record.id);
        }
        WebhooksCommand::Deliver { watch } => {
            let workspace = state.open()?;
            if watch {
                let (dispatcher, skipped) = workspace
                    .dispatcher(plantwire::webhooks::DispatcherConfig::default())
                    .await?;
                for (id, reason) in &skipped {
                    eprintln!("warning: webhook endpoint {id} was skipped: {reason}");
                }
                eprintln!(
                    "delivering webhooks from {} until Ctrl-C",
                    workspace.state_dir().display()
                );
                dispatcher
                    .run(async {
                        if let Err(e) = tokio::signal::ctrl_c().await {
                            eprintln!("warning: cannot wait for Ctrl-C ({e}); stopping");
                        }
                    })
                    .await;
                eprintln!("stopped");
            } else {
                let pass = workspace.deliver(DELIVER_COMMAND_BUDGET).await?;
                report_delivery(&pass, false);
            }
        }
    }
    Ok(())
}

async fn vault(state: &StateArgs, command: VaultCommand) -> anyhow::Result<()> {
    match command {
        VaultCommand::Keygen { file } => {
            let key = MasterKey::generate();
            key.write_to_file(&file)?;
            println!(
                "wrote a new master key (id {}) to {}; keep it safe: the vault cannot be opened without it",
                key.id(),
                file.display()
            );
        }
        VaultCommand::Init => {
            let workspace = state.open()?;
            let existed = workspace.vault_file().exists();
            let vault = workspace.sealed_vault(true).await?;
            println!(
                "sealed vault {} {} (key id {})",
                vault.path().display(),
                if existed { "opens" } else { "created" },
                vault.key_id().await
            );
        }
        VaultCommand::Rotate { new_key_file } => {
            let new_key = MasterKey::from_file(&new_key_file)?;
            let workspace = state.open()?;
            let id = workspace.rotate_vault(new_key).await?;
            println!(
                "re-sealed {} with key {id}; from now on use --master-key-file {} (the old key no longer opens it)",
                workspace.vault_file().display(),
                new_key_file.display()
            );
        }
    }
    Ok(())
}

const BULK_HELP: &str = "Input: one JSON object per line.
  create  the record: {\"title\": \"Pump check\", \"severity\": \"high\"}
  update  {\"key\": \"1001\", \"patch\": {\"severity\": \"low\"}, \"concurrencyToken\": \"...\"}
  action  {\"key\": \"1001\", \"input\": {\"status\": \"completed\"}}
Any line may carry \"_idempotencyKey\": a key of the caller's own (removed before sending).
Otherwise a key is derived from the record; where the entity has `externalId`, the key is
its externalId. A key reused with a different record is refused; a job replaying records that
already succeeded sends nothing again.
Results: one line per input record, in input order:
  {\"index\": 0, \"idempotencyKey\": \"...\", \"outcome\": \"created\", \"key\": \"1001\"}
  outcomes: created, updated, failed (with the typed error), unknown (sent before a crash and
  not found afterwards), skipped (the run stopped first). The exit status is non-zero when any
  record failed or is unknown.";

#[derive(Debug, clap::Args)]
struct BulkArgs {
    /// The connection's id.
    connection: String,
    /// The entity (`work-order`, `purchase-order`, ...).
    entity: String,
    #[command(subcommand)]
    op: BulkOpCommand,
}

#[derive(Debug, Subcommand)]
enum BulkOpCommand {
    /// Creates a record per input line.
    Create {
        /// JSON Lines input; `-` reads standard input.
        file: PathBuf,
        #[command(flatten)]
        flags: BulkFlags,
    },
    /// Updates a record per input line (`key`, `patch`, optional `concurrencyToken`).
    Update {
        /// JSON Lines input; `-` reads standard input.
        file: PathBuf,
        #[command(flatten)]
        flags: BulkFlags,
    },
    /// Runs the named action on a record per input line (`key`, optional `input`).
    Action {
        /// The action (`plantwire capabilities SYSTEM --entity ENTITY` lists them).
        name: String,
        /// JSON Lines input; `-` reads standard input.
        file: PathBuf,
        #[command(flatten)]
        flags: BulkFlags,
    },
}

#[derive(Debug, clap::Args)]
struct BulkFlags {
    /// Records per batch (never above the adapter's limit).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    batch_size: u32,
    /// Pause between batches, in milliseconds (the connection's rate limit paces requests in
    /// any case).
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    delay_ms: u64,
    /// Stop after this many failed records; the rest are skipped.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    stop_after_failures: Option<u32>,
    /// Run as a durable job (the default above 1,000 records): resumable after a crash
    /// with `plantwire jobs run`, and replays of records that succeeded send nothing.
    #[arg(long)]
    job: bool,
    /// Only queue the durable job (implies --job) and print its id: `plantwire jobs run` on
    /// any host sharing the job store runs it.
    #[arg(long)]
    queue: bool,
    /// Write the results to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// No progress bar, even on a terminal.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct JobsArgs {
    #[command(subcommand)]
    command: Option<JobsCommand>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Lists the jobs, newest first.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Shows a job's progress until it ends.
    Watch {
        /// The job's id.
        id: String,
    },
    /// Cancels a job: a queued one at once, a running one after its current batch.
    Cancel {
        /// The job's id.
        id: String,
    },
    /// Runs one job, or every claimable job (queued, or left by a runner that died) until
    /// none is left; a batch left in flight is settled first.
    Run {
        /// The job's id [default: every claimable job].
        id: Option<String>,
        /// No progress bar, even on a terminal.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Writes a job's results as JSON Lines, one per input record in input order.
    Results {
        /// The job's id.
        id: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// The job store the options name: SQLite (a path, `sqlite://PATH`, or `jobs.db` in the
/// state directory) or PostgreSQL (`postgres://`, `postgresql://`).
async fn job_store(state: &StateArgs) -> anyhow::Result<std::sync::Arc<dyn JobStore>> {
    use plantwire::bulk::SqliteJobStore;
    use plantwire::bulk::postgres::PostgresJobStore;

    match state.job_store.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let mut options = plantwire::bulk::postgres::PostgresOptions::default();
            if let Some(schema) = &state.job_store_schema {
                options = options.schema(schema);
            }
            Ok(std::sync::Arc::new(
                PostgresJobStore::connect_with(url, options).await?,
            ))
        }
        Some(url) if url.contains("://") && !url.starts_with("sqlite://") => bail!(
            "unknown job store `{}`: give a SQLite file path (or sqlite://PATH) or a postgres:// URL",
            url.split("://").next().unwrap_or_default()
        ),
        _ if state.job_store_schema.is_some() => bail!(
            "--job-store-schema applies to a PostgreSQL job store only (--job-store postgres://...)"
        ),
        Some(url) => {
            let path = PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url));
            Ok(std::sync::Arc::new(SqliteJobStore::open(&path)?))
        }
        None => {
            let config = state.config()?;
            std::fs::create_dir_all(&config.state_dir).with_context(|| {
                format!(
                    "creating the state directory {}",
                    config.state_dir.display()
                )
            })?;
            Ok(std::sync::Arc::new(SqliteJobStore::open(
                config.state_dir.join("jobs.db"),
            )?))
        }
    }
}

/// Reads JSON Lines: one value per non-blank line. A line that is not JSON refuses the
/// whole input (nothing is sent).
fn read_jsonl(path: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    use std::io::BufRead as _;

    let reader: Box<dyn std::io::BufRead> = if path == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        if !file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .is_file()
        {
            bail!("{} is not a regular file", path.display());
        }
        Box::new(std::io::BufReader::new(file))
    };
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {} of {}", n + 1, path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > plantwire::bulk::sqlite::MAX_PAYLOAD_BYTES {
            bail!(
                "line {} is larger than {} bytes; nothing was sent",
                n + 1,
                plantwire::bulk::sqlite::MAX_PAYLOAD_BYTES
            );
        }
        let value = serde_json::from_str(&line)
            .with_context(|| format!("line {} is not valid JSON; nothing was sent", n + 1))?;
        out.push(value);
        if out.len() > plantwire::bulk::sqlite::MAX_JOB_RECORDS {
            bail!(
                "more than {} records; split the input",
                plantwire::bulk::sqlite::MAX_JOB_RECORDS
            );
        }
    }
    if out.is_empty() {
        bail!("{} holds no records", path.display());
    }
    Ok(out)
}

/// Writes result lines to `path` or standard output.
fn write_results(
    path: Option<&Path>,
    lines: impl IntoIterator<Item = serde_json::Value>,
) -> anyhow::Result<()> {
    use std::io::Write as _;

    let mut out: Box<dyn std::io::Write> = match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// A progress bar on a terminal (records, batches, failures, rate, ETA); `None` when piped
/// or quiet.
fn progress_bar(total: u64, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal as _;

    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} records, {msg}, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn show_progress(bar: Option<&indicatif::ProgressBar>, p: &plantwire::bulk::Progress) {
    if let Some(bar) = bar {
        bar.set_length(p.total);
        bar.set_position(p.done);
        bar.set_message(format!("{} batches, {} failed", p.batches, p.failed));
    }
}

/// `created 295, failed 5` from outcomes.
fn tally<'a>(outcomes: impl IntoIterator<Item = Option<&'a RecordOutcome>>) -> (String, u64) {
    let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    let mut bad = 0;
    for o in outcomes {
        let name = match o {
            Some(RecordOutcome::Created { .. }) => "created",
            Some(RecordOutcome::Updated { .. }) => "updated",
            Some(RecordOutcome::Failed { .. }) => "failed",
            Some(RecordOutcome::Unknown { .. }) => "unknown",
            Some(RecordOutcome::Skipped { .. }) => "skipped",
            None => "pending",
        };
        if o.is_some_and(RecordOutcome::is_failure) {
            bad += 1;
        }
        *counts.entry(name).or_default() += 1;
    }
    let text = counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    (text, bad)
}

async fn bulk(state: &StateArgs, adapters: &Adapters, args: BulkArgs) -> anyhow::Result<()> {
    use plantwire::bulk::{BulkOp, BulkOptions, BulkRequest, engine};

    let (op, file, flags) = match args.op {
        BulkOpCommand::Create { file, flags } => (BulkOp::Create, file, flags),
        BulkOpCommand::Update { file, flags } => (BulkOp::Update, file, flags),
        BulkOpCommand::Action { name, file, flags } => (BulkOp::Action(name), file, flags),
    };
    let inputs = read_jsonl(&file)?;
    let Some(workspace) = Workspace::open_existing(state.config()?)? else {
        bail!(
            "no connection `{}` (there are no connections yet; `plantwire connect` makes one)",
            args.connection
        );
    };
    let workspace = std::sync::Arc::new(workspace);
    let registry = std::sync::Arc::new(adapters.load().await?);
    let connection = workspace
        .connection(&registry, &args.connection)
        .await
        .map_err(|e| explain(e, &args.connection))?;
    let request = BulkRequest {
        entity: args.entity.clone(),
        op,
        options: BulkOptions {
            batch_size: flags.batch_size,
            delay: Duration::from_millis(flags.delay_ms),
            stop_after_failures: flags.stop_after_failures,
        },
    };
    engine::entity_for(&connection, &request.entity, &request.op)?;
    let bar = progress_bar(inputs.len() as u64, flags.quiet);
    let durable = flags.job || flags.queue || inputs.len() > plantwire::bulk::DEFAULT_JOB_THRESHOLD;
    let (lines, summary, bad, ended) = if durable {
        let store = job_store(state).await?;
        let tenant = workspace
            .store()
            .connection(&args.connection)?
            .and_then(|r| r.tenant);
        let id =
            plantwire::bulk::submit(store.as_ref(), &connection, tenant, &request, &inputs).await?;
        if flags.queue {
            println!("{id}");
            eprintln!(
                "job {id}: {} records queued; `plantwire jobs run` runs it",
                inputs.len()
            );
            return Ok(());
        }
        eprintln!(
            "job {id}: {} records; if this process stops, `plantwire jobs run {id}` resumes it",
            inputs.len()
        );
        let runner = plantwire::bulk::Runner::new(
            std::sync::Arc::clone(&store),
            std::sync::Arc::new(plantwire::bulk::WorkspaceConnections::new(
                std::sync::Arc::clone(&workspace),
                std::sync::Arc::clone(&registry),
            )),
            std::sync::Arc::new(plantwire::bulk::WorkspaceEvents(std::sync::Arc::clone(
                &workspace,
            ))),
        )
        .with_lease(Duration::from_secs(state.job_lease));
        let ran = runner
            .run_job(&id, &mut |p: &plantwire::bulk::JobProgress| {
                show_progress(bar.as_ref(), &p.progress)
            })
            .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let job = ran?.with_context(|| format!("job {id} is held by another runner"))?;
        let outcomes = store.outcomes(&id).await?;
        let (summary, bad) = tally(outcomes.iter().map(|(_, _, o)| o.as_ref()));
        let lines: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|(i, k, o)| engine::result_line(*i, k, o.as_ref()))
            .collect();
        deliver_after(&workspace).await;
        (
            lines,
            format!("job {id} {}: {summary}", job.status.as_str()),
            bad,
            job.status,
        )
    } else {
        let results = plantwire::bulk::run(&connection, &request, &inputs, |p| {
            show_progress(bar.as_ref(), p)
        })
        .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let results = results?;
        let (summary, bad) = tally(results.iter().map(|r| Some(&r.outcome)));
        let lines = results
            .iter()
            .map(|r| engine::result_line(r.index, &r.idempotency_key, Some(&r.outcome)))
            .collect();
        (lines, summary, bad, plantwire::bulk::JobStatus::Completed)
    };
    write_results(flags.results.as_deref(), lines)?;
    if !flags.quiet {
        eprintln!("{} {}: {summary}", args.connection, args.entity);
    }
    if bad > 0 {
        bail!(
            "{bad} of {} records failed or have an unknown outcome (see the results)",
            inputs.len()
        );
    }
    if ended != plantwire::bulk::JobStatus::Completed {
        bail!(
            "the job was {} before every record was sent (see the results)",
            ended.as_str()
        );
    }
    Ok(())
}

fn job_json(job: &plantwire::bulk::JobInfo) -> serde_json::Value {
    serde_json::json!({
        "id": job.id.0,
        "status": job.status.as_str(),
        "connection": job.spec.connection,
        "tenant": job.spec.tenant,
        "entity": job.spec.entity,
        "operation": plantwire::bulk::sqlite::op_name(&job.spec.op),
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "batches": job.batches,
        "cancelRequested": job.cancel_requested,
        "leaseOwner": job.lease_owner,
        "leaseUntil": job.lease_until.map(time),
        "createdAt": time(job.created_at),
        "updatedAt": time(job.updated_at),
    })
}

fn job_id(id: &str) -> plantwire::bulk::JobId {
    plantwire::bulk::JobId(id.to_owned())
}

async fn jobs(state: &StateArgs, adapters: &Adapters, args: JobsArgs) -> anyhow::Result<()> {
    let command = args.command.unwrap_or(JobsCommand::List {
        format: args.format,
        limit: 100,
    });
    let store = job_store(state).await?;
    match command {
        JobsCommand::List { format, limit } => {
            let list = store.jobs(limit).await?;
            match format {
                ListFormat::Json => {
                    let items: Vec<_> = list.iter().map(job_json).collect();
                    println!("{}", serde_json::to_string_pretty(&items)?);
                }
                ListFormat::Table if list.is_empty() => {
                    println!("no jobs (`plantwire bulk ... --job` makes one)")
                }
                ListFormat::Table => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|j| {
                            vec![
                                j.id.0.clone(),
                                format!(
                                    "{}{}",
                                    j.status.as_str(),
                                    if j.cancel_requested && !j.status.is_final() {
                                        " (cancelling)"
                                    } else {
                                        ""
                                    }
                                ),
                                j.spec.connection.clone(),
                                j.spec.entity.clone(),
                                plantwire::bulk::sqlite::op_name(&j.spec.op),
                                format!("{}/{}", j.done, j.total),
                                j.failed.to_string(),
                                time(j.updated_at),
                            ]
                        })
                        .collect();
                    print!(
                        "{}",
                        table(
                            &[
                                "ID",
                                "STATUS",
                                "CONNECTION",
                                "ENTITY",
                                "OPERATION",
                                "DONE",
                                "FAILED",
                                "UPDATED"
                            ],
                            &rows,
                            &[]
                        )
                    );
                }
            }
        }
        JobsCommand::Watch { id } => {
            let id = job_id(&id);
            let Some(mut job) = store.job(&id).await? else {
                bail!("no job `{id}` (`plantwire jobs` lists them)");
            };
            let bar = progress_bar(job.total, false);
            while !job.status.is_final() {
                show_progress(
                    bar.as_ref(),
                    &plantwire::bulk::Progress {
                        total: job.total,
                        done: job.done,
                        failed: job.failed,
                        batches: job.batches,
                    },
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
                job = store
                    .job(&id)
                    .await?
                    .with_context(|| format!("job {id} disappeared"))?;
            }
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            println!(
                "job {id} {}: {}/{} records, {} failed, {} batches",
                job.status.as_str(),
                job.done,
                job.total,
                job.failed,
                job.batches
            );
        }
        JobsCommand::Cancel { id } => {
            let id = job_id(&id);
            let Some(job) = store.job(&id).await? else {
                bail!("no job `{id}` (`plantwire jobs` lists them)");
            };
            if store.cancel(&id, time::OffsetDateTime::now_utc()).await? {
                match job.status {
                    plantwire::bulk::JobStatus::Queued => println!("job {id} cancelled"),
                    _ => println!("job {id}: cancel requested; it stops after its current batch"),
                }
            } else {
                println!("job {id} is already {}", job.status.as_str());
            }
        }
        JobsCommand::Run { id, quiet } => {
            let workspace = std::sync::Arc::new(state.open()?);
            let registry = std::sync::Arc::new(adapters.load().await?);
            let runner = plantwire::bulk::Runner::new(
                std::sync::Arc::clone(&store),
                std::sync::Arc::new(plantwire::bulk::WorkspaceConnections::new(
                    std::sync::Arc::clone(&workspace),
                    registry,
                )),
                std::sync::Arc::new(plantwire::bulk::WorkspaceEvents(std::sync::Arc::clone(
                    &workspace,
                ))),
            )
            .with_lease(Duration::from_secs(state.job_lease));
            let bar = progress_bar(0, quiet);
            let mut show = |p: &plantwire::bulk::JobProgress| {
                if let Some(bar) = &bar {
                    bar.set_prefix(p.id.0.clone());
                }
                show_progress(bar.as_ref(), &p.progress)
            };
            let (ran, errors) = match id {
                Some(id) => {
                    let id = job_id(&id);
                    if store.job(&id).await?.is_none() {
                        bail!("no job `{id}` (`plantwire jobs` lists them)");
                    }
                    match runner.run_job(&id, &mut show).await {
                        Ok(Some(job)) => (vec![job], Vec::new()),
                        Ok(None) => {
                            if let Some(bar) = &bar {
                                bar.finish_and_clear();
                            }
                            bail!(
                                "job {id} is not claimable: it is over, or another runner holds it"
                            );
                        }
                        Err(e) => (Vec::new(), vec![(id, e)]),
                    }
                }
                None => runner.run_until_idle(&mut show).await,
            };
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            for job in &ran {
                let outcomes = store.outcomes(&job.id).await?;
                let (summary, _) = tally(outcomes.iter().map(|(_, _, o)| o.as_ref()));
                eprintln!("job {} {}: {summary}", job.id, job.status.as_str());
            }
            if ran.is_empty() && errors.is_empty() {
                eprintln!("no job to run");
            }
            deliver_after(&workspace).await;
            if !errors.is_empty() {
                for (id, e) in &errors {
                    eprintln!("error: job {id}: {e}");
                }
                bail!("{} job(s) could not be run to the end", errors.len());
            }
        }
        JobsCommand::Results { id, output } => {
            let id = job_id(&id);
            if store.job(&id).await?.is_none() {
                bail!("no job `{id}` (`plantwire jobs` lists them)");
            }
            let outcomes = store.outcomes(&id).await?;
            write_results(
                output.as_deref(),
                outcomes
                    .iter()
                    .map(|(i, k, o)| plantwire::bulk::engine::result_line(*i, k, o.as_ref())),
            )?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PLANTWIRE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
