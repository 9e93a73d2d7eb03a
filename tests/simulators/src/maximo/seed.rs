//! Deterministic, realistic seed data: a manufacturer with two sites (BEDFORD and TEXAS) in one
//! organization (EAGLENA), storerooms CENTRAL and TXSTORE, operating locations, pumps,
//! compressors and conveyors with their motors and gearboxes, spare parts with stock in both
//! storerooms, industrial suppliers, work orders across every status and purchase orders with
//! lines. Every reference (a work order's asset and location, a purchase order line's item, an
//! inventory record's storeroom) points at a seeded record of the same site.
//!
//! Dates are written as Maximo writes them: ISO-8601 with the server's offset
//! (`2024-03-04T08:00:00-05:00`).

use serde_json::{Value, json};

use super::schema::Os;
use super::store::{ITEMSET, Record, SITES, Store};
use crate::clock::{date_ms, format_ms};

/// The constant every seeded value derives from.
const SEED: u64 = 0x4D41_5849_4D4F_5346; // "MAXIMOSF"

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The server's UTC offset in hours, used for every date it writes.
const SERVER_OFFSET_HOURS: i64 = -5;

/// Seeded records were reported between these instants.
const SEED_START: i64 = date_ms(2023, 1, 9) + 7 * HOUR;
const SEED_END: i64 = date_ms(2025, 6, 27) + 16 * HOUR;

/// How many records of each object structure to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeedPlan {
    pub(crate) work_orders: usize,
    pub(crate) assets: usize,
    pub(crate) purchase_orders: usize,
    pub(crate) items: usize,
    pub(crate) locations: usize,
    pub(crate) vendors: usize,
}

/// `ms` (since the epoch) as Maximo writes a DATETIME: `2024-03-04T08:00:00-05:00`.
pub(crate) fn maximo_date(ms: i64) -> String {
    let local = format_ms(ms + SERVER_OFFSET_HOURS * HOUR);
    let sign = if SERVER_OFFSET_HOURS < 0 { '-' } else { '+' };
    format!(
        "{}{sign}{:02}:00",
        &local[..19],
        SERVER_OFFSET_HOURS.unsigned_abs()
    )
}

/// A small deterministic generator (SplitMix64).
struct Prng(u64);

impl Prng {
    fn new(stream: u64) -> Prng {
        Prng(SEED ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

fn obj(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => Record::new(),
    }
}

const AREAS: [&str; 12] = [
    "Boiler Room",
    "Pump House",
    "Compressor Station",
    "Packaging Line",
    "Assembly Line",
    "Cooling Tower",
    "Paint Shop",
    "Water Treatment",
    "Warehouse Dock",
    "Press Shop",
    "Electrical Substation",
    "Quality Lab",
];

const VENDORS: [(&str, &str, &str); 16] = [
    ("GRAINGER", "Grainger Industrial Supply", "Lake Forest"),
    ("MOTION", "Motion Industries", "Birmingham"),
    ("FASTENAL", "Fastenal Company", "Winona"),
    ("APPLIED", "Applied Industrial Technologies", "Cleveland"),
    ("SKF", "SKF USA Inc.", "Lansdale"),
    ("PARKER", "Parker Hannifin Corp.", "Cleveland"),
    ("EATON", "Eaton Electrical", "Moon Township"),
    ("SIEMENS", "Siemens Industry Inc.", "Alpharetta"),
    ("ABB", "ABB Motors and Mechanical", "Fort Smith"),
    ("GATES", "Gates Corporation", "Denver"),
    ("TIMKEN", "The Timken Company", "North Canton"),
    ("FLOWSERVE", "Flowserve Corporation", "Irving"),
    ("GRUNDFOS", "Grundfos Pumps Corp.", "Brookshire"),
    ("ATLAS", "Atlas Copco Compressors", "Rock Hill"),
    ("ROCKWELL", "Rockwell Automation", "Milwaukee"),
    ("HONEYWELL", "Honeywell Process Solutions", "Houston"),
];

/// Item families: prefix, description, issue unit, base cost.
const ITEMS: [(&str, &str, &str, f64); 10] = [
    ("BRG", "Bearing, deep groove ball 6204-2RS", "EACH", 18.40),
    ("BLT", "V-belt, B-section 52 in", "EACH", 24.75),
    ("SEAL", "Mechanical seal, 1.375 in shaft", "EACH", 312.00),
    ("FLT", "Air filter, pleated 20x25x2 MERV 13", "EACH", 11.90),
    ("GSK", "Gasket, spiral wound 4 in 150#", "EACH", 9.65),
    ("OIL", "Gear oil, ISO VG 220", "GAL", 21.30),
    ("HOSE", "Hydraulic hose, 1/2 in 2-wire", "FOOT", 6.85),
    ("FUSE", "Fuse, class J 30 A 600 V", "EACH", 14.20),
    ("CPL", "Jaw coupling element, L-100", "EACH", 7.45),
    ("SNS", "Pressure transmitter, 0-300 psi", "EACH", 489.00),
];

/// Equipment families for assets: description, serial prefix.
const EQUIPMENT: [(&str, &str); 8] = [
    ("Centrifugal Pump", "CP"),
    ("Air Compressor", "AC"),
    ("Belt Conveyor", "BC"),
    ("Electric Motor", "EM"),
    ("Gearbox", "GB"),
    ("Cooling Fan", "CF"),
    ("Hydraulic Press", "HP"),
    ("Air Handling Unit", "AH"),
];

const WO_TITLES: [&str; 12] = [
    "Replace mechanical seal",
    "Lubricate bearings",
    "Inspect belt tension and alignment",
    "Calibrate pressure transmitter",
    "Replace air filters",
    "Vibration analysis route",
    "Repair hydraulic leak",
    "Check motor insulation resistance",
    "Clean cooling fins",
    "Tighten electrical terminations",
    "Replace worn coupling element",
    "Quarterly PM inspection",
];

const CRAFTS: [&str; 4] = ["MECH", "ELEC", "INST", "HVAC"];

/// The seeded database.
pub(crate) fn seeded(plan: SeedPlan) -> Store {
    let mut store = Store::new();
    vendors(&mut store, plan.vendors);
    let storerooms = locations(&mut store, plan.locations);
    items(&mut store, plan.items, &storerooms);
    let asset_sites = assets(&mut store, plan.assets, plan.vendors);
    work_orders(&mut store, plan.work_orders, &asset_sites);
    purchase_orders(&mut store, plan.purchase_orders, plan.items, plan.vendors);
    store
}

fn vendor_code(i: usize) -> String {
    let (code, _, _) = VENDORS[i % VENDORS.len()];
    match i / VENDORS.len() {
        0 => code.to_owned(),
        n => format!("{code}{}", n + 1),
    }
}

fn vendors(store: &mut Store, n: usize) {
    for i in 0..n {
        let (_, name, city) = VENDORS[i % VENDORS.len()];
        let branch = i / VENDORS.len();
        let name = if branch == 0 {
            name.to_owned()
        } else {
            format!("{name} (branch {})", branch + 1)
        };
        let changed = SEED_START + i64::try_from(i).unwrap_or(0) * 3 * DAY;
        store.insert(
            Os::Vendor,
            obj(json!({
                "company": vendor_code(i),
                "orgid": "EAGLENA",
                "name": name,
                "type": "V",
                "address1": format!("{} Industrial Parkway", 100 + i * 7),
                "city": city,
                "country": "US",
                "phone1": format!("+1 800 555 {:04}", 1000 + i),
                "currencycode": "USD",
                "disabled": i % 29 == 28,
                "changedate": maximo_date(changed),
                "changeby": "MAXADMIN",
            })),
        );
    }
}

/// Seeds the locations; returns the storerooms as (location, siteid).
fn locations(store: &mut Store, n: usize) -> Vec<(String, &'static str)> {
    let storerooms = [("CENTRAL", "BEDFORD"), ("TXSTORE", "TEXAS")];
    let mut out = Vec::new();
    for i in 0..n {
        let changed = SEED_START + i64::try_from(i).unwrap_or(0) * DAY;
        let record = if let Some((code, site)) = storerooms.get(i) {
            out.push(((*code).to_owned(), *site));
            json!({
                "location": code,
                "siteid": site,
                "orgid": "EAGLENA",
                "description": format!("{} storeroom", if *site == "BEDFORD" { "Central" } else { "Texas" }),
                "type": "STOREROOM",
                "status": "OPERATING",
                "changedate": maximo_date(changed),
                "changeby": "MAXADMIN",
            })
        } else {
            let site = location_site(i);
            let prefix = if site == "BEDFORD" { "BR" } else { "TX" };
            json!({
                "location": format!("{prefix}{}", 100 + i),
                "siteid": site,
                "orgid": "EAGLENA",
                "description": format!("{} {}", AREAS[i % AREAS.len()], 1 + i / AREAS.len()),
                "type": "OPERATING",
                "status": if i % 37 == 36 { "DECOMMISSIONED" } else { "OPERATING" },
                "changedate": maximo_date(changed),
                "changeby": "MAXADMIN",
            })
        };
        store.insert(Os::Location, obj(record));
    }
    out
}

fn location_site(i: usize) -> &'static str {
    if i.is_multiple_of(3) {
        "TEXAS"
    } else {
        "BEDFORD"
    }
}

/// An operating location code of `site` for index `i` (`None` when none was seeded).
fn operating_location(store: &Store, site: &str, i: usize) -> Option<String> {
    let codes: Vec<&str> = store
        .iter(Os::Location)
        .filter(|r| r.get("siteid").and_then(Value::as_str) == Some(site))
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("OPERATING"))
        .filter_map(|r| r.get("location").and_then(Value::as_str))
        .collect();
    if codes.is_empty() {
        return None;
    }
    Some(codes[i % codes.len()].to_owned())
}

fn item_num(i: usize) -> String {
    let (prefix, _, _, _) = ITEMS[i % ITEMS.len()];
    format!("{prefix}-{:04}", 1000 + i)
}

fn items(store: &mut Store, n: usize, storerooms: &[(String, &'static str)]) {
    let mut rng = Prng::new(3);
    for i in 0..n {
        let (_, description, unit, cost) = ITEMS[i % ITEMS.len()];
        let status = match i % 40 {
            39 => "OBSOLETE",
            19 => "PENDING",
            _ => "ACTIVE",
        };
        let changed = SEED_START + i64::try_from(i).unwrap_or(0) * 2 * DAY;
        let itemnum = item_num(i);
        store.insert(
            Os::Item,
            obj(json!({
                "itemnum": itemnum,
                "itemsetid": ITEMSET,
                "description": format!("{description} (variant {})", 1 + i / ITEMS.len()),
                "description_longdescription": format!("Stock item for maintenance use. Family {}.", &itemnum[..itemnum.find('-').unwrap_or(0)]),
                "issueunit": unit,
                "orderunit": unit,
                "commoditygroup": "MRO",
                "status": status,
                "rotating": false,
                "changedate": maximo_date(changed),
                "changeby": "MAXADMIN",
            })),
        );
        for (k, (storeroom, site)) in storerooms.iter().enumerate() {
            if k > 0 && i % 3 != 0 {
                continue;
            }
            let balance = rng.below(240);
            let avg = cost * (0.9 + (rng.below(20) as f64) / 100.0);
            store.insert(
                Os::Inventory,
                obj(json!({
                    "itemnum": itemnum,
                    "itemsetid": ITEMSET,
                    "location": storeroom,
                    "siteid": site,
                    "orgid": "EAGLENA",
                    "curbaltotal": balance as f64,
                    "avgcost": (avg * 100.0).round() / 100.0,
                    "issueunit": unit,
                    "binnum": format!("{}-{:02}-{:02}", (b'A' + (i % 6) as u8) as char, 1 + i % 12, 1 + i % 5),
                    "minlevel": 5.0,
                    "orderqty": 20.0,
                    "status": "ACTIVE",
                })),
            );
        }
    }
    store.set_autokey_start(Os::Item, 100_000);
}

/// Seeds the assets; returns (assetnum, siteid, location) of each.
fn assets(
    store: &mut Store,
    n: usize,
    vendors: usize,
) -> Vec<(String, &'static str, Option<String>)> {
    let mut rng = Prng::new(4);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // Assets come in groups of four on one site: a machine and three components.
        let group = i / 4;
        let site = SITES[group % 2].siteid;
        let (kind, serial) = EQUIPMENT[i % EQUIPMENT.len()];
        let assetnum = format!("{}", 11_200 + i);
        let location = operating_location(store, site, group);
        let parent = (i % 4 != 0).then(|| format!("{}", 11_200 + group * 4));
        let status = match i % 50 {
            49 => "DECOMMISSIONED",
            23 => "BROKEN",
            11 => "NOT READY",
            _ => "OPERATING",
        };
        let manufacturer = (vendors > 0).then(|| vendor_code(rng.below(vendors)));
        let installed = SEED_START - i64::try_from(rng.below(2_000)).unwrap_or(0) * DAY;
        let changed = SEED_START + i64::try_from(i).unwrap_or(0) * DAY / 2;
        store.insert(
            Os::Asset,
            obj(json!({
                "assetnum": assetnum,
                "siteid": site,
                "orgid": "EAGLENA",
                "description": format!("{kind} {}-{:03}", serial, 100 + i),
                "description_longdescription": format!("{kind} installed in {}.", location.as_deref().unwrap_or("the plant")),
                "status": status,
                "location": location,
                "parent": parent,
                "serialnum": format!("{serial}{:07}", 2_400_000 + i * 13),
                "manufacturer": manufacturer,
                "installdate": maximo_date(installed),
                "isrunning": status == "OPERATING",
                "changedate": maximo_date(changed),
                "changeby": "MAXADMIN",
                "excriticality": 1 + i % 5,
            })),
        );
        out.push((assetnum, site, location));
    }
    store.set_autokey_start(Os::Asset, 11_200 + u64::try_from(n).unwrap_or(0));
    out
}

/// Values of the customer-added `exsafetyclass` attribute of work orders.
const SAFETY_CLASSES: [&str; 3] = ["A", "B", "C"];

fn work_orders(store: &mut Store, n: usize, assets: &[(String, &'static str, Option<String>)]) {
    let mut rng = Prng::new(5);
    let span = SEED_END - SEED_START;
    for i in 0..n {
        let reported = SEED_START
            + span / i64::try_from(n.max(1)).unwrap_or(1) * i64::try_from(i).unwrap_or(0);
        let (assetnum, site, location) = match assets.get(rng.below(assets.len().max(1))) {
            Some((a, s, l)) if i % 10 != 9 => (Some(a.clone()), *s, l.clone()),
            _ => (None, SITES[i % 2].siteid, None),
        };
        let status = match rng.below(100) {
            0..=9 => "WAPPR",
            10..=19 => "APPR",
            20..=24 => "WSCH",
            25..=29 => "WMATL",
            30..=32 => "WPCOND",
            33..=47 => "INPRG",
            48..=72 => "COMP",
            73..=94 => "CLOSE",
            _ => "CAN",
        };
        let start = reported + i64::try_from(1 + rng.below(10)).unwrap_or(1) * DAY;
        let started = matches!(status, "INPRG" | "COMP" | "CLOSE");
        let finished = matches!(status, "COMP" | "CLOSE");
        let finish = start + i64::try_from(2 + rng.below(30)).unwrap_or(2) * HOUR;
        let changed = if finished {
            finish + HOUR
        } else {
            reported + 2 * HOUR
        };
        let worktype = if i % 3 == 0 {
            "PM"
        } else if i % 11 == 0 {
            "EM"
        } else {
            "CM"
        };
        let title = WO_TITLES[rng.below(WO_TITLES.len())];
        store.insert(
            Os::WorkOrder,
            obj(json!({
                "wonum": format!("{}", 1000 + i),
                "siteid": site,
                "orgid": "EAGLENA",
                "description": match &assetnum {
                    Some(a) => format!("{title} on asset {a}"),
                    None => title.to_owned(),
                },
                "description_longdescription": "Follow the site safety procedure; lock out and tag out before work starts.",
                "status": status,
                "statusdate": maximo_date(changed),
                "worktype": worktype,
                "wopriority": 1 + rng.below(5),
                "assetnum": assetnum,
                "location": location,
                "persongroup": CRAFTS[rng.below(CRAFTS.len())],
                "schedstart": maximo_date(start),
                "schedfinish": maximo_date(start + 8 * HOUR),
                "targstartdate": maximo_date(start),
                "targcompdate": maximo_date(start + 3 * DAY),
                "actstart": started.then(|| maximo_date(start)),
                "actfinish": finished.then(|| maximo_date(finish)),
                "reportdate": maximo_date(reported),
                "reportedby": "MAXADMIN",
                "changedate": maximo_date(changed),
                "changeby": "MAXADMIN",
                "exsafetyclass": SAFETY_CLASSES[i % SAFETY_CLASSES.len()],
            })),
        );
    }
    store.set_autokey_start(Os::WorkOrder, 1000 + u64::try_from(n).unwrap_or(0));
}

fn purchase_orders(store: &mut Store, n: usize, items: usize, vendors: usize) {
    let mut rng = Prng::new(6);
    let span = SEED_END - SEED_START;
    for i in 0..n {
        let ordered = SEED_START
            + span / i64::try_from(n.max(1)).unwrap_or(1) * i64::try_from(i).unwrap_or(0);
        let status = match rng.below(10) {
            0..=1 => "WAPPR",
            2..=5 => "APPR",
            6..=8 => "CLOSE",
            _ => "CAN",
        };
        let lines = 1 + rng.below(4);
        let mut poline = Vec::new();
        let mut total = 0.0;
        for l in 0..lines {
            if items == 0 {
                break;
            }
            let item = rng.below(items);
            let (_, description, unit, cost) = ITEMS[item % ITEMS.len()];
            let qty = (1 + rng.below(24)) as f64;
            let line_cost = (qty * cost * 100.0).round() / 100.0;
            total += line_cost;
            let polineid = store.next_polineid();
            poline.push(json!({
                "polineid": polineid,
                "polinenum": l + 1,
                "itemnum": item_num(item),
                "itemsetid": ITEMSET,
                "description": description,
                "orderqty": qty,
                "orderunit": unit,
                "unitcost": cost,
                "linecost": line_cost,
                "receivedqty": if status == "CLOSE" { qty } else { 0.0 },
            }));
        }
        let vendor = (vendors > 0).then(|| vendor_code(rng.below(vendors)));
        store.insert(
            Os::Po,
            obj(json!({
                "ponum": format!("{}", 1000 + i),
                "revisionnum": 0,
                "siteid": "BEDFORD",
                "orgid": "EAGLENA",
                "description": format!("Spare parts replenishment {}", 1000 + i),
                "status": status,
                "statusdate": maximo_date(ordered + DAY),
                "vendor": vendor,
                "orderdate": maximo_date(ordered),
                "requireddate": maximo_date(ordered + 14 * DAY),
                "currencycode": "USD",
                "totalcost": (total * 100.0_f64).round() / 100.0,
                "potype": "STD",
                "poline": poline,
                "changedate": maximo_date(ordered + DAY),
                "changeby": "MAXADMIN",
            })),
        );
    }
    store.set_autokey_start(Os::Po, 1000 + u64::try_from(n).unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SeedPlan {
        SeedPlan {
            work_orders: 50,
            assets: 40,
            purchase_orders: 10,
            items: 30,
            locations: 20,
            vendors: 20,
        }
    }

    #[test]
    fn seeding_is_deterministic_and_references_resolve() {
        let a = seeded(plan());
        let b = seeded(plan());
        let wo_a: Vec<&Record> = a.iter(Os::WorkOrder).collect();
        let wo_b: Vec<&Record> = b.iter(Os::WorkOrder).collect();
        assert_eq!(wo_a, wo_b);
        assert_eq!(a.count(Os::WorkOrder), 50);
        assert_eq!(a.count(Os::Inventory), 30 + 10);
        for wo in a.iter(Os::WorkOrder) {
            let site = wo["siteid"].as_str().unwrap();
            if let Some(asset) = wo["assetnum"].as_str() {
                assert!(a.exists(Os::Asset, &format!("{asset}/{site}")));
            }
            if let Some(loc) = wo["location"].as_str() {
                assert!(a.exists(Os::Location, &format!("{loc}/{site}")));
            }
        }
        for po in a.iter(Os::Po) {
            for line in po["poline"].as_array().unwrap() {
                let item = line["itemnum"].as_str().unwrap();
                assert!(a.exists(Os::Item, &format!("{item}/SET1")));
            }
        }
        assert_eq!(
            maximo_date(date_ms(2024, 3, 4) + 13 * HOUR),
            "2024-03-04T08:00:00-05:00"
        );
    }
}
