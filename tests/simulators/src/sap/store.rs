//! The records of every simulated entity set, and the business rules SAP applies when they are
//! written: number assignment, required fields, references that must exist, the system status
//! of orders and technical objects (and what it forbids), the release status and deletion
//! indicator of purchase orders.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::errors::{SapError, sap_message};
use super::model::{FunctionImport, Set};
use super::values::{from_json, iso};

/// `ValidityEndDate` of the current time segment of an equipment: 9999-12-31.
pub(crate) const END_OF_TIME_MS: i64 = 253_402_214_400_000;

/// Object type prefixes of status messages ("System status TECO is active (ORD 4000012)").
/// [U: EQU and IFL]
const ORDER_OBJ: &str = "ORD";
const EQUIPMENT_OBJ: &str = "EQU";
const FUNCLOC_OBJ: &str = "IFL";

/// `PurchasingProcessingStatus` values (domain MEPROCSTATE): 02 active (no release strategy),
/// 03 in release, 05 release completed, 08 rejected.
pub(crate) const PO_ACTIVE: &str = "02";
pub(crate) const PO_IN_RELEASE: &str = "03";
pub(crate) const PO_RELEASED: &str = "05";

/// The message of a change to a purchase order whose release is completed and whose release
/// indicator does not allow changes. [U: message number and text]
pub(crate) fn released_po_error(po: &str) -> SapError {
    SapError::new(
        400,
        "06/079",
        format!(
            "Purchase order {po} has been released; changes are not possible (release indicator does not permit changes)"
        ),
    )
}

/// One stored entity.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    /// Property values, plus internal state under names starting with `~`.
    pub(crate) values: Map<String, Value>,
    /// Incremented on every change; part of the ETag.
    pub(crate) version: u64,
    /// When it last changed (epoch ms); part of the ETag.
    pub(crate) changed_ms: i64,
}

impl Entity {
    pub(crate) fn new(values: Map<String, Value>, changed_ms: i64) -> Entity {
        Entity {
            values,
            version: 1,
            changed_ms,
        }
    }

    fn str(&self, name: &str) -> &str {
        self.values.get(name).and_then(Value::as_str).unwrap_or("")
    }

    fn flag(&self, name: &str) -> bool {
        self.values
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The ETag: `W/"datetimeoffset'<LastChangeDateTime with 7 fractional digits>'"`, the
    /// fraction carrying the change counter so that two changes within one millisecond differ.
    pub(crate) fn etag(&self) -> String {
        let text = iso(self.changed_ms);
        let base = text.get(..19).unwrap_or(&text);
        let fraction = (self.changed_ms.rem_euclid(1000)) * 10_000 + (self.version % 10_000) as i64;
        format!(
            "W/\"datetimeoffset'{}.{fraction:07}Z'\"",
            base.replace(':', "%3A")
        )
    }
}

/// Key values of an entity, in key order, as text.
pub(crate) type Key = Vec<String>;

/// The text form of a key value.
pub(crate) fn key_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The key of `values` for `set`.
pub(crate) fn key_of(set: Set, values: &Map<String, Value>) -> Key {
    set.keys()
        .iter()
        .map(|k| key_text(values.get(*k).unwrap_or(&Value::Null)))
        .collect()
}

/// Counts of seeded records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeedPlan {
    pub(crate) maintenance_orders: u64,
    pub(crate) equipment: u64,
    pub(crate) functional_locations: u64,
    pub(crate) purchase_orders: u64,
    pub(crate) stock_rows: u64,
    pub(crate) suppliers: u64,
}

/// Every entity set's records, ordered by key.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    sets: HashMap<Set, BTreeMap<Key, Entity>>,
    /// The last numbers assigned (internal number ranges).
    pub(crate) next_order: u64,
    pub(crate) next_equipment: u64,
    pub(crate) next_po: u64,
    /// The user name written to `CreatedByUser` / `LastChangeByUser`.
    pub(crate) user: String,
    /// Whether a purchase order whose release is completed may still be changed (release
    /// indicator with changeability "changeable"); `false` by default.
    pub(crate) released_po_changeable: bool,
}

impl Store {
    pub(crate) fn new(plan: SeedPlan, user: &str) -> Store {
        let mut store = Store {
            sets: Set::ALL.iter().map(|s| (*s, BTreeMap::new())).collect(),
            next_order: 4_000_000,
            next_equipment: 10_000_000,
            next_po: 4_500_000_000,
            user: user.to_ascii_uppercase(),
            released_po_changeable: false,
        };
        super::seed::seed(&mut store, plan);
        store
    }

    pub(crate) fn records(&self, set: Set) -> impl Iterator<Item = (&Key, &Entity)> {
        self.sets.get(&set).into_iter().flat_map(|m| m.iter())
    }

    pub(crate) fn count(&self, set: Set) -> usize {
        self.sets.get(&set).map_or(0, BTreeMap::len)
    }

    pub(crate) fn get(&self, set: Set, key: &Key) -> Option<&Entity> {
        self.sets.get(&set)?.get(key)
    }

    fn get_mut(&mut self, set: Set, key: &Key) -> Option<&mut Entity> {
        self.sets.get_mut(&set)?.get_mut(key)
    }

    /// Adds a seeded or created entity (replacing one with the same key).
    pub(crate) fn put(&mut self, set: Set, entity: Entity) {
        let key = key_of(set, &entity.values);
        self.sets.entry(set).or_default().insert(key, entity);
    }

    fn exists(&self, set: Set, key: &[&str]) -> bool {
        let key: Key = key.iter().map(|k| (*k).to_owned()).collect();
        self.get(set, &key).is_some()
    }

    /// The children of `parent` in `target` linked through `link`.
    pub(crate) fn children(
        &self,
        parent: &Map<String, Value>,
        target: Set,
        link: &[(&str, &str)],
    ) -> Vec<&Entity> {
        self.records(target)
            .map(|(_, e)| e)
            .filter(|e| {
                link.iter()
                    .all(|(from, to)| parent.get(*from) == e.values.get(*to))
            })
            .collect()
    }

    // ------------------------------------------------------------------------------ create

    /// Creates an entity of `set` from a JSON body (a deep insert may carry children under
    /// their navigation property). Returns the key and the `sap-message` to send.
    pub(crate) fn create(
        &mut self,
        set: Set,
        body: &Map<String, Value>,
        now: i64,
    ) -> Result<(Key, Option<String>), SapError> {
        if set == Set::PurchaseOrderItem {
            // An item created on its own belongs to the purchase order it names.
            let po = body
                .get("PurchaseOrder")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut rest = body.clone();
            rest.remove("PurchaseOrder");
            return self.create_child(
                set,
                &rest,
                Set::PurchaseOrder,
                &vec![po],
                &[("PurchaseOrder", "PurchaseOrder")],
                now,
            );
        }
        let (mut values, children) = self.parse_create(set, body)?;
        self.check_required(set, &values)?;
        let message = self.apply_create_rules(set, &mut values, now)?;
        let key = key_of(set, &values);
        if self.get(set, &key).is_some() {
            return Err(SapError::new(
                400,
                "/IWBEP/CM_MGW_RT/022",
                format!("{} {} already exists", set.name(), key.join(",")),
            ));
        }
        // Children are checked before anything is written: the deep insert is one unit.
        let mut staged = Vec::new();
        for (nav, items) in &children {
            for item in items {
                let (mut child, grandchildren) = self.parse_create(nav.target, item)?;
                if !grandchildren.is_empty() {
                    return Err(SapError::bad_request("Deep insert supports one level"));
                }
                for (from, to) in nav.link {
                    child.insert(
                        (*to).to_owned(),
                        values.get(*from).cloned().unwrap_or(Value::Null),
                    );
                }
                self.check_required(nav.target, &child)?;
                self.apply_child_rules(nav.target, &values, &mut child)?;
                let child_key = key_of(nav.target, &child);
                if staged
                    .iter()
                    .any(|(s, k, _): &(Set, Key, _)| *s == nav.target && *k == child_key)
                {
                    return Err(SapError::bad_request(format!(
                        "Duplicate key {} in deep insert",
                        child_key.join(",")
                    )));
                }
                staged.push((nav.target, child_key, child));
            }
        }
        self.put(set, Entity::new(values, now));
        for (target, _, child) in staged {
            self.put(target, Entity::new(child, now));
        }
        Ok((key, message))
    }

    /// The body's properties parsed by type, and its inline children by navigation.
    #[allow(clippy::type_complexity, reason = "a local pair of parsed parts")]
    fn parse_create(
        &self,
        set: Set,
        body: &Map<String, Value>,
    ) -> Result<
        (
            Map<String, Value>,
            Vec<(&'static super::model::Nav, Vec<Map<String, Value>>)>,
        ),
        SapError,
    > {
        let mut values = Map::new();
        let mut children = Vec::new();
        for (name, value) in body {
            if name == "__metadata" {
                continue;
            }
            if let Some(nav) = set.nav(name) {
                if !nav.insertable {
                    return Err(SapError::bad_request(format!(
                        "Navigation property {name} does not allow deep insert"
                    )));
                }
                // V2 JSON: an inline collection is `{"results": [...]}` or a bare array.
                let items = match value {
                    Value::Array(items) => items.clone(),
                    Value::Object(o) => match o.get("results") {
                        Some(Value::Array(items)) => items.clone(),
                        _ => {
                            return Err(SapError::bad_request(format!(
                                "Invalid inline content of {name}"
                            )));
                        }
                    },
                    _ => {
                        return Err(SapError::bad_request(format!(
                            "Invalid inline content of {name}"
                        )));
                    }
                };
                let mut objs = Vec::new();
                for item in items {
                    match item {
                        Value::Object(o) => objs.push(o),
                        _ => {
                            return Err(SapError::bad_request(format!(
                                "Invalid inline content of {name}"
                            )));
                        }
                    }
                }
                children.push((nav, objs));
                continue;
            }
            let prop = set.prop(name).ok_or_else(|| {
                SapError::bad_request(format!(
                    "Property '{name}' is invalid: it is not defined in type {}",
                    set.type_name()
                ))
            })?;
            if !prop.creatable {
                return Err(SapError::invalid_property(
                    name,
                    format!("Property '{name}' cannot be set on create (sap:creatable=false)"),
                ));
            }
            let v = from_json(prop, value).map_err(|m| SapError::invalid_property(name, m))?;
            values.insert(name.clone(), v);
        }
        Ok((values, children))
    }

    fn check_required(&self, set: Set, values: &Map<String, Value>) -> Result<(), SapError> {
        let missing: Vec<&str> = set
            .required_on_create()
            .iter()
            .copied()
            .filter(|p| {
                values
                    .get(*p)
                    .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut e = SapError::new(
            400,
            "/IWBEP/CM_MGW_RT/022",
            format!(
                "Make an entry in all required fields: {}",
                missing.join(", ")
            ),
        );
        for m in &missing {
            e.details.push((
                "/IWBEP/CM_MGW_RT/022".to_owned(),
                format!("Enter a value for {m}"),
                (*m).to_owned(),
            ));
        }
        Err(e)
    }

    fn apply_create_rules(
        &mut self,
        set: Set,
        values: &mut Map<String, Value>,
        now: i64,
    ) -> Result<Option<String>, SapError> {
        let user = Value::String(self.user.clone());
        match set {
            Set::MaintenanceOrder => {
                if values.contains_key("MaintenanceOrder") {
                    return Err(SapError::invalid_property(
                        "MaintenanceOrder",
                        "External number assignment is not allowed for this order type",
                    ));
                }
                self.check_technical_objects(values)?;
                self.next_order += 1;
                let number = self.next_order.to_string();
                values.insert("MaintenanceOrder".into(), json!(number));
                if values.get("MainWorkCenterPlant").is_none_or(Value::is_null) {
                    let plant = values
                        .get("MaintenancePlanningPlant")
                        .cloned()
                        .unwrap_or(Value::Null);
                    values.insert("MainWorkCenterPlant".into(), plant);
                }
                values.insert("MaintOrderCreationDateTime".into(), json!(now));
                values.insert("LastChangeDateTime".into(), json!(now));
                values.insert("CreatedByUser".into(), user.clone());
                values.insert("LastChangeByUser".into(), user);
                set_order_status(values, "CRTD", false, false);
                Ok(Some(sap_message(
                    "IWO_BAPI2/126",
                    &format!("Order {number} saved"),
                )))
            }
            Set::Equipment => {
                let number = match values.get("Equipment").and_then(Value::as_str) {
                    Some(n) if !n.is_empty() => n.to_owned(),
                    _ => {
                        self.next_equipment += 1;
                        self.next_equipment.to_string()
                    }
                };
                if let Some(parent) = values.get("SuperordinateEquipment").and_then(Value::as_str)
                    && !parent.is_empty()
                    && !self.exists(Set::Equipment, &[parent, &END_OF_TIME_MS.to_string()])
                {
                    return Err(SapError::invalid_property(
                        "SuperordinateEquipment",
                        format!("Equipment {parent} does not exist"),
                    ));
                }
                values.insert("Equipment".into(), json!(number));
                values.insert("ValidityEndDate".into(), json!(END_OF_TIME_MS));
                if values.get("ValidityStartDate").is_none_or(Value::is_null) {
                    values.insert(
                        "ValidityStartDate".into(),
                        json!(now.div_euclid(86_400_000) * 86_400_000),
                    );
                }
                values.insert(
                    "CreationDate".into(),
                    json!(now.div_euclid(86_400_000) * 86_400_000),
                );
                values.insert("LastChangeDateTime".into(), json!(now));
                values.insert("EquipmentIsInactive".into(), json!(false));
                values.insert("EquipmentIsMarkedForDeletion".into(), json!(false));
                values.insert("EquipmentIsInstalled".into(), json!(false));
                values.insert("FunctionalLocation".into(), json!(""));
                Ok(Some(sap_message(
                    "IE/001",
                    &format!("Equipment {number} created"),
                )))
            }
            Set::FunctionalLocation => {
                let id = values
                    .get("FunctionalLocation")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if let Some(sup) = values
                    .get("SuperiorFunctionalLocation")
                    .and_then(Value::as_str)
                    && !sup.is_empty()
                    && !self.exists(Set::FunctionalLocation, &[sup])
                {
                    return Err(SapError::invalid_property(
                        "SuperiorFunctionalLocation",
                        format!("Functional location {sup} does not exist"),
                    ));
                }
                values.insert(
                    "CreationDate".into(),
                    json!(now.div_euclid(86_400_000) * 86_400_000),
                );
                values.insert("LastChangeDateTime".into(), json!(now));
                values.insert("FuncnlLocIsDeactivated".into(), json!(false));
                values.insert("FuncnlLocIsMarkedForDeletion".into(), json!(false));
                values.insert("FunctionalLocationIsActive".into(), json!(true));
                Ok(Some(sap_message(
                    "IL/001",
                    &format!("Functional location {id} created"),
                )))
            }
            Set::PurchaseOrder => {
                if let Some(n) = values.get("PurchaseOrder").and_then(Value::as_str)
                    && !n.is_empty()
                {
                    return Err(SapError::invalid_property(
                        "PurchaseOrder",
                        "External number assignment is not allowed for document type NB",
                    ));
                }
                let supplier = values
                    .get("Supplier")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if !self.exists(Set::Supplier, &[&supplier]) {
                    return Err(SapError::invalid_property(
                        "Supplier",
                        format!("Supplier {supplier} does not exist"),
                    ));
                }
                self.next_po += 1;
                let number = self.next_po.to_string();
                values.insert("PurchaseOrder".into(), json!(number));
                if values.get("DocumentCurrency").is_none_or(Value::is_null) {
                    values.insert("DocumentCurrency".into(), json!("EUR"));
                }
                if values.get("PurchaseOrderDate").is_none_or(Value::is_null) {
                    values.insert(
                        "PurchaseOrderDate".into(),
                        json!(now.div_euclid(86_400_000) * 86_400_000),
                    );
                }
                values.insert("PurchasingProcessingStatus".into(), json!(PO_ACTIVE));
                values.insert("ReleaseIsNotCompleted".into(), json!(false));
                values.insert("PurchasingDocumentDeletionCode".into(), json!(""));
                values.insert(
                    "CreationDate".into(),
                    json!(now.div_euclid(86_400_000) * 86_400_000),
                );
                values.insert("LastChangeDateTime".into(), json!(now));
                values.insert("CreatedByUser".into(), user);
                let kind = if values.get("PurchaseOrderType").and_then(Value::as_str) == Some("NB")
                {
                    "Standard PO"
                } else {
                    "Purchase order"
                };
                Ok(Some(sap_message(
                    "06/017",
                    &format!("{kind} created under the number {number}"),
                )))
            }
            Set::MaintenanceOrderOperation | Set::PurchaseOrderItem => Ok(None),
            Set::MaterialStock | Set::Supplier => Err(not_implemented(set, "CREATE_ENTITY")),
        }
    }

    /// Creates a child of the entity `parent_key` of `parent_set` through a navigation
    /// (`POST A_PurchaseOrder('…')/to_PurchaseOrderItem`); the parent must exist and its status
    /// must allow changes.
    pub(crate) fn create_child(
        &mut self,
        set: Set,
        body: &Map<String, Value>,
        parent_set: Set,
        parent_key: &Key,
        link: &[(&str, &str)],
        now: i64,
    ) -> Result<(Key, Option<String>), SapError> {
        let parent = self
            .get(parent_set, parent_key)
            .ok_or_else(|| SapError::not_found(parent_set.name()))?
            .values
            .clone();
        self.check_changeable(parent_set, parent_key)?;
        let (mut values, children) = self.parse_create(set, body)?;
        if !children.is_empty() {
            return Err(SapError::bad_request("Deep insert supports one level"));
        }
        for (from, to) in link {
            values.insert(
                (*to).to_owned(),
                parent.get(*from).cloned().unwrap_or(Value::Null),
            );
        }
        self.check_required(set, &values)?;
        self.apply_child_rules(set, &parent, &mut values)?;
        let key = key_of(set, &values);
        if self.get(set, &key).is_some() {
            return Err(SapError::new(
                400,
                "/IWBEP/CM_MGW_RT/022",
                format!("{} {} already exists", set.name(), key.join(",")),
            ));
        }
        self.put(set, Entity::new(values, now));
        let user = self.user.clone();
        if let Some(p) = self.get_mut(parent_set, parent_key) {
            touch(parent_set, p, now, &user);
        }
        Ok((key, None))
    }

    /// Rules for a child created with its parent (deep insert) or through a navigation.
    pub(crate) fn apply_child_rules(
        &self,
        set: Set,
        parent: &Map<String, Value>,
        child: &mut Map<String, Value>,
    ) -> Result<(), SapError> {
        match set {
            Set::PurchaseOrderItem => {
                let item = child
                    .get("PurchaseOrderItem")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) || item.len() > 5 {
                    return Err(SapError::invalid_property(
                        "PurchaseOrderItem",
                        format!("Item number '{item}' is not numeric"),
                    ));
                }
                // Item numbers are NUMC 5: kept without leading zeros in the API.
                let normalized = item.trim_start_matches('0').to_owned();
                child.insert("PurchaseOrderItem".into(), json!(normalized));
                child.insert(
                    "DocumentCurrency".into(),
                    parent
                        .get("DocumentCurrency")
                        .cloned()
                        .unwrap_or(json!("EUR")),
                );
                child.insert("PurchasingDocumentDeletionCode".into(), json!(""));
                if child
                    .get("Material")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                    && child
                        .get("PurchaseOrderItemText")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                {
                    return Err(SapError::invalid_property(
                        "Material",
                        "Enter a material or a short text",
                    ));
                }
                Ok(())
            }
            Set::MaintenanceOrderOperation => {
                if child
                    .get("MaintenanceOrderOperation")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    let n = self
                        .children(
                            parent,
                            Set::MaintenanceOrderOperation,
                            &[("MaintenanceOrder", "MaintenanceOrder")],
                        )
                        .len();
                    child.insert(
                        "MaintenanceOrderOperation".into(),
                        json!(format!("{:04}", (n + 1) * 10)),
                    );
                }
                if child
                    .get("MaintenanceOrderSubOperation")
                    .is_none_or(Value::is_null)
                {
                    child.insert("MaintenanceOrderSubOperation".into(), json!(""));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn check_technical_objects(&self, values: &Map<String, Value>) -> Result<(), SapError> {
        if let Some(eq) = values.get("Equipment").and_then(Value::as_str)
            && !eq.is_empty()
            && !self.exists(Set::Equipment, &[eq, &END_OF_TIME_MS.to_string()])
        {
            return Err(SapError::invalid_property(
                "Equipment",
                format!("Equipment {eq} does not exist"),
            ));
        }
        if let Some(fl) = values.get("FunctionalLocation").and_then(Value::as_str)
            && !fl.is_empty()
            && !self.exists(Set::FunctionalLocation, &[fl])
        {
            return Err(SapError::invalid_property(
                "FunctionalLocation",
                format!("Functional location {fl} does not exist"),
            ));
        }
        Ok(())
    }

    // ------------------------------------------------------------------------------ update

    /// Applies a `PATCH` / `MERGE` body (only the properties given change).
    pub(crate) fn update(
        &mut self,
        set: Set,
        key: &Key,
        body: &Map<String, Value>,
        now: i64,
    ) -> Result<(), SapError> {
        let mut changes = Map::new();
        for (name, value) in body {
            if name == "__metadata" {
                continue;
            }
            if set.nav(name).is_some() {
                return Err(SapError::bad_request(format!(
                    "Navigation property {name} cannot be changed with an update"
                )));
            }
            let prop = set.prop(name).ok_or_else(|| {
                SapError::bad_request(format!(
                    "Property '{name}' is invalid: it is not defined in type {}",
                    set.type_name()
                ))
            })?;
            let parsed = from_json(prop, value).map_err(|m| SapError::invalid_property(name, m))?;
            let current = self.get(set, key).and_then(|e| e.values.get(name)).cloned();
            let unchanged = current.as_ref().unwrap_or(&Value::Null) == &parsed
                || (parsed.as_str() == Some("") && current.as_ref().is_none_or(Value::is_null));
            if !prop.updatable {
                if set.keys().contains(&name.as_str()) && unchanged {
                    // Gateway tolerates key properties repeated with their own value.
                    continue;
                }
                return Err(SapError::invalid_property(
                    name,
                    format!("Property '{name}' cannot be changed (sap:updatable=false)"),
                ));
            }
            changes.insert(name.clone(), parsed);
        }
        self.check_changeable(set, key)?;
        if set == Set::MaintenanceOrder {
            self.check_technical_objects(&changes)?;
        }
        if set == Set::Equipment
            && let Some(parent) = changes
                .get("SuperordinateEquipment")
                .and_then(Value::as_str)
            && !parent.is_empty()
            && !self.exists(Set::Equipment, &[parent, &END_OF_TIME_MS.to_string()])
        {
            return Err(SapError::invalid_property(
                "SuperordinateEquipment",
                format!("Equipment {parent} does not exist"),
            ));
        }
        if set == Set::PurchaseOrder
            && let Some(supplier) = changes.get("Supplier").and_then(Value::as_str)
            && !self.exists(Set::Supplier, &[supplier])
        {
            return Err(SapError::invalid_property(
                "Supplier",
                format!("Supplier {supplier} does not exist"),
            ));
        }
        let user = self.user.clone();
        let entity = self
            .get_mut(set, key)
            .ok_or_else(|| SapError::not_found(set.name()))?;
        for (name, value) in changes {
            entity.values.insert(name, value);
        }
        touch(set, entity, now, &user);
        if set == Set::PurchaseOrderItem {
            self.touch_parent_po(key, now);
        }
        Ok(())
    }

    /// Refuses changes the object's status forbids.
    pub(crate) fn check_changeable(&self, set: Set, key: &Key) -> Result<(), SapError> {
        let Some(entity) = self.get(set, key) else {
            return Err(SapError::not_found(set.name()));
        };
        match set {
            Set::MaintenanceOrder => {
                let id = entity.str("MaintenanceOrder");
                for blocking in ["DLFL", "CLSD", "TECO", "LKD"] {
                    if order_has(entity, blocking) {
                        return Err(status_active(blocking, ORDER_OBJ, id));
                    }
                }
                Ok(())
            }
            Set::PurchaseOrder | Set::PurchaseOrderItem => {
                let po_key = vec![key[0].clone()];
                let header = self
                    .get(Set::PurchaseOrder, &po_key)
                    .ok_or_else(|| SapError::not_found("A_PurchaseOrder"))?;
                if header.str("PurchasingDocumentDeletionCode") == "L"
                    || (set == Set::PurchaseOrderItem
                        && entity.str("PurchasingDocumentDeletionCode") == "L")
                {
                    return Err(SapError::new(
                        400,
                        "06/020",
                        "The document has already been deleted and cannot be changed",
                    ));
                }
                if header.str("PurchasingProcessingStatus") == PO_RELEASED
                    && !self.released_po_changeable
                {
                    return Err(released_po_error(&key[0]));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn touch_parent_po(&mut self, key: &Key, now: i64) {
        let user = self.user.clone();
        if let Some(header) = self.get_mut(Set::PurchaseOrder, &vec![key[0].clone()]) {
            touch(Set::PurchaseOrder, header, now, &user);
        }
    }

    // ------------------------------------------------------------------------------ delete

    /// `DELETE` on a deletable set: purchase orders and their items get the deletion
    /// indicator `L` (they stay readable, as in SAP); operations are removed.
    pub(crate) fn delete(&mut self, set: Set, key: &Key, now: i64) -> Result<(), SapError> {
        if !set.deletable() {
            return Err(not_implemented(set, "DELETE_ENTITY"));
        }
        self.check_changeable(set, key)?;
        let user = self.user.clone();
        match set {
            Set::PurchaseOrder => {
                let header = self
                    .get(set, key)
                    .map(|e| e.values.clone())
                    .unwrap_or_default();
                let items: Vec<Key> = self
                    .children(
                        &header,
                        Set::PurchaseOrderItem,
                        &[("PurchaseOrder", "PurchaseOrder")],
                    )
                    .iter()
                    .map(|e| key_of(Set::PurchaseOrderItem, &e.values))
                    .collect();
                for item in items {
                    if let Some(e) = self.get_mut(Set::PurchaseOrderItem, &item) {
                        e.values
                            .insert("PurchasingDocumentDeletionCode".into(), json!("L"));
                        touch(Set::PurchaseOrderItem, e, now, &user);
                    }
                }
                if let Some(e) = self.get_mut(set, key) {
                    e.values
                        .insert("PurchasingDocumentDeletionCode".into(), json!("L"));
                    touch(set, e, now, &user);
                }
                Ok(())
            }
            Set::PurchaseOrderItem => {
                if let Some(e) = self.get_mut(set, key) {
                    e.values
                        .insert("PurchasingDocumentDeletionCode".into(), json!("L"));
                    touch(set, e, now, &user);
                }
                self.touch_parent_po(key, now);
                Ok(())
            }
            _ => {
                if let Some(map) = self.sets.get_mut(&set) {
                    map.remove(key);
                }
                Ok(())
            }
        }
    }

    // ---------------------------------------------------------------------- function imports

    /// Runs a status function import on the entity `key` of `f.set`.
    pub(crate) fn call(&mut self, f: &FunctionImport, key: &Key, now: i64) -> Result<(), SapError> {
        let user = self.user.clone();
        let entity = self
            .get_mut(f.set, key)
            .ok_or_else(|| SapError::not_found(f.name))?;
        match f.set {
            Set::MaintenanceOrder => order_transition(f.name, entity)?,
            Set::Equipment => object_transition(
                f.name,
                entity,
                EQUIPMENT_OBJ,
                "Equipment",
                ("EquipmentIsInactive", "EquipmentIsMarkedForDeletion"),
                [
                    "SetEquipmentToInactive",
                    "ResetEquipmentFromInactive",
                    "SetEquipToMarkedForDeletion",
                    "RsetEquipFromMarkedForDeletion",
                ],
            )?,
            Set::FunctionalLocation => {
                object_transition(
                    f.name,
                    entity,
                    FUNCLOC_OBJ,
                    "FunctionalLocation",
                    ("FuncnlLocIsDeactivated", "FuncnlLocIsMarkedForDeletion"),
                    [
                        "SetFuncnlLocationToInactive",
                        "RsetFuncnlLocationFromInactive",
                        "SetFuncLocToMarkedForDeletion",
                        "RsetFuncLocFromMrkdForDeletion",
                    ],
                )?;
                let active = !entity.flag("FuncnlLocIsDeactivated")
                    && !entity.flag("FuncnlLocIsMarkedForDeletion");
                entity
                    .values
                    .insert("FunctionalLocationIsActive".into(), json!(active));
            }
            _ => return Err(SapError::not_found(f.name)),
        }
        touch(f.set, entity, now, &user);
        Ok(())
    }
}

/// Marks an entity changed: counter, change time, change user.
fn touch(set: Set, entity: &mut Entity, now: i64, user: &str) {
    entity.version += 1;
    entity.changed_ms = now.max(entity.changed_ms);
    if set.prop("LastChangeDateTime").is_some() {
        entity
            .values
            .insert("LastChangeDateTime".into(), json!(entity.changed_ms));
    }
    if set.prop("LastChangeByUser").is_some() {
        entity.values.insert("LastChangeByUser".into(), json!(user));
    }
}

/// The answer to an operation the entity set does not offer (`sap:creatable`,
/// `sap:updatable` or `sap:deletable` false): the Gateway runtime finds no implementation in
/// the data provider class and answers `501 Not Implemented` with `/IWBEP/CM_MGW_RT/021`.
pub(crate) fn not_implemented(set: Set, operation: &str) -> SapError {
    let upper = set.name().to_ascii_uppercase();
    let method = format!(
        "{}_{operation}",
        &upper[..upper.len().min(30 - operation.len() - 1)]
    );
    SapError::new(
        501,
        "/IWBEP/CM_MGW_RT/021",
        format!("Method '{method}' not implemented in data provider class"),
    )
}

fn status_active(status: &str, obj: &str, id: &str) -> SapError {
    SapError::new(
        400,
        "BS/013",
        format!("System status {status} is active ({obj} {id})"),
    )
}

/// [U: message number]
fn status_not_active(status: &str, obj: &str, id: &str) -> SapError {
    SapError::new(
        400,
        "BS/012",
        format!("System status {status} is not active ({obj} {id})"),
    )
}

// ---------------------------------------------------------------------------- order status

/// Whether the order's system status line has `status`.
pub(crate) fn order_has(entity: &Entity, status: &str) -> bool {
    entity
        .values
        .get("SystemStatusText")
        .and_then(Value::as_str)
        .is_some_and(|s| s.split_whitespace().any(|w| w == status))
}

/// Writes the system status line: the lifecycle status, then `DLFL` / `LKD` when set, then
/// the statuses that do not change here (`MANC`: no costs calculated, `NMAT`: no material
/// components), each code padded to four characters as SAP shows them.
pub(crate) fn set_order_status(
    values: &mut Map<String, Value>,
    base: &str,
    dlfl: bool,
    locked: bool,
) {
    let mut codes = vec![base];
    if dlfl {
        codes.push("DLFL");
    }
    if locked {
        codes.push("LKD");
    }
    codes.push("MANC");
    codes.push("NMAT");
    let text: Vec<String> = codes.iter().map(|c| format!("{c:<4}")).collect();
    values.insert("SystemStatusText".into(), json!(text.join(" ").trim_end()));
}

fn order_base(entity: &Entity) -> &'static str {
    ["CLSD", "TECO", "REL", "CRTD"]
        .into_iter()
        .find(|s| order_has(entity, s))
        .unwrap_or("CRTD")
}

/// The system status transitions of a maintenance order:
///
/// | function import | allowed when | result |
/// |---|---|---|
/// | `ReleaseMaintenanceOrder` | `CRTD` | `REL` |
/// | `SetMaintOrdToTechCompleted` | `CRTD`, `REL` | `TECO` (the status before is kept for the reset) |
/// | `ResetMaintOrdStsTechCompleted` | `TECO` | the status before `TECO` |
/// | `SetMaintOrderStatusToClosed` | `TECO` | `CLSD` |
/// | `ResetMaintOrderStatusClosed` | `CLSD` | `TECO` |
/// | `SetMaintOrdStsToMrkdForDeltn` | not `DLFL` | `DLFL` added |
/// | `ResetMaintOrdStsMrkdForDeltn` | `DLFL` | `DLFL` removed |
/// | `SetMaintOrderStatusToLocked` / `…Unlocked` | not `LKD` / `LKD` | `LKD` added / removed |
///
/// `DLFL` blocks everything but its reset; `LKD` blocks everything but the unlock.
fn order_transition(name: &str, entity: &mut Entity) -> Result<(), SapError> {
    let id = entity.str("MaintenanceOrder").to_owned();
    let dlfl = order_has(entity, "DLFL");
    let locked = order_has(entity, "LKD");
    let base = order_base(entity);
    if dlfl && name != "ResetMaintOrdStsMrkdForDeltn" {
        return Err(status_active("DLFL", ORDER_OBJ, &id));
    }
    if locked
        && !matches!(
            name,
            "SetMaintOrderStatusToUnlocked" | "ResetMaintOrdStsMrkdForDeltn"
        )
    {
        return Err(status_active("LKD", ORDER_OBJ, &id));
    }
    let (new_base, new_dlfl, new_locked) = match name {
        "ReleaseMaintenanceOrder" => match base {
            "CRTD" => ("REL", dlfl, locked),
            other => return Err(status_active(other, ORDER_OBJ, &id)),
        },
        "SetMaintOrdToTechCompleted" => match base {
            "CRTD" | "REL" => {
                entity.values.insert("~before_teco".into(), json!(base));
                ("TECO", dlfl, locked)
            }
            other => return Err(status_active(other, ORDER_OBJ, &id)),
        },
        "ResetMaintOrdStsTechCompleted" => match base {
            "TECO" => {
                let before = entity
                    .values
                    .get("~before_teco")
                    .and_then(Value::as_str)
                    .unwrap_or("REL");
                (if before == "CRTD" { "CRTD" } else { "REL" }, dlfl, locked)
            }
            "CLSD" => return Err(status_active("CLSD", ORDER_OBJ, &id)),
            _ => return Err(status_not_active("TECO", ORDER_OBJ, &id)),
        },
        "SetMaintOrderStatusToClosed" => match base {
            "TECO" => ("CLSD", dlfl, locked),
            "CLSD" => return Err(status_active("CLSD", ORDER_OBJ, &id)),
            _ => return Err(status_not_active("TECO", ORDER_OBJ, &id)),
        },
        "ResetMaintOrderStatusClosed" => match base {
            "CLSD" => ("TECO", dlfl, locked),
            _ => return Err(status_not_active("CLSD", ORDER_OBJ, &id)),
        },
        "SetMaintOrdStsToMrkdForDeltn" => (base, true, locked),
        "ResetMaintOrdStsMrkdForDeltn" => {
            if !dlfl {
                return Err(status_not_active("DLFL", ORDER_OBJ, &id));
            }
            (base, false, locked)
        }
        "SetMaintOrderStatusToLocked" => (base, dlfl, true),
        "SetMaintOrderStatusToUnlocked" => {
            if !locked {
                return Err(status_not_active("LKD", ORDER_OBJ, &id));
            }
            (base, dlfl, false)
        }
        _ => return Err(SapError::not_found(name)),
    };
    set_order_status(&mut entity.values, new_base, new_dlfl, new_locked);
    Ok(())
}

/// Status transitions of equipment and functional locations: `INAC` (inactive) and `DLFL`
/// (marked for deletion), each set and reset by its own function import.
fn object_transition(
    name: &str,
    entity: &mut Entity,
    obj: &str,
    id_prop: &str,
    (inactive_prop, deletion_prop): (&str, &str),
    [set_inactive, reset_inactive, set_deletion, reset_deletion]: [&str; 4],
) -> Result<(), SapError> {
    let id = entity.str(id_prop).to_owned();
    let inactive = entity.flag(inactive_prop);
    let deleted = entity.flag(deletion_prop);
    if deleted && name != reset_deletion {
        return Err(status_active("DLFL", obj, &id));
    }
    let (prop, value) = if name == set_inactive {
        if inactive {
            return Err(status_active("INAC", obj, &id));
        }
        (inactive_prop, true)
    } else if name == reset_inactive {
        if !inactive {
            return Err(status_not_active("INAC", obj, &id));
        }
        (inactive_prop, false)
    } else if name == set_deletion {
        (deletion_prop, true)
    } else if name == reset_deletion {
        if !deleted {
            return Err(status_not_active("DLFL", obj, &id));
        }
        (deletion_prop, false)
    } else {
        return Err(SapError::not_found(name));
    };
    entity.values.insert(prop.to_owned(), json!(value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Store {
        Store::new(
            SeedPlan {
                maintenance_orders: 10,
                equipment: 10,
                functional_locations: 12,
                purchase_orders: 10,
                stock_rows: 10,
                suppliers: 5,
            },
            "plantwire",
        )
    }

    fn order_key(store: &Store, status: &str) -> Key {
        store
            .records(Set::MaintenanceOrder)
            .find(|(_, e)| order_has(e, status) && !order_has(e, "DLFL") && !order_has(e, "LKD"))
            .map(|(k, _)| k.clone())
            .unwrap_or_default()
    }

    fn fi(name: &str) -> &'static FunctionImport {
        super::super::model::FUNCTION_IMPORTS
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| unreachable!("{name}"))
    }

    #[test]
    fn order_lifecycle_and_refusals() {
        let mut store = small();
        let key = order_key(&store, "CRTD");
        store.call(fi("ReleaseMaintenanceOrder"), &key, 1).unwrap();
        let err = store
            .call(fi("ReleaseMaintenanceOrder"), &key, 2)
            .unwrap_err();
        assert_eq!(err.code, "BS/013");
        assert!(
            err.message.starts_with("System status REL is active (ORD "),
            "{}",
            err.message
        );
        store
            .call(fi("SetMaintOrdToTechCompleted"), &key, 3)
            .unwrap();
        let patch = json!({"MaintenanceOrderDesc": "x"});
        let err = store
            .update(Set::MaintenanceOrder, &key, patch.as_object().unwrap(), 4)
            .unwrap_err();
        assert!(err.message.contains("TECO"), "{}", err.message);
        store
            .call(fi("ResetMaintOrdStsTechCompleted"), &key, 5)
            .unwrap();
        let e = store.get(Set::MaintenanceOrder, &key).unwrap();
        assert!(order_has(e, "REL"));
        store
            .call(fi("SetMaintOrdStsToMrkdForDeltn"), &key, 6)
            .unwrap();
        assert!(store.call(fi("ReleaseMaintenanceOrder"), &key, 7).is_err());
        store
            .call(fi("ResetMaintOrdStsMrkdForDeltn"), &key, 8)
            .unwrap();
    }

    #[test]
    fn etags_change_with_every_write() {
        let mut store = small();
        let key = order_key(&store, "CRTD");
        let before = store.get(Set::MaintenanceOrder, &key).unwrap().etag();
        assert!(before.starts_with("W/\"datetimeoffset'"), "{before}");
        let patch = json!({"MaintenanceOrderDesc": "Check seal"});
        let now = store.get(Set::MaintenanceOrder, &key).unwrap().changed_ms;
        store
            .update(Set::MaintenanceOrder, &key, patch.as_object().unwrap(), now)
            .unwrap();
        assert_ne!(
            store.get(Set::MaintenanceOrder, &key).unwrap().etag(),
            before
        );
    }

    #[test]
    fn non_deletable_sets_answer_not_implemented() {
        let mut store = small();
        let key = order_key(&store, "CRTD");
        let err = store.delete(Set::MaintenanceOrder, &key, 1).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (501, "/IWBEP/CM_MGW_RT/021")
        );
        assert_eq!(
            err.message,
            "Method 'MAINTENANCEORDER_DELETE_ENTITY' not implemented in data provider class"
        );
    }
}
