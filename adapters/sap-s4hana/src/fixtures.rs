//! Realistic SAP OData V2 bodies, shaped after the services' EDMX and the SAP API Hub
//! examples: for the adapter's own tests, for benchmarks, and for anyone who needs an SAP body
//! without a server.

use serde_json::{Value, json};

/// One `MaintenanceOrder` as `GET …/MaintenanceOrder('4000012')` returns it (`d` content).
pub fn maintenance_order() -> Value {
    json!({
        "__metadata": {
            "id": "https://s4h.example.com/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder('4000012')",
            "uri": "https://s4h.example.com/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder('4000012')",
            "type": "cds_api_maintenanceorder_2.MaintenanceOrderType",
            "etag": "W/\"datetimeoffset'2024-03-01T08%3A00%3A00.0000002Z'\""
        },
        "MaintenanceOrder": "4000012",
        "MaintenanceOrderType": "PM01",
        "MaintenanceOrderDesc": "Replace mechanical seal 12",
        "MaintOrdBasicStartDateTime": "/Date(1709276400000+0000)/",
        "MaintOrdBasicEndDateTime": "/Date(1709305200000+0000)/",
        "MainWorkCenter": "MECHANIK",
        "MainWorkCenterPlant": "1010",
        "MaintenancePlanningPlant": "1010",
        "MaintenancePlant": "1010",
        "Equipment": "10000012",
        "FunctionalLocation": "1010-SP-PUMP-12",
        "MaintPriority": "2",
        "MaintenanceActivityType": "002",
        "LatestAcceptableCompletionDate": "/Date(1710460800000)/",
        "LastChangeByUser": "PLANTWIRE_COMM",
        "LastChangeDateTime": "/Date(1709280000000+0000)/",
        "CreatedByUser": "PLANTWIRE_COMM",
        "MaintOrderCreationDateTime": "/Date(1709078400000+0000)/",
        "SystemStatusText": "REL  MANC NMAT",
        "UserStatusText": "",
        "to_MaintenanceOrderOperation": {"__deferred": {"uri": "https://s4h.example.com/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder('4000012')/to_MaintenanceOrderOperation"}}
    })
}

/// One `A_PurchaseOrder` with `$expand=to_PurchaseOrderItem`, release completed.
pub fn purchase_order() -> Value {
    json!({
        "__metadata": {"type": "API_PURCHASEORDER_PROCESS_SRV.A_PurchaseOrderType", "etag": "W/\"datetimeoffset'2024-03-01T14%3A00%3A00.0000001Z'\""},
        "PurchaseOrder": "4500000004",
        "CompanyCode": "1010",
        "PurchaseOrderType": "NB",
        "PurchasingDocumentDeletionCode": "",
        "PurchasingProcessingStatus": "05",
        "CreatedByUser": "PLANTWIRE_COMM",
        "CreationDate": "/Date(1709251200000)/",
        "LastChangeDateTime": "/Date(1709301600000+0000)/",
        "Supplier": "17300004",
        "PurchasingOrganization": "1010",
        "PurchasingGroup": "001",
        "PurchaseOrderDate": "/Date(1709251200000)/",
        "DocumentCurrency": "EUR",
        "ReleaseIsNotCompleted": false,
        "to_PurchaseOrderItem": {"results": [
            {
                "__metadata": {"type": "API_PURCHASEORDER_PROCESS_SRV.A_PurchaseOrderItemType"},
                "PurchaseOrder": "4500000004", "PurchaseOrderItem": "10",
                "PurchasingDocumentDeletionCode": "", "PurchaseOrderItemText": "Trading Good 11",
                "Plant": "1010", "StorageLocation": "101A", "MaterialGroup": "L001", "Material": "TG11",
                "OrderQuantity": "4.000", "PurchaseOrderQuantityUnit": "PC", "DocumentCurrency": "EUR",
                "NetPriceAmount": "61.050", "AccountAssignmentCategory": ""
            },
            {
                "__metadata": {"type": "API_PURCHASEORDER_PROCESS_SRV.A_PurchaseOrderItemType"},
                "PurchaseOrder": "4500000004", "PurchaseOrderItem": "20",
                "PurchasingDocumentDeletionCode": "", "PurchaseOrderItemText": "Freight",
                "Plant": "1010", "StorageLocation": "", "MaterialGroup": "L001", "Material": "",
                "OrderQuantity": "1.500", "PurchaseOrderQuantityUnit": "PC", "DocumentCurrency": "EUR",
                "NetPriceAmount": null, "AccountAssignmentCategory": ""
            }
        ]}
    })
}

/// One `Equipment` (inactive).
pub fn equipment() -> Value {
    json!({
        "__metadata": {"type": "cds_api_equipment.EquipmentType", "etag": "W/\"datetimeoffset'2024-01-15T12%3A00%3A00.0000001Z'\""},
        "Equipment": "10000041",
        "ValidityEndDate": "/Date(253402214400000)/",
        "ValidityStartDate": "/Date(1705276800000)/",
        "EquipmentName": "Screw compressor 41",
        "EquipmentCategory": "M",
        "TechnicalObjectType": "PUMP",
        "AssetManufacturerName": "Atlas Copco",
        "ManufacturerPartTypeName": "GA 37 VSD",
        "ManufacturerSerialNumber": "SN00031280",
        "MaintenancePlant": "1710",
        "MaintenancePlanningPlant": "1710",
        "FunctionalLocation": "1710-SP-COMP-01",
        "SuperordinateEquipment": "",
        "CreationDate": "/Date(1705276800000)/",
        "LastChangeDateTime": "/Date(1705320000000+0000)/",
        "EquipmentIsMarkedForDeletion": false,
        "EquipmentIsInactive": true,
        "EquipmentIsInstalled": true
    })
}

/// One `A_MatlStkInAcctMod` row (unrestricted stock, no batch).
pub fn stock_row() -> Value {
    json!({
        "__metadata": {"type": "API_MATERIAL_STOCK_SRV.A_MatlStkInAcctModType"},
        "Material": "TG11", "Plant": "1010", "StorageLocation": "101A", "Batch": "",
        "Supplier": "", "Customer": "", "WBSElementInternalID": "0", "SDDocument": "",
        "SDDocumentItem": "0", "InventorySpecialStockType": "", "InventoryStockType": "01",
        "WBSElementExternalID": "", "MaterialBaseUnit": "PC",
        "MatlWrhsStkQtyInMatlBaseUnit": "125.50000000000000"
    })
}

/// A collection answer wrapping `results`.
pub fn collection(results: Vec<Value>, count: usize, next: Option<&str>) -> Value {
    let mut d = json!({"results": results, "__count": count.to_string()});
    if let (Some(next), Some(map)) = (next, d.as_object_mut()) {
        map.insert("__next".into(), json!(next));
    }
    json!({ "d": d })
}

/// SAP's error body.
pub fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": {"lang": "en", "value": message},
        "innererror": {"transactionid": "6B4A1E2F9C0D4E8FA1B2C3D4E5F60718", "timestamp": "20240301080000.1234560",
        "errordetails": [{"code": code, "message": message, "propertyref": "", "severity": "error", "target": ""}]}}})
}
