//! The Maximo object structures this adapter serves and how each one is addressed: the unified
//! entity it backs, its primary key (in the order Maximo's rest ids encode it), the attributes
//! the adapter selects, and the unique id used to keep paging stable.
//!
//! A unified `key` is the primary-key values joined by `/` (`BEDFORD/1116` for work order
//! 1116 of site BEDFORD): exactly the text whose base64 Maximo uses as the rest id
//! (`_QkVERk9SRC8xMTE2`). References are keys of the same form (`assetKey` = `assetnum/siteid`).

use plantwire_sdk::AdapterError;

use crate::restid;

/// An object structure backing one unified entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    /// `work-order` ← `MXAPIWO`.
    WorkOrder,
    /// `asset` ← `MXAPIASSET`.
    Asset,
    /// `purchase-order` ← `MXAPIPO` (lines: `POLINE`).
    Po,
    /// `material` ← `MXAPIITEM`.
    Item,
    /// `inventory` ← `MXAPIINVENTORY`.
    Inventory,
    /// `location` ← `MXAPILOCATIONS`.
    Location,
    /// `vendor` ← `MXAPIVENDOR` (companies).
    Vendor,
}

impl Os {
    /// Every served object structure, in the order of the unified entities.
    pub const ALL: [Os; 7] = [
        Os::WorkOrder,
        Os::Asset,
        Os::Po,
        Os::Item,
        Os::Inventory,
        Os::Location,
        Os::Vendor,
    ];

    /// The object structure serving unified `entity`; entities this adapter does not serve are
    /// `unsupported` with the reason `describe()` gives.
    pub fn for_entity(entity: &str) -> Result<Os, AdapterError> {
        if let Some(os) = Os::ALL.into_iter().find(|o| o.entity() == entity) {
            return Ok(os);
        }
        let reason = crate::describe::unsupported_reason(entity).unwrap_or_else(|| {
            format!("`{entity}` is not a unified entity the Maximo adapter knows")
        });
        Err(AdapterError::Unsupported(reason))
    }

    /// The unified entity name.
    pub const fn entity(self) -> &'static str {
        match self {
            Os::WorkOrder => "work-order",
            Os::Asset => "asset",
            Os::Po => "purchase-order",
            Os::Item => "material",
            Os::Inventory => "inventory",
            Os::Location => "location",
            Os::Vendor => "vendor",
        }
    }

    /// The object structure name as used in URLs (lower case).
    pub const fn name(self) -> &'static str {
        match self {
            Os::WorkOrder => "mxapiwo",
            Os::Asset => "mxapiasset",
            Os::Po => "mxapipo",
            Os::Item => "mxapiitem",
            Os::Inventory => "mxapiinventory",
            Os::Location => "mxapilocations",
            Os::Vendor => "mxapivendor",
        }
    }

    /// Primary-key attributes, in rest-id order.
    pub const fn pk(self) -> &'static [&'static str] {
        match self {
            Os::WorkOrder => &["siteid", "wonum"],
            Os::Asset => &["assetnum", "siteid"],
            Os::Po => &["ponum", "revisionnum", "siteid"],
            Os::Item => &["itemnum", "itemsetid"],
            Os::Inventory => &["itemnum", "itemsetid", "location", "siteid"],
            Os::Location => &["location", "siteid"],
            Os::Vendor => &["company", "orgid"],
        }
    }

    /// The numeric unique id, appended to every `oslc.orderBy` so that pages stay stable.
    pub const fn unique_id(self) -> &'static str {
        match self {
            Os::WorkOrder => "workorderid",
            Os::Asset => "assetid",
            Os::Po => "poid",
            Os::Item => "itemid",
            Os::Inventory => "inventoryid",
            Os::Location => "locationsid",
            Os::Vendor => "companiesid",
        }
    }

    /// The `oslc.select` the adapter sends (lists, reads and the `properties` of writes): every
    /// attribute the mapping reads.
    pub const fn select(self) -> &'static str {
        match self {
            Os::WorkOrder => {
                "wonum,siteid,description,description_longdescription,status,assetnum,location,\
                 persongroup,schedstart,targcompdate,actfinish,reportdate,changedate,externalrefid"
            }
            Os::Asset => {
                "assetnum,siteid,description,description_longdescription,status,location,parent,\
                 serialnum,manufacturer,changedate,externalrefid"
            }
            Os::Po => {
                "ponum,revisionnum,siteid,orgid,description,status,vendor,orderdate,requireddate,\
                 currencycode,totalcost,changedate,externalrefid,\
                 poline{polinenum,itemnum,itemsetid,description,orderqty,orderunit,unitcost}"
            }
            Os::Item => {
                "itemnum,itemsetid,description,description_longdescription,issueunit,status,\
                 changedate,externalrefid"
            }
            Os::Inventory => "itemnum,itemsetid,location,siteid,curbaltotal,avgcost,externalrefid",
            Os::Location => "location,siteid,description,status,changedate,externalrefid",
            Os::Vendor => "company,orgid,name,phone1,address1,disabled,changedate,externalrefid",
        }
    }

    /// The top-level terms of [`Os::select`] (`wonum`, …, `poline{…}`).
    pub fn select_terms(self) -> Vec<&'static str> {
        let text = self.select();
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (i, c) in text.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    out.push(text[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(text[start..].trim());
        out.retain(|t| !t.is_empty());
        out
    }

    /// The attributes the mapping reads (plain ones and child objects by name).
    pub fn mapped_attrs(self) -> Vec<&'static str> {
        self.select_terms()
            .into_iter()
            .map(|t| t.split_once('{').map_or(t, |(n, _)| n))
            .collect()
    }

    /// The `oslc.select` that fetches every attribute of the main object (`*`, which holds
    /// persistent attributes only) plus what the mapping reads beyond them: the long
    /// description (non-persistent) and purchase order lines (a child object).
    pub fn select_all(self) -> String {
        let extra: Vec<&str> = self
            .select_terms()
            .into_iter()
            .filter(|t| *t == "description_longdescription" || t.contains('{'))
            .collect();
        let mut out = String::from("*");
        for t in extra {
            out.push(',');
            out.push_str(t);
        }
        out
    }

    /// The attributes unified field `field` is read from (empty for `key`, which comes from
    /// the primary key, and for fields not read from attributes).
    pub fn attrs_of(self, field: &str) -> &'static [&'static str] {
        match (self, field) {
            (Os::WorkOrder, "title")
            | (Os::Asset | Os::Item | Os::Location, "name")
            | (Os::Po, "title") => &["description"],
            (Os::WorkOrder | Os::Asset | Os::Item, "description") => {
                &["description_longdescription"]
            }
            (Os::WorkOrder | Os::Asset | Os::Po, "status" | "nativeStatus")
            | (Os::Item | Os::Asset | Os::Location, "isActive") => &["status"],
            (Os::WorkOrder | Os::Asset | Os::Inventory, "locationKey") => &["location", "siteid"],
            (Os::WorkOrder, "assetKey") => &["assetnum", "siteid"],
            (Os::Asset, "parentKey") => &["parent", "siteid"],
            (Os::WorkOrder | Os::Asset | Os::Po | Os::Location, "siteKey") => &["siteid"],
            (Os::WorkOrder, "teamKey") => &["persongroup"],
            (Os::WorkOrder, "scheduledAt") => &["schedstart"],
            (Os::WorkOrder, "dueAt") => &["targcompdate"],
            (Os::WorkOrder, "completedAt") => &["actfinish"],
            (Os::WorkOrder, "createdAt") => &["reportdate"],
            (_, "updatedAt") => &["changedate"],
            (_, crate::external_id::FIELD) => &[crate::external_id::ATTR],
            (Os::Asset, "serialNumber") => &["serialnum"],
            (Os::Asset, "makeName") => &["manufacturer"],
            (Os::Po, "orderNo") => &["ponum"],
            (Os::Po, "vendorKey") => &["vendor", "orgid"],
            (Os::Po, "orderDate") => &["orderdate"],
            (Os::Po, "dueAt") => &["requireddate"],
            (Os::Po, "currencyKey") => &["currencycode"],
            (Os::Po, "totalNetValue") => &["totalcost"],
            (Os::Po, "lineItems") => &["poline"],
            (Os::Item, "code") => &["itemnum"],
            (Os::Item, "uomKey") => &["issueunit"],
            (Os::Inventory, "materialKey") => &["itemnum", "itemsetid"],
            (Os::Inventory, "quantity") => &["curbaltotal"],
            (Os::Inventory, "unitCost") => &["avgcost"],
            (Os::Location, "code") => &["location"],
            (Os::Vendor, "code") => &["company"],
            (Os::Vendor, "name") => &["name"],
            (Os::Vendor, "phone") => &["phone1"],
            (Os::Vendor, "address") => &["address1"],
            (Os::Vendor, "isActive") => &["disabled"],
            _ => &[],
        }
    }

    /// Whether the object takes the `wsmethod:changeStatus` action through this adapter.
    pub const fn has_change_status(self) -> bool {
        matches!(self, Os::WorkOrder | Os::Po)
    }

    /// The collection path (`/os/mxapiwo`), relative to the API root.
    pub fn path(self) -> String {
        format!("/os/{}", self.name())
    }

    /// The path of the record with unified `key` (`/os/mxapiwo/_QkVERk9SRC8xMTE2`); a key that
    /// does not have one value per primary-key attribute is not found.
    pub fn record_path(self, key: &str) -> Result<String, AdapterError> {
        self.key_parts(key)
            .ok_or_else(|| AdapterError::NotFound(self.bad_key(key)))?;
        Ok(format!(
            "/os/{}/{}",
            self.name(),
            plantwire_sdk::query::segment(&restid::encode(key))
        ))
    }

    /// The values of `key`, one per primary-key attribute, none empty.
    pub fn key_parts(self, key: &str) -> Option<Vec<&str>> {
        let parts: Vec<&str> = key.split('/').collect();
        (parts.len() == self.pk().len() && parts.iter().all(|p| !p.is_empty())).then_some(parts)
    }

    /// The value of primary-key attribute `attr` in `key`.
    pub fn key_value<'k>(self, key: &'k str, attr: &str) -> Option<&'k str> {
        let parts = self.key_parts(key)?;
        let at = self.pk().iter().position(|a| *a == attr)?;
        parts.get(at).copied()
    }

    /// Why `key` is not a key of this entity.
    pub fn bad_key(self, key: &str) -> String {
        format!(
            "no {} has key `{key}`: a {} key is {} joined by `/`",
            self.entity(),
            self.entity(),
            self.pk().join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_round_trip_and_keys_split() {
        for os in Os::ALL {
            assert_eq!(Os::for_entity(os.entity()), Ok(os));
        }
        assert_eq!(
            Os::for_entity("site").map_err(|e| e.kind()),
            Err("unsupported")
        );
        assert_eq!(
            Os::WorkOrder.record_path("BEDFORD/1116").unwrap(),
            "/os/mxapiwo/_QkVERk9SRC8xMTE2"
        );
        assert_eq!(
            Os::Po.key_value("1017/0/BEDFORD", "siteid"),
            Some("BEDFORD")
        );
        for bad in ["1116", "BEDFORD/", "/1116", "A/B/C", ""] {
            assert_eq!(
                Os::WorkOrder.record_path(bad).map_err(|e| e.kind()),
                Err("not-found"),
                "{bad}"
            );
        }
    }
}
