//! Realistic MaintainX payloads, shaped after the response schemas and examples of the
//! vendor's OpenAPI document: for the adapter's own tests, for benchmarks, and for anyone who
//! needs a MaintainX body without a server.

use serde_json::{Value, json};

/// The `nextCursor` of [`sample_work_orders_page`].
pub const SAMPLE_NEXT_CURSOR: &str = "eyJpZCI6MTAwMDEwMCwidXBkYXRlZEF0IjoiMjAyNC0wMy0wMSJ9";

const STATUSES: [&str; 6] = ["OPEN", "IN_PROGRESS", "ON_HOLD", "DONE", "CANCELED", "OPEN"];
const PRIORITIES: [&str; 4] = ["NONE", "LOW", "MEDIUM", "HIGH"];
const TITLES: [&str; 5] = [
    "Replace hydraulic hose",
    "Inspect conveyor belt tension",
    "Lubricate pump bearings",
    "Calibrate pressure sensor",
    "Clean HVAC filters",
];

/// One `GET /workorders` list item as MaintainX sends it with `expand=asset` and
/// `expand=assignees` (the list item itself has no `assetId`, `assigneeIds` or `teamIds`).
pub fn work_order_list_item(i: u64) -> Value {
    let status = STATUSES[(i % 6) as usize];
    let day = 1 + i % 28;
    let done = status == "DONE";
    json!({
        "id": 1_000_000 + i,
        "sequentialId": 4_000 + i,
        "title": format!("{} #{i}", TITLES[(i % 5) as usize]),
        "updatedAt": format!("2024-03-{day:02}T09:15:00.000Z"),
        "status": status,
        "completedAt": if done { json!(format!("2024-03-{day:02}T08:45:00.000Z")) } else { Value::Null },
        "completerId": if done { json!(20_000 + i) } else { Value::Null },
        "createdAt": format!("2024-02-{:02}T14:03:12.417Z", 1 + i % 28),
        "creatorId": 20_001,
        "deletedAt": null,
        "description": "Found during the weekly walk-through; see photos in the comments.",
        "dueDate": format!("2024-04-{day:02}T17:00:00.000Z"),
        "dueDateIsFullDay": false,
        "lastMessageSentAt": null,
        "startDate": format!("2024-03-{day:02}T08:00:00.000Z"),
        "locationId": 600 + i % 20,
        "nextId": null,
        "organizationId": 1,
        "partsAvailability": "PARTS_AVAILABLE",
        "partStatus": "NO_PARTS",
        "previousId": null,
        "priority": PRIORITIES[(i % 4) as usize],
        "recurrenceInfo": null,
        "requesterId": null,
        "type": "REACTIVE",
        "workOrderSummary": null,
        "asset": {
            "id": 100_000 + i,
            "name": format!("Pump P-{i:03}"),
            "description": "Centrifugal pump, cooling loop",
            "parentId": null,
            "criticalityId": 150,
            "locationId": 600 + i % 20,
            "serialNumber": format!("SN-{:06}", 100_000 + i),
            "createdAt": "2022-01-01T00:00:00.000Z",
            "updatedAt": "2023-11-20T10:00:00.000Z",
            "creatorId": 20_001
        },
        "assignees": [
            {"type": "USER", "id": 20_000 + i},
            {"type": "TEAM", "id": 500 + i}
        ]
    })
}

/// A `GET /workorders` response body with `n` work orders and a next cursor.
pub fn sample_work_orders_page(n: usize) -> Vec<u8> {
    let items: Vec<Value> = (1..=n as u64).map(work_order_list_item).collect();
    let body = json!({
        "workOrders": items,
        "nextCursor": SAMPLE_NEXT_CURSOR,
        "nextPageUrl": format!("/v1/workorders?cursor={SAMPLE_NEXT_CURSOR}&limit={n}")
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The `workOrder` of `GET /workorders/{id}?expand=extra_fields`.
pub fn work_order(id: u64) -> Value {
    json!({
        "id": id,
        "sequentialId": 4021,
        "assetId": 963,
        "attachments": [],
        "categories": ["Hydraulics"],
        "completedAt": null,
        "completerId": null,
        "createdAt": "2024-03-01T14:03:12.417Z",
        "creatorId": 20001,
        "deletedAt": null,
        "description": "Hose is leaking near the mast cylinder",
        "dueDateIsFullDay": false,
        "dueDate": "2024-03-05T17:00:00.000Z",
        "externalData": null,
        "isParent": false,
        "lastMessageSentAt": "2024-03-02T09:10:00.000Z",
        "startDate": "2024-03-04T08:00:00.000Z",
        "locationId": 611,
        "nextId": null,
        "organizationId": 1,
        "parentId": null,
        "partsAvailability": "PARTS_AVAILABLE",
        "partStatus": "ASSIGNED",
        "previousId": null,
        "priority": "HIGH",
        "recurrenceInfo": null,
        "requesterId": null,
        "status": "IN_PROGRESS",
        "thumbnail": null,
        "title": "Replace hydraulic hose on forklift #3",
        "type": "REACTIVE",
        "updatedAt": "2024-03-02T09:15:00.000Z",
        "vendorIds": [],
        "assigneeIds": [23494, 79808],
        "teamIds": [112],
        "procedure": null,
        "progress": null,
        "workOrderSummary": null,
        "extraFields": {"Estimated Budget": "$250"}
    })
}

/// The `asset` of `GET /assets/{id}`.
pub fn asset(id: u64) -> Value {
    json!({
        "id": id,
        "name": "Forklift",
        "globalUuid": "e2eb31cb-dd28-495a-92dd-6a435514f5ae",
        "currentOwnerId": 1,
        "barcode": "BWFPBNRHAW54CG",
        "description": "Forklift that is used to move heavy equipment around the warehouse",
        "criticalityId": 150,
        "teamIds": [112],
        "assetTypes": ["Vehicle"],
        "parentId": 850,
        "childrenIds": [],
        "locationId": 852,
        "serialNumber": "000123ABC",
        "thumbnail": null,
        "attachments": [],
        "extraFields": {"Warranty": "2026-01"},
        "vendorIds": [432],
        "createdAt": "2022-01-01T00:00:00.000Z",
        "updatedAt": "2024-02-11T16:20:00.000Z",
        "deletedAt": null,
        "creatorId": 851,
        "depreciation": null,
        "manufacturer": "ACME Corporation",
        "model": "X-2000",
        "status": {
            "id": 42,
            "status": "OFFLINE",
            "downtimeType": "PLANNED",
            "startedAt": "2024-02-11T16:20:00.000Z",
            "endedAt": null,
            "description": "Overheated - needs servicing.",
            "createdAt": "2024-02-11T16:20:00.000Z",
            "updatedAt": "2024-02-11T16:20:00.000Z",
            "deletedAt": null,
            "customStatus": null
        }
    })
}

/// The `part` of `GET /parts/{id}`.
pub fn part(id: u64) -> Value {
    json!({
        "id": id,
        "name": "Locknut - 1/8",
        "description": "Stainless steel locknut",
        "area": "tool room",
        "unitCost": 120,
        "availableQuantity": 10,
        "inStockQuantity": 10,
        "minimumQuantity": 5,
        "barcode": "bWFpbnRhaW54Cg==",
        "locationId": 852,
        "locations": [
            {"locationId": 852, "availableQuantity": 10, "minimumQuantity": 5,
             "maximumQuantity": 100, "area": "tool room", "reservedQuantity": 3}
        ],
        "partTypes": ["Fasteners"],
        "assetIds": [963],
        "teamIds": [],
        "extraFields": {"Bin": "A-12"},
        "vendors": [{"vendorId": 432, "partNumber": "XC230"}],
        "orderedQuantity": 15,
        "reservedQuantity": 3,
        "assignedQuantity": 3,
        "maximumQuantity": 100,
        "vendorIds": [432],
        "thumbnail": null,
        "attachments": [],
        "createdAt": "2022-01-01T00:00:00.000Z",
        "updatedAt": "2024-02-01T10:00:00.000Z",
        "deletedAt": null
    })
}

/// A purchase order as `POST /purchaseorders` (201, unwrapped) and `GET
/// /purchaseorders/{id}` (`purchaseOrder`) return it.
pub fn purchase_order(id: u64) -> Value {
    json!({
        "id": id,
        "note": "Please deliver during business hours",
        "title": "Office Supplies Order",
        "reviewNote": null,
        "status": "APPROVED",
        "dueDate": "2024-04-01T00:00:00.000Z",
        "creatorId": 20001,
        "vendorId": 432,
        "autoGeneratedNumber": 987,
        "overrideNumber": "A123",
        "approverId": 135,
        "approvalDate": "2024-03-01T15:00:00.000Z",
        "createdAt": "2024-03-01T12:00:00.000Z",
        "updatedAt": "2024-03-02T08:30:00.000Z",
        "deletedAt": null,
        "items": [
            {"id": 23, "partId": 43, "name": "Locknut - 1/8", "partNumber": "XC230",
             "price": 500000, "priceDecimal": "5000.000000", "quantityOrdered": 4,
             "quantityReceived": 0, "unitCost": 125000, "unitCostDecimal": "1250.000000",
             "fulfillments": [], "lineExtraFields": {}},
            {"id": 24, "partId": null, "name": "Shipping pallet", "partNumber": null,
             "price": 3550, "quantityOrdered": 1, "quantityReceived": null, "unitCost": 3550,
             "fulfillments": []}
        ],
        "costs": [{"id": 123, "name": "Sales Tax", "type": "PERCENT_TAXABLE", "amount": 1500}],
        "thumbnail": null,
        "attachments": [],
        "vendorContactIds": [],
        "shippingAddress": {
            "city": "Montreal", "country": "Canada", "postalCode": "H4B 5G0", "state": "Quebec",
            "street": "1909 Avenue des Canadiens-de-Montréal", "label": null
        },
        "billingAddress": null,
        "extraFields": {"Cost Center": "MAINT-01"}
    })
}

/// The `location` of `GET /locations/{id}`.
pub fn location(id: u64) -> Value {
    json!({
        "id": id,
        "name": "Warehouse B",
        "description": "Cold storage warehouse",
        "address": "1090 main street, Franklin",
        "barcode": null,
        "parentId": 600,
        "childrenIds": [612, 613],
        "thumbnail": null,
        "attachments": [],
        "extraFields": {},
        "teamIds": [],
        "vendorIds": [],
        "createdAt": "2022-01-01T00:00:00.000Z",
        "updatedAt": "2023-06-01T12:00:00.000Z",
        "deletedAt": null
    })
}

/// The `vendor` of `GET /vendors/{id}`.
pub fn vendor(id: u64) -> Value {
    json!({
        "id": id,
        "name": "Acme Corp",
        "emails": ["orders@acme.example"],
        "phoneNumbers": ["415-555-0100"],
        "description": "Provider of Acme service",
        "thumbnail": null,
        "attachments": [],
        "contactIds": [],
        "deletedAt": null,
        "extraFields": {"Account": "C-77"}
    })
}

/// The `user` of `GET /users/{id}`.
pub fn user(id: u64) -> Value {
    json!({
        "id": id,
        "firstName": "Jane",
        "lastName": "Doe",
        "role": "MEMBER",
        "customRole": null,
        "email": "jane.doe@example.com",
        "phoneNumber": "415-555-0100",
        "removedFromOrganization": false,
        "authType": "NORMAL",
        "hourlyRate": 4500,
        "externalData": null,
        "extraFields": {"Badge": "1042"},
        "lastVisitedAt": "2024-03-01T07:58:00.000Z"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_page_has_n_records() {
        for n in [0, 1, 100] {
            let v: Value = serde_json::from_slice(&sample_work_orders_page(n)).unwrap();
            assert_eq!(v["workOrders"].as_array().unwrap().len(), n);
            assert_eq!(v["nextCursor"], SAMPLE_NEXT_CURSOR);
        }
    }
}
