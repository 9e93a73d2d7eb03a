//! The `plantwire` command: capability queries, adapter inspection and the demo.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use plantwire::capabilities::{self, Format};
use plantwire::{Registry, Runtime, RuntimeConfig};

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
    /// Runs the tour against a MaintainX simulator on loopback.
    Demo {
        /// Pages of work orders to list.
        #[arg(long, default_value_t = 3)]
        pages: usize,
    },
}

fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("plantwire"))
}

async fn registry(runtime: &Runtime, dir: &std::path::Path) -> anyhow::Result<Registry> {
    let registry = Registry::load_dir(runtime, dir)
        .await
        .with_context(|| format!("loading adapters from {}", dir.display()))?;
    for (file, error) in registry.failures() {
        eprintln!("warning: {file} was not loaded: {error}");
    }
    Ok(registry)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = RuntimeConfig {
        cache_dir: cli.cache_dir.clone().or_else(default_cache_dir),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::new(config)?;
    match cli.command {
        Command::Capabilities {
            system,
            entity,
            format,
        } => {
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
            let registry = registry(&runtime, &cli.adapters).await?;
            let mut out = String::new();
            let result = plantwire::demo::run(&registry, pages, &mut out).await;
            print!("{out}");
            result?;
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
