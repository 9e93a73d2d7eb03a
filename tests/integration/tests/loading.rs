//! Loading adapters: valid components load and describe themselves; invalid or oversized
//! declarations, imports beyond the contract, core modules and garbage are refused with a
//! clear error; the compiled-component cache is used on the second load, is private to the
//! host's user, and never runs an entry it did not write for that very component.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use plantwire::{LoadError, Runtime, RuntimeConfig};
use plantwire_integration_tests::{component_bytes, runtime, test_config};

#[tokio::test]
async fn maintainx_adapter_loads_and_describes_itself() {
    let rt = runtime();
    let component = rt
        .load(&component_bytes("adapter", "maintainx"))
        .await
        .expect("loads");
    let info = component.info();
    assert_eq!(info.system, "maintainx");
    assert!(info.entity("work-order").is_some());
    assert!(
        component
            .imports()
            .iter()
            .any(|i| i.starts_with("plantwire:adapter/http@0.2"))
    );
}

#[tokio::test]
async fn an_invalid_description_is_a_load_error_naming_every_problem() {
    let rt = runtime();
    let err = rt
        .load(&component_bytes("fixture", "bad-describe"))
        .await
        .expect_err("must be refused");
    let LoadError::InvalidDescription(problems) = &err else {
        panic!("unexpected error: {err}");
    };
    let text = problems.join("\n");
    assert!(text.contains("unknown entity `spaceship`"), "{text}");
    assert!(text.contains("declared twice"), "{text}");
    assert!(
        text.contains("required on create but not creatable"),
        "{text}"
    );
}

#[tokio::test]
async fn imports_beyond_the_contract_are_refused() {
    let rt = runtime();
    let err = rt
        .load(&component_bytes("fixture", "extra-import"))
        .await
        .expect_err("must be refused");
    match &err {
        LoadError::ForbiddenImport(name) => assert!(name.contains("exfil"), "{name}"),
        other => panic!("unexpected error: {other}"),
    }
    assert!(err.to_string().contains("not part of the adapter contract"));
}

#[tokio::test]
async fn core_modules_and_garbage_are_not_components() {
    let rt = runtime();
    // The smallest valid core module: magic and version.
    let core = b"\0asm\x01\0\0\0";
    assert!(matches!(
        rt.load(core).await,
        Err(LoadError::NotAComponent(_))
    ));
    assert!(matches!(
        rt.load(b"not wasm at all").await,
        Err(LoadError::NotAComponent(_))
    ));
    assert!(matches!(
        rt.load(&[]).await,
        Err(LoadError::NotAComponent(_))
    ));
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk() {
    let dir = plantwire_integration_tests::Scratch::new("cache-test");
    let config = RuntimeConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..test_config()
    };
    let bytes = component_bytes("adapter", "maintainx");
    let first = Runtime::new(config.clone()).expect("runtime");
    let a = first.load(&bytes).await.expect("first load compiles");
    let entries = cache_entries(&dir);
    assert_eq!(entries.len(), 1, "one cache entry after the first load");
    let name = entries[0].clone();
    assert!(name.to_string_lossy().starts_with(a.digest()));

    // A second runtime (a restarted host) loads from the cache and gets the same adapter.
    let second = Runtime::new(config).expect("runtime");
    let b = second
        .load(&bytes)
        .await
        .expect("second load uses the cache");
    assert_eq!(a.info(), b.info());

    // A corrupt entry is ignored and recompiled, not trusted.
    std::fs::write(dir.join(&name), b"garbage").expect("corrupt");
    let third = Runtime::new(test_config_with(&dir)).expect("runtime");
    assert!(third.load(&bytes).await.is_ok());
}

fn test_config_with(dir: &std::path::Path) -> RuntimeConfig {
    RuntimeConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..test_config()
    }
}

/// The compiled entries in a cache directory (not its key), by file name.
fn cache_entries(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").file_name())
        .filter(|n| n.to_string_lossy().ends_with(".cwasm"))
        .collect();
    names.sort();
    names
}

/// The entry of the component whose SHA-256 is `digest`.
fn entry_of(dir: &std::path::Path, digest: &str) -> std::path::PathBuf {
    let name = cache_entries(dir)
        .into_iter()
        .find(|n| n.to_string_lossy().starts_with(digest))
        .unwrap_or_else(|| panic!("no cache entry for {digest}"));
    dir.join(name)
}

#[tokio::test]
async fn a_planted_cache_entry_is_recompiled_from_the_component_never_run() {
    let dir = plantwire_integration_tests::Scratch::new("cache-plant");
    let hostile = component_bytes("fixture", "hostile");
    let unruly = component_bytes("fixture", "unruly");
    let first = Runtime::new(test_config_with(&dir)).expect("runtime");
    let h = first.load(&hostile).await.expect("hostile loads");
    let u = first.load(&unruly).await.expect("unruly loads");
    let hostile_entry = entry_of(&dir, h.digest());
    let unruly_entry = entry_of(&dir, u.digest());

    // The attack: another component's valid, authentic entry planted under this one's name.
    // Run, it would answer describe() as `hostile`.
    std::fs::copy(&hostile_entry, &unruly_entry).expect("plant");
    let planted = std::fs::read(&unruly_entry).expect("read");
    let second = Runtime::new(test_config_with(&dir)).expect("runtime");
    let loaded = second
        .load(&unruly)
        .await
        .expect("recompiled from the component");
    assert_eq!(
        loaded.info().system,
        "unruly",
        "the planted code did not run"
    );
    assert_ne!(
        std::fs::read(&unruly_entry).expect("read"),
        planted,
        "the planted entry was replaced by the component's own"
    );

    // Flipped bytes anywhere in an entry (header, MAC, code): recompiled, not run.
    let good = std::fs::read(&unruly_entry).expect("read");
    for at in [0, 10, 40, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        std::fs::write(&unruly_entry, &bad).expect("tamper");
        let rt = Runtime::new(test_config_with(&dir)).expect("runtime");
        let loaded = rt.load(&unruly).await.expect("recompiled");
        assert_eq!(loaded.info().system, "unruly", "byte {at}");
        assert_eq!(
            std::fs::read(&unruly_entry).expect("read"),
            good,
            "byte {at}"
        );
    }

    // Another host's cache (another key): its entries are not trusted here either.
    let other_dir = plantwire_integration_tests::Scratch::new("cache-plant-other");
    let other = Runtime::new(test_config_with(&other_dir)).expect("runtime");
    other.load(&unruly).await.expect("loads");
    std::fs::copy(&hostile_entry, entry_of(&other_dir, u.digest())).expect("plant");
    let loaded = Runtime::new(test_config_with(&other_dir))
        .expect("runtime")
        .load(&unruly)
        .await
        .expect("recompiled");
    assert_eq!(loaded.info().system, "unruly");
}

#[cfg(unix)]
#[tokio::test]
async fn the_cache_is_private_to_the_host_user() {
    use std::os::unix::fs::PermissionsExt;

    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    let scratch = plantwire_integration_tests::Scratch::new("cache-private");
    // A directory someone left open to everyone.
    let dir = scratch.join("cache");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let bytes = component_bytes("fixture", "unruly");
    let rt = Runtime::new(test_config_with(&dir)).expect("runtime");
    let component = rt.load(&bytes).await.expect("loads");
    assert_eq!(mode(&dir), 0o700, "the directory is narrowed to its owner");
    let entry = entry_of(&dir, component.digest());
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(mode(&dir.join("cache.key")), 0o600);

    // An entry others could have written is not used: it is recompiled and rewritten.
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let before = std::fs::metadata(&entry)
        .expect("meta")
        .modified()
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let rt = Runtime::new(test_config_with(&dir)).expect("runtime");
    rt.load(&bytes).await.expect("loads");
    assert_eq!(mode(&entry), 0o600);
    let after = std::fs::metadata(&entry)
        .expect("meta")
        .modified()
        .expect("mtime");
    assert!(after > before, "the open entry was replaced");

    // A fresh directory is created private.
    let fresh = scratch.join("fresh/cache");
    Runtime::new(test_config_with(&fresh)).expect("runtime");
    assert_eq!(mode(&fresh), 0o700);
}

#[tokio::test]
async fn an_oversized_describe_is_refused_before_it_is_kept() {
    let rt = runtime();
    let bytes = component_bytes("fixture", "oversized-describe");
    let err = rt.load(&bytes).await.expect_err("must be refused");
    match &err {
        LoadError::DescribeTooLarge { size, limit } => {
            assert_eq!(*limit, RuntimeConfig::default().max_describe_bytes);
            assert!(size > limit, "{size} > {limit}");
        }
        other => panic!("unexpected error: {other}"),
    }
    assert!(err.to_string().contains("more than the limit"), "{err}");

    // Under a raised total cap, each bound it breaks is named: list lengths, string lengths,
    // and page and batch sizes beyond what the host supports.
    let roomy = Runtime::new(RuntimeConfig {
        max_describe_bytes: 64 << 20,
        ..test_config()
    })
    .expect("runtime");
    let err = roomy.load(&bytes).await.expect_err("still refused");
    let LoadError::InvalidDescription(problems) = &err else {
        panic!("unexpected error: {err}");
    };
    let text = problems.join("\n");
    for needle in [
        "max page size 1000000 is outside 1..=10000",
        "max batch size 100000 is outside 1..=100",
        "entities[0].fields: 2000 items, more than 512",
        "enumValues: 5000 items, more than 1024",
        "note: a string of 5000 bytes, more than 4096",
        "more problems",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    assert!(
        problems.len() <= 51,
        "the report is bounded: {}",
        problems.len()
    );
}
