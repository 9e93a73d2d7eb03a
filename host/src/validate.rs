//! Validation of what an adapter declares (`describe()`), run once at load. A declaration
//! that contradicts itself would make the capability catalogue lie, so it is a load error.
//!
//! A declaration is also bounded: its total size ([`declaration_size`], checked by the
//! runtime against `RuntimeConfig::max_describe_bytes` before anything else), the length of
//! every string ([`MAX_STRING_BYTES`]) and the length of every list ([`list_cap`]), and its
//! page and batch sizes are within what the host supports. The catalogue, the OpenAPI
//! documents and every call's checks are built from it, so an oversized declaration would
//! cost memory and time on every request.

use std::collections::HashSet;

use plantwire_sdk::{AdapterInfo, AuthScheme, FieldType, FilterOp, Support, contract::ENTITIES};

/// Largest page size and batch size the host accepts from a declaration.
const MAX_PAGE_SIZE: u32 = 10_000;
const MAX_BATCH_SIZE: u32 = 100;

/// Longest string anywhere in a declaration (names, notes, descriptions, labels), in bytes.
pub const MAX_STRING_BYTES: usize = 4096;

/// Most problems reported for one declaration; the rest are counted.
const MAX_PROBLEMS: usize = 50;

/// The most items the list under the member `name` of a declaration may hold.
pub fn list_cap(name: &str) -> usize {
    match name.replace('_', "").to_ascii_lowercase().as_str() {
        "entities" => 64,
        "fields" => 512,
        "enumvalues" => 1024,
        "itemfields" | "inputfields" => 256,
        "actions" => 64,
        "extraorigins" => 16,
        "scopes" => 64,
        "filterops" => 16,
        _ => 1024,
    }
}

/// The size of a declaration as JSON, in bytes, counted without building the text.
pub fn declaration_size(info: &AdapterInfo) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, info) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Strings and lists past their caps, as problems naming where they are.
fn bounds(value: &serde_json::Value, path: &mut String, problems: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::String(s) if s.len() > MAX_STRING_BYTES => problems.push(format!(
            "{path}: a string of {} bytes, more than {MAX_STRING_BYTES}",
            s.len()
        )),
        Value::Array(items) => {
            let member = path.rsplit('.').next().unwrap_or_default();
            let cap = list_cap(member);
            if items.len() > cap {
                problems.push(format!("{path}: {} items, more than {cap}", items.len()));
            }
            for (i, item) in items.iter().enumerate().take(cap) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                bounds(item, path, problems);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (name, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                bounds(item, path, problems);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Every problem in the declaration (at most [`MAX_PROBLEMS`], then a count of the rest);
/// empty when it is valid.
pub fn adapter_info(info: &AdapterInfo) -> Vec<String> {
    let mut problems = consistency(info);
    match serde_json::to_value(info) {
        Ok(value) => bounds(&value, &mut String::new(), &mut problems),
        Err(e) => problems.push(format!("the declaration cannot be read: {e}")),
    }
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(format!("... and {more} more problems"));
    }
    problems
}

fn is_identifier(s: &str, allow_upper: bool) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '-'
                || (allow_upper && c.is_ascii_uppercase())
        })
}

fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Contradictions in a bounded declaration, in declaration order.
fn consistency(info: &AdapterInfo) -> Vec<String> {
    let mut problems = Vec::new();
    if !is_identifier(&info.system, false) {
        problems.push(format!(
            "system id `{}` must be 1-64 characters of a-z, 0-9 and `-`",
            info.system
        ));
    }
    if info.display_name.trim().is_empty() {
        problems.push("display name is empty".to_owned());
    }
    if info.adapter_version.trim().is_empty() || info.api_version.trim().is_empty() {
        problems.push("adapter version and API version must be given".to_owned());
    }
    if let Some(url) = &info.default_base_url {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => problems.push(format!("default base URL `{url}` is not an http(s) URL")),
        }
    }
    let mut origins = Vec::new();
    for origin in &info.extra_origins {
        match url::Url::parse(origin) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.username().is_empty() =>
            {
                origins.push(u.origin());
            }
            _ => problems.push(format!(
                "extra origin `{origin}` must be a bare http(s) origin such as https://auth.example.com"
            )),
        }
    }
    match &info.auth {
        AuthScheme::ApiKeyHeader(h) if !is_header_name(h) => {
            problems.push(format!("auth: `{h}` is not a header name"));
        }
        AuthScheme::ApiKeyQuery(q) if q.is_empty() || q.contains(['&', '=', '#']) => {
            problems.push(format!("auth: `{q}` is not a query parameter name"));
        }
        AuthScheme::SessionLogin(s) => {
            if !s.login_path.starts_with('/') || s.login_path.starts_with("//") {
                problems.push(format!(
                    "auth: login path `{}` must be relative to the base URL",
                    s.login_path
                ));
            }
            if let Some(out) = &s.logout_path
                && (!out.starts_with('/') || out.starts_with("//"))
            {
                problems.push(format!(
                    "auth: logout path `{out}` must be relative to the base URL"
                ));
            }
            if !s.token_pointer.is_empty() && !s.token_pointer.starts_with('/') {
                problems.push(format!(
                    "auth: token pointer `{}` is not a JSON pointer",
                    s.token_pointer
                ));
            }
            if s.username_field.is_empty() || s.password_field.is_empty() {
                problems.push("auth: the login request's field names must be given".to_owned());
            }
            if !is_header_name(&s.token_header) {
                problems.push(format!("auth: `{}` is not a header name", s.token_header));
            }
        }
        AuthScheme::Oauth2ClientCredentials(o) => {
            let relative = o.token_url.starts_with('/') && !o.token_url.starts_with("//");
            let declared = url::Url::parse(&o.token_url)
                .is_ok_and(|u| u.scheme() == "https" && origins.contains(&u.origin()));
            if !relative && !declared {
                problems.push(format!(
                    "auth: token URL `{}` must be relative to the base URL or an https URL on a declared extra origin",
                    o.token_url
                ));
            }
        }
        _ => {}
    }
    if info.entities.is_empty() {
        problems.push("no entities declared".to_owned());
    }
    let mut seen_entities = HashSet::new();
    for entity in &info.entities {
        let e = &entity.name;
        if !ENTITIES.contains(&e.as_str()) {
            problems.push(format!(
                "unknown entity `{e}` (the unified model has: {})",
                ENTITIES.join(", ")
            ));
            continue;
        }
        if !seen_entities.insert(e.clone()) {
            problems.push(format!("entity `{e}` is declared twice"));
        }
        for (op, support) in [
            ("list", &entity.list),
            ("get", &entity.get),
            ("create", &entity.create),
            ("update", &entity.update),
            ("delete", &entity.delete),
        ] {
            if let Support::Unsupported(reason) = support
                && reason.trim().is_empty()
            {
                problems.push(format!("{e}: unsupported `{op}` needs a reason"));
            }
        }
        if entity.list.is_supported() {
            if entity.max_page_size == 0 || entity.max_page_size > MAX_PAGE_SIZE {
                problems.push(format!(
                    "{e}: max page size {} is outside 1..={MAX_PAGE_SIZE}",
                    entity.max_page_size
                ));
            }
            if entity.default_page_size == 0 || entity.default_page_size > entity.max_page_size {
                problems.push(format!(
                    "{e}: default page size {} is outside 1..=max page size",
                    entity.default_page_size
                ));
            }
        }
        if entity.create.is_supported()
            && (entity.max_batch_size == 0 || entity.max_batch_size > MAX_BATCH_SIZE)
        {
            problems.push(format!(
                "{e}: max batch size {} is outside 1..={MAX_BATCH_SIZE}",
                entity.max_batch_size
            ));
        }
        let mut actions = HashSet::new();
        for action in &entity.actions {
            if !is_identifier(&action.name, false) {
                problems.push(format!(
                    "{e}: action name `{}` is not kebab-case",
                    action.name
                ));
            }
            if !actions.insert(action.name.as_str()) {
                problems.push(format!("{e}: action `{}` is declared twice", action.name));
            }
        }
        let any_readable = entity.get.is_supported() || entity.list.is_supported();
        let mut fields = HashSet::new();
        for field in &entity.fields {
            let f = &field.name;
            if !is_identifier(f, true) {
                problems.push(format!("{e}: field name `{f}` is not camelCase"));
            }
            if !fields.insert(f.as_str()) {
                problems.push(format!("{e}: field `{f}` is declared twice"));
            }
            let flags = field.flags;
            if flags.required_on_create && !flags.creatable {
                problems.push(format!("{e}.{f}: required on create but not creatable"));
            }
            if flags.creatable && !entity.create.is_supported() {
                problems.push(format!(
                    "{e}.{f}: creatable but the entity cannot be created"
                ));
            }
            if flags.updatable && !entity.update.is_supported() {
                problems.push(format!(
                    "{e}.{f}: updatable but the entity cannot be updated"
                ));
            }
            if (flags.filterable || flags.sortable) && !entity.list.is_supported() {
                problems.push(format!(
                    "{e}.{f}: filterable or sortable but the entity cannot be listed"
                ));
            }
            if flags.read_list && !entity.list.is_supported() {
                problems.push(format!(
                    "{e}.{f}: readable in lists but the entity cannot be listed"
                ));
            }
            if flags.filterable == field.filter_ops.is_empty() {
                problems.push(format!(
                    "{e}.{f}: `filterable` must be set exactly when filter operators are declared"
                ));
            }
            let mut ops = HashSet::new();
            for op in &field.filter_ops {
                if !ops.insert(*op) {
                    problems.push(format!("{e}.{f}: filter operator `{op}` declared twice"));
                }
                let ordered = matches!(
                    field.ty,
                    FieldType::Integer
                        | FieldType::Decimal
                        | FieldType::Timestamp
                        | FieldType::Date
                        | FieldType::String
                );
                if op.is_range() && !ordered {
                    problems.push(format!(
                        "{e}.{f}: range operator `{op}` on a field whose values have no order"
                    ));
                }
                if *op == FilterOp::Contains
                    && !matches!(field.ty, FieldType::String | FieldType::Text)
                {
                    problems.push(format!(
                        "{e}.{f}: `~` (contains) on a field that is not text"
                    ));
                }
                if matches!(field.ty, FieldType::List | FieldType::Object) {
                    problems.push(format!(
                        "{e}.{f}: a list or object field cannot be filtered"
                    ));
                }
            }
            if flags.read_detail && !entity.get.is_supported() && !entity.list.is_supported() {
                problems.push(format!("{e}.{f}: readable but the entity cannot be read"));
            }
            if any_readable && !flags.read_list && !flags.read_detail && !flags.creatable {
                problems.push(format!("{e}.{f}: neither readable nor writable"));
            }
            match &field.ty {
                FieldType::Enumeration if field.enum_values.is_empty() => {
                    problems.push(format!("{e}.{f}: an enumeration needs its values"));
                }
                FieldType::List if field.item_fields.is_empty() => {
                    problems.push(format!("{e}.{f}: a list needs its item fields"));
                }
                FieldType::Reference(target) | FieldType::References(target)
                    if !ENTITIES.contains(&target.as_str()) =>
                {
                    problems.push(format!("{e}.{f}: reference to unknown entity `{target}`"));
                }
                _ => {}
            }
        }
        if (entity.list.is_supported() || entity.get.is_supported()) && !fields.contains("key") {
            problems.push(format!(
                "{e}: readable entities must declare the `key` field"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use plantwire_sdk::{EntityInfo, Field, FieldFlags};

    fn info(entity: EntityInfo) -> AdapterInfo {
        AdapterInfo {
            system: "demo".into(),
            display_name: "Demo".into(),
            adapter_version: "0.1.0".into(),
            api_version: "v1".into(),
            default_base_url: None,
            auth: AuthScheme::Bearer,
            extra_origins: Vec::new(),
            entities: vec![entity],
        }
    }

    fn entity(fields: Vec<Field>) -> EntityInfo {
        EntityInfo {
            name: "work-order".into(),
            native_name: "workorders".into(),
            list: Support::Supported,
            get: Support::Supported,
            create: Support::Supported,
            update: Support::no("read-only here"),
            delete: Support::no("never"),
            actions: vec![],
            fields,
            default_page_size: 100,
            max_page_size: 200,
            max_batch_size: 50,
            concurrency_token: false,
            note: None,
        }
    }

    #[test]
    fn a_consistent_declaration_passes() {
        let e = entity(vec![
            Field::new("key", FieldType::String, FieldFlags::READ),
            Field::new("title", FieldType::String, FieldFlags::READ.required()),
        ]);
        assert_eq!(adapter_info(&info(e)), Vec::<String>::new());
    }

    #[test]
    fn contradictions_are_reported() {
        let mut bad = FieldFlags::READ;
        bad.required_on_create = true;
        let e = entity(vec![
            Field::new("key", FieldType::String, FieldFlags::READ),
            Field::new("title", FieldType::String, FieldFlags::READ),
            Field::new("title", FieldType::String, bad),
            Field::new("status", FieldType::Enumeration, FieldFlags::WRITE),
        ]);
        let problems = adapter_info(&info(e));
        assert!(
            problems.iter().any(|p| p.contains("declared twice")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("required on create but not creatable"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("updatable but the entity cannot be updated"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("enumeration needs its values"))
        );
    }

    #[test]
    fn auth_schemes_and_origins_are_checked() {
        let mut i = info(entity(vec![Field::new(
            "key",
            FieldType::String,
            FieldFlags::READ,
        )]));
        i.extra_origins = vec!["https://auth.example.com".into(), "ftp://x".into()];
        i.auth = AuthScheme::Oauth2ClientCredentials(plantwire_sdk::contract::OAuth2 {
            token_url: "https://evil.example.com/token".into(),
            scopes: vec![],
        });
        let problems = adapter_info(&i);
        assert!(
            problems.iter().any(|p| p.contains("ftp://x")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("declared extra origin")),
            "{problems:?}"
        );
        i.extra_origins.pop();
        i.auth = AuthScheme::Oauth2ClientCredentials(plantwire_sdk::contract::OAuth2 {
            token_url: "https://auth.example.com/oauth/token".into(),
            scopes: vec![],
        });
        assert!(adapter_info(&i).is_empty());
        i.auth = AuthScheme::SessionLogin(plantwire_sdk::contract::SessionLogin {
            login_path: "https://evil.example.com/auth".into(),
            username_field: "email".into(),
            password_field: "password".into(),
            token_pointer: "/result/sessionToken".into(),
            token_header: "Session Token".into(),
            logout_path: None,
        });
        assert_eq!(adapter_info(&i).len(), 2);
    }

    #[test]
    fn unknown_entities_are_reported() {
        let mut e = entity(vec![Field::new("key", FieldType::String, FieldFlags::READ)]);
        e.name = "spaceship".into();
        let problems = adapter_info(&info(e));
        assert!(problems[0].contains("unknown entity `spaceship`"));
    }

    #[test]
    fn filter_operators_must_fit_the_field() {
        let read = FieldFlags::READ;
        let mut inconsistent = Field::new("title", FieldType::String, read.filterable());
        inconsistent.filter_ops.clear();
        let e = entity(vec![
            Field::new("key", FieldType::String, read),
            inconsistent,
            Field::new("isActive", FieldType::Boolean, read).ops(&[FilterOp::Eq, FilterOp::Gt]),
            Field::new("dueAt", FieldType::Timestamp, read).ops(&[FilterOp::Contains]),
            Field::new("customFields", FieldType::Object, read).ops(&[FilterOp::Eq]),
            Field::new("updatedAt", FieldType::Timestamp, read).ops(&[
                FilterOp::Ge,
                FilterOp::Lt,
                FilterOp::Eq,
            ]),
        ]);
        let problems = adapter_info(&info(e));
        for needle in [
            "title: `filterable` must be set exactly",
            "isActive: range operator `>`",
            "dueAt: `~` (contains) on a field that is not text",
            "customFields: a list or object field cannot be filtered",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{needle}: {problems:?}"
            );
        }
        assert!(
            !problems.iter().any(|p| p.contains("updatedAt")),
            "{problems:?}"
        );
    }

    #[test]
    fn oversized_strings_and_lists_are_refused() {
        let mut fields = vec![Field::new("key", FieldType::String, FieldFlags::READ)];
        for i in 0..600 {
            fields.push(Field::new(
                &format!("field{i}"),
                FieldType::String,
                FieldFlags::READ,
            ));
        }
        let mut e = entity(fields);
        e.note = Some("n".repeat(MAX_STRING_BYTES + 1));
        let mut i = info(e);
        i.display_name = "d".repeat(10_000);
        let problems = adapter_info(&i);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("entities[0].fields: 601 items, more than 512")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("entities[0].note: a string of 4097 bytes")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("displayName")),
            "{problems:?}"
        );
        assert!(declaration_size(&i) > 10_000);
    }

    #[test]
    fn problems_are_capped() {
        let mut fields = vec![Field::new("key", FieldType::String, FieldFlags::READ)];
        for i in 0..200 {
            fields.push(Field::new(
                &format!("Bad_{i}"),
                FieldType::String,
                FieldFlags::READ,
            ));
        }
        let problems = adapter_info(&info(entity(fields)));
        assert_eq!(problems.len(), MAX_PROBLEMS + 1);
        assert!(
            problems[MAX_PROBLEMS].contains("more problems"),
            "{problems:?}"
        );
    }
}
