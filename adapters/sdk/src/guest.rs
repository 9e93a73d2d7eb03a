//! The component side of the contract: generated bindings and the bridge that exports an
//! [`Adapter`](crate::Adapter) implementation. Compiled for `wasm32` only.

use std::marker::PhantomData;

use crate::adapter::{Adapter, Level};
use crate::contract as c;
use crate::error::{AdapterError, FieldError, UpstreamError};
use crate::http::{self, HttpError};

/// Bindings generated from `wit/` (the `plantwire-adapter` world).
#[allow(
    missing_docs,
    clippy::all,
    unused_qualifications,
    reason = "generated code"
)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plantwire-adapter",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "plantwire_sdk::guest::bindings",
    });
}

use bindings::exports::plantwire::adapter::adapter as ex;
use bindings::plantwire::adapter::{http as wit_http, log as wit_log, types as t};

/// The host's `http.send` import as an [`http::Http`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HostHttp;

impl http::Http for HostHttp {
    fn send(&self, req: http::Request) -> Result<http::Response, HttpError> {
        let req = wit_http::Request {
            method: req.method,
            path: req.path,
            headers: req.headers,
            body: req.body,
        };
        match wit_http::send(&req) {
            Ok(resp) => Ok(http::Response {
                status: resp.status,
                headers: resp.headers,
                body: resp.body,
            }),
            Err(e) => Err(match e {
                wit_http::HttpError::ForbiddenHeader(h) => HttpError::ForbiddenHeader(h),
                wit_http::HttpError::ForbiddenDestination(d) => HttpError::ForbiddenDestination(d),
                wit_http::HttpError::InvalidRequest(r) => HttpError::InvalidRequest(r),
                wit_http::HttpError::Timeout => HttpError::Timeout,
                wit_http::HttpError::ResponseTooLarge(n) => HttpError::ResponseTooLarge(n),
                wit_http::HttpError::Connection(r) => HttpError::Connection(r),
                wit_http::HttpError::RateLimited(ms) => HttpError::RateLimited(ms),
            }),
        }
    }
}

pub(crate) fn log(level: Level, message: &str) {
    let level = match level {
        Level::Trace => wit_log::Level::Trace,
        Level::Debug => wit_log::Level::Debug,
        Level::Info => wit_log::Level::Info,
        Level::Warn => wit_log::Level::Warn,
        Level::Error => wit_log::Level::Error,
    };
    wit_log::log(level, message);
}

/// Exports `A` as the component's `adapter` interface. Use through
/// [`export_adapter!`](crate::export_adapter).
#[derive(Debug)]
pub struct Export<A>(PhantomData<A>);

impl<A: Adapter> ex::Guest for Export<A> {
    fn describe() -> t::AdapterInfo {
        info_to_wit(A::describe())
    }

    fn list(req: ex::ListRequest) -> Result<ex::Page, t::AdapterError> {
        let req = c::ListRequest {
            entity: req.entity,
            cursor: req.cursor,
            page_size: req.page_size,
            filters: req
                .filters
                .into_iter()
                .map(|f| c::Filter {
                    field: f.field,
                    op: op_from_wit(f.op),
                    values: f.values,
                })
                .collect(),
            sort: req.sort,
            fields: req.fields,
            include_raw: req.include_raw,
        };
        A::list(&HostHttp, req)
            .map(|p| ex::Page {
                records: p.records,
                next_cursor: p.next_cursor,
                total: p.total,
            })
            .map_err(error_to_wit)
    }

    fn get(req: ex::GetRequest) -> Result<String, t::AdapterError> {
        let req = c::GetRequest {
            entity: req.entity,
            key: req.key,
            include_raw: req.include_raw,
        };
        A::get(&HostHttp, req).map_err(error_to_wit)
    }

    fn create(
        entity: String,
        records: Vec<String>,
    ) -> Result<Vec<Result<String, t::AdapterError>>, t::AdapterError> {
        A::create(&HostHttp, &entity, records)
            .map(|results| {
                results
                    .into_iter()
                    .map(|r| r.map_err(error_to_wit))
                    .collect()
            })
            .map_err(error_to_wit)
    }

    fn update(
        entity: String,
        key: String,
        patch: String,
        concurrency_token: Option<String>,
    ) -> Result<String, t::AdapterError> {
        A::update(&HostHttp, &entity, &key, patch, concurrency_token).map_err(error_to_wit)
    }

    fn delete(entity: String, key: String) -> Result<(), t::AdapterError> {
        A::delete(&HostHttp, &entity, &key).map_err(error_to_wit)
    }

    fn action(
        entity: String,
        key: String,
        name: String,
        input: String,
    ) -> Result<String, t::AdapterError> {
        A::action(&HostHttp, &entity, &key, &name, input).map_err(error_to_wit)
    }
}

fn error_to_wit(e: AdapterError) -> t::AdapterError {
    match e {
        AdapterError::Unsupported(r) => t::AdapterError::Unsupported(r),
        AdapterError::NotFound(r) => t::AdapterError::NotFound(r),
        AdapterError::Invalid(errors) => t::AdapterError::Invalid(
            errors
                .into_iter()
                .map(|FieldError { field, message }| t::FieldError { field, message })
                .collect(),
        ),
        AdapterError::Conflict(r) => t::AdapterError::Conflict(r),
        AdapterError::Unauthorized(r) => t::AdapterError::Unauthorized(r),
        AdapterError::Forbidden(r) => t::AdapterError::Forbidden(r),
        AdapterError::RateLimited(ms) => t::AdapterError::RateLimited(ms),
        AdapterError::Upstream(UpstreamError {
            status,
            code,
            message,
        }) => t::AdapterError::Upstream(t::UpstreamError {
            status,
            code,
            message,
        }),
        AdapterError::Transient(r) => t::AdapterError::Transient(r),
    }
}

fn type_to_wit(ty: c::FieldType) -> t::FieldType {
    match ty {
        c::FieldType::String => t::FieldType::String,
        c::FieldType::Text => t::FieldType::Text,
        c::FieldType::Integer => t::FieldType::Integer,
        c::FieldType::Decimal => t::FieldType::Decimal,
        c::FieldType::Boolean => t::FieldType::Boolean,
        c::FieldType::Timestamp => t::FieldType::Timestamp,
        c::FieldType::Date => t::FieldType::Date,
        c::FieldType::Reference(e) => t::FieldType::Reference(e),
        c::FieldType::References(e) => t::FieldType::References(e),
        c::FieldType::Enumeration => t::FieldType::Enumeration,
        c::FieldType::List => t::FieldType::List,
        c::FieldType::Object => t::FieldType::Object,
    }
}

fn op_to_wit(op: c::FilterOp) -> t::FilterOp {
    match op {
        c::FilterOp::Eq => t::FilterOp::Eq,
        c::FilterOp::Ne => t::FilterOp::Ne,
        c::FilterOp::Lt => t::FilterOp::Lt,
        c::FilterOp::Le => t::FilterOp::Le,
        c::FilterOp::Gt => t::FilterOp::Gt,
        c::FilterOp::Ge => t::FilterOp::Ge,
        c::FilterOp::In => t::FilterOp::In,
        c::FilterOp::Contains => t::FilterOp::Contains,
    }
}

fn op_from_wit(op: t::FilterOp) -> c::FilterOp {
    match op {
        t::FilterOp::Eq => c::FilterOp::Eq,
        t::FilterOp::Ne => c::FilterOp::Ne,
        t::FilterOp::Lt => c::FilterOp::Lt,
        t::FilterOp::Le => c::FilterOp::Le,
        t::FilterOp::Gt => c::FilterOp::Gt,
        t::FilterOp::Ge => c::FilterOp::Ge,
        t::FilterOp::In => c::FilterOp::In,
        t::FilterOp::Contains => c::FilterOp::Contains,
    }
}

fn flags_to_wit(f: c::FieldFlags) -> t::FieldFlags {
    let mut out = t::FieldFlags::empty();
    for (set, flag) in [
        (f.read_list, t::FieldFlags::READ_LIST),
        (f.read_detail, t::FieldFlags::READ_DETAIL),
        (f.filterable, t::FieldFlags::FILTERABLE),
        (f.sortable, t::FieldFlags::SORTABLE),
        (f.creatable, t::FieldFlags::CREATABLE),
        (f.updatable, t::FieldFlags::UPDATABLE),
        (f.required_on_create, t::FieldFlags::REQUIRED_ON_CREATE),
    ] {
        if set {
            out |= flag;
        }
    }
    out
}

fn item_to_wit(f: c::ItemField) -> t::ItemField {
    t::ItemField {
        name: f.name,
        type_: type_to_wit(f.ty),
        flags: flags_to_wit(f.flags),
        native_name: f.native_name,
        note: f.note,
    }
}

fn support_to_wit(s: c::Support) -> t::Support {
    match s {
        c::Support::Supported => t::Support::Supported,
        c::Support::Unsupported(r) => t::Support::Unsupported(r),
    }
}

fn info_to_wit(info: c::AdapterInfo) -> t::AdapterInfo {
    t::AdapterInfo {
        system: info.system,
        display_name: info.display_name,
        adapter_version: info.adapter_version,
        api_version: info.api_version,
        default_base_url: info.default_base_url,
        auth: match info.auth {
            c::AuthScheme::None => t::AuthScheme::None,
            c::AuthScheme::Bearer => t::AuthScheme::Bearer,
            c::AuthScheme::ApiKeyHeader(h) => t::AuthScheme::ApiKeyHeader(h),
            c::AuthScheme::ApiKeyQuery(q) => t::AuthScheme::ApiKeyQuery(q),
            c::AuthScheme::Basic => t::AuthScheme::Basic,
            c::AuthScheme::SessionLogin(s) => t::AuthScheme::SessionLogin(t::SessionLogin {
                login_path: s.login_path,
                username_field: s.username_field,
                password_field: s.password_field,
                token_pointer: s.token_pointer,
                token_header: s.token_header,
                logout_path: s.logout_path,
            }),
            c::AuthScheme::Oauth2ClientCredentials(o) => {
                t::AuthScheme::Oauth2ClientCredentials(t::Oauth2 {
                    token_url: o.token_url,
                    scopes: o.scopes,
                })
            }
            c::AuthScheme::HmacUrlSignature => t::AuthScheme::HmacUrlSignature,
        },
        extra_origins: info.extra_origins,
        entities: info
            .entities
            .into_iter()
            .map(|e| t::EntityInfo {
                name: e.name,
                native_name: e.native_name,
                list: support_to_wit(e.list),
                get: support_to_wit(e.get),
                create: support_to_wit(e.create),
                update: support_to_wit(e.update),
                delete: support_to_wit(e.delete),
                actions: e
                    .actions
                    .into_iter()
                    .map(|a| t::ActionInfo {
                        name: a.name,
                        description: a.description,
                        input_fields: a.input_fields.into_iter().map(item_to_wit).collect(),
                    })
                    .collect(),
                fields: e
                    .fields
                    .into_iter()
                    .map(|f| t::Field {
                        name: f.name,
                        type_: type_to_wit(f.ty),
                        flags: flags_to_wit(f.flags),
                        native_name: f.native_name,
                        enum_values: f
                            .enum_values
                            .into_iter()
                            .map(|v| t::EnumValue {
                                value: v.value,
                                native: v.native,
                                label: v.label,
                            })
                            .collect(),
                        item_fields: f.item_fields.into_iter().map(item_to_wit).collect(),
                        note: f.note,
                        filter_ops: f.filter_ops.into_iter().map(op_to_wit).collect(),
                    })
                    .collect(),
                default_page_size: e.default_page_size,
                max_page_size: e.max_page_size,
                max_batch_size: e.max_batch_size,
                concurrency_token: e.concurrency_token,
                note: e.note,
            })
            .collect(),
    }
}
