//! The capability declaration: what SAP S/4HANA's OData V2 A2X APIs let Plantwire do, entity
//! by entity, operation by operation and field by field, with a reason for every "no".
//!
//! Operations follow the entity sets' `sap:creatable` / `sap:updatable` / `sap:deletable`
//! flags in the services' EDMX; fields follow the properties' flags (`sap:creatable="false"`
//! and `sap:updatable="false"` make a field read-only or create-only; `sap:filterable="false"`
//! and `sap:sortable="false"` take those flags away — everything else is filterable and
//! sortable, SAP's default). Filters are pushed down into `$filter` with the operators
//! [`query::ops`] gives each field (comparisons, `in` as an `or` chain, contains as
//! `substringof`), sorts into `$orderby`.

use std::sync::OnceLock;

use plantwire_sdk::contract::{
    ActionInfo, AdapterInfo, AuthScheme, ENTITIES, EntityInfo, Field, FieldFlags, FieldType,
    ItemField, Support,
};

use crate::mapping::{
    ASSET_STATUSES, ASSET_TARGETS, LOCATION_STATUSES, PO_STATUSES, PRIORITIES, WO_STATUSES,
    WO_TARGETS,
};
use crate::query;
use crate::resources::Resource;

/// Page size used when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest `$top` the adapter sends; SAP may still page below it with `__next`, which the
/// adapter follows.
pub const MAX_PAGE_SIZE: u32 = 1_000;
/// Records per create call: one `$batch` with one change set per record.
pub const MAX_BATCH_SIZE: u32 = 100;

const MATERIAL_REASON: &str = "materials are served by API_PRODUCT_SRV (A_Product), which this \
     adapter version does not cover; stock per material is the inventory entity";
const SITE_REASON: &str = "SAP plants are organizational units without an A2X OData API among \
     the services this adapter covers; plant codes appear as siteKey strings on work orders, \
     assets and locations";
const USER_REASON: &str = "SAP users (business users) are not exposed by the services this \
     adapter covers";
const SERVICE_REQUEST_REASON: &str = "maintenance notifications (API_MAINTNOTIFICATION) are \
     not covered by this adapter version";

const READ: FieldFlags = FieldFlags::READ;
const WRITE: FieldFlags = FieldFlags::WRITE;
const REQUIRED: FieldFlags = FieldFlags::WRITE.required();
const CREATE_ONLY: FieldFlags = FieldFlags::READ.create_only();
const INPUT: FieldFlags = FieldFlags {
    read_list: false,
    read_detail: false,
    filterable: false,
    sortable: false,
    creatable: true,
    updatable: false,
    required_on_create: false,
};

/// Filterable and sortable (SAP's default for a property).
const fn fs(flags: FieldFlags) -> FieldFlags {
    flags.filterable().sortable()
}

/// The adapter's full declaration.
pub fn adapter_info() -> AdapterInfo {
    AdapterInfo {
        system: "sap-s4hana".to_owned(),
        display_name: "SAP S/4HANA".to_owned(),
        adapter_version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: "OData V2 (A2X): API_MAINTENANCEORDER, API_EQUIPMENT, \
                      API_FUNCTIONALLOCATION, API_PURCHASEORDER_PROCESS_SRV, \
                      API_MATERIAL_STOCK_SRV, API_BUSINESS_PARTNER"
            .to_owned(),
        default_base_url: None,
        auth: AuthScheme::Basic,
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
    static SERVED: OnceLock<[EntityInfo; 6]> = OnceLock::new();
    let served = SERVED.get_or_init(|| Resource::ALL.map(served_entity));
    let index = Resource::ALL.iter().position(|r| *r == res).unwrap_or(0);
    &served[index]
}

/// Why a unified entity is not served.
pub fn unsupported_reason(entity: &str) -> Option<String> {
    let reason = match entity {
        "material" => MATERIAL_REASON,
        "site" => SITE_REASON,
        "user" => USER_REASON,
        "service-request" => SERVICE_REQUEST_REASON,
        _ => return None,
    };
    Some(reason.to_owned())
}

fn unsupported_entity(name: &str) -> EntityInfo {
    let reason =
        unsupported_reason(name).unwrap_or_else(|| format!("SAP offers nothing for `{name}` here"));
    let native = match name {
        "material" => "API_PRODUCT_SRV/A_Product",
        "service-request" => "API_MAINTNOTIFICATION/MaintenanceNotification",
        _ => "(none)",
    };
    EntityInfo::not_served(name, native, &reason)
}

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

fn reference(entity: &str) -> FieldType {
    FieldType::Reference(entity.to_owned())
}

fn key(native: &str) -> Field {
    field("key", FieldType::String, fs(READ), native)
}

fn concurrency_token() -> Field {
    field(
        "concurrencyToken",
        FieldType::String,
        READ,
        "__metadata.etag",
    )
    .note(
        "SAP's ETag; pass it to update as the concurrency token (sent as If-Match: SAP answers \
         412 when the record changed since). Without one, the adapter reads the current ETag \
         first (last write wins)",
    )
}

fn updated_at() -> Field {
    field(
        "updatedAt",
        FieldType::Timestamp,
        fs(READ),
        "LastChangeDateTime",
    )
    .note(
        "set by SAP (sap:creatable=false, sap:updatable=false); filters with = != < <= > >= \
         as datetimeoffset literals, for incremental reads",
    )
}

fn created_on() -> Field {
    field("createdAt", FieldType::Timestamp, fs(READ), "CreationDate").note(
        "SAP keeps the creation date only (Edm.DateTime, display format Date): midnight UTC of \
         that day; set by SAP. A range bound between two midnights is moved to the day that \
         selects the same records; = and != take midnight UTC only",
    )
}

fn status_action(entity: &str, targets: &[(&str, &str)], description: &str) -> ActionInfo {
    let values: Vec<String> = targets
        .iter()
        .map(|(u, n)| format!("`{u}` ({n})"))
        .collect();
    ActionInfo {
        name: "change-status".to_owned(),
        description: description.to_owned(),
        input_fields: vec![item(
            "status",
            FieldType::Enumeration,
            INPUT.required(),
            "function import",
            Some(&format!(
                "the {entity}'s target status: {}",
                values.join(", ")
            )),
        )],
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one place that spells out every flag of an entity"
)]
fn entity_info(
    res: Resource,
    create: Support,
    update: Support,
    delete: Support,
    actions: Vec<ActionInfo>,
    fields: Vec<Field>,
    note: &str,
) -> EntityInfo {
    EntityInfo {
        name: res.entity().to_owned(),
        native_name: res.native_name(),
        list: Support::Supported,
        get: Support::Supported,
        create,
        update,
        delete,
        actions,
        fields,
        default_page_size: DEFAULT_PAGE_SIZE,
        max_page_size: MAX_PAGE_SIZE,
        max_batch_size: MAX_BATCH_SIZE,
        concurrency_token: res.has_etag(),
        note: Some(format!(
            "{note} Reads are in a total order (the sort, then the key) and follow SAP's \
             server-driven paging (__next with $skiptoken), counted against the $top window \
             asked for, so no record is returned twice whatever the server's paging. Dates are \
             /Date(ms)/ in SAP and RFC 3339 UTC here; decimals are strings in SAP and numbers \
             here, refused on write when they have more decimal places than the property keeps."
        )),
    }
}

const BATCH_NOTE: &str = "Creates of several records go in one $batch with one change set per \
     record, so records succeed or fail independently; a record whose answer part cannot be \
     matched to it is reported as of unknown outcome, never failed. Every write fetches a CSRF \
     token first (X-CSRF-Token: Fetch), is sent without one when the server issues none, and \
     is retried once with a new token when SAP answers 403 x-csrf-token: Required.";

fn served_entity(res: Resource) -> EntityInfo {
    let mut info = match res {
        Resource::WorkOrder => work_order(),
        Resource::Asset => asset(),
        Resource::PurchaseOrder => purchase_order(),
        Resource::Inventory => inventory(),
        Resource::Location => location(),
        Resource::Vendor => vendor(),
    };
    // The operators are exactly those the adapter pushes down into `$filter`.
    info.fields = info
        .fields
        .into_iter()
        .map(|f| {
            let ops = query::ops(res, &f);
            let f = f.ops(ops);
            if f.name == "customFields" {
                let note = format!("{}. {EXTENSION_NOTE}", f.note.clone().unwrap_or_default());
                f.note(&note)
            } else {
                f
            }
        })
        .collect();
    info
}

/// What `customFields` holds besides the SAP fields each entity lists.
const EXTENSION_NOTE: &str = "Also the customer's own extension fields (key-user custom \
     fields: SAP properties named YY1_… or, created on premise, ZZ1_…) that the record carries, \
     by their SAP names and read-only: /Date(ms)/ dates as RFC 3339 UTC, decimals as SAP's \
     strings, texts and flags as sent, initial values left out. Extension fields cannot be \
     filtered here, and selecting customFields reads every property, since extension fields \
     are only known from the service's $metadata";

fn work_order() -> EntityInfo {
    let fields = vec![
        key("MaintenanceOrder")
            .note("the order number, assigned by SAP from its internal number range"),
        field(
            "title",
            FieldType::String,
            fs(REQUIRED),
            "MaintenanceOrderDesc",
        )
        .note("the order's short text, at most 40 characters"),
        field("status", FieldType::Enumeration, READ, "SystemStatusText")
            .values(WO_STATUSES)
            .note(
                "derived from the system status line (SystemStatusText: DLFL → cancelled, LKD → \
                 on-hold, CLSD and TECO → completed, REL → in-progress, CRTD → open). Not \
                 filterable or sortable (sap:filterable=false, sap:sortable=false) and not \
                 writable: status changes only through the change-status action, which calls \
                 SAP's status function imports",
            ),
        field("nativeStatus", FieldType::String, READ, "SystemStatusText")
            .note("SAP's system status line as SAP shows it (e.g. `REL  MANC NMAT`); read-only"),
        field(
            "severity",
            FieldType::Enumeration,
            fs(WRITE),
            "MaintPriority",
        )
        .values(PRIORITIES)
        .note("priority of the standard PM priority type: 1 very high, 2 high, 3 medium, 4 low"),
        field("assetKey", reference("asset"), fs(WRITE), "Equipment"),
        field(
            "locationKey",
            reference("location"),
            fs(WRITE),
            "FunctionalLocation",
        ),
        field(
            "siteKey",
            FieldType::String,
            fs(FieldFlags::READ.required()),
            "MaintenancePlanningPlant",
        )
        .note(
            "the maintenance planning plant (4 characters); set on create only \
             (sap:updatable=false). Plants are not a served entity, so it is a plain code",
        ),
        field("teamKey", FieldType::String, fs(REQUIRED), "MainWorkCenter").note(
            "the main work center (8 characters); its plant (MainWorkCenterPlant) is the planning \
             plant unless customFields gives another",
        ),
        field(
            "scheduledAt",
            FieldType::Timestamp,
            fs(WRITE),
            "MaintOrdBasicStartDateTime",
        )
        .note("basic start"),
        field(
            "dueAt",
            FieldType::Timestamp,
            fs(WRITE),
            "MaintOrdBasicEndDateTime",
        )
        .note("basic finish"),
        field(
            "createdAt",
            FieldType::Timestamp,
            fs(READ),
            "MaintOrderCreationDateTime",
        )
        .note("set by SAP"),
        updated_at(),
        field(
            "customFields",
            FieldType::Object,
            FieldFlags {
                read_list: true,
                ..REQUIRED
            },
            "MaintenanceOrderType, MaintenanceActivityType, MaintenancePlant, MainWorkCenterPlant",
        )
        .note(
            "SAP fields without a unified counterpart, by their SAP names: MaintenanceOrderType \
             (required on create, e.g. PM01; sap:updatable=false), MaintenanceActivityType, \
             MaintenancePlant, MainWorkCenterPlant",
        ),
        concurrency_token(),
    ];
    entity_info(
        Resource::WorkOrder,
        Support::Supported,
        Support::Supported,
        Support::no(
            "SAP API_MAINTENANCEORDER: MaintenanceOrder is sap:deletable=\"false\"; deletion is a \
             status change (function import SetMaintOrdStsToMrkdForDeltn): use change-status \
             with `cancelled`",
        ),
        vec![status_action(
            "order",
            WO_TARGETS,
            "Changes the order's system status through API_MAINTENANCEORDER's function imports \
             and returns the order after it. Each import sets or resets one status, chosen \
             from the status SAP reports, until the target is reached (at most five): \
             in-progress releases a created order (ReleaseMaintenanceOrder), revokes a \
             technical completion (ResetMaintOrdStsTechCompleted) and, for a closed order, \
             the close before it (ResetMaintOrderStatusClosed); completed completes it \
             technically (SetMaintOrdToTechCompleted) or revokes a close \
             (ResetMaintOrderStatusClosed); closed closes a technically completed order \
             (SetMaintOrderStatusToClosed); on-hold locks it (SetMaintOrderStatusToLocked); \
             cancelled sets the deletion flag (SetMaintOrdStsToMrkdForDeltn); open resets the \
             deletion flag (ResetMaintOrdStsMrkdForDeltn) and the lock \
             (SetMaintOrderStatusToUnlocked) of a created order (in-progress resets them too \
             before releasing); SAP has no import back to created, so open on a released or \
             completed order is a conflict before anything is called. A transition SAP does \
             not allow is a conflict carrying SAP's message (e.g. BS/013 \"System status \
             TECO is active\"), naming the imports SAP already ran when it was not the first.",
        )],
        fields,
        &format!(
            "Maintenance orders (API_MAINTENANCEORDER/MaintenanceOrder). No description: the \
             long text is a separate entity set (MaintenanceOrderLongText) this version does \
             not map; operations (MaintenanceOrderOperation) are not mapped either. {BATCH_NOTE}"
        ),
    )
}

fn asset() -> EntityInfo {
    let fields = vec![
        key("Equipment").note(
            "the equipment number; the adapter addresses the current time segment \
             (ValidityEndDate 9999-12-31) of SAP's time-dependent key",
        ),
        field("name", FieldType::String, fs(REQUIRED), "EquipmentName").note("at most 40 characters"),
        field("siteKey", FieldType::String, fs(WRITE), "MaintenancePlant")
            .note("the maintenance plant (4 characters)"),
        field("locationKey", reference("location"), fs(READ), "FunctionalLocation").note(
            "the functional location the equipment is installed at: sap:creatable=false, \
             sap:updatable=false; installing and dismantling go through the InstallEquipment / \
             DismantleEquipment function imports, not offered by this version",
        ),
        field("parentKey", reference("asset"), fs(WRITE), "SuperordinateEquipment"),
        field("serialNumber", FieldType::String, fs(WRITE), "ManufacturerSerialNumber")
            .note("the manufacturer's serial number (30 characters)"),
        field("modelName", FieldType::String, fs(WRITE), "ManufacturerPartTypeName")
            .note("the manufacturer's model number (20 characters)"),
        field("makeName", FieldType::String, fs(WRITE), "AssetManufacturerName")
            .note("the manufacturer (30 characters)"),
        field(
            "isActive",
            FieldType::Boolean,
            READ.filterable(),
            "EquipmentIsInactive, EquipmentIsMarkedForDeletion",
        )
        .note("false when the equipment is inactive (INAC) or marked for deletion (DLFL); read-only, see change-status"),
        field("status", FieldType::Enumeration, READ.filterable(), "EquipmentIsInactive, EquipmentIsMarkedForDeletion")
            .values(ASSET_STATUSES)
            .note("read-only (sap:creatable=false, sap:updatable=false): changes through change-status. Filters (= != in) become conditions on the two flags"),
        field("nativeStatus", FieldType::String, READ, "EquipmentIsInactive, EquipmentIsMarkedForDeletion")
            .note("the system statuses INAC and DLFL that are set, space-separated; read-only"),
        created_on(),
        updated_at(),
        field(
            "customFields",
            FieldType::Object,
            FieldFlags { read_list: true, ..REQUIRED },
            "EquipmentCategory, TechnicalObjectType, MaintenancePlanningPlant",
        )
        .note(
            "SAP fields without a unified counterpart: EquipmentCategory (required on create, \
             e.g. M), TechnicalObjectType, MaintenancePlanningPlant",
        ),
        concurrency_token(),
    ];
    entity_info(
        Resource::Asset,
        Support::Supported,
        Support::Supported,
        Support::no(
            "SAP API_EQUIPMENT: Equipment is sap:deletable=\"false\"; equipment is marked for \
             deletion instead (function import SetEquipToMarkedForDeletion): use change-status \
             with `marked-for-deletion`",
        ),
        vec![status_action(
            "equipment",
            ASSET_TARGETS,
            "Changes the equipment's status through API_EQUIPMENT's function imports and \
             returns it: inactive (SetEquipmentToInactive), marked-for-deletion \
             (SetEquipToMarkedForDeletion), active (ResetEquipmentFromInactive or \
             RsetEquipFromMarkedForDeletion: both when both are set, deletion flag first). A transition SAP refuses is a \
             conflict carrying SAP's message.",
        )],
        fields,
        &format!(
            "Equipment (API_EQUIPMENT/Equipment). No description: the long text is a separate entity set. {BATCH_NOTE}"
        ),
    )
}

fn location() -> EntityInfo {
    let fields = vec![
        key("FunctionalLocation")
            .note("the functional location's label, chosen on create (see code)"),
        field(
            "code",
            FieldType::String,
            fs(CREATE_ONLY.required()),
            "FunctionalLocation",
        )
        .note(
            "the functional location's label (at most 30 characters, following the structure \
             indicator's edit mask); it becomes the key and cannot change (sap:updatable=false)",
        ),
        field(
            "name",
            FieldType::String,
            fs(WRITE),
            "FunctionalLocationName",
        )
        .note("at most 40 characters"),
        field(
            "parentKey",
            reference("location"),
            fs(WRITE),
            "SuperiorFunctionalLocation",
        ),
        field("siteKey", FieldType::String, fs(WRITE), "MaintenancePlant")
            .note("the maintenance plant (4 characters)"),
        field(
            "isActive",
            FieldType::Boolean,
            READ.filterable(),
            "FunctionalLocationIsActive",
        )
        .note("set by SAP from the INAC and DLFL statuses; read-only, see change-status"),
        field(
            "status",
            FieldType::Enumeration,
            READ.filterable(),
            "FuncnlLocIsDeactivated, FuncnlLocIsMarkedForDeletion",
        )
        .values(LOCATION_STATUSES)
        .note(
            "read-only (sap:creatable=false, sap:updatable=false): changes through \
             change-status. Filters (= != in) become conditions on the two flags",
        ),
        field(
            "nativeStatus",
            FieldType::String,
            READ,
            "FuncnlLocIsDeactivated, FuncnlLocIsMarkedForDeletion",
        )
        .note("the system statuses INAC and DLFL that are set, space-separated; read-only"),
        created_on(),
        updated_at(),
        field(
            "customFields",
            FieldType::Object,
            FieldFlags {
                read_list: true,
                ..REQUIRED
            },
            "FunctionalLocationCategory, FuncLocationStructure, MaintenancePlanningPlant",
        )
        .note(
            "SAP fields without a unified counterpart: FunctionalLocationCategory and \
             FuncLocationStructure (both required on create, e.g. M and YSTR1), \
             MaintenancePlanningPlant",
        ),
        concurrency_token(),
    ];
    entity_info(
        Resource::Location,
        Support::Supported,
        Support::Supported,
        Support::no(
            "SAP API_FUNCTIONALLOCATION: FunctionalLocation is sap:deletable=\"false\"; a \
             functional location is marked for deletion instead (function import \
             SetFuncLocToMarkedForDeletion): use change-status with `marked-for-deletion`",
        ),
        vec![status_action(
            "functional location",
            ASSET_TARGETS,
            "Changes the functional location's status through API_FUNCTIONALLOCATION's function \
             imports and returns it: inactive (SetFuncnlLocationToInactive), \
             marked-for-deletion (SetFuncLocToMarkedForDeletion), active \
             (RsetFuncLocFromMrkdForDeletion, then RsetFuncnlLocationFromInactive, as set). A transition \
             SAP refuses is a conflict carrying SAP's message.",
        )],
        fields,
        &format!(
            "Functional locations (API_FUNCTIONALLOCATION/FunctionalLocation), nested through \
             parentKey. {BATCH_NOTE}"
        ),
    )
}

fn purchase_order() -> EntityInfo {
    let items = vec![
        item(
            "key",
            FieldType::String,
            READ,
            "PurchaseOrderItem",
            Some("the item number (10, 20, …)"),
        ),
        item(
            "lineNo",
            FieldType::Integer,
            CREATE_ONLY,
            "PurchaseOrderItem",
            Some("the item number; 10, 20, 30, … in input order when not given"),
        ),
        item(
            "materialKey",
            FieldType::String,
            CREATE_ONLY,
            "Material",
            Some("the material number (materials are not a served entity)"),
        ),
        item(
            "description",
            FieldType::String,
            CREATE_ONLY,
            "PurchaseOrderItemText",
            Some("short text, at most 40 characters; required when there is no material"),
        ),
        item(
            "quantity",
            FieldType::Decimal,
            CREATE_ONLY.required(),
            "OrderQuantity",
            Some("Edm.Decimal(13,3): at most 3 decimal places"),
        ),
        item(
            "uomKey",
            FieldType::String,
            CREATE_ONLY,
            "PurchaseOrderQuantityUnit",
            Some("the order unit (3 characters)"),
        ),
        item(
            "price",
            FieldType::Decimal,
            CREATE_ONLY,
            "NetPriceAmount",
            Some("net price per price unit in the document currency, Edm.Decimal(12,3)"),
        ),
    ];
    let fields = vec![
        key("PurchaseOrder").note("the purchase order number, assigned by SAP"),
        field("orderNo", FieldType::String, fs(READ), "PurchaseOrder")
            .note("the purchase order number, assigned by SAP from its internal number range"),
        field("vendorKey", reference("vendor"), fs(REQUIRED), "Supplier"),
        field(
            "status",
            FieldType::Enumeration,
            READ.filterable(),
            "PurchasingProcessingStatus, PurchasingDocumentDeletionCode",
        )
        .values(PO_STATUSES)
        .note(
            "from the processing status (01 draft, 02 active → approved, 03/04 in release → \
             pending, 05 released → approved, 08 rejected → declined) and the deletion \
             indicator L (cancelled); read-only (sap:creatable=false, sap:updatable=false): \
             purchase orders are released through their release strategy, which this API \
             does not offer. Filters (= != in) expand each status to its codes (approved: 02 \
             or 05, not deleted); != matches the other declared statuses",
        ),
        field(
            "nativeStatus",
            FieldType::String,
            READ,
            "PurchasingProcessingStatus",
        )
        .note("SAP's processing status code; read-only"),
        field("orderDate", FieldType::Date, fs(WRITE), "PurchaseOrderDate"),
        field(
            "currencyKey",
            FieldType::String,
            fs(WRITE),
            "DocumentCurrency",
        )
        .note("the document currency (ISO code, e.g. EUR)"),
        field(
            "lineItems",
            FieldType::List,
            FieldFlags::READ.required(),
            "to_PurchaseOrderItem",
        )
        .items(items)
        .note(
            "created with the purchase order in one deep insert; read with $expand. Not \
                 updatable here: changing lines (PATCH A_PurchaseOrderItem, POST \
                 to_PurchaseOrderItem) is not offered by this adapter version",
        ),
        created_on(),
        updated_at(),
        field(
            "customFields",
            FieldType::Object,
            FieldFlags {
                read_list: true,
                ..REQUIRED
            },
            "CompanyCode, PurchaseOrderType, PurchasingOrganization, PurchasingGroup, Plant",
        )
        .note(
            "SAP fields without a unified counterpart: CompanyCode, PurchaseOrderType (e.g. NB), \
             PurchasingOrganization, PurchasingGroup and Plant (the plant of every line) are \
             required on create; Plant cannot be changed by an update",
        ),
        concurrency_token(),
    ];
    entity_info(
        Resource::PurchaseOrder,
        Support::Supported,
        Support::Supported,
        Support::Supported,
        Vec::new(),
        fields,
        &format!(
            "Purchase orders (API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder with \
             to_PurchaseOrderItem). Delete sets SAP's deletion indicator (L) on every item: the \
             purchase order stays readable with status cancelled. A purchase order whose release \
             is completed cannot be changed or deleted (unless its release indicator allows \
             changes): the adapter reports SAP's message as a conflict. No status action: the \
             API has no release function import. No title, site, due date or net total on the \
             header. {BATCH_NOTE}"
        ),
    )
}

fn inventory() -> EntityInfo {
    let read_only = "API_MATERIAL_STOCK_SRV is read-only (A_MatlStkInAcctMod is \
                     sap:creatable/updatable/deletable=\"false\"): stock changes are goods \
                     movements, posted through API_MATERIAL_DOCUMENT_SRV, which this adapter \
                     version does not cover";
    let fields = vec![
        field("key", FieldType::String, READ, "Material|Plant|StorageLocation|Batch|Supplier|Customer|WBSElementInternalID|SDDocument|SDDocumentItem|InventorySpecialStockType|InventoryStockType")
            .note("the eleven key values of the stock row joined by `|`; not filterable or sortable as a whole"),
        field("materialKey", FieldType::String, fs(READ), "Material")
            .note("the material number (materials are not a served entity); stock is read-only"),
        field("locationKey", FieldType::String, fs(READ), "Plant/StorageLocation").note(
            "plant and storage location as `1010/101A` (storage locations are not the functional \
             locations served as location); stock is read-only",
        ),
        field("quantity", FieldType::Decimal, fs(READ), "MatlWrhsStkQtyInMatlBaseUnit")
            .note("in the material's base unit; stock is read-only"),
        field("uomKey", FieldType::String, fs(READ), "MaterialBaseUnit")
            .note("the base unit of measure; stock is read-only"),
        field(
            "customFields",
            FieldType::Object,
            READ,
            "Batch, InventoryStockType, InventorySpecialStockType, Supplier, Customer, SDDocument, SDDocumentItem, WBSElementExternalID",
        )
        .note("the rest of the stock row's key and identification, by SAP name; read-only"),
    ];
    let mut info = entity_info(
        Resource::Inventory,
        Support::no(read_only),
        Support::no(read_only),
        Support::no(read_only),
        Vec::new(),
        fields,
        "Stock per material, plant, storage location, batch and stock type \
         (API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod), read-only.",
    );
    info.max_batch_size = 0;
    info
}

fn vendor() -> EntityInfo {
    let fields = vec![
        key("Supplier").note("the supplier number"),
        field("name", FieldType::String, fs(READ), "SupplierName")
            .note("suppliers are read-only in this adapter version"),
        field("isActive", FieldType::Boolean, READ.filterable(), "PurchasingIsBlocked, DeletionIndicator")
            .note("false when purchasing is blocked or the supplier is marked for deletion; read-only"),
        created_on(),
        field(
            "customFields",
            FieldType::Object,
            READ,
            "SupplierFullName, SupplierAccountGroup, PurchasingIsBlocked, PostingIsBlocked, DeletionIndicator",
        )
        .note("further supplier fields by SAP name; read-only"),
    ];
    let mut info = entity_info(
        Resource::Vendor,
        Support::no(
            "SAP API_BUSINESS_PARTNER: A_Supplier is sap:creatable=\"false\"; a supplier is \
             created as a business partner (POST A_BusinessPartner with to_Supplier), which \
             this adapter version does not offer",
        ),
        Support::no(
            "A_Supplier is updatable in SAP (PATCH), but this adapter version serves suppliers \
             read-only",
        ),
        Support::no(
            "SAP API_BUSINESS_PARTNER: A_Supplier is sap:deletable=\"false\"; suppliers are \
             blocked or marked for deletion (PurchasingIsBlocked, DeletionIndicator) instead",
        ),
        Vec::new(),
        fields,
        "Suppliers (API_BUSINESS_PARTNER/A_Supplier), read-only here.",
    );
    info.max_batch_size = 0;
    info.concurrency_token = false;
    info
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
        assert_eq!(info.system, "sap-s4hana");
        assert_eq!(info.auth, AuthScheme::Basic);
    }

    #[test]
    fn operations_follow_the_edmx_flags() {
        let info = adapter_info();
        let ops = |name: &str| {
            let e = info.entity(name).unwrap();
            [&e.list, &e.get, &e.create, &e.update, &e.delete].map(Support::is_supported)
        };
        assert_eq!(ops("work-order"), [true, true, true, true, false]);
        assert_eq!(ops("asset"), [true, true, true, true, false]);
        assert_eq!(ops("location"), [true, true, true, true, false]);
        assert_eq!(ops("purchase-order"), [true, true, true, true, true]);
        assert_eq!(ops("inventory"), [true, true, false, false, false]);
        assert_eq!(ops("vendor"), [true, true, false, false, false]);
        for name in ["material", "site", "user", "service-request"] {
            assert_eq!(ops(name), [false; 5], "{name}");
        }
        let wo = info.entity("work-order").unwrap();
        match &wo.delete {
            Support::Unsupported(reason) => {
                assert!(reason.contains("SetMaintOrdStsToMrkdForDeltn"))
            }
            Support::Supported => panic!("work orders are not deletable"),
        }
        assert!(wo.action("change-status").is_some());
        assert!(info.entity("purchase-order").unwrap().actions.is_empty());
        assert!(info.entity("work-order").unwrap().concurrency_token);
        assert!(!info.entity("inventory").unwrap().concurrency_token);
    }

    #[test]
    fn declarations_are_self_consistent() {
        for e in adapter_info()
            .entities
            .iter()
            .filter(|e| e.list.is_supported())
        {
            let mut seen = HashSet::new();
            assert!(e.field("key").is_some());
            for f in &e.fields {
                assert!(seen.insert(f.name.as_str()), "{}.{}", e.name, f.name);
                assert!(f.native_name.is_some());
                assert!(!f.flags.required_on_create || f.flags.creatable);
                assert!(
                    !f.flags.creatable || e.create.is_supported(),
                    "{}.{}",
                    e.name,
                    f.name
                );
                assert!(
                    !f.flags.updatable || e.update.is_supported(),
                    "{}.{}",
                    e.name,
                    f.name
                );
                if f.ty == FieldType::Enumeration {
                    assert!(!f.enum_values.is_empty());
                }
                if !f.flags.creatable && !f.flags.updatable && !matches!(f.name.as_str(), "key") {
                    assert!(
                        f.note.is_some(),
                        "{}.{} says why it is read-only",
                        e.name,
                        f.name
                    );
                }
            }
        }
    }
}
