//! Deterministic, realistic seed data for the MaintainX simulator.
//!
//! Seeded records are never stored: record `n` of a kind is a pure function of a fixed seed,
//! the kind, its id and the configured counts, generated on demand. Only records that were
//! created, changed or deleted through the API are kept in memory, so a simulator seeded with a
//! million work orders costs almost nothing until it is written to.
//!
//! The content is a mid-size manufacturer with four plants: pumps, compressors, conveyors and
//! their motors and gearboxes; bearings, belts and seals with part numbers such as
//! `BRG-6204-2RS`; preventive and reactive work orders with plausible titles; purchase orders
//! to industrial distributors. Cross references (a work order's `assetId` and `locationId`, a
//! purchase order's `vendorId` and item `partId`s) always point at seeded records.

use serde_json::{Map, Value, json};

use super::resources::Kind;
use crate::clock::{date_ms, format_ms};

/// The constant every seeded value derives from.
const SEED: u64 = 0x504C_414E_5457_4952; // "PLANTWIR"

/// The simulated organization.
pub const ORGANIZATION_ID: u64 = 48_213;

/// The user the API token belongs to (creator of records created through the API): the first
/// seeded user.
pub const API_USER_ID: u64 = Kind::User.id_base() + 1;

/// Team ids work orders, assets and locations refer to (teams are not simulated).
const TEAMS: [u64; 6] = [7_001, 7_002, 7_003, 7_004, 7_005, 7_006];

/// Seeded records were created between these instants.
const SEED_START: i64 = date_ms(2023, 1, 2) + 6 * HOUR;
const SEED_END: i64 = date_ms(2025, 6, 30) + 17 * HOUR;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How many records of each kind were seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeedPlan {
    pub(crate) work_orders: u64,
    pub(crate) assets: u64,
    pub(crate) parts: u64,
    pub(crate) purchase_orders: u64,
    pub(crate) locations: u64,
    pub(crate) vendors: u64,
    pub(crate) users: u64,
}

impl SeedPlan {
    /// The number of seeded records of `kind`.
    pub(crate) const fn count(&self, kind: Kind) -> u64 {
        match kind {
            Kind::WorkOrder => self.work_orders,
            Kind::Asset => self.assets,
            Kind::Part => self.parts,
            Kind::PurchaseOrder => self.purchase_orders,
            Kind::Location => self.locations,
            Kind::Vendor => self.vendors,
            Kind::User => self.users,
        }
    }

    /// `true` if `id` is one of the seeded ids of `kind`.
    pub(crate) const fn is_seeded(&self, kind: Kind, id: u64) -> bool {
        id > kind.id_base() && id <= kind.id_base() + self.count(kind)
    }

    /// The seeded record `id` of `kind`, or `None` if `id` is not a seeded id.
    pub(crate) fn record(&self, kind: Kind, id: u64) -> Option<Map<String, Value>> {
        if !self.is_seeded(kind, id) {
            return None;
        }
        let index = id - kind.id_base() - 1;
        let value = match kind {
            Kind::WorkOrder => self.work_order(index),
            Kind::Asset => self.asset(index),
            Kind::Part => self.part(index),
            Kind::PurchaseOrder => self.purchase_order(index),
            Kind::Location => self.location(index),
            Kind::Vendor => self.vendor(index),
            Kind::User => self.user(index),
        };
        match value {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// Seeded ids of `kind` whose seeded `parentId` is `id` (assets and locations).
    pub(crate) fn seeded_children(&self, kind: Kind, id: u64) -> Vec<u64> {
        if !self.is_seeded(kind, id) {
            return Vec::new();
        }
        let index = id - kind.id_base() - 1;
        match kind {
            Kind::Asset if index.is_multiple_of(4) => (index + 1..index + 4)
                .filter(|&i| i < self.assets)
                .map(|i| Kind::Asset.id_base() + 1 + i)
                .collect(),
            Kind::Location if index < self.sites() => {
                let sites = self.sites();
                (index + sites..self.locations)
                    .step_by(usize::try_from(sites).unwrap_or(1).max(1))
                    .map(|i| Kind::Location.id_base() + 1 + i)
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn id_of(kind: Kind, index: u64) -> u64 {
        kind.id_base() + 1 + index
    }

    /// A random seeded id of `kind`, or `None` if none was seeded.
    fn pick_id(&self, rng: &mut Prng, kind: Kind) -> Option<u64> {
        let n = self.count(kind);
        (n > 0).then(|| Self::id_of(kind, rng.below(n)))
    }

    /// A random seeded user id (`null` if there are no users).
    fn pick_user(&self, rng: &mut Prng) -> Value {
        self.pick_id(rng, Kind::User)
            .map_or(Value::Null, Value::from)
    }

    // ----------------------------------------------------------------------------- locations

    fn sites(&self) -> u64 {
        self.locations.min(SITES.len() as u64)
    }

    fn location_name(&self, index: u64) -> (String, Option<u64>, Option<&'static Site>) {
        let sites = self.sites();
        if index < sites {
            let site = site(index);
            return (site.name.to_string(), None, Some(site));
        }
        let j = index - sites;
        let site_index = j % sites.max(1);
        let site = site(site_index);
        let area_index = j / sites.max(1);
        let area = pick_at(AREAS, area_index);
        let round = area_index / AREAS.len() as u64;
        let name = if round == 0 {
            format!("{} {area}", site.code)
        } else {
            format!("{} {area} {}", site.code, round + 1)
        };
        (name, Some(Self::id_of(Kind::Location, site_index)), None)
    }

    /// The location an asset group or a part is kept at: an area, not a whole site, when the
    /// plan has areas.
    fn area_location(&self, n: u64) -> Option<u64> {
        let sites = self.sites();
        if self.locations == 0 {
            None
        } else if self.locations > sites {
            Some(Self::id_of(
                Kind::Location,
                sites + n % (self.locations - sites),
            ))
        } else {
            Some(Self::id_of(Kind::Location, n % self.locations))
        }
    }

    fn location(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::Location, index);
        let mut rng = Prng::for_record(Kind::Location, id);
        let (name, parent_id, site) = self.location_name(index);
        let created = SEED_START + i64_from(index) * 37 * MINUTE;
        let updated = created + rng.range(0, 120 * DAY);
        let description = match site {
            Some(site) => format!("{} manufacturing site", site.name),
            None => format!("{name} — production and utility area"),
        };
        json!({
            "id": id,
            "name": name,
            "description": description,
            "address": site.map(|s| s.address),
            "barcode": format!("LOC{id:07}"),
            "parentId": parent_id,
            "thumbnail": null,
            "attachments": [],
            "extraFields": { "Cost Center": format!("CC-{}", 4100 + index % 40 * 10) },
            "teamIds": [],
            "vendorIds": [],
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated),
            "deletedAt": null,
            "organizationId": ORGANIZATION_ID,
        })
    }

    // --------------------------------------------------------------------------------- users

    fn user(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::User, index);
        let mut rng = Prng::for_record(Kind::User, id);
        let (first, last, role) = if index == 0 {
            ("Plantwire".to_string(), "Integration".to_string(), "ADMIN")
        } else {
            let first = pick_at(FIRST_NAMES, index).to_string();
            let last_index =
                (index * 7 + index / FIRST_NAMES.len() as u64) % LAST_NAMES.len() as u64;
            let last = pick_at(LAST_NAMES, last_index).to_string();
            let role = match rng.below(100) {
                0..10 => "ADMIN",
                10..62 => "MEMBER",
                62..88 => "OPERATOR",
                _ => "REQUESTER",
            };
            (first, last, role)
        };
        let suffix = if index >= 900 {
            format!("{}", index / 900)
        } else {
            String::new()
        };
        let email = format!(
            "{}.{}{suffix}@acme-mfg.example",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase().replace(['\'', ' '], "")
        );
        let department = pick(&mut rng, DEPARTMENTS);
        json!({
            "id": id,
            "firstName": first,
            "lastName": last,
            "role": role,
            "customRole": null,
            "email": email,
            "phoneNumber": format!("+1-937-555-{:04}", 1000 + index % 9000),
            "removedFromOrganization": false,
            "authType": if rng.chance(20) { "SAML" } else { "NORMAL" },
            "hourlyRate": 3200 + rng.below(93) * 50,
            "externalData": null,
            "extraFields": { "Department": department, "Badge": format!("B{:05}", 10_000 + index) },
            "lastVisitedAt": format_ms(SEED_END - rng.range(0, 60 * DAY)),
        })
    }

    // ------------------------------------------------------------------------------- vendors

    fn vendor(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::Vendor, index);
        let mut rng = Prng::for_record(Kind::Vendor, id);
        let (base, category) = pick_at(VENDORS, index);
        let round = index / VENDORS.len() as u64;
        let name = if round == 0 {
            (*base).to_string()
        } else {
            format!("{base} — {}", pick_at(REGIONS, round - 1))
        };
        let slug: String = base
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        json!({
            "id": id,
            "name": name,
            "emails": [format!("orders{}@{slug}.example", if round == 0 { String::new() } else { round.to_string() })],
            "phoneNumbers": [format!("+1-800-555-{:04}", 100 + index)],
            "description": format!("{category} supplier"),
            "thumbnail": null,
            "attachments": [],
            "contactIds": [],
            "deletedAt": null,
            "extraFields": {
                "Account Number": format!("ACCT-{:06}", 100_000 + rng.below(900_000)),
                "Payment Terms": pick(&mut rng, &["Net 30", "Net 45", "Net 60", "2% 10 Net 30"]),
            },
        })
    }

    // -------------------------------------------------------------------------------- assets

    /// Name, tag and location of seeded asset `index`, without building the whole record.
    fn asset_core(&self, index: u64) -> AssetCore {
        let group = index / 4;
        let position = index % 4;
        let equipment = &EQUIPMENT[usize::try_from(group % EQUIPMENT.len() as u64).unwrap_or(0)];
        let tag = format!("{}-{}", equipment.prefix, 101 + group);
        let name = if position == 0 {
            format!("{} {tag}", equipment.name)
        } else {
            format!("{} — {tag}", pick_at(equipment.components, position - 1))
        };
        AssetCore {
            name,
            location_id: self.area_location(group),
            equipment,
            position,
        }
    }

    fn asset(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::Asset, index);
        let mut rng = Prng::for_record(Kind::Asset, id);
        let core = self.asset_core(index);
        let parent_id = (core.position > 0).then(|| id - core.position);
        let (manufacturer, models) = if core.position == 0 {
            pick(&mut rng, core.equipment.makes)
        } else {
            pick(&mut rng, COMPONENT_MAKES)
        };
        let model = pick(&mut rng, models);
        let created = SEED_START + i64_from(index) * 41 * MINUTE;
        let updated = created + rng.range(0, (SEED_END - created).min(400 * DAY));
        let status = match rng.below(100) {
            0..86 => "ONLINE",
            86..96 => "OFFLINE",
            _ => "IGNORE",
        };
        let (downtime, status_note) = if status == "OFFLINE" {
            if rng.chance(50) {
                (json!("PLANNED"), json!("Down for scheduled overhaul"))
            } else {
                (json!("UNPLANNED"), json!("Awaiting replacement bearings"))
            }
        } else {
            (Value::Null, Value::Null)
        };
        let install_year = 2008 + rng.below(16);
        json!({
            "id": id,
            "name": core.name,
            "globalUuid": uuid(&mut rng),
            "currentOwnerId": ORGANIZATION_ID,
            "organizationId": ORGANIZATION_ID,
            "barcode": format!("AST{id:08}"),
            "description": if core.position == 0 {
                core.equipment.description.to_string()
            } else {
                format!("{} of {}", pick_at(core.equipment.components, core.position - 1), core.equipment.name.to_ascii_lowercase())
            },
            "criticalityId": null,
            "teamIds": [TEAMS[usize::from(core.equipment.electrical)]],
            "assetTypes": [core.equipment.asset_type],
            "parentId": parent_id,
            "locationId": core.location_id,
            "serialNumber": format!(
                "{}{:02}-{:06}",
                manufacturer.chars().take(2).collect::<String>().to_ascii_uppercase(),
                install_year % 100,
                rng.below(1_000_000)
            ),
            "thumbnail": null,
            "attachments": [],
            "extraFields": {
                "Install Year": install_year.to_string(),
                "Criticality": pick(&mut rng, &["A", "B", "B", "C"]),
            },
            "vendorIds": self.pick_id(&mut rng, Kind::Vendor).map_or_else(Vec::new, |v| vec![v]),
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated),
            "deletedAt": null,
            "creatorId": self.pick_user(&mut rng),
            "depreciation": null,
            "manufacturer": manufacturer,
            "model": model,
            "status": {
                "id": 900_000 + index,
                "status": status,
                "downtimeType": downtime,
                "startedAt": format_ms(updated),
                "endedAt": null,
                "description": status_note,
                "createdAt": format_ms(updated),
                "updatedAt": format_ms(updated),
                "deletedAt": null,
            },
        })
    }

    // --------------------------------------------------------------------------------- parts

    /// Name, part number and unit cost of seeded part `index`.
    fn part_core(&self, index: u64) -> PartCore {
        part_catalog(index)
    }

    fn part(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::Part, index);
        let mut rng = Prng::for_record(Kind::Part, id);
        let core = self.part_core(index);
        let location_id = self.area_location(rng.below(1_000));
        let available = rng.below(60);
        let minimum = 2 + rng.below(9);
        let maximum = minimum * 4;
        let bin = format!(
            "{}-{:02}",
            char::from(b'A' + u8::try_from(rng.below(8)).unwrap_or(0)),
            1 + rng.below(40)
        );
        let area = format!("Storeroom bin {bin}");
        let vendor_id = self.pick_id(&mut rng, Kind::Vendor);
        let created = SEED_START + i64_from(index) * 53 * MINUTE;
        let updated = created + rng.range(0, (SEED_END - created).min(300 * DAY));
        let committed = json!({ "kitted": 0, "reserved": 0, "staged": 0 });
        let locations = match location_id {
            Some(location_id) => json!([{
                "locationId": location_id,
                "availableQuantity": available,
                "minimumQuantity": minimum,
                "maximumQuantity": maximum,
                "area": area,
                "reservedQuantity": 0,
                "committedQuantities": committed,
                "assignedQuantity": 0,
            }]),
            None => json!([]),
        };
        let asset_ids = self
            .pick_id(&mut rng, Kind::Asset)
            .map_or_else(Vec::new, |a| vec![a]);
        json!({
            "id": id,
            "name": core.name,
            "description": core.description,
            "area": area,
            "unitCost": core.unit_cost,
            "availableQuantity": available,
            "inStockQuantity": available,
            "minimumQuantity": minimum,
            "maximumQuantity": maximum,
            "barcode": format!("PRT{id:09}"),
            "locationId": location_id,
            "locations": locations,
            "partTypes": [core.part_type],
            "assetIds": asset_ids,
            "teamIds": [],
            "extraFields": { "Part Number": core.part_number, "Bin": bin },
            "vendors": vendor_id.map_or_else(|| json!([]), |v| json!([{ "vendorId": v, "partNumber": core.part_number }])),
            "vendorIds": vendor_id.map_or_else(Vec::new, |v| vec![v]),
            "orderedQuantity": if available < minimum { minimum * 2 } else { 0 },
            "reservedQuantity": 0,
            "committedQuantities": committed,
            "assignedQuantity": 0,
            "thumbnail": null,
            "attachments": [],
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated),
            "deletedAt": null,
            "organizationId": ORGANIZATION_ID,
        })
    }

    // ----------------------------------------------------------------------- purchase orders

    fn purchase_order(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::PurchaseOrder, index);
        let mut rng = Prng::for_record(Kind::PurchaseOrder, id);
        let span = SEED_END - SEED_START - 30 * DAY;
        let created = SEED_START
            + 30 * DAY
            + i64_from(index) * span / i64_from(self.purchase_orders.max(1))
            + rng.range(0, 6 * HOUR);
        let status = match rng.below(100) {
            0..35 => "COMPLETED",
            35..55 => "APPROVED",
            55..70 => "PENDING",
            70..80 => "PARTIALLY_FULFILLED",
            80..88 => "REQUESTED",
            88..93 => "DECLINED",
            _ => "CANCELED",
        };
        let lines = 1 + rng.below(4);
        let mut items = Vec::new();
        let mut first_part = None;
        for line in 0..lines {
            let part = (self.parts > 0).then(|| rng.below(self.parts));
            let quantity = 1 + rng.below(24);
            let (part_id, name, part_number, unit_cost) = match part {
                Some(p) => {
                    let core = self.part_core(p);
                    (
                        json!(Self::id_of(Kind::Part, p)),
                        core.name,
                        json!(core.part_number),
                        core.unit_cost,
                    )
                }
                None => (
                    Value::Null,
                    "Miscellaneous MRO supplies".to_string(),
                    Value::Null,
                    2_500,
                ),
            };
            first_part.get_or_insert_with(|| name.clone());
            let received = match status {
                "COMPLETED" => quantity,
                "PARTIALLY_FULFILLED" => quantity / 2,
                _ => 0,
            };
            items.push(po_item(
                SEED_ITEM_BASE + index * 8 + line,
                part_id,
                name,
                part_number,
                quantity,
                received,
                unit_cost,
            ));
        }
        let approved = matches!(status, "APPROVED" | "PARTIALLY_FULFILLED" | "COMPLETED");
        let approval = created + rng.range(2 * HOUR, 3 * DAY);
        let updated = (approval + rng.range(0, 20 * DAY)).min(SEED_END);
        let vendor_id = self.pick_id(&mut rng, Kind::Vendor);
        let ship_to = site(rng.below(self.sites().max(1)));
        let year = 2023 + (created - SEED_START) / (365 * DAY);
        let costs = if rng.chance(40) {
            json!([{ "id": SEED_COST_BASE + index, "name": "Freight", "type": "AMOUNT_NON_TAXABLE", "amount": 2_500 + rng.below(60) * 100 }])
        } else {
            json!([])
        };
        json!({
            "id": id,
            "note": "Deliver to receiving dock 3, Mon–Fri 07:00–15:00. Reference the PO number on the packing slip.",
            "title": format!("Restock: {}", first_part.unwrap_or_default()),
            "reviewNote": if status == "DECLINED" { json!("Quantities exceed the quarterly budget, please revise") } else { Value::Null },
            "status": status,
            "dueDate": format_ms(created + rng.range(7, 30) * DAY),
            "creatorId": self.pick_user(&mut rng),
            "vendorId": vendor_id,
            "autoGeneratedNumber": index + 1,
            "overrideNumber": format!("PO-{year}-{:05}", index + 1),
            "approverId": if approved { json!(API_USER_ID) } else { Value::Null },
            "approvalDate": if approved { json!(format_ms(approval)) } else { Value::Null },
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated.max(created)),
            "deletedAt": null,
            "items": items,
            "costs": costs,
            "thumbnail": null,
            "attachments": [],
            "vendorContactIds": [],
            "shippingAddress": ship_to.address_object(),
            "billingAddress": site(0).address_object(),
            "extraFields": {
                "Cost Center": format!("CC-{}", 4100 + rng.below(40) * 10),
                "GL Account": "5100-200",
            },
        })
    }

    // --------------------------------------------------------------------------- work orders

    fn work_order(&self, index: u64) -> Value {
        let id = Self::id_of(Kind::WorkOrder, index);
        let mut rng = Prng::for_record(Kind::WorkOrder, id);
        let span = SEED_END - SEED_START - 7 * DAY;
        let step = span / i64_from(self.work_orders.max(1));
        let created = SEED_START + i64_from(index) * step + rng.range(0, (step / 2).max(1));

        // Mostly whole machines (every fourth asset), sometimes one of their components.
        let asset = (self.assets > 0).then(|| {
            if rng.chance(80) {
                rng.below(self.assets.div_ceil(4)) * 4
            } else {
                rng.below(self.assets)
            }
        });
        let (asset_id, asset_name, location_id) = match asset {
            Some(a) => {
                let core = self.asset_core(a);
                (
                    json!(Self::id_of(Kind::Asset, a)),
                    core.name,
                    core.location_id,
                )
            }
            None => (
                Value::Null,
                "plant utilities".to_string(),
                self.pick_id(&mut rng, Kind::Location),
            ),
        };

        let (kind, templates) = match rng.below(100) {
            0..48 => ("PREVENTIVE", PREVENTIVE_TITLES),
            48..90 => ("REACTIVE", REACTIVE_TITLES),
            _ => ("OTHER", OTHER_TITLES),
        };
        let (title_template, description) = pick(&mut rng, templates);
        let title = title_template.replace("{a}", &asset_name);
        let priority = match (kind, rng.below(100)) {
            ("REACTIVE", 0..35) => "HIGH",
            ("REACTIVE", 35..85) => "MEDIUM",
            ("REACTIVE", _) => "LOW",
            (_, 0..10) => "NONE",
            (_, 10..55) => "LOW",
            (_, 55..92) => "MEDIUM",
            _ => "HIGH",
        };
        let old = created < SEED_END - 45 * DAY;
        let roll = rng.below(100);
        let status = if old {
            match roll {
                0..78 => "DONE",
                78..85 => "CANCELED",
                85..88 if kind == "PREVENTIVE" => "SKIPPED",
                85..88 => "DONE",
                88..93 => "OPEN",
                93..97 => "ON_HOLD",
                _ => "IN_PROGRESS",
            }
        } else {
            match roll {
                0..40 => "OPEN",
                40..65 => "IN_PROGRESS",
                65..75 => "ON_HOLD",
                _ => "DONE",
            }
        };
        let due = created + rng.range(1, 21) * DAY;
        let start = (kind == "PREVENTIVE").then(|| (due - 2 * DAY).max(created));
        let assignee = self.pick_id(&mut rng, Kind::User);
        let mut assignees: Vec<u64> = assignee.into_iter().collect();
        if rng.chance(25)
            && let Some(second) = self.pick_id(&mut rng, Kind::User)
            && !assignees.contains(&second)
        {
            assignees.push(second);
        }
        let completed =
            (status == "DONE").then(|| (created + rng.range(HOUR, 14 * DAY)).min(SEED_END));
        let touched = (created + rng.range(10 * MINUTE, 2 * DAY)).min(SEED_END);
        let updated = completed.map_or(touched, |c| c.max(touched));
        let electrical = title.contains("tripped")
            || title.contains("Electrical")
            || title.contains("Thermographic")
            || title.contains("transmitter");
        let mut categories = vec![match kind {
            "PREVENTIVE" => "Preventive",
            "REACTIVE" if electrical => "Electrical",
            "REACTIVE" => "Mechanical",
            _ => "Project",
        }];
        if title.contains("safety") || title.contains("guard") {
            categories.push("Safety");
        } else if title.contains("Lubricate") {
            categories.push("Lubrication");
        } else if title.contains("Inspect") || title.contains("Vibration") {
            categories.push("Inspection");
        }
        let recurrence = if title.starts_with("Monthly") {
            json!({ "type": "MONTHLY", "interval": 1, "day": 1 + rng.below(28) })
        } else if title.starts_with("Quarterly") {
            json!({ "type": "MONTHLY", "interval": 3, "day": 1 + rng.below(28) })
        } else if kind == "PREVENTIVE" && rng.chance(40) {
            json!({ "type": "WEEKLY", "interval": 2, "days": ["MONDAY"] })
        } else {
            Value::Null
        };
        let parts_used = if kind == "REACTIVE" && self.parts > 0 && rng.chance(30) {
            let part = Self::id_of(Kind::Part, rng.below(self.parts));
            json!([{ "partId": part, "quantityUsed": 1 + rng.below(4), "locationId": null, "copyOnRecurring": "Default" }])
        } else {
            json!([])
        };
        let part_status = match (parts_used.as_array().is_some_and(|p| !p.is_empty()), status) {
            (false, _) => "NO_PARTS",
            (true, "DONE") => "ISSUED",
            (true, _) => "ASSIGNED",
        };
        let summary = if status == "DONE" && rng.chance(30) {
            json!({
                "content": format!("{description} Work completed, equipment returned to service."),
                "summary": null,
                "authorId": assignee,
            })
        } else {
            Value::Null
        };
        let vendor_ids = if rng.chance(10) {
            self.pick_id(&mut rng, Kind::Vendor)
                .map_or_else(Vec::new, |v| vec![v])
        } else {
            Vec::new()
        };
        json!({
            "id": id,
            "sequentialId": index + 1,
            "title": title,
            "description": description,
            "status": status,
            "priority": priority,
            "type": kind,
            "assetId": asset_id,
            "locationId": location_id,
            "assigneeIds": assignees,
            "teamIds": [TEAMS[usize::from(electrical) + if kind == "PREVENTIVE" { 2 } else { 0 }]],
            "categories": categories,
            "dueDate": format_ms(due),
            "dueDateIsFullDay": false,
            "startDate": start.map(format_ms),
            "completedAt": completed.map(format_ms),
            "completerId": completed.and(assignee),
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated),
            "creatorId": self.pick_user(&mut rng),
            "requesterId": if kind == "REACTIVE" && rng.chance(30) { self.pick_user(&mut rng) } else { Value::Null },
            "deletedAt": null,
            "organizationId": ORGANIZATION_ID,
            "parentId": null,
            "isParent": false,
            "estimatedTime": 1_800 + rng.below(32) * 900,
            "externalData": null,
            "extraFields": {
                "Downtime Required": if rng.chance(35) { "Yes" } else { "No" },
                "Cost Center": format!("CC-{}", 4100 + rng.below(40) * 10),
            },
            "vendorIds": vendor_ids,
            "lastMessageSentAt": if rng.chance(40) { json!(format_ms(updated)) } else { Value::Null },
            "nextId": null,
            "previousId": null,
            "partsAvailability": "PARTS_AVAILABLE",
            "partStatus": part_status,
            "partsUsed": parts_used,
            "recurrenceInfo": recurrence,
            "thumbnail": null,
            "attachments": [],
            "procedure": null,
            "progress": null,
            "workOrderSummary": summary,
        })
    }
}

/// Item ids of seeded purchase orders start here (8 ids reserved per order).
pub(crate) const SEED_ITEM_BASE: u64 = 5_000_000;
/// Cost ids of seeded purchase orders start here.
const SEED_COST_BASE: u64 = 6_000_000;

/// One purchase order line as the spec shapes it (prices in cents, decimals as strings).
pub(crate) fn po_item(
    id: u64,
    part_id: Value,
    name: String,
    part_number: Value,
    quantity: u64,
    received: u64,
    unit_cost: u64,
) -> Value {
    let price = quantity * unit_cost;
    json!({
        "id": id,
        "partId": part_id,
        "name": name,
        "partNumber": part_number,
        "price": price,
        "priceDecimal": cents_decimal(price),
        "quantityOrdered": quantity,
        "quantityReceived": received,
        "unitCost": unit_cost,
        "unitCostDecimal": cents_decimal(unit_cost),
        "fulfillments": [],
        "extraFields": {},
        "lineExtraFields": {},
        "partExtraFields": {},
    })
}

/// `12345` cents → `"123.450000"`, the spec's decimal string format.
pub(crate) fn cents_decimal(cents: u64) -> String {
    format!("{}.{:02}0000", cents / 100, cents % 100)
}

/// The parts of a seeded asset other generators need.
struct AssetCore {
    name: String,
    location_id: Option<u64>,
    equipment: &'static Equipment,
    position: u64,
}

/// The parts of a seeded part other generators need.
struct PartCore {
    name: String,
    part_number: String,
    description: String,
    unit_cost: u64,
    part_type: &'static str,
}

/// The part catalogue: sixteen families of MRO parts, each with its own numbering scheme.
fn part_catalog(index: u64) -> PartCore {
    const FAMILIES: u64 = 16;
    let family = index % FAMILIES;
    let v = index / FAMILIES;
    let (name, number, description, unit_cost, part_type, combos): (
        String,
        String,
        &str,
        u64,
        &str,
        u64,
    ) = match family {
        0 => {
            let size = pick_at(BEARING_SIZES, v);
            let seal = if (v / BEARING_SIZES.len() as u64).is_multiple_of(2) {
                "2RS"
            } else {
                "ZZ"
            };
            (
                format!("Deep Groove Ball Bearing {size}-{seal}"),
                format!("BRG-{size}-{seal}"),
                "Single-row deep groove ball bearing, C3 clearance",
                450 + (v % 26) * 85,
                "Bearings",
                BEARING_SIZES.len() as u64 * 2,
            )
        }
        1 => {
            let section = pick_at(&["A", "B", "C", "3V", "5V"], v);
            let length = 30 + (v / 5 % 46) * 2;
            (
                format!("V-Belt {section}{length}"),
                format!("BLT-{section}{length}"),
                "Classical wrapped V-belt, oil and heat resistant",
                1_200 + length * 15,
                "Belts",
                5 * 46,
            )
        }
        2 => {
            let shaft = pick_at(SEAL_SHAFTS, v);
            let face = pick_at(&["CB", "SC", "TC"], v / SEAL_SHAFTS.len() as u64);
            (
                format!("Mechanical Seal {shaft}\" Type 21 {face}/Viton"),
                format!("SEAL-{}-T21{face}", shaft.replace('.', "")),
                "Elastomer bellows mechanical seal for end-suction pumps",
                18_500 + (v % 12) * 1_250,
                "Seals",
                SEAL_SHAFTS.len() as u64 * 3,
            )
        }
        3 => {
            let micron = pick_at(&[3u64, 5, 10, 25], v);
            let length = pick_at(&["4", "8", "13", "18", "27", "39"], v / 4);
            (
                format!("Hydraulic Filter Element {micron} µm, {length}\""),
                format!("FLT-HYD-{micron:02}M-{length}"),
                "Glass-fibre return-line filter element",
                4_200 + micron * 90,
                "Filters",
                24,
            )
        }
        4 => {
            let model = 1_000 + (v % 40) * 13;
            (
                format!("Compressor Air Intake Filter {model}"),
                format!("FLT-AIR-{model}"),
                "Intake filter cartridge for rotary screw compressors",
                6_800 + (v % 40) * 40,
                "Filters",
                40,
            )
        }
        5 => {
            let dash = 100 + (v % 60) * 7;
            (
                format!("O-Ring Viton AS568-{dash} (pack of 10)"),
                format!("ORK-VT-{dash:03}"),
                "FKM 75A O-rings",
                900 + (v % 60) * 12,
                "Seals",
                60,
            )
        }
        6 => {
            let amps = pick_at(&[9u64, 12, 18, 25, 32, 40, 50, 65, 80, 95], v);
            let coil = pick_at(&["24D", "120A", "240A"], v / 10);
            (
                format!("IEC Contactor 3P {amps} A, {coil} coil"),
                format!("ELC-CNT-{amps}A-{coil}"),
                "Three-pole IEC contactor, 1 NO auxiliary",
                3_900 + amps * 110,
                "Electrical",
                30,
            )
        }
        7 => {
            let size = pick_at(&["M8", "M12", "M18", "M30"], v);
            let output = pick_at(&["PNP", "NPN"], v / 4);
            let range = pick_at(&["2", "4", "8"], v / 8);
            (
                format!("Inductive Proximity Sensor {size} {output} NO, {range} mm"),
                format!("SNS-PRX-{size}-{output}{range}"),
                "Shielded inductive sensor, 10–30 VDC, M12 connector",
                5_400 + (v % 24) * 150,
                "Sensors",
                24,
            )
        }
        8 => {
            let (grade, code) = pick_at(
                &[
                    ("EP2 lithium complex", "EP2"),
                    ("EP1 lithium complex", "EP1"),
                    ("Polyurea EM motor bearing", "PEM"),
                    ("Synthetic SHC 220", "S220"),
                    ("Food-grade H1 aluminium complex", "FG2"),
                    ("High-temperature calcium sulfonate", "CS2"),
                ],
                v,
            );
            let pack = pick_at(&["14 oz cartridge", "35 lb pail", "120 lb keg"], v / 6);
            (
                format!("Grease {grade}, {pack}"),
                format!("LUB-GRS-{code}-{}", v / 6 % 3 + 1),
                "Bearing grease",
                850 + (v % 18) * 1_900,
                "Lubricants",
                18,
            )
        }
        9 => {
            let grade = pick_at(&[68u64, 100, 150, 220, 320, 460], v);
            let (pack, code) = pick_at(
                &[
                    ("1 gal", "1G"),
                    ("5 gal pail", "5G"),
                    ("55 gal drum", "55G"),
                ],
                v / 6,
            );
            (
                format!("Gear Oil ISO VG {grade}, {pack}"),
                format!("LUB-G{grade}-{code}"),
                "EP industrial gear oil",
                3_500 + (v / 6 % 3) * 38_000,
                "Lubricants",
                18,
            )
        }
        10 => {
            let size = pick_at(&[70u64, 75, 90, 95, 99, 100, 110, 150, 190, 225], v);
            let material = pick_at(&["NBR", "URE", "HYT"], v / 10);
            (
                format!("Jaw Coupling Spider L-{size} {material}"),
                format!("CPL-L{size:03}-{material}"),
                "Elastomeric spider for L-type jaw couplings",
                700 + size * 9,
                "Power Transmission",
                30,
            )
        }
        11 => {
            let pitch = pick_at(&[35u64, 40, 50, 60, 80, 100], v);
            let strands = pick_at(&["1", "2"], v / 6);
            (
                format!("Roller Chain ANSI #{pitch}-{strands}, 10 ft"),
                format!("CHN-{pitch}-{strands}-10"),
                "Carbon steel riveted roller chain",
                2_900 + pitch * 60,
                "Power Transmission",
                12,
            )
        }
        12 => {
            let amps = pick_at(&[15u64, 20, 30, 40, 60, 100, 200], v);
            let class = pick_at(&["J", "RK5", "CC"], v / 7);
            (
                format!("Fuse {amps} A Class {class} Time-Delay"),
                format!("ELC-FUS-{class}{amps}"),
                "600 V time-delay fuse",
                600 + amps * 8,
                "Electrical",
                21,
            )
        }
        13 => {
            let range = pick_at(&[30u64, 60, 100, 160, 300, 600], v);
            let face = pick_at(&["2.5", "4"], v / 6);
            (
                format!("Pressure Gauge {face}\" 0–{range} psi, glycerin filled"),
                format!("INS-PG{}-{range}", face.replace('.', "")),
                "Stainless case, 1/4\" NPT bottom connection",
                2_100 + range * 4,
                "Instrumentation",
                12,
            )
        }
        14 => {
            let (size, code) = pick_at(
                &[
                    ("1/4", "025"),
                    ("3/8", "038"),
                    ("1/2", "050"),
                    ("3/4", "075"),
                    ("1", "100"),
                ],
                v,
            );
            let coil = pick_at(&["24VDC", "120VAC"], v / 5);
            (
                format!("Solenoid Valve 2-way NC {size}\" NPT, {coil}"),
                format!("VLV-SOL-{code}-{coil}"),
                "Brass body, FKM seals",
                8_800 + (v % 10) * 900,
                "Valves",
                10,
            )
        }
        _ => {
            let (hp, frame) = pick_at(
                &[
                    ("1", "143T"),
                    ("2", "145T"),
                    ("3", "182T"),
                    ("5", "184T"),
                    ("7.5", "213T"),
                    ("10", "215T"),
                    ("15", "254T"),
                    ("20", "256T"),
                    ("25", "284T"),
                    ("30", "286T"),
                    ("40", "324T"),
                    ("50", "326T"),
                ],
                v,
            );
            (
                format!("TEFC Motor {hp} HP 1800 rpm 460 V, {frame} frame"),
                format!("MTR-{}HP-{frame}", hp.replace('.', "")),
                "Premium efficiency TEFC induction motor (spare)",
                65_000 + (v % 12) * 42_000,
                "Motors",
                12,
            )
        }
    };
    // Past the family's combinations, later revisions keep numbers unique.
    let revision = v / combos;
    let (name, number) = if revision == 0 {
        (name, number)
    } else {
        (
            format!("{name} (rev {revision})"),
            format!("{number}-R{revision}"),
        )
    };
    PartCore {
        name,
        part_number: number,
        description: description.to_string(),
        unit_cost,
        part_type,
    }
}

/// A small, fast, deterministic PRNG (`SplitMix64`); one stream per record.
#[derive(Debug, Clone)]
pub(crate) struct Prng(u64);

impl Prng {
    /// The stream for record `id` of `kind`.
    pub(crate) fn for_record(kind: Kind, id: u64) -> Self {
        let salt = kind.id_base().wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = Self(SEED ^ salt ^ id.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 if `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A number in `lo..hi` (`lo` if the range is empty).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = u64::try_from(hi - lo).unwrap_or(u64::MAX);
        lo + i64::try_from(self.below(width)).unwrap_or(0)
    }

    /// `true` with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn pick<T: Copy>(rng: &mut Prng, items: &[T]) -> T {
    let n = items.len() as u64;
    pick_at(items, rng.below(n))
}

/// `items[i % len]`; `items` must not be empty (all callers pass non-empty constants).
fn pick_at<T: Copy>(items: &[T], i: u64) -> T {
    let len = items.len().max(1) as u64;
    let index = usize::try_from(i % len).unwrap_or(0);
    items[index]
}

fn i64_from(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn uuid(rng: &mut Prng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

// ----------------------------------------------------------------------------- vocabulary

#[derive(Debug)]
struct Site {
    name: &'static str,
    code: &'static str,
    address: &'static str,
    street: &'static str,
    city: &'static str,
    state: &'static str,
    postal_code: &'static str,
    country: &'static str,
}

impl Site {
    fn address_object(&self) -> Value {
        json!({
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "postalCode": self.postal_code,
            "country": self.country,
            "label": self.address,
        })
    }
}

fn site(index: u64) -> &'static Site {
    let index = usize::try_from(index % SITES.len() as u64).unwrap_or(0);
    &SITES[index]
}

const SITES: &[Site] = &[
    Site {
        name: "Dayton Plant",
        code: "DAY",
        address: "4400 Gateway Blvd, Dayton, OH 45424, US",
        street: "4400 Gateway Blvd",
        city: "Dayton",
        state: "OH",
        postal_code: "45424",
        country: "US",
    },
    Site {
        name: "Greenville Plant",
        code: "GVL",
        address: "1200 Industrial Pkwy, Greenville, SC 29607, US",
        street: "1200 Industrial Pkwy",
        city: "Greenville",
        state: "SC",
        postal_code: "29607",
        country: "US",
    },
    Site {
        name: "Monterrey Plant",
        code: "MTY",
        address: "Av. Industrial 850, Apodaca, NL 66600, MX",
        street: "Av. Industrial 850",
        city: "Apodaca",
        state: "NL",
        postal_code: "66600",
        country: "MX",
    },
    Site {
        name: "Calgary Plant",
        code: "YYC",
        address: "5210 72 Ave SE, Calgary, AB T2C 4X2, CA",
        street: "5210 72 Ave SE",
        city: "Calgary",
        state: "AB",
        postal_code: "T2C 4X2",
        country: "CA",
    },
];

const AREAS: &[&str] = &[
    "Boiler Room",
    "Compressor House",
    "Packaging Line",
    "Filling Line",
    "Assembly Line",
    "Paint Shop",
    "Warehouse",
    "Tool Crib",
    "Wastewater Treatment",
    "Cooling Tower Yard",
    "Electrical Substation",
    "Maintenance Shop",
    "Mixing Room",
    "Extrusion Hall",
    "Shipping Dock",
    "Chiller Plant",
];

#[derive(Debug)]
struct Equipment {
    name: &'static str,
    prefix: &'static str,
    description: &'static str,
    asset_type: &'static str,
    electrical: bool,
    components: &'static [&'static str],
    makes: &'static [(&'static str, &'static [&'static str])],
}

const EQUIPMENT: &[Equipment] = &[
    Equipment {
        name: "Centrifugal Pump",
        prefix: "P",
        description: "End-suction centrifugal pump, 75 HP, 1780 rpm, condenser water service",
        asset_type: "Rotating Equipment",
        electrical: false,
        components: &[
            "Drive Motor",
            "Mechanical Seal Assembly",
            "Flexible Coupling",
        ],
        makes: &[
            ("Goulds", &["3196 MTX", "3656 LH", "e-1510"]),
            ("Grundfos", &["NB 65-250", "CR 32-4", "TP 100-240"]),
            ("Flowserve", &["Mark 3 ANSI", "HPX", "LNN"]),
            ("KSB", &["Etanorm 080-065-250", "Movitec 25"]),
        ],
    },
    Equipment {
        name: "Air Compressor",
        prefix: "C",
        description: "Oil-injected rotary screw compressor, 50 HP, 125 psig plant air",
        asset_type: "Compressed Air",
        electrical: false,
        components: &["Drive Motor", "Air/Oil Separator", "Aftercooler"],
        makes: &[
            ("Atlas Copco", &["GA 37 VSD+", "GA 55", "ZR 90"]),
            ("Ingersoll Rand", &["R55n", "RS37i", "UP6-50"]),
            ("Kaeser", &["ASD 40", "BSD 72", "CSD 100"]),
            ("Sullair", &["LS110", "4509", "ShopTek ST1509"]),
        ],
    },
    Equipment {
        name: "Belt Conveyor",
        prefix: "CV",
        description: "Flat belt conveyor, 24 in wide, 80 ft, center drive",
        asset_type: "Material Handling",
        electrical: false,
        components: &["Gearmotor", "Head Pulley", "Belt Take-Up"],
        makes: &[
            ("Hytrol", &["TL", "190-NSP", "ProSort"]),
            ("Dorner", &["2200 Series", "3200 Series"]),
            ("Intralox", &["Series 900", "Series 1100"]),
        ],
    },
    Equipment {
        name: "Hydraulic Press",
        prefix: "HP",
        description: "Four-post hydraulic press, 200 t",
        asset_type: "Production Equipment",
        electrical: false,
        components: &[
            "Hydraulic Power Unit",
            "Main Cylinder",
            "Safety Light Curtain",
        ],
        makes: &[
            ("Beckwood", &["4P-200", "GT-150"]),
            ("Greenerd", &["HP-200", "GH-100"]),
        ],
    },
    Equipment {
        name: "Chiller",
        prefix: "CH",
        description: "Water-cooled screw chiller, 300 tons",
        asset_type: "HVAC",
        electrical: true,
        components: &["Compressor Motor", "Condenser Barrel", "Control Panel"],
        makes: &[
            ("Trane", &["RTHD", "CenTraVac CVHF"]),
            ("Carrier", &["23XRV", "30XW"]),
            ("York", &["YVWA", "YK"]),
        ],
    },
    Equipment {
        name: "Cooling Tower",
        prefix: "CT",
        description: "Induced-draft counterflow cooling tower, 2 cells",
        asset_type: "HVAC",
        electrical: false,
        components: &["Fan Motor", "Fan Gearbox", "Basin Heater"],
        makes: &[
            ("Baltimore Aircoil", &["Series 3000", "FXV"]),
            ("Marley", &["NC Series", "MD Everest"]),
        ],
    },
    Equipment {
        name: "Steam Boiler",
        prefix: "B",
        description: "Firetube steam boiler, 500 BHP, 150 psig",
        asset_type: "Utilities",
        electrical: false,
        components: &["Burner", "Feedwater Pump", "Low-Water Cutoff"],
        makes: &[
            ("Cleaver-Brooks", &["CBEX Elite", "CB 700"]),
            ("Miura", &["LX-300", "EX-200"]),
        ],
    },
    Equipment {
        name: "CNC Machining Center",
        prefix: "M",
        description: "Vertical machining center, 40-taper, 12k rpm spindle",
        asset_type: "Production Equipment",
        electrical: true,
        components: &["Spindle Motor", "Way Lube Unit", "Coolant Pump"],
        makes: &[
            ("Haas", &["VF-2SS", "VF-4", "UMC-750"]),
            ("Okuma", &["GENOS M560-V", "MB-46VAE"]),
            ("Mazak", &["VCN-530C", "Variaxis i-600"]),
        ],
    },
    Equipment {
        name: "Forklift",
        prefix: "FL",
        description: "Electric counterbalance forklift, 5,000 lb",
        asset_type: "Mobile Equipment",
        electrical: true,
        components: &["Traction Motor", "Mast Assembly", "Battery 48 V"],
        makes: &[
            ("Toyota", &["8FBMT25", "8FGCU25"]),
            ("Hyster", &["E50XN", "H50FT"]),
            ("Crown", &["SC 6000", "FC 5200"]),
        ],
    },
    Equipment {
        name: "Industrial Mixer",
        prefix: "MX",
        description: "Top-entry agitator, 15 HP, 316SS wetted parts",
        asset_type: "Production Equipment",
        electrical: false,
        components: &["Drive Motor", "Gear Reducer", "Shaft Seal"],
        makes: &[
            ("SPX Lightnin", &["Series 10", "LSE-715"]),
            ("Philadelphia Mixing", &["3800 Series", "PRO-1"]),
        ],
    },
    Equipment {
        name: "Motor Control Center",
        prefix: "MCC",
        description: "480 V motor control center, 12 buckets",
        asset_type: "Electrical Distribution",
        electrical: true,
        components: &["Main Breaker", "VFD Bucket", "Starter Bucket"],
        makes: &[
            ("Allen-Bradley", &["CENTERLINE 2100", "CENTERLINE 2500"]),
            ("Eaton", &["Freedom 2100", "Freedom Arc-Flash"]),
            ("Siemens", &["tiastar", "SIVACON S8"]),
        ],
    },
    Equipment {
        name: "Extruder",
        prefix: "EX",
        description: "Single-screw extruder, 3.5 in, 30:1 L/D",
        asset_type: "Production Equipment",
        electrical: false,
        components: &["Main Drive Motor", "Gearbox", "Barrel Heater Zone 1"],
        makes: &[
            ("Davis-Standard", &["DS-35", "Thermatic"]),
            ("Milacron", &["Mach 3", "TP-70"]),
        ],
    },
];

const COMPONENT_MAKES: &[(&str, &[&str])] = &[
    ("Baldor-Reliance", &["EM4314T", "CEM3770T", "M3615T"]),
    ("WEG", &["W22 IE3", "W22 NEMA Premium"]),
    ("Siemens", &["1LE1001", "SIMOTICS SD"]),
    ("SEW-Eurodrive", &["R67 DRN90L4", "K57 DRN100LS4"]),
    ("Falk", &["Quadrive", "Ultramax"]),
    ("Rexnord", &["Omega 10", "Thomas 71"]),
    ("John Crane", &["Type 21", "Type 1B"]),
    ("ABB", &["ACS580", "M3BP 160"]),
];

const BEARING_SIZES: &[&str] = &[
    "6200", "6201", "6202", "6203", "6204", "6205", "6206", "6207", "6208", "6209", "6210", "6211",
    "6212", "6300", "6301", "6302", "6303", "6304", "6305", "6306", "6307", "6308", "6309", "6310",
    "6311", "6312",
];

const SEAL_SHAFTS: &[&str] = &[
    "0.875", "1.000", "1.125", "1.250", "1.375", "1.500", "1.625", "1.750", "1.875", "2.000",
    "2.125", "2.500",
];

const VENDORS: &[(&str, &str)] = &[
    ("Grainger Industrial Supply", "MRO"),
    ("Motion Industries", "Bearings and power transmission"),
    (
        "Applied Industrial Technologies",
        "Bearings and power transmission",
    ),
    ("Fastenal", "Fasteners and MRO"),
    ("MSC Industrial Supply", "Metalworking and MRO"),
    ("McMaster-Carr", "MRO"),
    ("Kaman Distribution", "Bearings and power transmission"),
    ("BDI USA", "Bearings and fluid power"),
    ("Border States Electric", "Electrical"),
    ("Graybar", "Electrical"),
    ("Rexel USA", "Electrical"),
    ("Wesco", "Electrical and automation"),
    ("Atlas Copco Compressors", "Compressor service"),
    ("Ingersoll Rand Service", "Compressor service"),
    ("Grundfos Service", "Pump service"),
    ("Goulds Pumps Service", "Pump service"),
    ("SKF Solution Factory", "Bearing and reliability services"),
    ("Lubrication Engineers", "Lubricants"),
    ("Shell Lubricants Distributor", "Lubricants"),
    ("Parker Hannifin Store", "Hydraulics"),
    ("Eaton Hydraulics Distributor", "Hydraulics"),
    ("Trane Service", "HVAC service"),
    ("Carrier Commercial Service", "HVAC service"),
    ("Cintas Facility Services", "Safety and facility"),
    ("Airgas", "Gases and welding"),
    ("Hytrol Conveyor Parts", "Conveyor parts"),
    ("Automation Direct", "Automation"),
    ("Rockwell Automation Distributor", "Automation"),
    ("Ferguson Industrial", "Pipe, valves and fittings"),
    ("Hilti", "Tools and anchoring"),
];

const REGIONS: &[&str] = &[
    "Midwest",
    "Southeast",
    "Northeast",
    "Southwest",
    "West Coast",
    "Canada",
    "Mexico",
    "Great Lakes",
];

const FIRST_NAMES: &[&str] = &[
    "James",
    "Maria",
    "Robert",
    "Linda",
    "Michael",
    "Patricia",
    "David",
    "Jennifer",
    "Carlos",
    "Elizabeth",
    "Daniel",
    "Susan",
    "Luis",
    "Karen",
    "Kevin",
    "Nancy",
    "Brian",
    "Lisa",
    "Jose",
    "Sandra",
    "Thomas",
    "Ashley",
    "Ahmed",
    "Emily",
    "Wei",
    "Priya",
    "Marcus",
    "Olga",
    "Tyler",
    "Fatima",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Garcia",
    "Johnson",
    "Martinez",
    "Brown",
    "Rodriguez",
    "Miller",
    "Hernandez",
    "Davis",
    "Lopez",
    "Wilson",
    "Gonzalez",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Nguyen",
    "Patel",
    "Kowalski",
    "OBrien",
    "Schmidt",
];

const DEPARTMENTS: &[&str] = &[
    "Maintenance",
    "Maintenance",
    "Reliability",
    "Production",
    "Facilities",
    "EHS",
];

const PREVENTIVE_TITLES: &[(&str, &str)] = &[
    (
        "Monthly PM — {a}",
        "Monthly preventive maintenance: inspect, clean, check fasteners and guards.",
    ),
    (
        "Quarterly PM — {a}",
        "Quarterly preventive maintenance per OEM manual section 7.",
    ),
    (
        "Lubricate bearings — {a}",
        "Grease motor and pump bearings per lubrication chart; do not over-grease.",
    ),
    (
        "Vibration analysis route — {a}",
        "Collect vibration readings at all measurement points and upload to the route.",
    ),
    (
        "Inspect belts and sheaves — {a}",
        "Check belt tension, wear and sheave alignment; replace belts as a set if worn.",
    ),
    (
        "Thermographic scan — {a}",
        "Infrared scan of electrical connections under load; report hot spots > 10 °C rise.",
    ),
    (
        "Replace filters — {a}",
        "Replace air and oil filters; record differential pressure before and after.",
    ),
    (
        "Annual safety inspection — {a}",
        "Verify guarding, lockout points, e-stops and signage.",
    ),
];

const REACTIVE_TITLES: &[(&str, &str)] = &[
    (
        "Replace bearings on {a}",
        "Operator reports grinding noise from the drive end bearing.",
    ),
    (
        "Investigate oil leak at {a}",
        "Oil puddle found under the unit during the morning walk-down.",
    ),
    (
        "{a} tripped on overload",
        "Unit tripped on motor overload twice this shift; check amps and load.",
    ),
    (
        "Excessive vibration on {a}",
        "Vibration alarm above 0.3 in/s; check alignment and mounting.",
    ),
    (
        "Overheating alarm on {a}",
        "High temperature alarm; check cooling, lubrication and load.",
    ),
    (
        "Loose guard on {a}",
        "Guard fasteners loose; re-secure and check for vibration damage.",
    ),
    (
        "Unusual noise from {a}",
        "Intermittent knocking noise reported by production.",
    ),
    (
        "Electrical fault on {a}",
        "Intermittent fault code on the control panel; check wiring and terminations.",
    ),
];

const OTHER_TITLES: &[(&str, &str)] = &[
    (
        "Install guard on {a}",
        "Fabricate and install a fixed guard over the exposed coupling.",
    ),
    (
        "Calibrate pressure transmitter — {a}",
        "Five-point calibration of the discharge pressure transmitter.",
    ),
    (
        "Update drawings and manuals — {a}",
        "Attach current P&ID and OEM manual to the asset record.",
    ),
    (
        "Relocate {a}",
        "Plan and execute relocation for the line layout change.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SeedPlan {
        SeedPlan {
            work_orders: 2_500,
            assets: 600,
            parts: 400,
            purchase_orders: 300,
            locations: 120,
            vendors: 80,
            users: 60,
        }
    }

    #[test]
    fn seeded_records_are_deterministic() {
        let a = plan().record(Kind::WorkOrder, Kind::WorkOrder.id_base() + 17);
        let b = plan().record(Kind::WorkOrder, Kind::WorkOrder.id_base() + 17);
        assert!(a.is_some());
        assert_eq!(a, b);
    }

    #[test]
    fn part_numbers_are_unique_and_include_the_classic_bearing() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..4_000 {
            assert!(seen.insert(part_catalog(i).part_number), "duplicate at {i}");
        }
        assert!(seen.contains("BRG-6204-2RS"));
    }

    #[test]
    fn cross_references_point_at_seeded_records() {
        let p = plan();
        for i in 0..p.work_orders {
            let Some(wo) = p.record(Kind::WorkOrder, Kind::WorkOrder.id_base() + 1 + i) else {
                continue;
            };
            let asset = wo.get("assetId").and_then(Value::as_u64).unwrap_or(0);
            let location = wo.get("locationId").and_then(Value::as_u64).unwrap_or(0);
            assert!(p.is_seeded(Kind::Asset, asset));
            assert!(p.is_seeded(Kind::Location, location));
        }
    }

    #[test]
    fn work_order_timestamps_are_ordered() {
        let p = plan();
        let mut previous = 0;
        for i in 0..p.work_orders {
            let Some(wo) = p.record(Kind::WorkOrder, Kind::WorkOrder.id_base() + 1 + i) else {
                continue;
            };
            let get = |k: &str| {
                wo.get(k)
                    .and_then(Value::as_str)
                    .and_then(crate::clock::parse_ms)
            };
            let created = get("createdAt").unwrap_or(0);
            let updated = get("updatedAt").unwrap_or(0);
            assert!(created > previous, "createdAt increases with the id");
            assert!(updated >= created);
            previous = created;
        }
    }
}
