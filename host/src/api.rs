//! The HTTP service (`plantwire serve`): reads through the unified API, with RFC 9457
//! problem+json errors.
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | liveness |
//! | `GET /v1/capabilities` | every loaded system's declaration (JSON) |
//! | `GET /v1/capabilities/{system}` | one system's declaration |
//! | `GET /v1/connections/{id}/{entity}` | one page: `pageSize`, `pageToken`, `filter` (repeatable, the filter language of [`crate::paging::query`]), `fields` (comma-separated), `sort`, `include=raw` |
//! | `GET /v1/connections/{id}/{entity}/{key}` | one record; `include=raw` |
//!
//! A page answers `{"records": [...], "nextPageToken": "...", "total": n}`; the token is
//! sealed and bound to the connection's tenant, the connection, the entity and the query, so a
//! token that is forged, expired, or presented elsewhere is a 400 and nothing is sent upstream.
//! Every error names its cause; none carries a credential (the host never has one in hand
//! outside egress).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use plantwire_sdk::AdapterError;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::adapter::CallError;
use crate::connections::Connection;
use crate::paging::{Pager, PagingError, Query, parse_filter};
use crate::registry::Registry;
use crate::store::{StoreError, Workspace, WorkspaceError};

/// What the service serves from.
pub struct ApiState {
    registry: Registry,
    workspace: Workspace,
    pager: Pager,
    /// Live connections, made on first use.
    live: Mutex<HashMap<String, Arc<Connection>>>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("systems", &self.registry.systems())
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// Serves the connections of `workspace` through the adapters of `registry`, sealing page
    /// tokens with `pager`.
    pub fn new(registry: Registry, workspace: Workspace, pager: Pager) -> ApiState {
        ApiState {
            registry,
            workspace,
            pager,
            live: Mutex::new(HashMap::new()),
        }
    }

    async fn connection(&self, id: &str) -> Result<Arc<Connection>, Problem> {
        let mut live = self.live.lock().await;
        if let Some(c) = live.get(id) {
            return Ok(c.clone());
        }
        let connection = Arc::new(
            self.workspace
                .connection(&self.registry, id)
                .await
                .map_err(Problem::from_workspace)?,
        );
        live.insert(id.to_owned(), connection.clone());
        Ok(connection)
    }

    fn tenant(&self, id: &str) -> Result<Option<String>, Problem> {
        Ok(self
            .workspace
            .store()
            .connection(id)
            .map_err(|e| Problem::from_workspace(e.into()))?
            .and_then(|r| r.tenant))
    }
}

/// The service's routes over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/capabilities/{system}", get(system_capabilities))
        .route("/v1/connections/{id}/{entity}", get(list))
        .route("/v1/connections/{id}/{entity}/{key}", get(get_one))
        .fallback(|| async {
            Problem::new(StatusCode::NOT_FOUND, "not-found", "no such route".into())
        })
        .with_state(state)
}

/// An RFC 9457 problem.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    extra: Option<Value>,
}

impl Problem {
    fn new(status: StatusCode, kind: &'static str, detail: String) -> Problem {
        Problem {
            status,
            kind,
            detail,
            extra: None,
        }
    }

    fn bad_request(detail: String) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-request", detail)
    }

    fn from_workspace(e: WorkspaceError) -> Problem {
        match e {
            WorkspaceError::Store(StoreError::NotFound { what, id }) => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no {what} `{id}`"),
            ),
            other => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "connection-unavailable",
                other.to_string(),
            ),
        }
    }

    fn from_call(e: &CallError) -> Problem {
        let status = match e.adapter_error() {
            Some(AdapterError::Unsupported(_)) => StatusCode::NOT_IMPLEMENTED,
            Some(AdapterError::NotFound(_)) => StatusCode::NOT_FOUND,
            Some(AdapterError::Invalid(_)) => StatusCode::BAD_REQUEST,
            Some(AdapterError::Conflict(_)) => StatusCode::CONFLICT,
            Some(AdapterError::Unauthorized(_) | AdapterError::Forbidden(_)) => {
                StatusCode::BAD_GATEWAY
            }
            Some(AdapterError::RateLimited(_)) => StatusCode::TOO_MANY_REQUESTS,
            Some(AdapterError::Transient(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Some(AdapterError::Upstream(_)) | None => StatusCode::BAD_GATEWAY,
        };
        let kind = e.adapter_error().map_or("adapter-failure", |a| a.kind());
        let mut p = Problem::new(status, kind, e.to_string());
        if let Some(AdapterError::Invalid(errors)) = e.adapter_error() {
            p.extra = Some(json!({ "errors": errors }));
        }
        p
    }

    fn from_paging(e: &PagingError) -> Problem {
        match e {
            PagingError::Token(t) => {
                Problem::new(StatusCode::BAD_REQUEST, "invalid-page-token", t.to_string())
            }
            PagingError::Query(q) => {
                let mut p = Problem::bad_request(q.to_string());
                p.kind = "invalid-query";
                p
            }
            PagingError::Loop(l) => {
                Problem::new(StatusCode::BAD_GATEWAY, "upstream-loop", l.to_string())
            }
            PagingError::Call(c) => Problem::from_call(c),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("https://plantwire.dev/problems/{}", self.kind),
            "title": self.status.canonical_reason().unwrap_or("error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some(Value::Object(extra)), Some(obj)) = (self.extra, body.as_object_mut()) {
            obj.extend(extra);
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}

fn json_response(value: &Value) -> Response {
    let mut resp = (StatusCode::OK, value.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The query parameters, repeated ones kept in order; unknown ones refused.
fn params(raw: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>, Problem> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    for (k, _) in &pairs {
        if !allowed.contains(&k.as_str()) {
            return Err(Problem::bad_request(format!(
                "unknown query parameter `{k}` (this route takes: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(pairs)
}

fn include_raw(pairs: &[(String, String)]) -> Result<bool, Problem> {
    let mut raw = false;
    for (k, v) in pairs {
        if k == "include" {
            match v.as_str() {
                "raw" => raw = true,
                other => {
                    return Err(Problem::bad_request(format!(
                        "`include` takes `raw`, not `{other}`"
                    )));
                }
            }
        }
    }
    Ok(raw)
}

fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Problem> {
    let mut found = pairs.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(Problem::bad_request(format!("`{name}` is given twice")));
    }
    Ok(first)
}

async fn capabilities(State(state): State<Arc<ApiState>>) -> Response {
    let infos: Vec<_> = state.registry.adapters().map(|c| c.info()).collect();
    json_response(&json!({ "systems": infos }))
}

async fn system_capabilities(
    State(state): State<Arc<ApiState>>,
    Path(system): Path<String>,
) -> Result<Response, Problem> {
    let component = state.registry.get(&system).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!(
                "no adapter for system `{system}` (loaded: {})",
                state.registry.systems().join(", ")
            ),
        )
    })?;
    Ok(json_response(&json!(component.info())))
}

async fn list(
    State(state): State<Arc<ApiState>>,
    Path((id, entity)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let pairs = params(
        raw.as_deref(),
        &[
            "pageSize",
            "pageToken",
            "filter",
            "fields",
            "sort",
            "include",
        ],
    )?;
    let page_size = match single(&pairs, "pageSize")? {
        None => None,
        Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            Problem::bad_request(format!("`pageSize` must be a positive integer, not `{v}`"))
        })?),
    };
    let filters = pairs
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| parse_filter(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Problem::from_paging(&PagingError::Query(e)))?;
    let fields = single(&pairs, "fields")?.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let query = Query {
        filters,
        fields,
        sort: single(&pairs, "sort")?.map(str::to_owned),
        page_size,
        include_raw: include_raw(&pairs)?,
    };
    let token = single(&pairs, "pageToken")?;
    let tenant = state.tenant(&id)?;
    let connection = state.connection(&id).await?;
    let page = state
        .pager
        .page(&connection, tenant.as_deref(), &entity, &query, token)
        .await
        .map_err(|e| Problem::from_paging(&e))?;
    Ok(json_response(&json!({
        "records": page.records,
        "nextPageToken": page.next_token,
        "total": page.total,
    })))
}

async fn get_one(
    State(state): State<Arc<ApiState>>,
    Path((id, entity, key)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let pairs = params(raw.as_deref(), &["include"])?;
    let raw = include_raw(&pairs)?;
    let connection = state.connection(&id).await?;
    let record = connection
        .get_with(&entity, &key, raw)
        .await
        .map_err(|e| Problem::from_call(&e))?;
    Ok(json_response(&Value::Object(record)))
}
