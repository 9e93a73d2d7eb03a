//! The capability declaration: what the Maximo REST/JSON API lets Plantwire do, entity by
//! entity, operation by operation and field by field, with a reason for every "no".
//!
//! Sources: IBM's REST API guide (`ibm-maximo-dev/maximo-restapi-documentation`: querying,
//! create and update, bulk, actions, duplicate requests) and IBM's published examples of rest
//! ids and status-change errors.
//! `filterable` means the field is pushed down into `oslc.where`, with the operators
//! [`crate::query::filters`] sends (the field's `filter_ops`); `sortable` that it maps to a
//! persistent attribute of the main object, which is all `oslc.orderBy` accepts; `creatable` /
//! `updatable` follow the object structures' writable attributes. The mapping in
//! [`crate::mapping`] checks callers' input against these same flags.

use std::sync::OnceLock;

use plantwire_sdk::contract::{
    ActionInfo, AdapterInfo, AuthScheme, ENTITIES, EntityInfo, Field, FieldFlags, FieldType,
    ItemField, Support,
};

use crate::external_id;
use crate::mapping::purchase_order::{PO_NATIVE_SETTABLE, PO_STATUSES};
use crate::mapping::work_order::{WO_SETTABLE, WO_STATUSES};
use crate::query;
use crate::structures::Os;

/// Page size the adapter asks for when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest `oslc.pageSize` the adapter sends. A server whose `mxe.oslc.maxpagesize` is lower
/// refuses larger pages; that refusal is reported as `invalid` on `pageSize`.
pub const MAX_PAGE_SIZE: u32 = 1_000;
/// Records sent in one `x-method-override: BULK` request.
pub const MAX_BATCH_SIZE: u32 = 100;

/// Why `site` is not served.
const SITE_REASON: &str = "sites are children of organizations in Maximo (MXAPIORGANIZATION, \
     the Organizations application), which this adapter version does not cover; records carry \
     their site as `siteKey` (the siteid)";
/// Why `user` is not served.
const USER_REASON: &str = "people and users (MXAPIPERSON, MXAPIMAXUSER) are not covered by this \
     adapter version";
/// Why `service-request` is not served.
const SERVICE_REQUEST_REASON: &str = "service requests (MXAPISR) are not covered by this adapter \
     version";

/// Said of every served entity.
const WRITE_NOTE: &str = "Creates of several records go in one POST with x-method-override: \
     BULK (each item committed on its own, one result per record); a single record is a plain \
     POST. Every create carries a `transactionid` derived from its content, so a request \
     replayed within Maximo's OSLCTXN window (5 minutes by default) is refused with 409 \
     instead of creating the record twice; the same create sent twice in that window is \
     refused the same way. Updates are POST + x-method-override: PATCH with patchtype: MERGE; \
     `concurrencyToken` (the record's _rowstamp) is sent as If-Match and a stale one is a \
     conflict (412). Maximo refuses to delete a record that others still refer to (an asset or \
     location on a work order, a location holding assets or stock, an item in a storeroom or \
     on a purchase order line, a company that is a purchase order's vendor); the refusal is a \
     conflict with Maximo's message.";

/// The adapter's full declaration.
pub fn adapter_info() -> AdapterInfo {
    AdapterInfo {
        system: "maximo".to_owned(),
        display_name: "IBM Maximo".to_owned(),
        adapter_version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: "7.6 REST/JSON API (OSLC, lean JSON); MAS Manage".to_owned(),
        default_base_url: None,
        auth: AuthScheme::ApiKeyHeader("apikey".to_owned()),
        extra_origins: Vec::new(),
        entities: ENTITIES
            .iter()
            .map(
                |name| match Os::ALL.into_iter().find(|o| o.entity() == *name) {
                    Some(os) => entity(os).clone(),
                    None => unsupported_entity(name),
                },
            )
            .collect(),
    }
}

/// The declaration of a served entity (built once).
pub fn entity(os: Os) -> &'static EntityInfo {
    static SERVED: OnceLock<[EntityInfo; 7]> = OnceLock::new();
    let served = SERVED.get_or_init(|| Os::ALL.map(served_entity));
    let index = Os::ALL.iter().position(|o| *o == os).unwrap_or(0);
    &served[index]
}

/// Why a unified entity is not served, when it is one this adapter does not serve.
pub fn unsupported_reason(entity: &str) -> Option<String> {
    let reason = match entity {
        "site" => SITE_REASON,
        "user" => USER_REASON,
        "service-request" => SERVICE_REQUEST_REASON,
        _ => return None,
    };
    Some(reason.to_owned())
}

fn unsupported_entity(name: &str) -> EntityInfo {
    let reason = unsupported_reason(name)
        .unwrap_or_else(|| format!("the Maximo adapter offers nothing for `{name}`"));
    let native = match name {
        "user" => "mxapiperson",
        "service-request" => "mxapisr",
        _ => "mxapiorganization (site)",
    };
    EntityInfo::not_served(name, native, &reason)
}

// Flag sets.
const READ: FieldFlags = FieldFlags::READ;
const WRITE: FieldFlags = FieldFlags::WRITE;
/// Set on create only (a key attribute or the site).
const CREATE_ONLY: FieldFlags = FieldFlags::WRITE.create_only();
/// An action input.
const INPUT: FieldFlags = FieldFlags {
    read_list: false,
    read_detail: false,
    filterable: false,
    sortable: false,
    creatable: true,
    updatable: false,
    required_on_create: false,
};

fn field(name: &str, ty: FieldType, flags: FieldFlags, native: &str) -> Field {
    Field::new(name, ty, flags).native(native)
}

fn reference(entity: &str) -> FieldType {
    FieldType::Reference(entity.to_owned())
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

fn key_field(os: Os) -> Field {
    field("key", FieldType::String, READ, &os.pk().join("/")).note(&format!(
        "{} joined by `/`; Maximo's rest id is `_` + base64 of this text (`=` written `-`)",
        os.pk().join(", ")
    ))
}

fn concurrency_token() -> Field {
    field("concurrencyToken", FieldType::String, READ, "_rowstamp").note(
        "the record's _rowstamp; pass it to update as the concurrency token (sent as If-Match; \
         a record changed since is refused with 412, reported as a conflict)",
    )
}

fn updated_at() -> Field {
    field(
        "updatedAt",
        FieldType::Timestamp,
        READ.sortable(),
        "changedate",
    )
    .note("set by Maximo on every change")
}

fn site_key() -> Field {
    field(
        "siteKey",
        FieldType::String,
        CREATE_ONLY.sortable(),
        "siteid",
    )
    .note(
        "the siteid; defaults to the user's insert site; a record never moves to another site \
         (not updatable)",
    )
}

/// `externalId` (`externalrefid`): the caller's reference, the key a host looks records up by.
/// Updatable where the entity is (Maximo does not protect the attribute).
fn external_id(flags: FieldFlags) -> Field {
    field(
        external_id::FIELD,
        FieldType::String,
        flags,
        external_id::ATTR,
    )
    .note(&format!(
        "the caller's own reference for the record (Maximo's External Reference ID, the \
         attribute its integration framework keeps for another system's identifier): at most \
         {} characters, since EXTERNALREFID is ALN({}) and Maximo refuses a longer value \
         (BMXAA4049E) rather than truncating it; a longer value, or one Maximo would read as a \
         pattern in oslc.where (`%`, `\"`, a lone `*`, `[..]`), blanks at either end or control \
         characters, is refused before anything is sent. Maximo does not keep it unique. \
         Filter: exact (=, in)",
        external_id::MAX_LEN,
        external_id::MAX_LEN
    ))
}

fn native_status(domain: &str) -> Field {
    field("nativeStatus", FieldType::String, READ.sortable(), "status").note(&format!(
        "Maximo's own status ({domain} synonym domain); filter: exact values (=, !=, in)"
    ))
}

/// Said of every `customFields`.
const CUSTOM_FIELDS_NOTE: &str = "the attributes of the Maximo record this adapter does not map \
     to a unified field, by Maximo's lower-case attribute name with Maximo's JSON values (dates \
     as ISO-8601 text): standard ones (e.g. orgid, worktype, wopriority) and those the customer \
     added to the object in Database Configuration alike (an MXAPI object structure carries \
     every persistent attribute of its main object; the list asks oslc.select=*). Child and \
     related objects and API metadata (href, _rowstamp, *_collectionref, <attr>_description) \
     are left out. In every record read or written (a list whose field selection leaves \
     customFields out fetches only the attributes it maps); read-only and not filterable in \
     this version";

fn custom_fields() -> Field {
    field("customFields", FieldType::Object, READ, "*").note(CUSTOM_FIELDS_NOTE)
}

/// The filter operators of each field, from the push-down table in [`crate::query`] (the one
/// place that decides what reaches oslc.where).
fn with_filters(os: Os, fields: Vec<Field>) -> Vec<Field> {
    fields
        .into_iter()
        .map(|f| {
            let ops = query::ops(os, &f.name);
            f.ops(ops)
        })
        .collect()
}

fn entity_info(os: Os, mut fields: Vec<Field>, actions: Vec<ActionInfo>, note: &str) -> EntityInfo {
    fields.push(custom_fields());
    let fields = with_filters(os, fields);
    EntityInfo {
        name: os.entity().to_owned(),
        native_name: os.name().to_owned(),
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
        concurrency_token: true,
        note: Some(format!("{note} {WRITE_NOTE}")),
    }
}

fn served_entity(os: Os) -> EntityInfo {
    match os {
        Os::WorkOrder => work_order(),
        Os::Asset => asset(),
        Os::Po => purchase_order(),
        Os::Item => material(),
        Os::Inventory => inventory(),
        Os::Location => location(),
        Os::Vendor => vendor(),
    }
}

fn status_action(description: &str, unified: &[(&str, &str)], natives: &[&str]) -> ActionInfo {
    let values: Vec<String> = unified
        .iter()
        .map(|(u, n)| format!("`{u}` ({n})"))
        .collect();
    ActionInfo {
        name: "change-status".to_owned(),
        description: description.to_owned(),
        input_fields: vec![
            item(
                "status",
                FieldType::Enumeration,
                INPUT,
                "status",
                Some(&format!(
                    "one of {}; give `status` or `nativeStatus`",
                    values.join(", ")
                )),
            ),
            item(
                "nativeStatus",
                FieldType::String,
                INPUT,
                "status",
                Some(&format!("a Maximo status: {}", natives.join(", "))),
            ),
            item(
                "memo",
                FieldType::Text,
                INPUT,
                "memo",
                Some("the memo Maximo records in the status history"),
            ),
        ],
    }
}

fn work_order() -> EntityInfo {
    let fields = vec![
        key_field(Os::WorkOrder),
        field("title", FieldType::String, WRITE.sortable(), "description").note(
            "the work order's short description; filter: exact (=, !=, in) or contains \
             (Maximo's LIKE, description=\"%text%\")",
        ),
        field(
            "description",
            FieldType::Text,
            WRITE,
            "description_longdescription",
        )
        .note("the long description; not filterable (it is not an attribute of WORKORDER)"),
        field("status", FieldType::Enumeration, READ, "status")
            .values(WO_STATUSES)
            .note(
                "not creatable (a new work order is WAPPR) and not updatable here: this adapter \
                 changes status only with the change-status action \
                 (?action=wsmethod:changeStatus), where Maximo enforces its transitions (e.g. \
                 BMXAA4679E, BMXAA4638E back from COMP) and records the memo; filter: every \
                 Maximo status of the value (status in [..]; != sends the not-in form \
                 status!=\"[A,B]\")",
            ),
        native_status("WOSTATUS"),
        field("assetKey", reference("asset"), WRITE, "assetnum/siteid")
            .note("an asset of the work order's site"),
        field(
            "locationKey",
            reference("location"),
            WRITE,
            "location/siteid",
        )
        .note("a location of the work order's site"),
        site_key(),
        field("teamKey", FieldType::String, WRITE, "persongroup")
            .note("the person group (crew or craft group); teams are not a unified entity"),
        field(
            "scheduledAt",
            FieldType::Timestamp,
            WRITE.sortable(),
            "schedstart",
        ),
        field(
            "dueAt",
            FieldType::Timestamp,
            WRITE.sortable(),
            "targcompdate",
        )
        .note("the target finish"),
        field(
            "completedAt",
            FieldType::Timestamp,
            READ.sortable(),
            "actfinish",
        )
        .note("the actual finish, set by Maximo when the work order is completed"),
        field(
            "createdAt",
            FieldType::Timestamp,
            READ.sortable(),
            "reportdate",
        )
        .note("the reported date, set by Maximo"),
        external_id(WRITE),
        updated_at(),
        concurrency_token(),
    ];
    let actions = vec![status_action(
        "Changes the work order's status with Maximo's changeStatus web method (POST \
         ?action=wsmethod:changeStatus, x-method-override: PATCH) and returns it. Maximo \
         enforces the transitions: COMP may only be closed, CLOSE and CAN are final; a refused \
         transition (BMXAA4679E, BMXAA4638E, ...) is a conflict.",
        WO_SETTABLE,
        &[
            "WAPPR", "APPR", "WSCH", "WMATL", "WPCOND", "INPRG", "COMP", "CLOSE", "CAN",
        ],
    )];
    entity_info(
        Os::WorkOrder,
        fields,
        actions,
        "Work orders (MXAPIWO). A create without siteKey goes to the user's insert site; wonum \
         is numbered by Maximo. Maximo deletes only a work order still waiting on approval \
         (WAPPR); cancel others with change-status. The work order priority (wopriority) is a \
         site-defined number with no fixed meaning and is not mapped to severity; labor \
         assignments are child records and are not mapped to assigneeKeys.",
    )
}

fn asset() -> EntityInfo {
    let fields =
        vec![
        key_field(Os::Asset),
        field("name", FieldType::String, WRITE.sortable(), "description")
            .note("the asset's short description; filter: exact (=, !=, in) or contains (LIKE)"),
        field("description", FieldType::Text, WRITE, "description_longdescription")
            .note("the long description; not filterable"),
        site_key(),
        field("locationKey", reference("location"), WRITE, "location/siteid")
            .note("a location of the asset's site"),
        field("parentKey", reference("asset"), WRITE, "parent/siteid")
            .note("the parent asset, of the same site"),
        field("serialNumber", FieldType::String, WRITE.sortable(), "serialnum"),
        field("makeName", FieldType::String, WRITE, "manufacturer")
            .note("the manufacturer's company code (a company of the organization)"),
        field("isActive", FieldType::Boolean, READ, "status").note(
            "false once the asset is DECOMMISSIONED; asset status changes (Change Status in the \
             Assets application) are not offered by this adapter version",
        ),
        native_status("LOCASSETSTATUS"),
        external_id(WRITE),
        updated_at(),
        concurrency_token(),
    ];
    entity_info(
        Os::Asset,
        fields,
        Vec::new(),
        "Assets (MXAPIASSET). assetnum is numbered by Maximo on create. Maximo has no model \
         name on assets and no creation date.",
    )
}

fn purchase_order() -> EntityInfo {
    let items = vec![
        item(
            "key",
            FieldType::String,
            READ,
            "polinenum",
            Some("the line number as text"),
        ),
        item(
            "lineNo",
            FieldType::Integer,
            FieldFlags {
                creatable: true,
                updatable: true,
                ..READ
            },
            "polinenum",
            Some("numbered by Maximo when left out; in an update it names the line to change"),
        ),
        item(
            "materialKey",
            reference("material"),
            WRITE,
            "itemnum/itemsetid",
            None,
        ),
        item(
            "description",
            FieldType::String,
            WRITE,
            "description",
            Some("defaults to the item's"),
        ),
        item(
            "quantity",
            FieldType::Decimal,
            WRITE.required(),
            "orderqty",
            None,
        ),
        item(
            "uomKey",
            FieldType::String,
            WRITE,
            "orderunit",
            Some("defaults to the item's order unit"),
        ),
        item("price", FieldType::Decimal, WRITE, "unitcost", None),
    ];
    let fields =
        vec![
        key_field(Os::Po),
        field("orderNo", FieldType::String, CREATE_ONLY.sortable(), "ponum")
            .note("numbered by Maximo when left out; part of the key, so not updatable"),
        field("title", FieldType::String, WRITE.sortable(), "description"),
        field("vendorKey", reference("vendor"), WRITE, "vendor/orgid")
            .note("a company of the purchase order's organization"),
        site_key(),
        field("status", FieldType::Enumeration, READ, "status")
            .values(PO_STATUSES)
            .note(
                "not creatable (a new purchase order is WAPPR) and not updatable: status changes \
                 only through the change-status action; INPRG, HOLD and REVISE have no unified \
                 value (see nativeStatus)",
            ),
        native_status("POSTATUS"),
        field("orderDate", FieldType::Timestamp, WRITE.sortable(), "orderdate")
            .note("defaults to the time of creation"),
        field("dueAt", FieldType::Timestamp, WRITE.sortable(), "requireddate"),
        field("currencyKey", FieldType::String, WRITE, "currencycode")
            .note("defaults to the organization's base currency"),
        field("totalNetValue", FieldType::Decimal, READ.sortable(), "totalcost")
            .note("computed by Maximo from the lines"),
        field("lineItems", FieldType::List, WRITE, "poline").items(items).note(
            "updates merge (patchtype: MERGE): a line with lineNo changes that line, a line \
             without it is added, lines left out are kept",
        ),
        external_id(WRITE),
        updated_at(),
        concurrency_token(),
    ];
    let actions = vec![status_action(
        "Changes the purchase order's status with Maximo's changeStatus web method and returns \
         it (approve, hold, cancel, close). Maximo enforces the transitions; CLOSE and CAN are \
         final; a refused transition is a conflict.",
        PO_STATUSES,
        PO_NATIVE_SETTABLE,
    )];
    entity_info(
        Os::Po,
        fields,
        actions,
        "Purchase orders (MXAPIPO) with their lines (POLINE). Maximo deletes only a purchase \
         order still waiting on approval (WAPPR); cancel others with change-status. Revisions \
         (revisionnum) are part of the key; creating a revision is not offered.",
    )
}

fn material() -> EntityInfo {
    let fields = vec![
        key_field(Os::Item),
        field("code", FieldType::String, CREATE_ONLY.sortable(), "itemnum")
            .note("numbered by Maximo when left out; part of the key, so not updatable"),
        field("name", FieldType::String, WRITE.sortable(), "description"),
        field(
            "description",
            FieldType::Text,
            WRITE,
            "description_longdescription",
        )
        .note("the long description; not filterable"),
        field("uomKey", FieldType::String, WRITE, "issueunit").note("the issue unit"),
        field("isActive", FieldType::Boolean, READ, "status").note(
            "true when the item status is ACTIVE; item status changes are not offered by this \
             adapter version",
        ),
        external_id(WRITE),
        updated_at(),
        concurrency_token(),
    ];
    entity_info(
        Os::Item,
        fields,
        Vec::new(),
        "Items (MXAPIITEM) of the organization's item set. Costs and balances live on \
         inventory records; manufacturer part numbers are on the item's vendor records and are \
         not mapped.",
    )
}

fn inventory() -> EntityInfo {
    let fields = vec![
        key_field(Os::Inventory),
        field(
            "materialKey",
            reference("material"),
            CREATE_ONLY.required(),
            "itemnum/itemsetid",
        ),
        field(
            "locationKey",
            reference("location"),
            CREATE_ONLY.required(),
            "location/siteid",
        )
        .note("a storeroom location"),
        field(
            "quantity",
            FieldType::Decimal,
            READ.sortable(),
            "curbaltotal",
        )
        .note(
            "the current balance; changed only by inventory transactions (receipts, issues, \
             transfers, counts and adjustments)",
        ),
        field("unitCost", FieldType::Decimal, READ.sortable(), "avgcost")
            .note("the average cost; changed only by receipts and cost adjustments"),
        external_id(CREATE_ONLY),
    ];
    let mut e = entity_info(
        Os::Inventory,
        fields,
        Vec::new(),
        "Inventory (MXAPIINVENTORY): one item in one storeroom. Create adds an item to a \
         storeroom with a zero balance. Maximo deletes only a record with a zero balance.",
    );
    e.update = Support::no(
        "balances and costs of an inventory record change only through Maximo inventory \
         transactions (receipts, issues, transfers, physical counts, balance and cost \
         adjustments), which this adapter version does not offer",
    );
    e.concurrency_token = false;
    e
}

fn location() -> EntityInfo {
    let fields = vec![
        key_field(Os::Location),
        field(
            "code",
            FieldType::String,
            CREATE_ONLY.required().sortable(),
            "location",
        )
        .note("part of the key, so not updatable"),
        field("name", FieldType::String, WRITE.sortable(), "description"),
        site_key(),
        field("isActive", FieldType::Boolean, READ, "status")
            .note("false once the location is DECOMMISSIONED; status changes are not offered"),
        external_id(WRITE),
        updated_at(),
        concurrency_token(),
    ];
    entity_info(
        Os::Location,
        fields,
        Vec::new(),
        "Locations (MXAPILOCATIONS), storerooms included. New locations are OPERATING \
         locations; the location hierarchy (LOCHIERARCHY) is not mapped to parentKey.",
    )
}

fn vendor() -> EntityInfo {
    let fields = vec![
        key_field(Os::Vendor),
        field(
            "code",
            FieldType::String,
            CREATE_ONLY.required().sortable(),
            "company",
        )
        .note("part of the key, so not updatable"),
        field("name", FieldType::String, WRITE.sortable(), "name"),
        field("phone", FieldType::String, WRITE, "phone1"),
        field("address", FieldType::String, WRITE, "address1"),
        field("isActive", FieldType::Boolean, WRITE, "disabled")
            .note("written as disabled = not isActive"),
        external_id(WRITE),
        updated_at(),
        concurrency_token(),
    ];
    entity_info(
        Os::Vendor,
        fields,
        Vec::new(),
        "Vendors are Maximo companies (MXAPIVENDOR, the COMPANIES object), created in the \
         user's default organization; contacts and e-mail addresses are child records and are \
         not mapped.",
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
        assert_eq!(info.system, "maximo");
        assert_eq!(info.auth, AuthScheme::ApiKeyHeader("apikey".into()));
        for name in ["site", "user", "service-request"] {
            let e = info.entity(name).unwrap();
            for op in [&e.list, &e.get, &e.create, &e.update, &e.delete] {
                assert!(
                    matches!(op, Support::Unsupported(r) if r.len() > 30),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn declarations_are_self_consistent() {
        for os in Os::ALL {
            let e = entity(os);
            assert_eq!(e.native_name, os.name());
            let mut seen = HashSet::new();
            for f in &e.fields {
                assert!(seen.insert(f.name.as_str()), "{}.{} twice", e.name, f.name);
                assert!(
                    f.flags.read_list && f.flags.read_detail,
                    "{}.{}",
                    e.name,
                    f.name
                );
                assert!(!f.flags.required_on_create || f.flags.creatable);
                assert!(f.native_name.is_some());
                assert!(
                    !f.flags.updatable || e.update.is_supported(),
                    "{}.{}",
                    e.name,
                    f.name
                );
                if f.ty == FieldType::Enumeration {
                    assert!(!f.enum_values.is_empty());
                }
                if !f.flags.creatable && !f.flags.updatable && f.name != "key" {
                    assert!(
                        f.note.is_some(),
                        "{}.{} says why it is read-only",
                        e.name,
                        f.name
                    );
                }
            }
            assert_eq!(e.field("concurrencyToken").is_some(), e.concurrency_token);
            assert_eq!(e.action("change-status").is_some(), os.has_change_status());
        }
        assert!(!entity(Os::Inventory).update.is_supported());
        assert!(!entity(Os::Inventory).concurrency_token);
    }
}
