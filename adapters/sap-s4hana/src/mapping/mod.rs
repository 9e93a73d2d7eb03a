//! The pure mapping core: SAP OData V2 JSON ⇄ unified JSON, no I/O.
//!
//! * [`read`]: one SAP entity → one unified record. `/Date(ms)/` becomes RFC 3339 UTC (or
//!   `YYYY-MM-DD` for a date), decimal strings become numbers only when the number keeps every
//!   digit, SAP's empty strings (initial values) are left out, statuses are translated with the
//!   native value kept beside.
//! * [`write`]: a caller's unified record → the SAP request body, checked field by field
//!   against `describe()` (unknown, read-only or create-only fields, wrong types, missing
//!   required fields are `invalid`, naming the field), with lengths, decimal places and dates
//!   checked so that nothing is silently cut or rounded.
//!
//! Field by field, per entity (`customFields` carries SAP fields without a unified
//! counterpart, by their SAP names, and the customer's extension fields `YY1_…` / `ZZ1_…`,
//! read-only):
//!
//! | unified | work-order (`MaintenanceOrder`) | asset (`Equipment`) | location (`FunctionalLocation`) |
//! |---|---|---|---|
//! | key | MaintenanceOrder | Equipment | FunctionalLocation |
//! | title / name | MaintenanceOrderDesc | EquipmentName | FunctionalLocationName |
//! | status | SystemStatusText | EquipmentIsInactive, …MarkedForDeletion | FuncnlLocIsDeactivated, …MarkedForDeletion |
//! | severity | MaintPriority | | |
//! | assetKey / parentKey | Equipment | SuperordinateEquipment | SuperiorFunctionalLocation |
//! | locationKey | FunctionalLocation | FunctionalLocation (read-only) | |
//! | siteKey | MaintenancePlanningPlant | MaintenancePlant | MaintenancePlant |
//! | teamKey | MainWorkCenter | | |
//! | scheduledAt / dueAt | MaintOrdBasicStartDateTime / …EndDateTime | | |
//! | createdAt / updatedAt | MaintOrderCreationDateTime / LastChangeDateTime | CreationDate / LastChangeDateTime | CreationDate / LastChangeDateTime |
//!
//! Purchase orders: key and orderNo ← PurchaseOrder, vendorKey ← Supplier, orderDate ←
//! PurchaseOrderDate, currencyKey ← DocumentCurrency, status ← PurchasingProcessingStatus and
//! the deletion indicator, lineItems ← to_PurchaseOrderItem (key/lineNo ← PurchaseOrderItem,
//! materialKey ← Material, description ← PurchaseOrderItemText, quantity ← OrderQuantity, uomKey
//! ← PurchaseOrderQuantityUnit, price ← NetPriceAmount). Inventory: key ← the eleven key values,
//! materialKey ← Material, locationKey ← Plant/StorageLocation, quantity ←
//! MatlWrhsStkQtyInMatlBaseUnit, uomKey ← MaterialBaseUnit. Vendors: key ← Supplier, name ←
//! SupplierName, isActive ← not (PurchasingIsBlocked or DeletionIndicator).

pub mod read;
pub mod write;

use crate::resources::Resource;

/// Work order statuses: unified value, SAP system status (first match in the status line by
/// priority: DLFL, LKD, CLSD, TECO, REL, CRTD).
pub const WO_STATUSES: &[(&str, &str)] = &[
    ("open", "CRTD"),
    ("in-progress", "REL"),
    ("on-hold", "LKD"),
    ("completed", "TECO"),
    ("completed", "CLSD"),
    ("cancelled", "DLFL"),
];

/// Targets of a work order's change-status: unified value, what SAP does.
pub const WO_TARGETS: &[(&str, &str)] = &[
    (
        "open",
        "ResetMaintOrdStsMrkdForDeltn / SetMaintOrderStatusToUnlocked",
    ),
    (
        "in-progress",
        "ReleaseMaintenanceOrder / ResetMaintOrdStsTechCompleted",
    ),
    ("on-hold", "SetMaintOrderStatusToLocked"),
    (
        "completed",
        "SetMaintOrdToTechCompleted / ResetMaintOrderStatusClosed",
    ),
    ("closed", "SetMaintOrderStatusToClosed"),
    ("cancelled", "SetMaintOrdStsToMrkdForDeltn"),
];

/// Priorities of the standard PM priority type.
pub const PRIORITIES: &[(&str, &str)] = &[
    ("urgent", "1"),
    ("high", "2"),
    ("medium", "3"),
    ("low", "4"),
];

/// Equipment statuses: unified, SAP system status (none for an active object).
pub const ASSET_STATUSES: &[(&str, &str)] = &[
    ("active", ""),
    ("inactive", "INAC"),
    ("marked-for-deletion", "DLFL"),
];

/// Functional location statuses (same codes as equipment).
pub const LOCATION_STATUSES: &[(&str, &str)] = ASSET_STATUSES;

/// Targets of an equipment's or functional location's change-status.
pub const ASSET_TARGETS: &[(&str, &str)] = &[
    ("active", "reset INAC or DLFL"),
    ("inactive", "set INAC"),
    ("marked-for-deletion", "set DLFL"),
];

/// Purchase order statuses from `PurchasingProcessingStatus` (domain MEPROCSTATE) and the
/// deletion indicator `L`.
pub const PO_STATUSES: &[(&str, &str)] = &[
    ("draft", "01"),
    ("approved", "02"),
    ("pending", "03"),
    ("pending", "04"),
    ("approved", "05"),
    ("declined", "08"),
    ("cancelled", "L"),
];

/// How a field's value is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// `Edm.String` with `MaxLength`.
    Text(usize),
    /// `Edm.DateTimeOffset` ⇄ RFC 3339.
    Timestamp,
    /// `Edm.DateTime` (a date) read as a timestamp at midnight UTC.
    DateAsTimestamp,
    /// `Edm.DateTime` (a date) ⇄ `YYYY-MM-DD`.
    Date,
    /// `Edm.Decimal(precision, scale)` ⇄ number.
    Decimal(u32, u32),
    /// A string code ⇄ unified enum value.
    Enum(&'static [(&'static str, &'static str)]),
}

/// A unified field mapped one-to-one onto an SAP property.
#[derive(Debug, Clone, Copy)]
pub struct Simple {
    pub field: &'static str,
    pub native: &'static str,
    pub conv: Conv,
}

const fn simple(field: &'static str, native: &'static str, conv: Conv) -> Simple {
    Simple {
        field,
        native,
        conv,
    }
}

const WORK_ORDER: &[Simple] = &[
    simple("title", "MaintenanceOrderDesc", Conv::Text(40)),
    simple("severity", "MaintPriority", Conv::Enum(PRIORITIES)),
    simple("assetKey", "Equipment", Conv::Text(18)),
    simple("locationKey", "FunctionalLocation", Conv::Text(30)),
    simple("siteKey", "MaintenancePlanningPlant", Conv::Text(4)),
    simple("teamKey", "MainWorkCenter", Conv::Text(8)),
    simple("scheduledAt", "MaintOrdBasicStartDateTime", Conv::Timestamp),
    simple("dueAt", "MaintOrdBasicEndDateTime", Conv::Timestamp),
    simple("createdAt", "MaintOrderCreationDateTime", Conv::Timestamp),
    simple("updatedAt", "LastChangeDateTime", Conv::Timestamp),
];

const ASSET: &[Simple] = &[
    simple("name", "EquipmentName", Conv::Text(40)),
    simple("siteKey", "MaintenancePlant", Conv::Text(4)),
    simple("locationKey", "FunctionalLocation", Conv::Text(30)),
    simple("parentKey", "SuperordinateEquipment", Conv::Text(18)),
    simple("serialNumber", "ManufacturerSerialNumber", Conv::Text(30)),
    simple("modelName", "ManufacturerPartTypeName", Conv::Text(20)),
    simple("makeName", "AssetManufacturerName", Conv::Text(30)),
    simple("createdAt", "CreationDate", Conv::DateAsTimestamp),
    simple("updatedAt", "LastChangeDateTime", Conv::Timestamp),
];

const LOCATION: &[Simple] = &[
    simple("code", "FunctionalLocation", Conv::Text(30)),
    simple("name", "FunctionalLocationName", Conv::Text(40)),
    simple("parentKey", "SuperiorFunctionalLocation", Conv::Text(30)),
    simple("siteKey", "MaintenancePlant", Conv::Text(4)),
    simple("createdAt", "CreationDate", Conv::DateAsTimestamp),
    simple("updatedAt", "LastChangeDateTime", Conv::Timestamp),
];

const PURCHASE_ORDER: &[Simple] = &[
    simple("orderNo", "PurchaseOrder", Conv::Text(10)),
    simple("vendorKey", "Supplier", Conv::Text(10)),
    simple("orderDate", "PurchaseOrderDate", Conv::Date),
    simple("currencyKey", "DocumentCurrency", Conv::Text(5)),
    simple("createdAt", "CreationDate", Conv::DateAsTimestamp),
    simple("updatedAt", "LastChangeDateTime", Conv::Timestamp),
];

const INVENTORY: &[Simple] = &[
    simple("materialKey", "Material", Conv::Text(40)),
    simple(
        "quantity",
        "MatlWrhsStkQtyInMatlBaseUnit",
        Conv::Decimal(31, 14),
    ),
    simple("uomKey", "MaterialBaseUnit", Conv::Text(3)),
];

const VENDOR: &[Simple] = &[
    simple("name", "SupplierName", Conv::Text(80)),
    simple("createdAt", "CreationDate", Conv::DateAsTimestamp),
];

/// The one-to-one fields of each entity.
pub fn simple_fields(res: Resource) -> &'static [Simple] {
    match res {
        Resource::WorkOrder => WORK_ORDER,
        Resource::Asset => ASSET,
        Resource::Location => LOCATION,
        Resource::PurchaseOrder => PURCHASE_ORDER,
        Resource::Inventory => INVENTORY,
        Resource::Vendor => VENDOR,
    }
}

/// The SAP properties each entity accepts under `customFields`: (name, max length, required on
/// create, updatable).
pub fn custom_fields(res: Resource) -> &'static [(&'static str, usize, bool, bool)] {
    match res {
        Resource::WorkOrder => &[
            ("MaintenanceOrderType", 4, true, false),
            ("MaintenanceActivityType", 3, false, true),
            ("MaintenancePlant", 4, false, true),
            ("MainWorkCenterPlant", 4, false, true),
        ],
        Resource::Asset => &[
            ("EquipmentCategory", 1, true, true),
            ("TechnicalObjectType", 10, false, true),
            ("MaintenancePlanningPlant", 4, false, true),
        ],
        Resource::Location => &[
            ("FunctionalLocationCategory", 1, true, true),
            ("FuncLocationStructure", 5, true, true),
            ("MaintenancePlanningPlant", 4, false, true),
        ],
        Resource::PurchaseOrder => &[
            ("CompanyCode", 4, true, true),
            ("PurchaseOrderType", 4, true, true),
            ("PurchasingOrganization", 4, true, true),
            ("PurchasingGroup", 3, true, true),
            ("Plant", 4, true, false),
        ],
        Resource::Inventory => &[
            ("Batch", 10, false, false),
            ("InventoryStockType", 2, false, false),
            ("InventorySpecialStockType", 1, false, false),
            ("Supplier", 10, false, false),
            ("Customer", 10, false, false),
            ("SDDocument", 10, false, false),
            ("SDDocumentItem", 6, false, false),
            ("WBSElementExternalID", 24, false, false),
        ],
        Resource::Vendor => &[
            ("SupplierFullName", 220, false, false),
            ("SupplierAccountGroup", 4, false, false),
            ("PurchasingIsBlocked", 0, false, false),
            ("PostingIsBlocked", 0, false, false),
            ("DeletionIndicator", 0, false, false),
        ],
    }
}

/// The unified field an SAP property of `res` is reported under (for SAP's
/// `errordetails.propertyref`).
pub fn unified_field(res: Resource, native: &str) -> Option<String> {
    if let Some(s) = simple_fields(res).iter().find(|s| s.native == native) {
        return Some(s.field.to_owned());
    }
    if custom_fields(res).iter().any(|(n, ..)| *n == native) || crate::query::is_extension(native) {
        return Some(format!("customFields.{native}"));
    }
    match (res, native) {
        (Resource::PurchaseOrder, "Material") => Some("lineItems.materialKey".to_owned()),
        (Resource::PurchaseOrder, "PurchaseOrderItemText") => {
            Some("lineItems.description".to_owned())
        }
        (Resource::PurchaseOrder, "OrderQuantity") => Some("lineItems.quantity".to_owned()),
        (Resource::PurchaseOrder, "NetPriceAmount") => Some("lineItems.price".to_owned()),
        (Resource::PurchaseOrder, "PurchaseOrderQuantityUnit") => {
            Some("lineItems.uomKey".to_owned())
        }
        (Resource::PurchaseOrder, "PurchaseOrderItem") => Some("lineItems.lineNo".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe;

    #[test]
    fn every_mapped_field_is_declared_and_every_declared_field_is_mapped() {
        let specials = [
            "key",
            "status",
            "nativeStatus",
            "isActive",
            "customFields",
            "concurrencyToken",
            "lineItems",
            "locationKey",
        ];
        for res in Resource::ALL {
            let decl = describe::entity(res);
            for s in simple_fields(res) {
                assert!(
                    decl.field(s.field).is_some(),
                    "{}.{} is declared",
                    res.entity(),
                    s.field
                );
            }
            for f in &decl.fields {
                let mapped = simple_fields(res).iter().any(|s| s.field == f.name)
                    || specials.contains(&f.name.as_str());
                assert!(mapped, "{}.{} is mapped", res.entity(), f.name);
            }
        }
        assert_eq!(
            unified_field(Resource::WorkOrder, "MaintenanceOrderDesc").as_deref(),
            Some("title")
        );
        assert_eq!(
            unified_field(Resource::PurchaseOrder, "CompanyCode").as_deref(),
            Some("customFields.CompanyCode")
        );
        assert_eq!(unified_field(Resource::Asset, "Nope"), None);
    }
}
