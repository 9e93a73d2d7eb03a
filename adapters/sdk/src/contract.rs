//! What an adapter declares about its system: the Rust form of the contract's `types`
//! interface (`adapter-info`, `entity-info`, `field`, ...).
//!
//! The host and the guest share these types: the guest builds them in `describe()`, the host
//! validates them at load time and serves them as the capability catalogue. They serialize to
//! the JSON that `plantwire capabilities --format json` prints.

use serde::{Deserialize, Serialize};

/// The semver version of the WIT package this SDK implements.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Unified entity names, in order of importance.
pub const ENTITIES: &[&str] = &[
    "work-order",
    "asset",
    "purchase-order",
    "material",
    "inventory",
    "location",
    "site",
    "vendor",
    "user",
    "service-request",
];

/// An operation on an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    List,
    Get,
    Create,
    Update,
    Delete,
    Action,
}

impl Operation {
    /// All operations, in the order the capability matrix shows them.
    pub const ALL: [Operation; 6] = [
        Operation::List,
        Operation::Get,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Action,
    ];

    /// The operation's name as used in the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Get => "get",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Action => "action",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unified JSON type of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "entity")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Decimal,
    Boolean,
    Timestamp,
    Date,
    /// A `key` of another entity.
    Reference(String),
    /// A list of `key`s of another entity.
    References(String),
    /// One of `Field::enum_values`.
    Enumeration,
    /// A list of items described by `Field::item_fields`.
    List,
    /// Free-form JSON.
    Object,
}

impl FieldType {
    /// A short name for tables (`reference(asset)`, `timestamp`, ...).
    pub fn label(&self) -> String {
        match self {
            FieldType::Reference(e) => format!("ref({e})"),
            FieldType::References(e) => format!("refs({e})"),
            other => match other {
                FieldType::String => "string",
                FieldType::Text => "text",
                FieldType::Integer => "integer",
                FieldType::Decimal => "decimal",
                FieldType::Boolean => "boolean",
                FieldType::Timestamp => "timestamp",
                FieldType::Date => "date",
                FieldType::Enumeration => "enum",
                FieldType::List => "list",
                FieldType::Object => "object",
                FieldType::Reference(_) | FieldType::References(_) => "ref",
            }
            .to_owned(),
        }
    }
}

/// Capabilities of one field, one flag each (mirrors the WIT `field-flags`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldFlags {
    pub read_list: bool,
    pub read_detail: bool,
    pub filterable: bool,
    pub sortable: bool,
    pub creatable: bool,
    pub updatable: bool,
    pub required_on_create: bool,
}

impl FieldFlags {
    /// Readable in list and detail, nothing else.
    pub const READ: FieldFlags = FieldFlags {
        read_list: true,
        read_detail: true,
        filterable: false,
        sortable: false,
        creatable: false,
        updatable: false,
        required_on_create: false,
    };
    /// Readable, creatable and updatable.
    pub const WRITE: FieldFlags = FieldFlags {
        creatable: true,
        updatable: true,
        ..FieldFlags::READ
    };

    pub const fn filterable(mut self) -> Self {
        self.filterable = true;
        self
    }
    pub const fn sortable(mut self) -> Self {
        self.sortable = true;
        self
    }
    pub const fn required(mut self) -> Self {
        self.required_on_create = true;
        self.creatable = true;
        self
    }
    pub const fn create_only(mut self) -> Self {
        self.creatable = true;
        self.updatable = false;
        self
    }
    pub const fn detail_only(mut self) -> Self {
        self.read_list = false;
        self
    }
}

/// One value of an enumerated field: the unified value and the system's own spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnumValue {
    pub value: String,
    pub native: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A field of a list item (e.g. a purchase-order line item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub flags: FieldFlags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FilterOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Equal to one of several values.
    In,
    /// The text contains the value.
    Contains,
}

impl FilterOp {
    /// Every operator, in the contract's order.
    pub const ALL: [FilterOp; 8] = [
        FilterOp::Eq,
        FilterOp::Ne,
        FilterOp::Lt,
        FilterOp::Le,
        FilterOp::Gt,
        FilterOp::Ge,
        FilterOp::In,
        FilterOp::Contains,
    ];
    /// The comparisons: `=`, `!=`, `<`, `<=`, `>`, `>=`.
    pub const COMPARE: [FilterOp; 6] = [
        FilterOp::Eq,
        FilterOp::Ne,
        FilterOp::Lt,
        FilterOp::Le,
        FilterOp::Gt,
        FilterOp::Ge,
    ];

    /// The operator as written in a filter (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `~`).
    pub const fn symbol(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::Ne => "!=",
            FilterOp::Lt => "<",
            FilterOp::Le => "<=",
            FilterOp::Gt => ">",
            FilterOp::Ge => ">=",
            FilterOp::In => "in",
            FilterOp::Contains => "~",
        }
    }

    /// Whether the operator orders values (`<`, `<=`, `>`, `>=`).
    pub const fn is_range(self) -> bool {
        matches!(
            self,
            FilterOp::Lt | FilterOp::Le | FilterOp::Gt | FilterOp::Ge
        )
    }
}

impl std::fmt::Display for FilterOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A field of the unified model as one system serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub flags: FieldFlags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<EnumValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_fields: Vec<ItemField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The operators the system applies to the field in a `list` filter; empty exactly when
    /// the field is not `filterable`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter_ops: Vec<FilterOp>,
}

impl Field {
    /// A field with no native name, enum values, items or note. A `filterable` field takes
    /// equality filters until [`Field::ops`] says which operators it takes.
    pub fn new(name: &str, ty: FieldType, flags: FieldFlags) -> Field {
        Field {
            name: name.to_owned(),
            ty,
            flags,
            native_name: None,
            enum_values: Vec::new(),
            item_fields: Vec::new(),
            note: None,
            filter_ops: if flags.filterable {
                vec![FilterOp::Eq]
            } else {
                Vec::new()
            },
        }
    }

    /// Sets the filter operators the system applies to the field (and `filterable` when
    /// there is at least one).
    pub fn ops(mut self, ops: &[FilterOp]) -> Field {
        let mut ops = ops.to_vec();
        ops.sort_unstable();
        ops.dedup();
        self.flags.filterable = !ops.is_empty();
        self.filter_ops = ops;
        self
    }

    /// Sets the system's own name for the field.
    pub fn native(mut self, native: &str) -> Field {
        self.native_name = Some(native.to_owned());
        self
    }

    /// Adds a note (why a flag is missing, how the system spells things).
    pub fn note(mut self, note: &str) -> Field {
        self.note = Some(note.to_owned());
        self
    }

    /// Sets the enum values from `(unified, native)` pairs.
    pub fn values(mut self, values: &[(&str, &str)]) -> Field {
        self.enum_values = values
            .iter()
            .map(|(value, native)| EnumValue {
                value: (*value).to_owned(),
                native: (*native).to_owned(),
                label: None,
            })
            .collect();
        self
    }

    /// Sets the fields of list items.
    pub fn items(mut self, items: Vec<ItemField>) -> Field {
        self.item_fields = items;
        self
    }
}

/// Whether an operation is supported, and why not when it is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "support", content = "reason")]
pub enum Support {
    Supported,
    Unsupported(String),
}

impl Support {
    /// An unsupported operation with its reason.
    pub fn no(reason: &str) -> Support {
        Support::Unsupported(reason.to_owned())
    }

    /// Whether the operation is supported.
    pub fn is_supported(&self) -> bool {
        matches!(self, Support::Supported)
    }
}

/// A named action on one record (e.g. `change-status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionInfo {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_fields: Vec<ItemField>,
}

/// Everything a caller may do with one entity of one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityInfo {
    pub name: String,
    pub native_name: String,
    pub list: Support,
    pub get: Support,
    pub create: Support,
    pub update: Support,
    pub delete: Support,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionInfo>,
    pub fields: Vec<Field>,
    pub default_page_size: u32,
    pub max_page_size: u32,
    pub max_batch_size: u32,
    pub concurrency_token: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl EntityInfo {
    /// An entity the adapter does not serve at all: every operation refused with `reason`,
    /// which is also its note. `native_name` says where the system keeps it, if anywhere.
    pub fn not_served(name: &str, native_name: &str, reason: &str) -> EntityInfo {
        let no = || Support::Unsupported(reason.to_owned());
        EntityInfo {
            name: name.to_owned(),
            native_name: native_name.to_owned(),
            list: no(),
            get: no(),
            create: no(),
            update: no(),
            delete: no(),
            actions: Vec::new(),
            fields: Vec::new(),
            default_page_size: 0,
            max_page_size: 0,
            max_batch_size: 0,
            concurrency_token: false,
            note: Some(reason.to_owned()),
        }
    }

    /// Support for `op`; `action` is supported when the entity declares at least one action.
    pub fn support(&self, op: Operation) -> Support {
        match op {
            Operation::List => self.list.clone(),
            Operation::Get => self.get.clone(),
            Operation::Create => self.create.clone(),
            Operation::Update => self.update.clone(),
            Operation::Delete => self.delete.clone(),
            Operation::Action => {
                if self.actions.is_empty() {
                    Support::no("the system offers no named actions on this entity")
                } else {
                    Support::Supported
                }
            }
        }
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The action named `name`.
    pub fn action(&self, name: &str) -> Option<&ActionInfo> {
        self.actions.iter().find(|a| a.name == name)
    }
}

/// How the host authenticates requests for a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "scheme", content = "name")]
pub enum AuthScheme {
    None,
    Bearer,
    ApiKeyHeader(String),
    ApiKeyQuery(String),
    Basic,
    /// A session token from a login endpoint, sent in a header.
    SessionLogin(SessionLogin),
    /// OAuth 2.0 client credentials with refresh.
    Oauth2ClientCredentials(OAuth2),
    /// HMAC-SHA256 signature of each request's URL (Fiix).
    HmacUrlSignature,
}

/// How a session-login scheme logs in and out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLogin {
    /// Login endpoint relative to the base URL.
    pub login_path: String,
    /// JSON field names of the user name and password in the login request.
    pub username_field: String,
    pub password_field: String,
    /// JSON pointer to the session token in the login response (`/result/sessionToken`).
    pub token_pointer: String,
    /// Header carrying the session token.
    pub token_header: String,
    /// Logout endpoint relative to the base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_path: Option<String>,
}

/// Where an OAuth 2.0 client-credentials scheme gets its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2 {
    /// A path relative to the base URL, or an absolute URL on one of the extra origins.
    pub token_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

impl AuthScheme {
    /// A human description for the capability matrix.
    pub fn describe(&self) -> String {
        match self {
            AuthScheme::None => "none".to_owned(),
            AuthScheme::Bearer => "bearer token (Authorization: Bearer)".to_owned(),
            AuthScheme::ApiKeyHeader(h) => format!("API key in header `{h}`"),
            AuthScheme::ApiKeyQuery(q) => format!("API key in query parameter `{q}`"),
            AuthScheme::Basic => "HTTP basic".to_owned(),
            AuthScheme::SessionLogin(s) => format!(
                "session login (POST {}, token in `{}`)",
                s.login_path, s.token_header
            ),
            AuthScheme::Oauth2ClientCredentials(o) => {
                format!(
                    "OAuth 2.0 client credentials (token endpoint {})",
                    o.token_url
                )
            }
            AuthScheme::HmacUrlSignature => "HMAC-SHA256 request signature".to_owned(),
        }
    }
}

/// What an adapter declares about itself and its system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    pub system: String,
    pub display_name: String,
    pub adapter_version: String,
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_base_url: Option<String>,
    pub auth: AuthScheme,
    /// Origins besides the connection's own that the adapter needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_origins: Vec<String>,
    pub entities: Vec<EntityInfo>,
}

impl AdapterInfo {
    /// The entity named `name`.
    pub fn entity(&self, name: &str) -> Option<&EntityInfo> {
        self.entities.iter().find(|e| e.name == name)
    }
}

/// One condition of a `list` filter; a request's conditions all hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub field: String,
    pub op: FilterOp,
    /// One value, except for [`FilterOp::In`] (one or more), in the unified model's text
    /// form; the host has checked them against the field's type and declared operators.
    pub values: Vec<String>,
}

impl Filter {
    /// An equality filter.
    pub fn eq(field: &str, value: &str) -> Filter {
        Filter {
            field: field.to_owned(),
            op: FilterOp::Eq,
            values: vec![value.to_owned()],
        }
    }

    /// The first value (the only one, except for `in`); empty when there is none.
    pub fn value(&self) -> &str {
        self.values.first().map_or("", String::as_str)
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.op {
            FilterOp::In => write!(f, "{} in ({})", self.field, self.values.join(", ")),
            op => write!(f, "{}{}{}", self.field, op, self.value()),
        }
    }
}

/// A `list` request as the adapter receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRequest {
    pub entity: String,
    /// The system's own continuation from the previous page.
    pub cursor: Option<String>,
    pub page_size: u32,
    /// Conditions on declared `filterable` fields, with declared operators.
    pub filters: Vec<Filter>,
    /// Sort field, `-` prefix for descending.
    pub sort: Option<String>,
    /// The fields the caller wants (`key` always comes); empty for every field. A hint the
    /// adapter may pass on to its system; the host removes what was not asked for.
    pub fields: Vec<String>,
    /// Whether each record should carry the system's own payload under `raw`.
    pub include_raw: bool,
}

/// A `get` request as the adapter receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRequest {
    pub entity: String,
    pub key: String,
    /// Whether the record should carry the system's own payload under `raw`.
    pub include_raw: bool,
}

/// One page of records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// Unified records, one JSON object each.
    pub records: Vec<String>,
    pub next_cursor: Option<String>,
    pub total: Option<u64>,
}
