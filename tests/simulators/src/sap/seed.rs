//! Deterministic, realistic seed data in the shape of an S/4HANA demo client: plants 1010 and
//! 1710, functional location hierarchies per plant, equipment installed in them, maintenance
//! orders in every system status, suppliers, purchase orders in every processing state and
//! material stock per storage location.

use serde_json::{Map, Value, json};

use super::model::Set;
use super::store::{
    END_OF_TIME_MS, Entity, PO_ACTIVE, PO_IN_RELEASE, PO_RELEASED, SeedPlan, Store,
    set_order_status,
};
use crate::clock::date_ms;

const PLANTS: [&str; 2] = ["1010", "1710"];
const WORK_CENTERS: [&str; 4] = ["MECHANIK", "ELEKTRIK", "INSTRUM", "FACILITY"];
const SYSTEMS: [&str; 4] = ["PUMP", "COMP", "CONV", "HVAC"];
const EQUIPMENT_NAMES: [&str; 6] = [
    "Centrifugal pump",
    "Screw compressor",
    "Belt conveyor drive",
    "Air handling unit",
    "Cooling water pump",
    "Gear motor",
];
const MAKERS: [(&str, &str); 4] = [
    ("KSB", "Etanorm 080"),
    ("Atlas Copco", "GA 37 VSD"),
    ("SEW-Eurodrive", "R47 DRN90"),
    ("Trane", "CSAA012"),
];
const ORDER_TEXTS: [&str; 6] = [
    "Replace mechanical seal",
    "Inspect coupling alignment",
    "Lubricate bearings",
    "Repair oil leak at gearbox",
    "Calibrate pressure transmitter",
    "Replace V-belts",
];
const SUPPLIER_NAMES: [&str; 6] = [
    "Inlandslieferant DE 1",
    "Domestic US Supplier 1",
    "Bearing Solutions GmbH",
    "Hydraulik Nord AG",
    "Precision Seals Inc.",
    "Electro Parts Ltd.",
];
const MATERIALS: [(&str, &str, &str); 6] = [
    ("TG11", "PC", "Trading Good 11"),
    ("RM122", "KG", "Raw material 122"),
    ("SEAL-4711", "PC", "Mechanical seal 45 mm"),
    ("BRG-6205", "PC", "Deep groove ball bearing 6205"),
    ("OIL-ISO68", "L", "Hydraulic oil ISO VG 68"),
    ("BELT-SPZ1250", "PC", "V-belt SPZ 1250"),
];

/// Base of the seeded time stamps: 2024-01-01.
fn base_ms() -> i64 {
    date_ms(2024, 1, 1)
}

fn day(n: u64) -> i64 {
    base_ms() + i64::try_from(n % 400).unwrap_or(0) * 86_400_000
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The functional location ids, in seeding order (plants first, then systems, then units).
pub(crate) fn functional_location_ids(n: u64) -> Vec<(String, Option<String>, String)> {
    let mut out = Vec::new();
    'outer: for plant in PLANTS {
        let root = format!("{plant}-SP");
        out.push((root.clone(), None, plant.to_owned()));
        for system in SYSTEMS {
            let sys = format!("{root}-{system}");
            out.push((sys.clone(), Some(root.clone()), plant.to_owned()));
            for unit in 1..=20 {
                if out.len() as u64 >= n {
                    break 'outer;
                }
                out.push((
                    format!("{sys}-{unit:02}"),
                    Some(sys.clone()),
                    plant.to_owned(),
                ));
            }
        }
    }
    out.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    out
}

pub(crate) fn seed(store: &mut Store, plan: SeedPlan) {
    store.next_order = 4_000_000 + plan.maintenance_orders;
    store.next_equipment = 10_000_000 + plan.equipment;
    store.next_po = 4_500_000_000 + plan.purchase_orders;
    let user = store.user.clone();
    let locations = functional_location_ids(plan.functional_locations);
    for (i, (id, parent, plant)) in locations.iter().enumerate() {
        let i = i as u64;
        let deactivated = i % 37 == 36;
        store.put(
            Set::FunctionalLocation,
            Entity::new(
                obj(json!({
                    "FunctionalLocation": id,
                    "FunctionalLocationName": format!("{} {}", plant_name(plant), id.rsplit('-').next().unwrap_or("")),
                    "FunctionalLocationCategory": "M",
                    "FuncLocationStructure": "YSTR1",
                    "SuperiorFunctionalLocation": parent.clone().unwrap_or_default(),
                    "MaintenancePlant": plant,
                    "MaintenancePlanningPlant": plant,
                    "CreationDate": day(i),
                    "LastChangeDateTime": day(i) + 36_000_000,
                    "FuncnlLocIsMarkedForDeletion": false,
                    "FuncnlLocIsDeactivated": deactivated,
                    "FunctionalLocationIsActive": !deactivated,
                })),
                day(i) + 36_000_000,
            ),
        );
    }
    let units: Vec<&(String, Option<String>, String)> = locations
        .iter()
        .filter(|(id, _, _)| id.matches('-').count() == 3)
        .collect();

    for i in 0..plan.equipment {
        let number = 10_000_001 + i;
        let (maker, model) = MAKERS[(i % 4) as usize];
        let unit = (!units.is_empty()).then(|| units[(i as usize) % units.len()]);
        let plant = unit.map_or(PLANTS[(i % 2) as usize], |u| u.2.as_str());
        let inactive = i % 41 == 40;
        let deleted = i % 97 == 96;
        store.put(
            Set::Equipment,
            Entity::new(
                obj(json!({
                    "Equipment": number.to_string(),
                    "ValidityEndDate": END_OF_TIME_MS,
                    "ValidityStartDate": day(i),
                    "EquipmentName": format!("{} {}", EQUIPMENT_NAMES[(i % 6) as usize], i + 1),
                    "EquipmentCategory": "M",
                    "TechnicalObjectType": "PUMP",
                    "AssetManufacturerName": maker,
                    "ManufacturerPartTypeName": model,
                    "ManufacturerSerialNumber": format!("SN{:08}", 31_000 + i * 7),
                    "MaintenancePlant": plant,
                    "MaintenancePlanningPlant": plant,
                    "FunctionalLocation": unit.map_or(String::new(), |u| u.0.clone()),
                    "SuperordinateEquipment": if i % 10 == 9 { (number - 1).to_string() } else { String::new() },
                    "CreationDate": day(i),
                    "LastChangeDateTime": day(i) + 43_200_000,
                    "EquipmentIsMarkedForDeletion": deleted,
                    "EquipmentIsInactive": inactive,
                    "EquipmentIsInstalled": unit.is_some(),
                    "YY1_CriticalityClass_EQU": (["A", "B", "C"][(i % 3) as usize]),
                })),
                day(i) + 43_200_000,
            ),
        );
    }

    for i in 0..plan.maintenance_orders {
        let number = 4_000_001 + i;
        let plant = PLANTS[(i % 2) as usize];
        let equipment = (plan.equipment > 0).then(|| 10_000_001 + (i % plan.equipment));
        let location = (!units.is_empty()).then(|| units[(i as usize) % units.len()].0.clone());
        let start = day(i) + 7 * 3_600_000;
        let mut values = obj(json!({
            "MaintenanceOrder": number.to_string(),
            "MaintenanceOrderType": (["PM01", "PM02", "PM03"][(i % 3) as usize]),
            "MaintenanceOrderDesc": format!("{} {}", ORDER_TEXTS[(i % 6) as usize], i + 1),
            "MaintOrdBasicStartDateTime": start,
            "MaintOrdBasicEndDateTime": start + 8 * 3_600_000,
            "MainWorkCenter": WORK_CENTERS[(i % 4) as usize],
            "MainWorkCenterPlant": plant,
            "MaintenancePlanningPlant": plant,
            "MaintenancePlant": plant,
            "Equipment": equipment.map_or(String::new(), |e| e.to_string()),
            "FunctionalLocation": location.unwrap_or_default(),
            "MaintPriority": (["1", "2", "3", "4"][(i % 4) as usize]),
            "MaintenanceActivityType": (["001", "002", "003"][(i % 3) as usize]),
            "LatestAcceptableCompletionDate": day(i + 14),
            "LastChangeByUser": user,
            "LastChangeDateTime": start + 3_600_000,
            "CreatedByUser": user,
            "MaintOrderCreationDateTime": day(i),
            "UserStatusText": "",
            "YY1_SafetyPermit_ORD": if i % 3 == 0 { format!("SP-{:06}", i + 1) } else { String::new() },
            "ZZ1_ShutdownRequired_ORD": i % 4 == 1,
        }));
        let (base, dlfl, locked) = match i % 10 {
            0..=3 => ("CRTD", false, false),
            4..=6 => ("REL", false, false),
            7 => ("TECO", false, false),
            8 => ("CLSD", false, false),
            _ => {
                if i % 20 == 9 {
                    ("CRTD", true, false)
                } else {
                    ("REL", false, true)
                }
            }
        };
        set_order_status(&mut values, base, dlfl, locked);
        if base == "TECO" || base == "CLSD" {
            values.insert("~before_teco".into(), json!("REL"));
        }
        store.put(
            Set::MaintenanceOrder,
            Entity::new(values, start + 3_600_000),
        );
        for (n, text) in [(10, "Shut down and isolate"), (20, "Carry out the work")] {
            if i % 5 == 4 && n == 20 {
                continue;
            }
            store.put(
                Set::MaintenanceOrderOperation,
                Entity::new(
                    obj(json!({
                        "MaintenanceOrder": number.to_string(),
                        "MaintenanceOrderOperation": format!("{n:04}"),
                        "MaintenanceOrderSubOperation": "",
                        "OperationControlKey": "PM01",
                        "WorkCenter": WORK_CENTERS[(i % 4) as usize],
                        "Plant": plant,
                        "OperationDescription": text,
                    })),
                    start + 3_600_000,
                ),
            );
        }
    }

    for i in 0..plan.suppliers {
        let number = 17_300_001 + i;
        store.put(
            Set::Supplier,
            Entity::new(
                obj(json!({
                    "Supplier": number.to_string(),
                    "SupplierName": format!("{} {}", SUPPLIER_NAMES[(i % 6) as usize], i / 6 + 1),
                    "SupplierFullName": format!("{} {}", SUPPLIER_NAMES[(i % 6) as usize], i / 6 + 1),
                    "SupplierAccountGroup": "SUPL",
                    "PurchasingIsBlocked": i % 13 == 12,
                    "PostingIsBlocked": false,
                    "DeletionIndicator": i % 29 == 28,
                    "CreationDate": day(i),
                    "CreatedByUser": user,
                })),
                day(i),
            ),
        );
    }

    for i in 0..plan.purchase_orders {
        let number = 4_500_000_001 + i;
        let plant = PLANTS[(i % 2) as usize];
        let supplier = 17_300_001 + i % plan.suppliers.max(1);
        let status = match i % 6 {
            0 | 1 => PO_ACTIVE,
            2 => PO_IN_RELEASE,
            _ => PO_RELEASED,
        };
        let deleted = i % 23 == 22;
        let changed = day(i) + 50_400_000;
        store.put(
            Set::PurchaseOrder,
            Entity::new(
                obj(json!({
                    "PurchaseOrder": number.to_string(),
                    "CompanyCode": plant,
                    "PurchaseOrderType": "NB",
                    "PurchasingDocumentDeletionCode": if deleted { "L" } else { "" },
                    "PurchasingProcessingStatus": status,
                    "CreatedByUser": user,
                    "CreationDate": day(i),
                    "LastChangeDateTime": changed,
                    "Supplier": supplier.to_string(),
                    "PurchasingOrganization": plant,
                    "PurchasingGroup": "001",
                    "PurchaseOrderDate": day(i),
                    "DocumentCurrency": if plant == "1010" { "EUR" } else { "USD" },
                    "ReleaseIsNotCompleted": status == PO_IN_RELEASE,
                    "YY1_ProjectCode_PDH": if i % 5 == 0 { format!("P-{plant}-{:03}", i / 5) } else { String::new() },
                    "YY1_ContractDate_PDH": if i % 5 == 0 { json!(day(i + 30)) } else { Value::Null },
                })),
                changed,
            ),
        );
        for item in 0..(1 + i % 3) {
            let (material, unit, text) = MATERIALS[((i + item) % 6) as usize];
            let quantity = format!("{}.{:03}", 1 + (i + item) % 40, (i * 250) % 1000);
            let price = format!("{}.{:02}0", 5 + (i * 7 + item * 3) % 900, (i * 13) % 100);
            store.put(
                Set::PurchaseOrderItem,
                Entity::new(
                    obj(json!({
                        "PurchaseOrder": number.to_string(),
                        "PurchaseOrderItem": ((item + 1) * 10).to_string(),
                        "PurchasingDocumentDeletionCode": if deleted { "L" } else { "" },
                        "PurchaseOrderItemText": text,
                        "Plant": plant,
                        "StorageLocation": "101A",
                        "MaterialGroup": "L001",
                        "Material": material,
                        "OrderQuantity": quantity,
                        "PurchaseOrderQuantityUnit": unit,
                        "DocumentCurrency": if plant == "1010" { "EUR" } else { "USD" },
                        "NetPriceAmount": price,
                        "AccountAssignmentCategory": "",
                    })),
                    changed,
                ),
            );
        }
    }

    for i in 0..plan.stock_rows {
        let (material, unit, _) = MATERIALS[(i % 6) as usize];
        let plant = PLANTS[((i / 6) % 2) as usize];
        let sloc = ["101A", "102A", "171A", "172A"][((i / 12) % 4) as usize];
        let stock_type = ["01", "02", "07"][((i / 48) % 3) as usize];
        let batch = if i / 144 == 0 {
            String::new()
        } else {
            format!("B{:07}", i / 144)
        };
        let quantity = format!(
            "{}.{:03}00000000000",
            10 + (i * 37) % 5000,
            (i * 125) % 1000
        );
        store.put(
            Set::MaterialStock,
            Entity::new(
                obj(json!({
                    "Material": if i / 6 < 1 { material.to_owned() } else { format!("{material}-{:03}", i / 6) },
                    "Plant": plant,
                    "StorageLocation": sloc,
                    "Batch": batch,
                    "Supplier": "",
                    "Customer": "",
                    "WBSElementInternalID": "0",
                    "SDDocument": "",
                    "SDDocumentItem": "0",
                    "InventorySpecialStockType": "",
                    "InventoryStockType": stock_type,
                    "WBSElementExternalID": "",
                    "MaterialBaseUnit": unit,
                    "MatlWrhsStkQtyInMatlBaseUnit": quantity,
                })),
                base_ms(),
            ),
        );
    }
}

fn plant_name(plant: &str) -> &'static str {
    if plant == "1010" {
        "Hamburg plant"
    } else {
        "Palo Alto plant"
    }
}
