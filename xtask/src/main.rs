//! `cargo xtask`: the project's build step.
//!
//! - `cargo xtask build`: builds every wasm component (adapters under `adapters/`, test
//!   fixtures under `tests/fixtures/`) for `wasm32-wasip2` and copies them to
//!   `<target>/adapters/<system>.wasm` and `<target>/fixtures/<name>.wasm`.
//! - `cargo xtask demo [ARGS]`: builds, then runs `plantwire demo` on those adapters.
//! - `cargo xtask test [ARGS]`: builds, prepares the Python verifier (below), then runs
//!   `cargo test --workspace [ARGS]`.
//! - `cargo xtask bench [ARGS]`: builds, then runs the criterion benchmarks.
//!
//! Some tests need Python packages from PyPI: the webhook tests check our Standard Webhooks
//! signatures with an independent implementation (`standardwebhooks`), and the AWS Secrets
//! Manager vault tests run against the `moto` emulator in server mode (`moto[server]`). `test`
//! keeps a venv with both, at pinned versions, at `<target>/python` (created and installed
//! once, reinstalled when a pinned version changes) and passes its interpreter to the tests as
//! `PLANTWIRE_PYTHON` (unless that is already set). Without `python3` (or its `venv`/`pip`)
//! it warns and leaves the variable unset; the tests then say loudly what they skipped.
//! Likewise the PostgreSQL job store tests need a server at `PLANTWIRE_TEST_DATABASE_URL`
//! (`.ci/run` sets it); without it `test` warns, before and after the run, that they skip.
//!
//! Nested cargo runs happen here, never in a build script, so the target directory's lock is
//! never taken twice.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const WASM_TARGET: &str = "wasm32-wasip2";

/// A Python package the tests need, at a pinned version.
struct PyPackage {
    /// The distribution name, as `importlib.metadata` knows it.
    name: &'static str,
    /// Extras to install with it.
    extras: &'static str,
    version: &'static str,
    /// A module that must import.
    module: &'static str,
    /// What the tests use it for.
    purpose: &'static str,
}

/// Every package of the test venv.
const PY_PACKAGES: &[PyPackage] = &[
    PyPackage {
        name: "standardwebhooks",
        extras: "",
        version: "1.1.0",
        module: "standardwebhooks.webhooks",
        purpose: "webhook signatures will NOT be checked against the independent implementation",
    },
    PyPackage {
        name: "moto",
        extras: "[server]",
        version: "5.2.5",
        module: "moto.server",
        purpose: "the AWS Secrets Manager vault will NOT be tested against the emulator",
    },
];

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        }
        None => root.join("target"),
    }
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn run(mut cmd: Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Installs the wasm target through rustup when the toolchain lacks it.
fn ensure_wasm_target(root: &Path) -> anyhow::Result<()> {
    let out = Command::new("rustc")
        .current_dir(root)
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).exists() {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target with rustup");
    let mut cmd = Command::new("rustup");
    cmd.current_dir(root).args(["target", "add", WASM_TARGET]);
    run(cmd)
}

/// Package names of the crates in `dir/*` (one level), read from their manifests.
fn packages_in(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let manifest = entry?.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text.lines().find_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("name")?.trim_start().strip_prefix('=')?;
            Some(rest.trim().trim_matches('"').to_owned())
        });
        if let Some(name) = name {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Builds every component and copies it under a stable name; returns (adapters, fixtures).
fn build(root: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    ensure_wasm_target(root)?;
    let adapters: Vec<String> = packages_in(&root.join("adapters"))?
        .into_iter()
        .filter(|p| p.starts_with("plantwire-adapter-"))
        .collect();
    let fixtures: Vec<String> = packages_in(&root.join("tests/fixtures"))?;
    let mut cmd = cargo();
    cmd.current_dir(root)
        .args(["build", "--release", "--target", WASM_TARGET]);
    for p in adapters.iter().chain(&fixtures) {
        cmd.args(["-p", p]);
    }
    run(cmd)?;

    let target = target_dir(root);
    let built = target.join(WASM_TARGET).join("release");
    let adapter_dir = target.join("adapters");
    let fixture_dir = target.join("fixtures");
    for (packages, prefix, dest) in [
        (&adapters, "plantwire-adapter-", &adapter_dir),
        (&fixtures, "plantwire-fixture-", &fixture_dir),
    ] {
        std::fs::create_dir_all(dest)?;
        for p in packages {
            let file = built.join(format!("{}.wasm", p.replace('-', "_")));
            let short = p.strip_prefix(prefix).unwrap_or(p);
            let to = dest.join(format!("{short}.wasm"));
            std::fs::copy(&file, &to)
                .with_context(|| format!("copying {} to {}", file.display(), to.display()))?;
        }
    }
    Ok((adapter_dir, fixture_dir))
}

/// The venv's interpreter.
fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Whether `python` imports every package at its pinned version.
fn has_packages(python: &Path) -> bool {
    let mut check = String::from("import importlib, importlib.metadata as m\n");
    for p in PY_PACKAGES {
        check += &format!(
            "if m.version('{}') != '{}': raise SystemExit(1)\nimportlib.import_module('{}')\n",
            p.name, p.version, p.module
        );
    }
    Command::new(python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Makes sure `<target>/python` is a venv with the pinned packages; returns its interpreter,
/// or `None` (after saying why) when Python is not usable here.
fn prepare_python(target: &Path) -> Option<PathBuf> {
    let venv = target.join("python");
    let python = venv_python(&venv);
    if python.exists() && has_packages(&python) {
        return Some(python);
    }
    let warn = |why: &str| {
        eprintln!("xtask: WARNING: {why} (PLANTWIRE_PYTHON is not set)");
        for p in PY_PACKAGES {
            eprintln!("xtask: WARNING: without {}: {}", p.name, p.purpose);
        }
    };
    if !python.exists() {
        eprintln!("xtask: creating a Python venv at {}", venv.display());
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        match created {
            Ok(status) if status.success() && python.exists() => {}
            Ok(status) => {
                warn(&format!("`python3 -m venv` failed ({status})"));
                return None;
            }
            Err(e) => {
                warn(&format!("python3 is not available ({e})"));
                return None;
            }
        }
    }
    let specs: Vec<String> = PY_PACKAGES
        .iter()
        .map(|p| format!("{}{}=={}", p.name, p.extras, p.version))
        .collect();
    eprintln!(
        "xtask: installing {} into {}",
        specs.join(" "),
        venv.display()
    );
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(&specs)
        .status();
    match installed {
        Ok(status) if status.success() && has_packages(&python) => Some(python),
        Ok(status) if status.success() => {
            warn("pip installed the packages, but they do not import at their pinned versions");
            None
        }
        Ok(status) => {
            warn(&format!(
                "pip could not install {} ({status})",
                specs.join(" ")
            ));
            None
        }
        Err(e) => {
            warn(&format!("pip is not available ({e})"));
            None
        }
    }
}

/// Says loudly that the PostgreSQL job store tests skip without a database (passing tests'
/// output is captured, so their own notices do not show).
fn postgres_notice() {
    if std::env::var_os("PLANTWIRE_TEST_DATABASE_URL").is_none_or(|v| v.is_empty()) {
        eprintln!(
            "xtask: WARNING: PLANTWIRE_TEST_DATABASE_URL is not set: the PostgreSQL job store \
             tests are SKIPPED (set it to postgres://USER@HOST:PORT/DATABASE to run them)"
        );
    }
}

fn main() -> anyhow::Result<()> {
    let root = workspace_root();
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "build" => {
            let (adapters, fixtures) = build(&root)?;
            eprintln!(
                "xtask: adapters in {}, fixtures in {}",
                adapters.display(),
                fixtures.display()
            );
        }
        "demo" => {
            let (adapters, _) = build(&root)?;
            let mut cmd = cargo();
            cmd.current_dir(&root)
                .args(["run", "--quiet", "-p", "plantwire", "--"])
                .arg("--adapters")
                .arg(&adapters)
                .arg("demo")
                .args(&rest);
            run(cmd)?;
        }
        "test" => {
            let (adapters, fixtures) = build(&root)?;
            let python = match std::env::var_os("PLANTWIRE_PYTHON") {
                Some(given) => {
                    eprintln!("xtask: using PLANTWIRE_PYTHON={}", given.to_string_lossy());
                    Some(PathBuf::from(given))
                }
                None => prepare_python(&target_dir(&root)),
            };
            let mut cmd = cargo();
            cmd.current_dir(&root)
                .env("PLANTWIRE_ADAPTERS", &adapters)
                .env("PLANTWIRE_FIXTURES", &fixtures)
                .args(["test", "--workspace"])
                .args(&rest);
            if let Some(python) = python {
                cmd.env("PLANTWIRE_PYTHON", python);
            }
            postgres_notice();
            run(cmd)?;
            postgres_notice();
        }
        "bench" => {
            let (adapters, fixtures) = build(&root)?;
            let mut cmd = cargo();
            cmd.current_dir(&root)
                .env("PLANTWIRE_ADAPTERS", &adapters)
                .env("PLANTWIRE_FIXTURES", &fixtures)
                .args(["bench", "-p", "plantwire-benches"])
                .args(&rest);
            run(cmd)?;
        }
        _ => bail!("usage: cargo xtask <build | demo | test | bench> [ARGS]"),
    }
    Ok(())
}
