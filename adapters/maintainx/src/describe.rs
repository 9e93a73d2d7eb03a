//! The capability declaration: what MaintainX REST API v1 lets Plantwire do, entity by entity,
//! operation by operation and field by field, with a reason for every "no".
//!
//! Every flag is taken from the vendor's OpenAPI document: `filterable` only where the list
//! endpoint has a matching query parameter, with the operators that parameter can express
//! (see [`crate::paging`]), `sortable` only where its `sort` parameter accepts
//! the field, `creatable` / `updatable` only where the `POST` / `PATCH` body has the field,
//! `required-on-create` where the `POST` body requires it, `read-list` only where the list item
//! schema (with the `expand=` values the adapter sends) has it. The mapping in
//! [`crate::mapping`] checks callers' input against these same flags.

use std::sync::OnceLock;

use plantwire_sdk::contract::{
    ActionInfo, AdapterInfo, AuthScheme, ENTITIES, EntityInfo, Field, FieldFlags, FieldType,
    FilterOp, ItemField, Support,
};

use crate::mapping::{
    ASSET_STATUSES, PO_SETTABLE_STATUSES, PO_STATUSES, WO_PRIORITIES, WO_SETTABLE_STATUSES,
    WO_STATUSES,
};
use crate::resources::Resource;

/// Page size MaintainX uses when `limit` is not given.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest `limit` MaintainX accepts.
pub const MAX_PAGE_SIZE: u32 = 200;
/// Records accepted in one `create` call (each is its own `POST`).
pub const MAX_BATCH_SIZE: u32 = 50;

/// Why `inventory` is not served.
const INVENTORY_REASON: &str = "MaintainX API v1 has no inventory resource: stock is a quantity \
     on the part (availableQuantity / inStockQuantity in total, and per location in the part's \
     `locations[]`, written through PATCH /parts/{id} `locations`); this adapter version does \
     not map part stock to inventory records";
/// Why `site` is not served.
const SITE_REASON: &str = "MaintainX has no site object: locations, nested through parentId, \
     form the hierarchy (use the location entity)";
/// Why `service-request` is not served.
const SERVICE_REQUEST_REASON: &str = "MaintainX work requests (/workrequests) are not covered \
     by this adapter version";

/// Said of every served entity.
const WRITE_NOTE: &str = "MaintainX has no bulk endpoint: a create batch is sent as one POST \
     per record (at most 50 per call). The API has no ETag or If-Match: updates are \
     last-write-wins, with no concurrency token.";

/// The adapter's full declaration.
pub fn adapter_info() -> AdapterInfo {
    AdapterInfo {
        system: "maintainx".to_owned(),
        display_name: "MaintainX".to_owned(),
        adapter_version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: "v1".to_owned(),
        default_base_url: Some("https://api.getmaintainx.com/v1".to_owned()),
        auth: AuthScheme::Bearer,
        extra_origins: Vec::new(),
        entities: ENTITIES
            .iter()
            .map(
                |name| match Resource::ALL.into_iter().find(|r| r.entity() == *name) {
                    Some(res) => entity(res).clone(),
                    None => unsupported_entity(name),
                },
            )
            .collect(),
    }
}

/// The declaration of a served entity (built once).
pub fn entity(res: Resource) -> &'static EntityInfo {
    static SERVED: OnceLock<[EntityInfo; 7]> = OnceLock::new();
    let served = SERVED.get_or_init(|| Resource::ALL.map(served_entity));
    let index = match res {
        Resource::WorkOrder => 0,
        Resource::Asset => 1,
        Resource::PurchaseOrder => 2,
        Resource::Part => 3,
        Resource::Location => 4,
        Resource::Vendor => 5,
        Resource::User => 6,
    };
    &served[index]
}

/// Why a unified entity is not served, when it is one MaintainX cannot serve.
pub fn unsupported_reason(entity: &str) -> Option<String> {
    let reason = match entity {
        "inventory" => INVENTORY_REASON,
        "site" => SITE_REASON,
        "service-request" => SERVICE_REQUEST_REASON,
        _ => return None,
    };
    Some(reason.to_owned())
}

fn unsupported_entity(name: &str) -> EntityInfo {
    let reason = unsupported_reason(name)
        .unwrap_or_else(|| format!("MaintainX offers nothing for `{name}`"));
    let native = match name {
        "inventory" => "parts (locations[])",
        "service-request" => "workrequests",
        _ => "(none)",
    };
    EntityInfo::not_served(name, native, &reason)
}

// Flag sets.
const READ: FieldFlags = FieldFlags::READ;
const READ_DETAIL: FieldFlags = FieldFlags::READ.detail_only();
const WRITE: FieldFlags = FieldFlags::WRITE;
const WRITE_DETAIL: FieldFlags = FieldFlags::WRITE.detail_only();
const REQUIRED: FieldFlags = FieldFlags::WRITE.required();
const CREATE_ONLY_DETAIL: FieldFlags = FieldFlags::READ.detail_only().create_only();
/// An action input (`creatable` marks a field the caller may give).
const INPUT: FieldFlags = FieldFlags {
    read_list: false,
    read_detail: false,
    filterable: false,
    sortable: false,
    creatable: true,
    updatable: false,
    required_on_create: false,
};

// Filter operators, by the kind of query parameter behind the field (see `crate::paging`).
/// A single-valued parameter.
const EQ: &[FilterOp] = &[FilterOp::Eq];
/// A repeated parameter: its values are alternatives.
const EQ_IN: &[FilterOp] = &[FilterOp::Eq, FilterOp::In];
/// A repeated parameter with a `not…` twin, or over an enum (`!=` is every other value).
const EQ_NE_IN: &[FilterOp] = &[FilterOp::Eq, FilterOp::Ne, FilterOp::In];
/// An inclusive `[gte]` / `[lte]` pair.
const TIME_RANGE: &[FilterOp] = &[
    FilterOp::Eq,
    FilterOp::Lt,
    FilterOp::Le,
    FilterOp::Gt,
    FilterOp::Ge,
];

/// What the note of a time filtered through `<field>[gte]` / `<field>[lte]` says.
const TIME_FILTER_NOTE: &str = "filter: = < <= > >= as MaintainX's inclusive [gte] / [lte] \
     parameters; MaintainX keeps times to the millisecond, so `>` t is sent as [gte] t + 1 ms, \
     `<` t as [lte] t - 1 ms, and finer digits are rounded the way that keeps the meaning";

fn field(name: &str, ty: FieldType, flags: FieldFlags, native: &str) -> Field {
    Field::new(name, ty, flags).native(native)
}

fn item(
    name: &str,
    ty: FieldType,
    flags: FieldFlags,
    native: &str,
    note: Option<&str>,
) -> ItemField {
    ItemField {
        name: name.to_owned(),
        ty,
        flags,
        native_name: Some(native.to_owned()),
        note: note.map(str::to_owned),
    }
}

/// "one of `open` (OPEN), …" for an action's status input.
fn settable(table: &[(&str, &str)]) -> String {
    let values: Vec<String> = table.iter().map(|(u, n)| format!("`{u}` ({n})")).collect();
    format!("one of {}", values.join(", "))
}

fn reference(entity: &str) -> FieldType {
    FieldType::Reference(entity.to_owned())
}

fn key_field(sortable: bool) -> Field {
    let flags = if sortable { READ.sortable() } else { READ };
    let f = field("key", FieldType::String, flags, "id");
    if sortable {
        f.note("MaintainX's global integer id; sorts as sort=id")
    } else {
        f.note("MaintainX's global integer id; the list endpoint offers no sort")
    }
}

/// Said of every `customFields`.
const CUSTOM_FIELDS_NOTE: &str = "the organization's own fields (MaintainX `extraFields`), an \
     object of label → value; MaintainX stores every value as text. Not filterable: MaintainX \
     filters custom fields by label as extra query parameters, which the unified filter \
     language cannot name";

/// `customFields`; `in_lists` where the list endpoint returns them (`expand=extra_fields`).
fn custom_fields(in_lists: bool) -> Field {
    let (flags, where_read) = if in_lists {
        (
            WRITE,
            "In lists too (expand=extra_fields, sent unless a field selection leaves them out).",
        )
    } else {
        (
            WRITE_DETAIL,
            "Returned by get only: the list item of this resource has no extraFields.",
        )
    };
    field("customFields", FieldType::Object, flags, "extraFields")
        .note(&format!("{CUSTOM_FIELDS_NOTE}. {where_read}"))
}

/// `createdAt` / `updatedAt`: `sortable` where the list's `sort` takes it, filterable where
/// the list has its `[gte]` / `[lte]` parameters.
fn time_field(name: &str, sortable: bool, filterable: bool, note: Option<&str>) -> Field {
    let flags = if sortable { READ.sortable() } else { READ };
    let f = field(name, FieldType::Timestamp, flags, name);
    let filter = if filterable {
        TIME_FILTER_NOTE.to_owned()
    } else {
        format!("not filterable: the list endpoint has no {name}[gte] / [lte]")
    };
    let f = if filterable { f.ops(TIME_RANGE) } else { f };
    match note {
        Some(note) => f.note(&format!("{note}; {filter}")),
        None => f.note(&filter),
    }
}

fn created_at(sortable: bool, filterable: bool) -> Field {
    time_field("createdAt", sortable, filterable, None)
}

fn updated_at(sortable: bool, filterable: bool) -> Field {
    time_field(
        "updatedAt",
        sortable,
        filterable,
        Some("MaintainX does not count comments as updates"),
    )
}

fn entity_info(
    res: Resource,
    fields: Vec<Field>,
    actions: Vec<ActionInfo>,
    note: &str,
) -> EntityInfo {
    EntityInfo {
        name: res.entity().to_owned(),
        native_name: res.segment().to_owned(),
        list: Support::Supported,
        get: Support::Supported,
        create: Support::Supported,
        update: Support::Supported,
        delete: Support::Supported,
        actions,
        fields,
        default_page_size: DEFAULT_PAGE_SIZE,
        max_page_size: MAX_PAGE_SIZE,
        max_batch_size: MAX_BATCH_SIZE,
        concurrency_token: false,
        note: Some(format!("{note} {WRITE_NOTE}")),
    }
}

fn served_entity(res: Resource) -> EntityInfo {
    match res {
        Resource::WorkOrder => work_order(),
        Resource::Asset => asset(),
        Resource::PurchaseOrder => purchase_order(),
        Resource::Part => material(),
        Resource::Location => location(),
        Resource::Vendor => vendor(),
        Resource::User => user(),
    }
}

fn work_order() -> EntityInfo {
    let fields = vec![
        Field::new("key", FieldType::String, READ)
            .native("id")
            .note("MaintainX's global integer id (not the per-organization sequentialId); `sort` offers no id order"),
        field("title", FieldType::String, REQUIRED, "title").ops(EQ).note(
            "filter: = only, as MaintainX's one `title` parameter; MaintainX matches titles \
             loosely, and the adapter keeps its exact matches only, so a filtered page may \
             hold fewer records",
        ),
        field("description", FieldType::Text, WRITE, "description"),
        field("status", FieldType::Enumeration, READ, "status")
            .values(WO_STATUSES)
            .ops(EQ_NE_IN)
            .note(
                "not creatable (POST /workorders takes no status) and not updatable: status \
                 changes only through the change-status action (PATCH /workorders/{id}/status); \
                 `skipped` is set by MaintainX only. Filter: = and in as `statuses`, != as \
                 `statuses` of every other status",
            ),
        field("nativeStatus", FieldType::String, READ, "status")
            .note("MaintainX's own status value; read-only, see `status`"),
        field("severity", FieldType::Enumeration, WRITE, "priority")
            .values(WO_PRIORITIES)
            .ops(EQ_NE_IN)
            .note(
                "MaintainX priorities are NONE, LOW, MEDIUM and HIGH: there is no `urgent`. \
                 Filter: = and in as `priorities`, != as `priorities` of every other value",
            ),
        field("assetKey", reference("asset"), WRITE, "assetId").ops(EQ_NE_IN).note(
            "list records read it from the expanded asset (expand=asset): the list item has no \
             assetId. Filter: = and in as `assets`, != as `notAssets`, which also keeps work \
             orders without an asset",
        ),
        field("locationKey", reference("location"), WRITE, "locationId").ops(EQ_NE_IN).note(
            "filter: = and in as `locations`, != as `notLocations`, which also keeps work \
             orders without a location",
        ),
        field("teamKey", FieldType::String, WRITE, "teamIds").ops(EQ_IN).note(
            "the first of teamIds (MaintainX allows several teams; teams are not a unified \
             entity). Written as an assignee of type TEAM, replacing every team assigned. \
             Filter: = and in as `teams`, matching work orders with any of the teams among \
             theirs; one condition only (no != : MaintainX has no notTeams)",
        ),
        field("assigneeKeys", FieldType::References("user".to_owned()), WRITE, "assigneeIds").ops(EQ_IN).note(
            "Written as assignees of type USER, replacing every user assigned. Filter: = and \
             in as `assignees`, matching work orders assigned to any of the users; one \
             condition only (no != : MaintainX has no notAssignees)",
        ),
        field("scheduledAt", FieldType::Timestamp, WRITE, "startDate").note(
            "when the work order shows up in the inbox; MaintainX accepts it only together with \
             a dueDate. Not sortable: `sort` offers startedAt (when work started), not startDate",
        ),
        field("dueAt", FieldType::Timestamp, WRITE.sortable(), "dueDate")
            .note("not filterable: the work order list has no dueDate parameter"),
        field("completedAt", FieldType::Timestamp, READ.sortable(), "completedAt").note(
            "set by MaintainX when the status becomes DONE; not filterable: the work order \
             list has no completedAt parameter",
        ),
        created_at(true, true),
        updated_at(true, true),
        custom_fields(true),
    ];
    let actions = vec![ActionInfo {
        name: "change-status".to_owned(),
        description: "Sets the work order's status (PATCH /workorders/{id}/status) and returns \
                      the work order after it."
            .to_owned(),
        input_fields: vec![item(
            "status",
            FieldType::Enumeration,
            INPUT.required(),
            "status",
            Some(&format!(
                "{}; `skipped` cannot be set",
                settable(WO_SETTABLE_STATUSES)
            )),
        )],
    }];
    entity_info(
        Resource::WorkOrder,
        fields,
        actions,
        "Work orders (/workorders). POST /workorders answers only {id}: the adapter then reads \
         the record back. Lists send expand=asset, expand=assignees and expand=extra_fields (for \
         assetKey, teamKey, assigneeKeys and customFields, each only when selected) and \
         show_upcoming=true (MaintainX otherwise hides work orders whose start \
         date is ahead). No site: MaintainX has no site object.",
    )
}

fn asset() -> EntityInfo {
    let fields =
        vec![
        key_field(true),
        field("name", FieldType::String, REQUIRED, "name"),
        field("description", FieldType::Text, WRITE, "description"),
        field("locationKey", reference("location"), WRITE, "locationId")
            .ops(EQ)
            .note("filter: = only, as MaintainX's one `locationId` parameter"),
        field("parentKey", reference("asset"), WRITE, "parentId"),
        field("serialNumber", FieldType::String, WRITE, "serialNumber"),
        field("modelName", FieldType::String, WRITE, "model").ops(EQ_IN).note(
            "the model's name (expand=model in lists); on write it must name a model of the \
             manufacturer given in the same request (send makeName too), global or the \
             organization's. Filter: = and in as `model`",
        ),
        field("makeName", FieldType::String, WRITE, "manufacturer")
            .ops(EQ_IN)
            .note(
                "the manufacturer's name (expand=manufacturer in lists); on write it must name a \
                 manufacturer known to MaintainX (global or the organization's); clearing it \
                 clears the model too. Filter: = and in as `manufacturer`",
            ),
        field("status", FieldType::Enumeration, READ, "status.status")
            .values(ASSET_STATUSES)
            .note(
                "the asset's operational status (expand=status in lists); changed through POST \
                 /assets/{id}/status, which this adapter version does not offer",
            ),
        field("nativeStatus", FieldType::String, READ, "status.status")
            .note("MaintainX's own asset status value; read-only"),
        created_at(true, true),
        updated_at(true, true),
        custom_fields(true),
    ];
    entity_info(
        Resource::Asset,
        fields,
        Vec::new(),
        "Assets (/assets). Lists send expand=manufacturer, expand=model, expand=status and \
         expand=extra_fields (each only when a selected field needs it). \
         MaintainX pages assets by offset: records changed while paging may shift between \
         pages (dedupe by key). No site or active flag on MaintainX assets.",
    )
}

fn purchase_order() -> EntityInfo {
    let items = vec![
        item(
            "key",
            FieldType::String,
            FieldFlags {
                updatable: true,
                ..READ_DETAIL
            },
            "id",
            Some("the MaintainX item id; in an update it names the existing line to change"),
        ),
        item(
            "materialKey",
            reference("material"),
            WRITE_DETAIL,
            "partId",
            None,
        ),
        item("description", FieldType::String, WRITE_DETAIL, "name", None),
        item(
            "quantity",
            FieldType::Decimal,
            WRITE_DETAIL.required(),
            "quantityOrdered",
            None,
        ),
        item(
            "price",
            FieldType::Decimal,
            WRITE_DETAIL,
            "unitCost",
            Some(
                "unit price; MaintainX stores cents: read from unitCostDecimal (or unitCost / \
                 100), written rounded to the cent",
            ),
        ),
    ];
    let fields = vec![
        key_field(true),
        field("orderNo", FieldType::String, WRITE_DETAIL, "overrideNumber")
            .note("overrideNumber when set, else autoGeneratedNumber; writing sets overrideNumber"),
        field("title", FieldType::String, WRITE_DETAIL, "title").note(
            "MaintainX ignores it unless the organization enables custom purchase order titles",
        ),
        field(
            "vendorKey",
            reference("vendor"),
            REQUIRED.detail_only(),
            "vendorId",
        )
        .note("not filterable: the list endpoint has no vendor filter"),
        field("status", FieldType::Enumeration, READ, "status")
            .values(PO_STATUSES)
            .note(
                "not creatable (a new purchase order starts REQUESTED, i.e. draft) and not \
                 updatable: status changes only through the change-status action (PATCH \
                 /purchaseorders/{id}/status); not filterable: the list endpoint has no status \
                 filter",
            ),
        field("nativeStatus", FieldType::String, READ, "status")
            .note("MaintainX's own status value; read-only, see `status`"),
        field("dueAt", FieldType::Timestamp, WRITE_DETAIL, "dueDate")
            .note("not filterable: the purchase order list has no dueDate parameter"),
        field(
            "lineItems",
            FieldType::List,
            REQUIRED.detail_only(),
            "items",
        )
        .items(items)
        .note(
            "an update sends the lines given, each with its key when it changes an existing \
                 line; the spec does not say whether lines left out are kept. No line number or \
                 unit of measure in MaintainX",
        ),
        created_at(true, true),
        updated_at(true, true),
        custom_fields(false),
    ];
    let actions = vec![ActionInfo {
        name: "change-status".to_owned(),
        description: "Moves the purchase order through its approval workflow (PATCH \
                      /purchaseorders/{id}/status) and returns it. MaintainX enforces the \
                      transitions (draft → pending | declined | cancelled; pending → approved | \
                      declined | cancelled; declined → pending | cancelled; approved → \
                      cancelled or receiving; partially-received → received; received → \
                      partially-received) and answers 403 when the user may not."
            .to_owned(),
        input_fields: vec![
            item(
                "status",
                FieldType::Enumeration,
                INPUT.required(),
                "status",
                Some(&format!(
                    "{}; `draft` cannot be set",
                    settable(PO_SETTABLE_STATUSES)
                )),
            ),
            item(
                "reviewNote",
                FieldType::Text,
                INPUT,
                "reviewNote",
                Some("feedback for the requester, typically when declining"),
            ),
        ],
    }];
    entity_info(
        Resource::PurchaseOrder,
        fields,
        actions,
        "Purchase orders (/purchaseorders). List records carry only key, status, nativeStatus, \
         createdAt and updatedAt (the spec's list item); get a record for the rest. POST \
         answers 201 with the whole purchase order. MaintainX pages purchase orders by offset \
         (dedupe by key). No order date, currency, site or net total in MaintainX.",
    )
}

fn material() -> EntityInfo {
    let fields = vec![
        key_field(true),
        field("name", FieldType::String, REQUIRED, "name"),
        field("description", FieldType::Text, WRITE, "description"),
        field(
            "partNumber",
            FieldType::String,
            READ,
            "vendors[].partNumber",
        )
        .ops(EQ_IN)
        .note(
            "MaintainX keeps part numbers per vendor: this is the first vendor's. Filter: = \
                 and in as `partNumber`, matching parts with any vendor using one of the \
                 numbers; one condition only. Not writable: it belongs to the part-vendor link",
        ),
        field("unitCost", FieldType::Decimal, WRITE, "unitCost")
            .note("MaintainX stores cents: read as unitCost / 100, written rounded to the cent"),
        created_at(true, true),
        updated_at(true, true),
        custom_fields(true),
    ];
    entity_info(
        Resource::Part,
        fields,
        Vec::new(),
        "Parts (/parts). Lists send expand=vendors (for partNumber) and expand=extra_fields (each \
         only when a selected field needs it). Stock quantities stay on \
         the part and are not mapped (see inventory). MaintainX pages parts by offset (dedupe \
         by key). No material code, unit of measure or active flag in MaintainX.",
    )
}

fn location() -> EntityInfo {
    let fields = vec![
        key_field(false),
        field("name", FieldType::String, REQUIRED, "name")
            .ops(EQ)
            .note(
                "filter: = only, as MaintainX's one `name` parameter; MaintainX matches names \
             starting with the value, and the adapter keeps its exact matches only, so a \
             filtered page may hold fewer records",
            ),
        field("description", FieldType::Text, WRITE, "description"),
        field("address", FieldType::String, WRITE, "address"),
        field("parentKey", reference("location"), WRITE, "parentId"),
        created_at(false, false),
        updated_at(false, false),
        custom_fields(true),
    ];
    entity_info(
        Resource::Location,
        fields,
        Vec::new(),
        "Locations (/locations), nested through parentKey; they also stand in for sites, which \
         MaintainX does not have. The list endpoint offers no sort.",
    )
}

fn vendor() -> EntityInfo {
    let fields =
        vec![
        key_field(false),
        field("name", FieldType::String, REQUIRED, "name"),
        field("description", FieldType::Text, WRITE_DETAIL, "description"),
        field("email", FieldType::String, CREATE_ONLY_DETAIL, "emails").note(
            "the first of emails; PATCH /vendors/{id} takes no emails, so it is set on create \
             only",
        ),
        field("phone", FieldType::String, CREATE_ONLY_DETAIL, "phoneNumbers").note(
            "the first of phoneNumbers; PATCH /vendors/{id} takes no phone numbers, so it is set \
             on create only",
        ),
        custom_fields(true),
    ];
    entity_info(
        Resource::Vendor,
        fields,
        Vec::new(),
        "Vendors (/vendors). List records carry only key, name and customFields (the spec's \
         list item, with expand=extra_fields). The \
         spec gives vendors no createdAt or updatedAt. The list endpoint has no filter and no \
         sort.",
    )
}

fn user() -> EntityInfo {
    let fields =
        vec![
        key_field(false),
        field("name", FieldType::String, REQUIRED, "firstName + lastName").note(
            "read as firstName and lastName joined by a space; written split at the first space \
             (firstName = the first word, lastName = the rest), both being required by POST \
             /users",
        ),
        field("email", FieldType::String, WRITE, "email")
            .ops(EQ_IN)
            .note("filter: = and in as `email`"),
        field("phone", FieldType::String, WRITE, "phoneNumber"),
        field("isActive", FieldType::Boolean, READ_DETAIL, "removedFromOrganization").note(
            "false once the user is removed from the organization (DELETE /users/{id}); \
             read-only",
        ),
        custom_fields(true),
    ];
    entity_info(
        Resource::User,
        fields,
        Vec::new(),
        "Users (/users). Delete removes the user from the organization. The spec gives users \
         no createdAt or updatedAt. The list endpoint offers no sort.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_unified_entity_is_declared_once_in_order() {
        let info = adapter_info();
        let names: Vec<&str> = info.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ENTITIES);
        assert_eq!(info.system, "maintainx");
        assert_eq!(info.display_name, "MaintainX");
        assert_eq!(info.api_version, "v1");
        assert_eq!(info.adapter_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            info.default_base_url.as_deref(),
            Some("https://api.getmaintainx.com/v1")
        );
        assert_eq!(info.auth, AuthScheme::Bearer);
    }

    #[test]
    fn unserved_entities_say_why_for_every_operation() {
        let info = adapter_info();
        for name in ["inventory", "site", "service-request"] {
            let e = info.entity(name).unwrap();
            for op in [&e.list, &e.get, &e.create, &e.update, &e.delete] {
                match op {
                    Support::Unsupported(reason) => assert!(reason.len() > 30, "{name}: {reason}"),
                    Support::Supported => panic!("{name} must not be supported"),
                }
            }
            assert!(e.actions.is_empty() && e.fields.is_empty());
        }
        assert!(
            unsupported_reason("inventory")
                .unwrap()
                .contains("availableQuantity")
        );
        assert!(
            unsupported_reason("service-request")
                .unwrap()
                .contains("/workrequests")
        );
    }

    #[test]
    fn declarations_are_self_consistent() {
        let info = adapter_info();
        for e in info.entities.iter().filter(|e| e.list.is_supported()) {
            let mut seen = HashSet::new();
            assert!(e.default_page_size <= e.max_page_size && e.default_page_size > 0);
            assert_eq!((e.default_page_size, e.max_page_size), (100, 200));
            assert_eq!(e.max_batch_size, 50);
            assert!(!e.concurrency_token);
            let note = e.note.as_deref().unwrap_or_default();
            assert!(note.contains("one POST per record") && note.contains("last-write-wins"));
            assert!(e.field("key").is_some(), "{} has a key", e.name);
            for f in &e.fields {
                assert!(
                    seen.insert(f.name.as_str()),
                    "{}.{} declared twice",
                    e.name,
                    f.name
                );
                let flags = f.flags;
                assert!(
                    !flags.required_on_create || flags.creatable,
                    "{}.{} required but not creatable",
                    e.name,
                    f.name
                );
                assert!(flags.read_detail, "{}.{} is readable", e.name, f.name);
                assert!(
                    f.native_name.is_some(),
                    "{}.{} has a native name",
                    e.name,
                    f.name
                );
                if f.ty == FieldType::Enumeration {
                    assert!(
                        !f.enum_values.is_empty(),
                        "{}.{} has values",
                        e.name,
                        f.name
                    );
                }
                if !f.item_fields.is_empty() {
                    assert_eq!(f.ty, FieldType::List);
                    for i in &f.item_fields {
                        assert!(!i.flags.required_on_create || i.flags.creatable);
                    }
                }
                // A field a caller might expect to write says why it cannot.
                if !flags.creatable && !flags.updatable && f.name != "key" {
                    let has_reason =
                        f.note.is_some() || f.name == "createdAt" || f.name == "updatedAt";
                    assert!(has_reason, "{}.{} says why it is read-only", e.name, f.name);
                }
            }
            for action in &e.actions {
                assert!(!action.input_fields.is_empty());
            }
        }
    }

    #[test]
    fn served_operations_and_actions() {
        let info = adapter_info();
        for res in Resource::ALL {
            let e = info.entity(res.entity()).unwrap();
            assert_eq!(e.native_name, res.segment());
            for op in [&e.list, &e.get, &e.create, &e.update, &e.delete] {
                assert!(
                    op.is_supported(),
                    "{} supports every CRUD operation",
                    e.name
                );
            }
            let has_action = e.action("change-status").is_some();
            assert_eq!(has_action, res.has_status_endpoint(), "{}", e.name);
        }
        let wo = info.entity("work-order").unwrap();
        let status = wo.field("status").unwrap();
        assert!(!status.flags.creatable && !status.flags.updatable && status.flags.filterable);
        assert!(
            status
                .note
                .as_deref()
                .unwrap()
                .contains("PATCH /workorders/{id}/status")
        );
        assert!(wo.field("siteKey").is_none());
        let po = info.entity("purchase-order").unwrap();
        let lines = po.field("lineItems").unwrap();
        let names: Vec<&str> = lines.item_fields.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["key", "materialKey", "description", "quantity", "price"]
        );
        let change = po.action("change-status").unwrap();
        let inputs: Vec<&str> = change
            .input_fields
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(inputs, ["status", "reviewNote"]);
    }

    #[test]
    fn settable_statuses_are_a_subset_of_the_declared_ones() {
        for pair in WO_SETTABLE_STATUSES {
            assert!(WO_STATUSES.contains(pair));
        }
        for pair in PO_SETTABLE_STATUSES {
            assert!(PO_STATUSES.contains(pair));
        }
    }
}
