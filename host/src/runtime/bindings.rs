//! Generated host bindings of the `plantwire-adapter` world. Private to the runtime: the rest
//! of the host works with `plantwire_sdk` types, converted here.

use plantwire_sdk as sdk;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plantwire-adapter",
    imports: { default: async },
    exports: { default: async },
});

pub(crate) use self::exports::plantwire::adapter::adapter as guest;
pub(crate) use self::plantwire::adapter::http as wit_http;
pub(crate) use self::plantwire::adapter::log as wit_log;
pub(crate) use self::plantwire::adapter::types as t;

pub(crate) fn request_from_wit(r: wit_http::Request) -> sdk::Request {
    sdk::Request {
        method: r.method,
        path: r.path,
        headers: r.headers,
        body: r.body,
    }
}

pub(crate) fn response_to_wit(r: sdk::Response) -> wit_http::Response {
    wit_http::Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

pub(crate) fn http_error_to_wit(e: sdk::HttpError) -> wit_http::HttpError {
    use sdk::HttpError as E;
    match e {
        E::ForbiddenHeader(h) => wit_http::HttpError::ForbiddenHeader(h),
        E::ForbiddenDestination(d) => wit_http::HttpError::ForbiddenDestination(d),
        E::InvalidRequest(r) => wit_http::HttpError::InvalidRequest(r),
        E::Timeout => wit_http::HttpError::Timeout,
        E::ResponseTooLarge(n) => wit_http::HttpError::ResponseTooLarge(n),
        E::Connection(r) => wit_http::HttpError::Connection(r),
        E::RateLimited(ms) => wit_http::HttpError::RateLimited(ms),
    }
}

pub(crate) fn error_from_wit(e: t::AdapterError) -> sdk::AdapterError {
    use sdk::AdapterError as E;
    match e {
        t::AdapterError::Unsupported(r) => E::Unsupported(r),
        t::AdapterError::NotFound(r) => E::NotFound(r),
        t::AdapterError::Invalid(errors) => E::Invalid(
            errors
                .into_iter()
                .map(|f| sdk::FieldError {
                    field: f.field,
                    message: f.message,
                })
                .collect(),
        ),
        t::AdapterError::Conflict(r) => E::Conflict(r),
        t::AdapterError::Unauthorized(r) => E::Unauthorized(r),
        t::AdapterError::Forbidden(r) => E::Forbidden(r),
        t::AdapterError::RateLimited(ms) => E::RateLimited(ms),
        t::AdapterError::Upstream(u) => E::Upstream(sdk::UpstreamError {
            status: u.status,
            code: u.code,
            message: u.message,
        }),
        t::AdapterError::Transient(r) => E::Transient(r),
    }
}

fn type_from_wit(ty: t::FieldType) -> sdk::FieldType {
    use sdk::FieldType as F;
    match ty {
        t::FieldType::String => F::String,
        t::FieldType::Text => F::Text,
        t::FieldType::Integer => F::Integer,
        t::FieldType::Decimal => F::Decimal,
        t::FieldType::Boolean => F::Boolean,
        t::FieldType::Timestamp => F::Timestamp,
        t::FieldType::Date => F::Date,
        t::FieldType::Reference(e) => F::Reference(e),
        t::FieldType::References(e) => F::References(e),
        t::FieldType::Enumeration => F::Enumeration,
        t::FieldType::List => F::List,
        t::FieldType::Object => F::Object,
    }
}

fn op_from_wit(op: t::FilterOp) -> sdk::FilterOp {
    match op {
        t::FilterOp::Eq => sdk::FilterOp::Eq,
        t::FilterOp::Ne => sdk::FilterOp::Ne,
        t::FilterOp::Lt => sdk::FilterOp::Lt,
        t::FilterOp::Le => sdk::FilterOp::Le,
        t::FilterOp::Gt => sdk::FilterOp::Gt,
        t::FilterOp::Ge => sdk::FilterOp::Ge,
        t::FilterOp::In => sdk::FilterOp::In,
        t::FilterOp::Contains => sdk::FilterOp::Contains,
    }
}

pub(crate) fn op_to_wit(op: sdk::FilterOp) -> t::FilterOp {
    match op {
        sdk::FilterOp::Eq => t::FilterOp::Eq,
        sdk::FilterOp::Ne => t::FilterOp::Ne,
        sdk::FilterOp::Lt => t::FilterOp::Lt,
        sdk::FilterOp::Le => t::FilterOp::Le,
        sdk::FilterOp::Gt => t::FilterOp::Gt,
        sdk::FilterOp::Ge => t::FilterOp::Ge,
        sdk::FilterOp::In => t::FilterOp::In,
        sdk::FilterOp::Contains => t::FilterOp::Contains,
    }
}

fn flags_from_wit(f: t::FieldFlags) -> sdk::FieldFlags {
    sdk::FieldFlags {
        read_list: f.contains(t::FieldFlags::READ_LIST),
        read_detail: f.contains(t::FieldFlags::READ_DETAIL),
        filterable: f.contains(t::FieldFlags::FILTERABLE),
        sortable: f.contains(t::FieldFlags::SORTABLE),
        creatable: f.contains(t::FieldFlags::CREATABLE),
        updatable: f.contains(t::FieldFlags::UPDATABLE),
        required_on_create: f.contains(t::FieldFlags::REQUIRED_ON_CREATE),
    }
}

fn item_from_wit(f: t::ItemField) -> sdk::ItemField {
    sdk::ItemField {
        name: f.name,
        ty: type_from_wit(f.type_),
        flags: flags_from_wit(f.flags),
        native_name: f.native_name,
        note: f.note,
    }
}

fn support_from_wit(s: t::Support) -> sdk::Support {
    match s {
        t::Support::Supported => sdk::Support::Supported,
        t::Support::Unsupported(r) => sdk::Support::Unsupported(r),
    }
}

pub(crate) fn info_from_wit(info: t::AdapterInfo) -> sdk::AdapterInfo {
    sdk::AdapterInfo {
        system: info.system,
        display_name: info.display_name,
        adapter_version: info.adapter_version,
        api_version: info.api_version,
        default_base_url: info.default_base_url,
        auth: match info.auth {
            t::AuthScheme::None => sdk::AuthScheme::None,
            t::AuthScheme::Bearer => sdk::AuthScheme::Bearer,
            t::AuthScheme::ApiKeyHeader(h) => sdk::AuthScheme::ApiKeyHeader(h),
            t::AuthScheme::ApiKeyQuery(q) => sdk::AuthScheme::ApiKeyQuery(q),
            t::AuthScheme::Basic => sdk::AuthScheme::Basic,
            t::AuthScheme::SessionLogin(s) => {
                sdk::AuthScheme::SessionLogin(sdk::contract::SessionLogin {
                    login_path: s.login_path,
                    username_field: s.username_field,
                    password_field: s.password_field,
                    token_pointer: s.token_pointer,
                    token_header: s.token_header,
                    logout_path: s.logout_path,
                })
            }
            t::AuthScheme::Oauth2ClientCredentials(o) => {
                sdk::AuthScheme::Oauth2ClientCredentials(sdk::contract::OAuth2 {
                    token_url: o.token_url,
                    scopes: o.scopes,
                })
            }
            t::AuthScheme::HmacUrlSignature => sdk::AuthScheme::HmacUrlSignature,
        },
        extra_origins: info.extra_origins,
        entities: info
            .entities
            .into_iter()
            .map(|e| sdk::EntityInfo {
                name: e.name,
                native_name: e.native_name,
                list: support_from_wit(e.list),
                get: support_from_wit(e.get),
                create: support_from_wit(e.create),
                update: support_from_wit(e.update),
                delete: support_from_wit(e.delete),
                actions: e
                    .actions
                    .into_iter()
                    .map(|a| sdk::ActionInfo {
                        name: a.name,
                        description: a.description,
                        input_fields: a.input_fields.into_iter().map(item_from_wit).collect(),
                    })
                    .collect(),
                fields: e
                    .fields
                    .into_iter()
                    .map(|f| sdk::Field {
                        name: f.name,
                        ty: type_from_wit(f.type_),
                        flags: flags_from_wit(f.flags),
                        native_name: f.native_name,
                        enum_values: f
                            .enum_values
                            .into_iter()
                            .map(|v| sdk::EnumValue {
                                value: v.value,
                                native: v.native,
                                label: v.label,
                            })
                            .collect(),
                        item_fields: f.item_fields.into_iter().map(item_from_wit).collect(),
                        note: f.note,
                        filter_ops: f.filter_ops.into_iter().map(op_from_wit).collect(),
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
