//! The unified model (camelCase JSON): one struct per entity.
//!
//! Every record has `key`, Plantwire's stable id string; references are `<entity>Key`;
//! timestamps are RFC 3339 UTC strings; statuses are a normalized `status` plus the system's
//! own `nativeStatus`. Structs reject unknown fields when parsed, so a caller's typo is an
//! error instead of a silently dropped value. Absent fields are omitted, never invented.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AdapterError, FieldError};

/// Parses a caller's JSON record into a unified struct; unknown fields and wrong types become
/// `invalid` errors naming the field.
pub fn parse_record<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AdapterError> {
    serde_json::from_str(json).map_err(|e| {
        let message = e.to_string();
        // serde names the offending field in backticks: "unknown field `foo`, expected ..."
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| {
                message.starts_with("unknown field") || message.starts_with("missing field")
            })
            .unwrap_or("(record)")
            .to_owned();
        AdapterError::Invalid(vec![FieldError { field, message }])
    })
}

/// Serializes a unified struct to its JSON text.
pub fn to_json<T: Serialize>(record: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(record).unwrap_or_else(|_| "{}".to_owned())
}

macro_rules! unified {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }
    };
}

unified!(
    /// A work order.
    WorkOrder {
        key: String,
        title: String,
        description: String,
        /// Normalized: `open`, `in-progress`, `on-hold`, `completed`, `cancelled`.
        status: String,
        native_status: String,
        /// Normalized: `none`, `low`, `medium`, `high`, `urgent`.
        severity: String,
        asset_key: String,
        location_key: String,
        site_key: String,
        team_key: String,
        assignee_keys: Vec<String>,
        scheduled_at: String,
        due_at: String,
        completed_at: String,
        created_at: String,
        updated_at: String,
        custom_fields: Value,
        raw: Value,
    }
);

unified!(
    /// A physical asset (equipment).
    Asset {
        key: String,
        name: String,
        description: String,
        site_key: String,
        location_key: String,
        parent_key: String,
        serial_number: String,
        model_name: String,
        make_name: String,
        is_active: bool,
        status: String,
        native_status: String,
        created_at: String,
        updated_at: String,
        custom_fields: Value,
        raw: Value,
    }
);

unified!(
    /// One line of a purchase order.
    LineItem {
        key: String,
        line_no: i64,
        material_key: String,
        description: String,
        quantity: f64,
        uom_key: String,
        price: f64,
    }
);

unified!(
    /// A purchase order with its line items.
    PurchaseOrder {
        key: String,
        order_no: String,
        title: String,
        vendor_key: String,
        site_key: String,
        /// Normalized: `draft`, `pending`, `approved`, `declined`, `partially-received`,
        /// `received`, `cancelled`.
        status: String,
        native_status: String,
        order_date: String,
        due_at: String,
        currency_key: String,
        total_net_value: f64,
        line_items: Vec<LineItem>,
        created_at: String,
        updated_at: String,
        custom_fields: Value,
        raw: Value,
    }
);

unified!(
    /// A material (part, inventory item).
    Material {
        key: String,
        code: String,
        part_number: String,
        name: String,
        description: String,
        uom_key: String,
        unit_cost: f64,
        is_active: bool,
        created_at: String,
        updated_at: String,
        custom_fields: Value,
        raw: Value,
    }
);

unified!(
    /// Stock of one material at one location.
    Inventory {
        key: String,
        material_key: String,
        location_key: String,
        quantity: f64,
        unit_cost: f64,
        updated_at: String,
        raw: Value,
    }
);

unified!(
    /// A location, site, vendor or user: the shared shape of the smaller entities.
    Party {
        key: String,
        name: String,
        code: String,
        description: String,
        parent_key: String,
        site_key: String,
        email: String,
        phone: String,
        address: String,
        is_active: bool,
        created_at: String,
        updated_at: String,
        custom_fields: Value,
        raw: Value,
    }
);

/// A location record.
pub type Location = Party;
/// A site record.
pub type Site = Party;
/// A vendor record.
pub type Vendor = Party;
/// A user record.
pub type User = Party;

unified!(
    /// A request for maintenance work, before it becomes a work order.
    ServiceRequest {
        key: String,
        title: String,
        description: String,
        status: String,
        native_status: String,
        severity: String,
        asset_key: String,
        location_key: String,
        site_key: String,
        created_at: String,
        updated_at: String,
        raw: Value,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_invalid_and_name_the_field() {
        let err = parse_record::<WorkOrder>(r#"{"title":"x","titel":"y"}"#).unwrap_err();
        match err {
            AdapterError::Invalid(errors) => assert_eq!(errors[0].field, "titel"),
            other => unreachable!("unexpected {other:?}"),
        }
    }

    #[test]
    fn absent_fields_are_omitted() {
        let wo = WorkOrder {
            key: Some("7".into()),
            title: Some("Fix pump".into()),
            ..WorkOrder::default()
        };
        assert_eq!(to_json(&wo), r#"{"key":"7","title":"Fix pump"}"#);
    }

    #[test]
    fn wrong_types_are_invalid() {
        let err = parse_record::<PurchaseOrder>(r#"{"totalNetValue":"lots"}"#).unwrap_err();
        assert_eq!(err.kind(), "invalid");
    }
}
