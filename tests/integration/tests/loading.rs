//! Loading adapters: valid components load and describe themselves; invalid declarations,
//! imports beyond the contract, core modules and garbage are refused with a clear error; the
//! compiled-component cache is used on the second load.

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
    let entries: Vec<_> = std::fs::read_dir(&dir).expect("cache dir").collect();
    assert_eq!(entries.len(), 1, "one cache entry after the first load");
    let name = entries[0].as_ref().expect("entry").file_name();
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
