//! Realistic Maximo members (lean JSON, as `GET /os/<os>/<restid>?lean=1` answers), shaped
//! after the examples of IBM's REST API guide and the Maximo Mobile fixtures: for the adapter's
//! own tests, for benchmarks, and for anyone who needs a Maximo body without a server.

use serde_json::{Value, json};

/// A work order in progress (MXAPIWO).
pub fn work_order() -> Value {
    json!({
        "href": "http://host/maximo/oslc/os/mxapiwo/_QkVERk9SRC8xMTE2",
        "_rowstamp": "36654",
        "wonum": "1116",
        "siteid": "BEDFORD",
        "orgid": "EAGLENA",
        "description": "Replace mechanical seal on pump P-101",
        "description_longdescription": "Seal leaks at the drive end; lock out before work.",
        "status": "INPRG",
        "status_description": "In Progress",
        "assetnum": "11430",
        "location": "BR230",
        "persongroup": "MECH",
        "wopriority": 2,
        "exsafetyclass": "B",
        "wolabor_collectionref": "http://host/maximo/oslc/os/mxapiwo/_QkVERk9SRC8xMTE2/wolabor",
        "schedstart": "2024-09-23T09:00:00-04:00",
        "targcompdate": "2024-09-26T09:00:00-04:00",
        "reportdate": "2024-09-20T14:55:22+00:00",
        "changedate": "2024-09-23T14:55:22-05:00"
    })
}

/// An operating asset (MXAPIASSET).
pub fn asset() -> Value {
    json!({
        "href": "http://host/maximo/oslc/os/mxapiasset/_MTE0MzAvQkVERk9SRA--",
        "_rowstamp": "1207",
        "assetnum": "11430",
        "siteid": "BEDFORD",
        "description": "Centrifugal Pump CP-101",
        "status": "OPERATING",
        "status_description": "Operating",
        "location": "BR230",
        "parent": "11400",
        "serialnum": "CP2400013",
        "manufacturer": "GRUNDFOS",
        "changedate": "2024-02-01T08:30:00-05:00"
    })
}

/// An approved purchase order with two lines (MXAPIPO).
pub fn purchase_order() -> Value {
    json!({
        "href": "http://host/maximo/oslc/os/mxapipo/_MTAxNy8wL0JFREZPUkQ-",
        "_rowstamp": "88110",
        "ponum": "1017",
        "revisionnum": 0,
        "siteid": "BEDFORD",
        "orgid": "EAGLENA",
        "description": "Pump seals and bearings",
        "status": "APPR",
        "status_description": "Approved",
        "vendor": "GRUNDFOS",
        "orderdate": "2024-03-01T09:00:00-05:00",
        "requireddate": "2024-03-15T09:00:00-05:00",
        "currencycode": "USD",
        "totalcost": 1021.6,
        "changedate": "2024-03-02T10:10:00-05:00",
        "poline": [
            {"polinenum": 1, "itemnum": "SEAL-1002", "itemsetid": "SET1",
             "description": "Mechanical seal, 1.375 in shaft", "orderqty": 3.0,
             "orderunit": "EACH", "unitcost": 312.0},
            {"polinenum": 2, "itemnum": "BRG-1000", "itemsetid": "SET1",
             "description": "Bearing, deep groove ball 6204-2RS", "orderqty": 4.0,
             "orderunit": "EACH", "unitcost": 21.4}
        ]
    })
}

/// An active item (MXAPIITEM).
pub fn item() -> Value {
    json!({
        "_rowstamp": "502",
        "itemnum": "SEAL-1002",
        "itemsetid": "SET1",
        "description": "Mechanical seal, 1.375 in shaft",
        "issueunit": "EACH",
        "status": "ACTIVE",
        "changedate": "2023-11-02T10:00:00-05:00"
    })
}

/// Stock of one item in one storeroom (MXAPIINVENTORY).
pub fn inventory() -> Value {
    json!({
        "_rowstamp": "9001",
        "itemnum": "SEAL-1002",
        "itemsetid": "SET1",
        "location": "CENTRAL",
        "siteid": "BEDFORD",
        "curbaltotal": 14.0,
        "avgcost": 305.5
    })
}

/// An operating location (MXAPILOCATIONS).
pub fn location() -> Value {
    json!({
        "_rowstamp": "311",
        "location": "BR230",
        "siteid": "BEDFORD",
        "description": "Pump House 2",
        "status": "OPERATING",
        "changedate": "2023-05-04T07:00:00-05:00"
    })
}

/// A vendor company (MXAPIVENDOR).
pub fn vendor() -> Value {
    json!({
        "_rowstamp": "77",
        "company": "GRUNDFOS",
        "orgid": "EAGLENA",
        "name": "Grundfos Pumps Corp.",
        "type": "V",
        "phone1": "+1 800 555 1012",
        "address1": "184 Industrial Parkway",
        "disabled": false,
        "changedate": "2023-02-14T10:00:00-05:00"
    })
}

/// A collection page of `n` work orders with a next page.
pub fn work_orders_page(n: usize) -> Vec<u8> {
    let members: Vec<Value> = (0..n)
        .map(|i| {
            let mut wo = work_order();
            wo["wonum"] = json!(format!("{}", 2000 + i));
            wo
        })
        .collect();
    let body = json!({
        "member": members,
        "href": "http://host/maximo/oslc/os/mxapiwo",
        "responseInfo": {
            "href": "http://host/maximo/oslc/os/mxapiwo?lean=1&oslc.pageSize=100",
            "pagenum": 1,
            "totalCount": 250,
            "totalPages": 3,
            "nextPage": {"href": "http://host/maximo/oslc/os/mxapiwo?lean=1&oslc.pageSize=100&pageno=2"}
        }
    });
    serde_json::to_vec(&body).unwrap_or_default()
}
