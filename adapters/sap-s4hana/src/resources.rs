//! The SAP entity sets behind the unified entities: service, entity set, key predicate, ETag
//! and the `$expand` a read needs.

use plantwire_sdk::AdapterError;

use crate::odata::{datetime_literal, encode, string_literal};

/// `ValidityEndDate` of an equipment's current time segment (9999-12-31): the unified key of
/// an asset is the equipment number, and its current segment is the one addressed.
pub const EQUIPMENT_VALIDITY_END_MS: i64 = 253_402_214_400_000;

/// An SAP entity set serving one unified entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `work-order` ← `API_MAINTENANCEORDER/MaintenanceOrder`.
    WorkOrder,
    /// `asset` ← `API_EQUIPMENT/Equipment`.
    Asset,
    /// `purchase-order` ← `API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder` (+ items).
    PurchaseOrder,
    /// `inventory` ← `API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod`.
    Inventory,
    /// `location` ← `API_FUNCTIONALLOCATION/FunctionalLocation`.
    Location,
    /// `vendor` ← `API_BUSINESS_PARTNER/A_Supplier`.
    Vendor,
}

/// The services the adapter talks to.
pub const SERVICES: [&str; 6] = [
    "API_MAINTENANCEORDER",
    "API_EQUIPMENT",
    "API_PURCHASEORDER_PROCESS_SRV",
    "API_MATERIAL_STOCK_SRV",
    "API_FUNCTIONALLOCATION",
    "API_BUSINESS_PARTNER",
];

/// The key properties of `A_MatlStkInAcctMod`, in key order.
pub const STOCK_KEYS: [&str; 11] = [
    "Material",
    "Plant",
    "StorageLocation",
    "Batch",
    "Supplier",
    "Customer",
    "WBSElementInternalID",
    "SDDocument",
    "SDDocumentItem",
    "InventorySpecialStockType",
    "InventoryStockType",
];

impl Resource {
    pub const ALL: [Resource; 6] = [
        Resource::WorkOrder,
        Resource::Asset,
        Resource::PurchaseOrder,
        Resource::Inventory,
        Resource::Location,
        Resource::Vendor,
    ];

    /// The resource serving `entity`; others are `unsupported` with `describe()`'s reason.
    pub fn for_entity(entity: &str) -> Result<Resource, AdapterError> {
        if let Some(r) = Resource::ALL.into_iter().find(|r| r.entity() == entity) {
            return Ok(r);
        }
        let reason = crate::describe::unsupported_reason(entity).unwrap_or_else(|| {
            format!("`{entity}` is not a unified entity the SAP S/4HANA adapter knows")
        });
        Err(AdapterError::Unsupported(reason))
    }

    pub const fn entity(self) -> &'static str {
        match self {
            Resource::WorkOrder => "work-order",
            Resource::Asset => "asset",
            Resource::PurchaseOrder => "purchase-order",
            Resource::Inventory => "inventory",
            Resource::Location => "location",
            Resource::Vendor => "vendor",
        }
    }

    pub const fn service(self) -> &'static str {
        match self {
            Resource::WorkOrder => SERVICES[0],
            Resource::Asset => SERVICES[1],
            Resource::PurchaseOrder => SERVICES[2],
            Resource::Inventory => SERVICES[3],
            Resource::Location => SERVICES[4],
            Resource::Vendor => SERVICES[5],
        }
    }

    pub const fn set(self) -> &'static str {
        match self {
            Resource::WorkOrder => "MaintenanceOrder",
            Resource::Asset => "Equipment",
            Resource::PurchaseOrder => "A_PurchaseOrder",
            Resource::Inventory => "A_MatlStkInAcctMod",
            Resource::Location => "FunctionalLocation",
            Resource::Vendor => "A_Supplier",
        }
    }

    /// `SERVICE/EntitySet`, the native name in `describe()`.
    pub fn native_name(self) -> String {
        format!("{}/{}", self.service(), self.set())
    }

    /// `/SERVICE/EntitySet`.
    pub fn collection_path(self) -> String {
        format!("/{}/{}", self.service(), self.set())
    }

    /// `/SERVICE/` (the service document, where a CSRF token is fetched before a create).
    pub fn service_root(self) -> String {
        format!("/{}/", self.service())
    }

    /// The navigation property read along (`$expand`) so the unified record is complete.
    pub const fn expand(self) -> Option<&'static str> {
        match self {
            Resource::PurchaseOrder => Some("to_PurchaseOrderItem"),
            _ => None,
        }
    }

    /// Whether the entities carry an ETag (`__metadata.etag`), so updates take `If-Match`.
    pub const fn has_etag(self) -> bool {
        !matches!(self, Resource::Inventory | Resource::Vendor)
    }

    /// The longest key SAP accepts (`MaxLength` of the key property).
    const fn key_length(self) -> usize {
        match self {
            Resource::WorkOrder => 12,
            Resource::Asset => 18,
            Resource::PurchaseOrder | Resource::Vendor => 10,
            Resource::Location => 30,
            Resource::Inventory => 0,
        }
    }

    /// `/SERVICE/Set(<key predicate>)` for a unified key; a key that cannot be an SAP key is
    /// not found without a request.
    pub fn entity_path(self, key: &str) -> Result<String, AdapterError> {
        let not_found = || AdapterError::NotFound(format!("no {} has key `{key}`", self.entity()));
        let predicate = match self {
            Resource::Inventory => {
                let parts = stock_key_parts(key).ok_or_else(not_found)?;
                STOCK_KEYS
                    .iter()
                    .zip(parts.iter())
                    .map(|(k, v)| format!("{k}={}", string_literal(v)))
                    .collect::<Vec<_>>()
                    .join(",")
            }
            _ => {
                if key.is_empty()
                    || key.chars().count() > self.key_length()
                    || key.chars().any(|c| c.is_control())
                {
                    return Err(not_found());
                }
                if self == Resource::Asset {
                    format!(
                        "Equipment={},ValidityEndDate={}",
                        string_literal(key),
                        datetime_literal(EQUIPMENT_VALIDITY_END_MS).unwrap_or_default()
                    )
                } else {
                    string_literal(key)
                }
            }
        };
        Ok(format!(
            "/{}/{}({})",
            self.service(),
            self.set(),
            encode(&predicate)
        ))
    }
}

/// The unified key of a stock row: its eleven key values joined by `|` (`%` and `|` inside a
/// value percent-encoded).
pub fn stock_key(values: &[String]) -> String {
    values
        .iter()
        .map(|v| v.replace('%', "%25").replace('|', "%7C"))
        .collect::<Vec<_>>()
        .join("|")
}

/// The eleven key values of a unified stock key.
pub fn stock_key_parts(key: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = key
        .split('|')
        .map(|p| p.replace("%7C", "|").replace("%25", "%"))
        .collect();
    (parts.len() == STOCK_KEYS.len() && !parts[0].is_empty() && parts.iter().all(|p| p.len() <= 40))
        .then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_paths() {
        assert_eq!(
            Resource::WorkOrder.entity_path("4000001").unwrap(),
            "/API_MAINTENANCEORDER/MaintenanceOrder('4000001')"
        );
        assert_eq!(
            Resource::Asset.entity_path("10000001").unwrap(),
            "/API_EQUIPMENT/Equipment(Equipment='10000001',ValidityEndDate=datetime'9999-12-31T00:00:00')"
        );
        assert_eq!(
            Resource::Location.entity_path("1010-SP/A B").unwrap(),
            "/API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP%2FA%20B')"
        );
        assert_eq!(
            Resource::Location.entity_path("O'X").unwrap(),
            "/API_FUNCTIONALLOCATION/FunctionalLocation('O''X')"
        );
        assert!(Resource::WorkOrder.entity_path("1234567890123").is_err());
        assert!(Resource::WorkOrder.entity_path("").is_err());
        let key = stock_key(&[
            "TG11".into(),
            "1010".into(),
            "101A".into(),
            "".into(),
            "".into(),
            "".into(),
            "0".into(),
            "".into(),
            "0".into(),
            "".into(),
            "01".into(),
        ]);
        assert_eq!(key, "TG11|1010|101A||||0||0||01");
        let path = Resource::Inventory.entity_path(&key).unwrap();
        assert!(path.starts_with(
            "/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod(Material='TG11',Plant='1010'"
        ));
        assert!(Resource::Inventory.entity_path("TG11|1010").is_err());
        assert_eq!(
            stock_key_parts("A%7CB|1|||||||||")
                .map(|p| p[0].clone())
                .as_deref(),
            Some("A|B")
        );
    }
}
