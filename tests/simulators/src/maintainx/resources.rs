//! The seven MaintainX resources the simulator serves, and what the vendor's OpenAPI document
//! (`specs/maintainx-openapi.json`) says about each: URL segment, envelope keys, which fields a
//! list item carries, which a single record carries, which only appear with `expand=`, which
//! `sort=` values and filters exist, and what a create answers.
//!
//! Field lists are copied from the response schemas of `GET /<resource>` and
//! `GET /<resource>/{id}`. Fields the spec marks "(expand with query parameter)" are only sent
//! when the matching `expand` value is given.

/// One of the simulated resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    WorkOrder,
    Asset,
    Part,
    PurchaseOrder,
    Location,
    Vendor,
    User,
}

/// How `POST /<resource>` answers, per the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateReply {
    /// `200 {"id": n}` (work orders, locations).
    OkId,
    /// `201 {"id": n}` (assets, parts, vendors, users).
    CreatedId,
    /// `201` with the full record, unwrapped (purchase orders).
    CreatedRecord,
}

/// A field that only appears with a given `expand=` value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expand {
    /// The `expand` query value (`asset_extra_fields`).
    pub(crate) param: &'static str,
    /// The field it adds, or `None` for expands that only modify nested objects.
    pub(crate) field: Option<&'static str>,
}

const fn ex(param: &'static str, field: &'static str) -> Expand {
    Expand {
        param,
        field: Some(field),
    }
}

const fn ex_none(param: &'static str) -> Expand {
    Expand { param, field: None }
}

const WO_LIST_EXPANDS: &[Expand] = &[
    ex("thumbnail", "thumbnail"),
    ex("assignees", "assignees"),
    ex("categories", "categories"),
    ex("parts", "parts"),
    ex("asset", "asset"),
    ex("location", "location"),
    ex("procedure", "procedure"),
    ex("vendor_ids", "vendorIds"),
    ex("times", "times"),
    ex("time_items", "timeItems"),
    ex("expenditures", "expenditures"),
    ex("extra_fields", "extraFields"),
    ex_none("part_extra_fields"),
    ex_none("asset_extra_fields"),
    ex_none("location_extra_fields"),
    ex("estimated_time", "estimatedTime"),
];
const WO_GET_EXPANDS: &[Expand] = &[
    ex("assignees", "assignees"),
    ex("asset", "asset"),
    ex("estimated_time", "estimatedTime"),
    ex("location", "location"),
    ex("parts", "parts"),
    ex("times", "times"),
    ex("time_items", "timeItems"),
    ex("expenditures", "expenditures"),
    ex("extra_fields", "extraFields"),
    ex_none("part_extra_fields"),
    ex_none("asset_extra_fields"),
    ex_none("location_extra_fields"),
];
const ASSET_LIST_EXPANDS: &[Expand] = &[
    ex("barcode", "barcode"),
    ex("team_ids", "teamIds"),
    ex("asset_types", "assetTypes"),
    ex("extra_fields", "extraFields"),
    ex("vendor_ids", "vendorIds"),
    ex("depreciation", "depreciation"),
    ex("status", "status"),
    ex("manufacturer", "manufacturer"),
    ex("model", "model"),
];
const PART_LIST_EXPANDS: &[Expand] = &[ex("extra_fields", "extraFields"), ex("vendors", "vendors")];
const LOCATION_LIST_EXPANDS: &[Expand] = &[
    ex("extra_fields", "extraFields"),
    ex("team_ids", "teamIds"),
    ex("vendor_ids", "vendorIds"),
    ex("barcode", "barcode"),
];
const VENDOR_LIST_EXPANDS: &[Expand] = &[ex("extra_fields", "extraFields")];
const USER_LIST_EXPANDS: &[Expand] = &[ex("role", "role"), ex("extra_fields", "extraFields")];

/// Every kind, in seeding order (referenced kinds first).
pub(crate) const ALL: [Kind; 7] = [
    Kind::Location,
    Kind::User,
    Kind::Vendor,
    Kind::Asset,
    Kind::Part,
    Kind::PurchaseOrder,
    Kind::WorkOrder,
];

impl Kind {
    /// The URL segment (`workorders`), also the name used by `MaintainxSim::count`.
    pub(crate) const fn segment(self) -> &'static str {
        match self {
            Kind::WorkOrder => "workorders",
            Kind::Asset => "assets",
            Kind::Part => "parts",
            Kind::PurchaseOrder => "purchaseorders",
            Kind::Location => "locations",
            Kind::Vendor => "vendors",
            Kind::User => "users",
        }
    }

    /// Looks a kind up by URL segment (case-insensitive) or by its list key (`workOrders`).
    pub(crate) fn parse(name: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| {
            k.segment().eq_ignore_ascii_case(name) || k.list_key().eq_ignore_ascii_case(name)
        })
    }

    /// The array key of a list response (`workOrders`).
    pub(crate) const fn list_key(self) -> &'static str {
        match self {
            Kind::WorkOrder => "workOrders",
            Kind::Asset => "assets",
            Kind::Part => "parts",
            Kind::PurchaseOrder => "purchaseOrders",
            Kind::Location => "locations",
            Kind::Vendor => "vendors",
            Kind::User => "users",
        }
    }

    /// The wrapper key of a single-record response (`workOrder`).
    pub(crate) const fn single_key(self) -> &'static str {
        match self {
            Kind::WorkOrder => "workOrder",
            Kind::Asset => "asset",
            Kind::Part => "part",
            Kind::PurchaseOrder => "purchaseOrder",
            Kind::Location => "location",
            Kind::Vendor => "vendor",
            Kind::User => "user",
        }
    }

    /// The noun used in the vendor's "… Not Found" messages for writes.
    pub(crate) const fn not_found_noun(self) -> &'static str {
        match self {
            Kind::WorkOrder => "Work Order",
            Kind::Asset => "asset",
            Kind::Part => "part",
            Kind::PurchaseOrder => "Purchase Order",
            Kind::Location => "location",
            Kind::Vendor => "vendor",
            Kind::User => "user",
        }
    }

    /// The noun used in the vendor's `DELETE` "… Not Found" messages.
    pub(crate) const fn delete_noun(self) -> &'static str {
        match self {
            Kind::WorkOrder => "workOrder",
            Kind::Asset => "asset",
            Kind::Part => "part",
            Kind::PurchaseOrder => "purchaseOrder",
            Kind::Location => "location",
            Kind::Vendor => "vendor",
            Kind::User => "user",
        }
    }

    /// How a create answers.
    pub(crate) const fn create_reply(self) -> CreateReply {
        match self {
            Kind::WorkOrder | Kind::Location => CreateReply::OkId,
            Kind::PurchaseOrder => CreateReply::CreatedRecord,
            Kind::Asset | Kind::Part | Kind::Vendor | Kind::User => CreateReply::CreatedId,
        }
    }

    /// The first id handed out for this kind (seeded records get `base + 1 ..`).
    pub(crate) const fn id_base(self) -> u64 {
        match self {
            Kind::Location => 1_000,
            Kind::User => 20_000,
            Kind::Vendor => 30_000,
            Kind::Asset => 100_000,
            Kind::Part => 200_000,
            Kind::PurchaseOrder => 300_000,
            Kind::WorkOrder => 1_000_000,
        }
    }

    /// `true` if the resource has a `PATCH /{id}/status` endpoint.
    pub(crate) const fn has_status_endpoint(self) -> bool {
        matches!(self, Kind::WorkOrder | Kind::PurchaseOrder)
    }

    /// `true` if records carry `createdAt` / `updatedAt` (vendors and users do not, per spec).
    pub(crate) const fn has_timestamps(self) -> bool {
        !matches!(self, Kind::Vendor | Kind::User)
    }

    /// Fields of a list item sent without any `expand`.
    pub(crate) const fn list_fields(self) -> &'static [&'static str] {
        match self {
            Kind::WorkOrder => &[
                "id",
                "sequentialId",
                "title",
                "updatedAt",
                "status",
                "completedAt",
                "completerId",
                "createdAt",
                "creatorId",
                "deletedAt",
                "description",
                "dueDate",
                "dueDateIsFullDay",
                "lastMessageSentAt",
                "startDate",
                "locationId",
                "nextId",
                "organizationId",
                "partsAvailability",
                "partStatus",
                "previousId",
                "priority",
                "recurrenceInfo",
                "requesterId",
                "type",
                "workOrderSummary",
            ],
            Kind::Asset => &[
                "id",
                "name",
                "description",
                "parentId",
                "criticalityId",
                "locationId",
                "serialNumber",
                "createdAt",
                "updatedAt",
                "creatorId",
                "organizationId",
            ],
            Kind::Part => &[
                "id",
                "name",
                "description",
                "barcode",
                "locationId",
                "locations",
                "area",
                "unitCost",
                "availableQuantity",
                "minimumQuantity",
                "orderedQuantity",
                "reservedQuantity",
                "partTypes",
                "createdAt",
                "updatedAt",
                "inStockQuantity",
                "committedQuantities",
                "assignedQuantity",
                "maximumQuantity",
                "organizationId",
            ],
            // The spec's list item for purchase orders really is this small.
            Kind::PurchaseOrder => &["id", "status", "updatedAt", "createdAt"],
            Kind::Location => &[
                "id",
                "name",
                "description",
                "address",
                "parentId",
                "createdAt",
                "updatedAt",
                "organizationId",
            ],
            Kind::Vendor => &["id", "name"],
            Kind::User => &[
                "id",
                "firstName",
                "lastName",
                "email",
                "phoneNumber",
                "authType",
                "hourlyRate",
                "lastVisitedAt",
            ],
        }
    }

    /// `expand` values accepted on the list endpoint and what they add.
    pub(crate) const fn list_expands(self) -> &'static [Expand] {
        match self {
            Kind::WorkOrder => WO_LIST_EXPANDS,
            Kind::Asset => ASSET_LIST_EXPANDS,
            Kind::Part => PART_LIST_EXPANDS,
            Kind::PurchaseOrder => &[],
            Kind::Location => LOCATION_LIST_EXPANDS,
            Kind::Vendor => VENDOR_LIST_EXPANDS,
            Kind::User => USER_LIST_EXPANDS,
        }
    }

    /// Fields of a single record (`GET /{id}`, `PATCH` replies) sent without any `expand`.
    pub(crate) const fn get_fields(self) -> &'static [&'static str] {
        match self {
            Kind::WorkOrder => &[
                "id",
                "sequentialId",
                "assetId",
                "attachments",
                "categories",
                "completedAt",
                "completerId",
                "createdAt",
                "creatorId",
                "deletedAt",
                "description",
                "dueDateIsFullDay",
                "dueDate",
                "externalData",
                "isParent",
                "lastMessageSentAt",
                "startDate",
                "locationId",
                "nextId",
                "organizationId",
                "parentId",
                "partsAvailability",
                "partStatus",
                "previousId",
                "priority",
                "recurrenceInfo",
                "requesterId",
                "status",
                "thumbnail",
                "title",
                "type",
                "updatedAt",
                "vendorIds",
                "assigneeIds",
                "teamIds",
                "procedure",
                "progress",
                "workOrderSummary",
            ],
            Kind::Asset => &[
                "id",
                "name",
                "globalUuid",
                "currentOwnerId",
                "barcode",
                "description",
                "criticalityId",
                "teamIds",
                "assetTypes",
                "parentId",
                "childrenIds",
                "locationId",
                "serialNumber",
                "thumbnail",
                "attachments",
                "extraFields",
                "vendorIds",
                "createdAt",
                "updatedAt",
                "deletedAt",
                "creatorId",
                "depreciation",
                "manufacturer",
                "model",
                "status",
            ],
            Kind::Part => &[
                "id",
                "name",
                "description",
                "area",
                "unitCost",
                "availableQuantity",
                "inStockQuantity",
                "minimumQuantity",
                "barcode",
                "locationId",
                "locations",
                "partTypes",
                "assetIds",
                "teamIds",
                "extraFields",
                "vendors",
                "orderedQuantity",
                "reservedQuantity",
                "committedQuantities",
                "assignedQuantity",
                "maximumQuantity",
                "vendorIds",
                "thumbnail",
                "attachments",
                "createdAt",
                "updatedAt",
                "deletedAt",
            ],
            Kind::PurchaseOrder => &[
                "id",
                "note",
                "title",
                "reviewNote",
                "status",
                "dueDate",
                "creatorId",
                "vendorId",
                "autoGeneratedNumber",
                "overrideNumber",
                "approverId",
                "approvalDate",
                "createdAt",
                "updatedAt",
                "deletedAt",
                "items",
                "costs",
                "thumbnail",
                "attachments",
                "vendorContactIds",
                "shippingAddress",
                "billingAddress",
                "extraFields",
            ],
            Kind::Location => &[
                "id",
                "name",
                "description",
                "address",
                "barcode",
                "parentId",
                "childrenIds",
                "thumbnail",
                "attachments",
                "extraFields",
                "teamIds",
                "vendorIds",
                "createdAt",
                "updatedAt",
                "deletedAt",
            ],
            Kind::Vendor => &[
                "id",
                "name",
                "emails",
                "phoneNumbers",
                "description",
                "thumbnail",
                "attachments",
                "contactIds",
                "deletedAt",
                "extraFields",
            ],
            Kind::User => &[
                "id",
                "firstName",
                "lastName",
                "role",
                "customRole",
                "email",
                "phoneNumber",
                "removedFromOrganization",
                "authType",
                "hourlyRate",
                "externalData",
                "extraFields",
                "lastVisitedAt",
            ],
        }
    }

    /// `expand` values accepted on `GET /{id}` (and `PATCH /{id}`); only work orders have any.
    pub(crate) const fn get_expands(self) -> &'static [Expand] {
        match self {
            Kind::WorkOrder => WO_GET_EXPANDS,
            _ => &[],
        }
    }

    /// Accepted `sort` values (without the `-` prefix); empty when the list takes no `sort`.
    pub(crate) const fn sorts(self) -> &'static [&'static str] {
        match self {
            Kind::WorkOrder => &[
                "updatedAt",
                "createdAt",
                "dueDate",
                "startedAt",
                "completedAt",
            ],
            Kind::Asset | Kind::Part | Kind::PurchaseOrder => &["id", "createdAt", "updatedAt"],
            Kind::Location | Kind::Vendor | Kind::User => &[],
        }
    }

    /// `true` if the list takes `updatedAt[gte|lte]` / `createdAt[gte|lte]`.
    pub(crate) const fn has_date_filters(self) -> bool {
        matches!(
            self,
            Kind::WorkOrder | Kind::Asset | Kind::Part | Kind::PurchaseOrder
        )
    }
}

/// Work order statuses a record can have.
pub(crate) const WO_STATUSES: &[&str] = &[
    "OPEN",
    "IN_PROGRESS",
    "ON_HOLD",
    "DONE",
    "CANCELED",
    "SKIPPED",
];
/// Work order statuses `PATCH /workorders/{id}/status` accepts (no `SKIPPED`).
pub(crate) const WO_SETTABLE_STATUSES: &[&str] =
    &["OPEN", "IN_PROGRESS", "ON_HOLD", "DONE", "CANCELED"];
/// Work order priorities.
pub(crate) const WO_PRIORITIES: &[&str] = &["NONE", "LOW", "MEDIUM", "HIGH"];
/// Work order types a create or update may set (`CYCLE_COUNT` is read-only).
pub(crate) const WO_WRITABLE_TYPES: &[&str] = &["OTHER", "REACTIVE", "PREVENTIVE"];
/// Work order part statuses (list filter `partStatuses`).
pub(crate) const WO_PART_STATUSES: &[&str] = &[
    "NO_PARTS", "ASSIGNED", "RESERVED", "KITTED", "STAGED", "ISSUED",
];
/// Work order hierarchy filter values (`parentSubWorkOrderTypes`).
pub(crate) const WO_HIERARCHY_TYPES: &[&str] = &["PARENT", "SUB_WORK_ORDER", "STANDALONE"];
/// Purchase order statuses `PATCH /purchaseorders/{id}/status` accepts.
pub(crate) const PO_SETTABLE_STATUSES: &[&str] = &[
    "APPROVED",
    "CANCELED",
    "COMPLETED",
    "DECLINED",
    "PARTIALLY_FULFILLED",
    "PENDING",
];
/// Purchase order cost types.
pub(crate) const PO_COST_TYPES: &[&str] =
    &["AMOUNT_NON_TAXABLE", "AMOUNT_TAXABLE", "PERCENT_TAXABLE"];
/// User roles.
pub(crate) const USER_ROLES: &[&str] = &[
    "ADMIN",
    "MEMBER",
    "OPERATOR",
    "REQUESTER",
    "SERVICE_ACCOUNT",
];
/// User authentication types.
pub(crate) const USER_AUTH_TYPES: &[&str] = &["NORMAL", "SAML", "OIDC"];
/// User invitation types (create only).
pub(crate) const USER_INVITE_TYPES: &[&str] = &["ALL", "EMAIL", "SMS", "NONE"];

/// Purchase order status transitions documented on `PATCH /purchaseorders/{id}/status`.
///
/// "APPROVED → start receiving items" is read as APPROVED → PARTIALLY_FULFILLED | COMPLETED,
/// since receiving is what moves an approved order to those states.
pub(crate) fn po_transition_allowed(from: &str, to: &str) -> bool {
    let allowed: &[&str] = match from {
        "REQUESTED" => &["CANCELED", "DECLINED", "PENDING"],
        "PENDING" => &["APPROVED", "CANCELED", "DECLINED"],
        "DECLINED" => &["CANCELED", "PENDING"],
        "APPROVED" => &["CANCELED", "PARTIALLY_FULFILLED", "COMPLETED"],
        "PARTIALLY_FULFILLED" => &["COMPLETED"],
        "COMPLETED" => &["PARTIALLY_FULFILLED"],
        _ => &[],
    };
    allowed.contains(&to)
}
