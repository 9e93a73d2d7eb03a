//! The seven MaintainX REST resources this adapter serves and how each one is shaped on the
//! wire: URL path, envelope keys, the `expand=` values the adapter asks for, and what a
//! `POST` answers. Everything here is copied from the vendor's OpenAPI document
//! (`GET /<resource>` and `GET /<resource>/{id}` response schemas).

use plantwire_sdk::AdapterError;

/// A MaintainX resource backing one unified entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `work-order` ← `/workorders`.
    WorkOrder,
    /// `asset` ← `/assets`.
    Asset,
    /// `purchase-order` ← `/purchaseorders`.
    PurchaseOrder,
    /// `material` ← `/parts`.
    Part,
    /// `location` ← `/locations`.
    Location,
    /// `vendor` ← `/vendors`.
    Vendor,
    /// `user` ← `/users`.
    User,
}

/// How a `POST /<resource>` answers, per the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateReply {
    /// Only `{"id": n}` (status 200 for work orders and locations, 201 for assets, parts,
    /// vendors and users): the adapter reads the record back with a `GET`.
    IdOnly,
    /// `201` with the whole record, not wrapped (purchase orders).
    Record,
}

impl Resource {
    /// Every served resource, in the order of the unified entities.
    pub const ALL: [Resource; 7] = [
        Resource::WorkOrder,
        Resource::Asset,
        Resource::PurchaseOrder,
        Resource::Part,
        Resource::Location,
        Resource::Vendor,
        Resource::User,
    ];

    /// The resource serving unified entity `entity`; entities MaintainX cannot serve are
    /// `unsupported` with the reason `describe()` gives.
    pub fn for_entity(entity: &str) -> Result<Resource, AdapterError> {
        if let Some(res) = Resource::ALL.into_iter().find(|r| r.entity() == entity) {
            return Ok(res);
        }
        let reason = crate::describe::unsupported_reason(entity).unwrap_or_else(|| {
            format!("`{entity}` is not a unified entity the MaintainX adapter knows")
        });
        Err(AdapterError::Unsupported(reason))
    }

    /// The unified entity name.
    pub const fn entity(self) -> &'static str {
        match self {
            Resource::WorkOrder => "work-order",
            Resource::Asset => "asset",
            Resource::PurchaseOrder => "purchase-order",
            Resource::Part => "material",
            Resource::Location => "location",
            Resource::Vendor => "vendor",
            Resource::User => "user",
        }
    }

    /// The URL segment, also the entity's native name in `describe()`.
    pub const fn segment(self) -> &'static str {
        match self {
            Resource::WorkOrder => "workorders",
            Resource::Asset => "assets",
            Resource::PurchaseOrder => "purchaseorders",
            Resource::Part => "parts",
            Resource::Location => "locations",
            Resource::Vendor => "vendors",
            Resource::User => "users",
        }
    }

    /// The collection path (`/workorders`).
    pub fn path(self) -> String {
        format!("/{}", self.segment())
    }

    /// The path of one record (`/workorders/42`).
    pub fn record_path(self, id: u64) -> String {
        format!("/{}/{id}", self.segment())
    }

    /// The array key of a list response (`workOrders`).
    pub const fn list_key(self) -> &'static str {
        match self {
            Resource::WorkOrder => "workOrders",
            Resource::Asset => "assets",
            Resource::PurchaseOrder => "purchaseOrders",
            Resource::Part => "parts",
            Resource::Location => "locations",
            Resource::Vendor => "vendors",
            Resource::User => "users",
        }
    }

    /// The wrapper key of a single-record response (`workOrder`).
    pub const fn single_key(self) -> &'static str {
        match self {
            Resource::WorkOrder => "workOrder",
            Resource::Asset => "asset",
            Resource::PurchaseOrder => "purchaseOrder",
            Resource::Part => "part",
            Resource::Location => "location",
            Resource::Vendor => "vendor",
            Resource::User => "user",
        }
    }

    /// `expand=` values `GET /<resource>` may send, each with the unified fields it serves:
    /// the spec's list items lack those fields unless expanded. A list asks for an expansion
    /// when the caller selected every field or one it serves.
    pub const fn list_expands(self) -> &'static [(&'static str, &'static [&'static str])] {
        /// Custom fields (`extraFields`) come with `expand=extra_fields` in every list but the
        /// purchase orders' (whose list item is only id, status and times).
        const EXTRA: (&str, &[&str]) = ("extra_fields", &["customFields"]);
        match self {
            Resource::WorkOrder => &[
                ("asset", &["assetKey"]),
                ("assignees", &["teamKey", "assigneeKeys"]),
                EXTRA,
            ],
            Resource::Asset => &[
                ("manufacturer", &["makeName"]),
                ("model", &["modelName"]),
                ("status", &["status", "nativeStatus"]),
                EXTRA,
            ],
            Resource::Part => &[("vendors", &["partNumber"]), EXTRA],
            Resource::Location | Resource::Vendor | Resource::User => &[EXTRA],
            Resource::PurchaseOrder => &[],
        }
    }

    /// Other fixed query parameters of `GET /<resource>`.
    pub const fn list_params(self) -> &'static [(&'static str, &'static str)] {
        match self {
            // Without it MaintainX hides work orders whose start date is still ahead.
            Resource::WorkOrder => &[("show_upcoming", "true")],
            _ => &[],
        }
    }

    /// `expand=` values sent on `GET /<resource>/{id}` and `PATCH /<resource>/{id}` (only work
    /// orders take any; the other resources return custom fields unasked).
    pub const fn get_expands(self) -> &'static [&'static str] {
        match self {
            Resource::WorkOrder => &["extra_fields"],
            _ => &[],
        }
    }

    /// How `POST /<resource>` answers.
    pub const fn create_reply(self) -> CreateReply {
        match self {
            Resource::PurchaseOrder => CreateReply::Record,
            _ => CreateReply::IdOnly,
        }
    }

    /// Whether the resource has a `PATCH /<resource>/{id}/status` endpoint (the
    /// `change-status` action).
    pub const fn has_status_endpoint(self) -> bool {
        matches!(self, Resource::WorkOrder | Resource::PurchaseOrder)
    }
}

/// Appends `expand=` parameters to a path that has no query yet.
pub(crate) fn with_expands(path: String, expands: &[&str]) -> String {
    let mut q = plantwire_sdk::query::PathQuery::new(path);
    for e in expands {
        q = q.param("expand", e);
    }
    q.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_round_trip() {
        for res in Resource::ALL {
            assert_eq!(Resource::for_entity(res.entity()), Ok(res));
        }
        assert_eq!(
            Resource::for_entity("site").map_err(|e| e.kind()),
            Err("unsupported")
        );
        assert_eq!(
            Resource::for_entity("spaceship").map_err(|e| e.kind()),
            Err("unsupported")
        );
    }

    #[test]
    fn paths_and_expands() {
        assert_eq!(Resource::WorkOrder.record_path(7), "/workorders/7");
        assert_eq!(
            with_expands(
                Resource::WorkOrder.record_path(7),
                Resource::WorkOrder.get_expands()
            ),
            "/workorders/7?expand=extra_fields"
        );
        assert_eq!(with_expands("/vendors/3".into(), &[]), "/vendors/3");
    }
}
