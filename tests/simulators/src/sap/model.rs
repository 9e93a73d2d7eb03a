//! What the simulated services declare: entity sets, their keys, properties (EDM type, length,
//! precision) and the `sap:creatable` / `sap:updatable` / `sap:deletable` / `sap:filterable` /
//! `sap:sortable` flags, navigation properties and function imports.
//!
//! Everything here is taken from the services' EDMX `$metadata` (the copies listed in the
//! reference material: `API_MAINTENANCEORDER` namespace `cds_api_maintenanceorder_2`,
//! `API_EQUIPMENT`, `API_FUNCTIONALLOCATION`, `API_PURCHASEORDER_PROCESS_SRV`,
//! `API_MATERIAL_STOCK_SRV`, `API_BUSINESS_PARTNER`) and the SAP API Hub OpenAPI files. Each
//! entity type carries the subset of its properties that the simulator keeps (the real types
//! have 14 to 112); the flags of those properties are the EDMX's. A flag the EDMX leaves out
//! defaults to `true`, as in SAP's annotation vocabulary.
//!
//! Maintenance orders, equipment and purchase orders also carry customer extension fields,
//! as a customer's key-user custom fields appear in these APIs once enabled for them:
//! properties named `YY1_<name>_<business context>` (`ZZ1_…` when created on premise),
//! filterable and sortable like any property. The names here are examples of that scheme
//! [U: the business-context suffixes of these objects].

/// The EDM type of a property and how it is written in OData V2 JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edm {
    /// `Edm.String` with `MaxLength`.
    String(usize),
    /// `Edm.Decimal` with `Precision` and `Scale`, written as a JSON string (`"61.050"`).
    Decimal(u32, u32),
    /// `Edm.DateTime` (`sap:display-format="Date"` in every use here), written `/Date(ms)/`.
    DateTime,
    /// `Edm.DateTimeOffset`, written `/Date(ms+0000)/`.
    DateTimeOffset,
    /// `Edm.Boolean`.
    Boolean,
}

/// One property of an entity type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prop {
    pub(crate) name: &'static str,
    pub(crate) edm: Edm,
    pub(crate) creatable: bool,
    pub(crate) updatable: bool,
    pub(crate) filterable: bool,
    pub(crate) sortable: bool,
}

const fn p(name: &'static str, edm: Edm) -> Prop {
    Prop {
        name,
        edm,
        creatable: true,
        updatable: true,
        filterable: true,
        sortable: true,
    }
}

/// `sap:updatable="false"`.
const fn create_only(mut prop: Prop) -> Prop {
    prop.updatable = false;
    prop
}

/// `sap:creatable="false" sap:updatable="false"`.
const fn read_only(mut prop: Prop) -> Prop {
    prop.creatable = false;
    prop.updatable = false;
    prop
}

/// `sap:creatable="false" sap:updatable="false" sap:sortable="false" sap:filterable="false"`.
const fn display_only(mut prop: Prop) -> Prop {
    prop = read_only(prop);
    prop.filterable = false;
    prop.sortable = false;
    prop
}

const fn s(n: usize) -> Edm {
    Edm::String(n)
}

/// The simulated OData services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Service {
    MaintenanceOrder,
    Equipment,
    FunctionalLocation,
    PurchaseOrder,
    MaterialStock,
    BusinessPartner,
}

impl Service {
    pub(crate) const ALL: [Service; 6] = [
        Service::MaintenanceOrder,
        Service::Equipment,
        Service::FunctionalLocation,
        Service::PurchaseOrder,
        Service::MaterialStock,
        Service::BusinessPartner,
    ];

    /// The technical service name in the URL (`/sap/opu/odata/sap/<name>`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Service::MaintenanceOrder => "API_MAINTENANCEORDER",
            Service::Equipment => "API_EQUIPMENT",
            Service::FunctionalLocation => "API_FUNCTIONALLOCATION",
            Service::PurchaseOrder => "API_PURCHASEORDER_PROCESS_SRV",
            Service::MaterialStock => "API_MATERIAL_STOCK_SRV",
            Service::BusinessPartner => "API_BUSINESS_PARTNER",
        }
    }

    /// The EDMX schema namespace (the prefix of `__metadata.type`).
    pub(crate) const fn namespace(self) -> &'static str {
        match self {
            Service::MaintenanceOrder => "cds_api_maintenanceorder_2",
            Service::Equipment => "cds_api_equipment",
            Service::FunctionalLocation => "cds_api_functionallocation",
            Service::PurchaseOrder => "API_PURCHASEORDER_PROCESS_SRV",
            Service::MaterialStock => "API_MATERIAL_STOCK_SRV",
            Service::BusinessPartner => "API_BUSINESS_PARTNER",
        }
    }

    /// The service named `name` (case-insensitive, as the ICF resolves service names).
    pub(crate) fn parse(name: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// The entity sets the simulator serves in this service.
    pub(crate) fn sets(self) -> &'static [Set] {
        match self {
            Service::MaintenanceOrder => &[Set::MaintenanceOrder, Set::MaintenanceOrderOperation],
            Service::Equipment => &[Set::Equipment],
            Service::FunctionalLocation => &[Set::FunctionalLocation],
            Service::PurchaseOrder => &[Set::PurchaseOrder, Set::PurchaseOrderItem],
            Service::MaterialStock => &[Set::MaterialStock],
            Service::BusinessPartner => &[Set::Supplier],
        }
    }
}

/// The simulated entity sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Set {
    MaintenanceOrder,
    MaintenanceOrderOperation,
    Equipment,
    FunctionalLocation,
    PurchaseOrder,
    PurchaseOrderItem,
    MaterialStock,
    Supplier,
}

/// A navigation property from one set to a collection of another.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Nav {
    pub(crate) name: &'static str,
    pub(crate) target: Set,
    /// Pairs (property of the source, property of the target) that link them.
    pub(crate) link: &'static [(&'static str, &'static str)],
    /// Whether a deep insert of the source may carry the target inline (and a `POST` to the
    /// navigation creates a target record).
    pub(crate) insertable: bool,
}

impl Set {
    pub(crate) const ALL: [Set; 8] = [
        Set::MaintenanceOrder,
        Set::MaintenanceOrderOperation,
        Set::Equipment,
        Set::FunctionalLocation,
        Set::PurchaseOrder,
        Set::PurchaseOrderItem,
        Set::MaterialStock,
        Set::Supplier,
    ];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Set::MaintenanceOrder => "MaintenanceOrder",
            Set::MaintenanceOrderOperation => "MaintenanceOrderOperation",
            Set::Equipment => "Equipment",
            Set::FunctionalLocation => "FunctionalLocation",
            Set::PurchaseOrder => "A_PurchaseOrder",
            Set::PurchaseOrderItem => "A_PurchaseOrderItem",
            Set::MaterialStock => "A_MatlStkInAcctMod",
            Set::Supplier => "A_Supplier",
        }
    }

    /// The entity type name.
    pub(crate) const fn type_name(self) -> &'static str {
        match self {
            Set::MaintenanceOrder => "MaintenanceOrderType",
            Set::MaintenanceOrderOperation => "MaintenanceOrderOperationType",
            Set::Equipment => "EquipmentType",
            Set::FunctionalLocation => "FunctionalLocationType",
            Set::PurchaseOrder => "A_PurchaseOrderType",
            Set::PurchaseOrderItem => "A_PurchaseOrderItemType",
            Set::MaterialStock => "A_MatlStkInAcctModType",
            Set::Supplier => "A_SupplierType",
        }
    }

    pub(crate) fn service(self) -> Service {
        match self {
            Set::MaintenanceOrder | Set::MaintenanceOrderOperation => Service::MaintenanceOrder,
            Set::Equipment => Service::Equipment,
            Set::FunctionalLocation => Service::FunctionalLocation,
            Set::PurchaseOrder | Set::PurchaseOrderItem => Service::PurchaseOrder,
            Set::MaterialStock => Service::MaterialStock,
            Set::Supplier => Service::BusinessPartner,
        }
    }

    /// The set named `name` in `service`.
    pub(crate) fn parse(service: Service, name: &str) -> Option<Set> {
        service.sets().iter().copied().find(|s| s.name() == name)
    }

    /// `sap:creatable` of the entity set.
    pub(crate) const fn creatable(self) -> bool {
        !matches!(
            self,
            Set::MaintenanceOrderOperation | Set::MaterialStock | Set::Supplier
        )
    }

    /// `sap:updatable` of the entity set.
    pub(crate) const fn updatable(self) -> bool {
        !matches!(self, Set::MaterialStock)
    }

    /// `sap:deletable` of the entity set.
    pub(crate) const fn deletable(self) -> bool {
        matches!(
            self,
            Set::MaintenanceOrderOperation | Set::PurchaseOrder | Set::PurchaseOrderItem
        )
    }

    /// The key properties, in key order.
    pub(crate) const fn keys(self) -> &'static [&'static str] {
        match self {
            Set::MaintenanceOrder => &["MaintenanceOrder"],
            Set::MaintenanceOrderOperation => &[
                "MaintenanceOrder",
                "MaintenanceOrderOperation",
                "MaintenanceOrderSubOperation",
            ],
            Set::Equipment => &["Equipment", "ValidityEndDate"],
            Set::FunctionalLocation => &["FunctionalLocation"],
            Set::PurchaseOrder => &["PurchaseOrder"],
            Set::PurchaseOrderItem => &["PurchaseOrder", "PurchaseOrderItem"],
            Set::MaterialStock => &[
                "Material",
                "Plant",
                "StorageLocation",
                "Batch",
                "Supplier",
                "Customer",
                "WBSElementInternalID",
                "SDDocument",
                "SDDocumentItem",
                "InventorySpecialStockType",
                "InventoryStockType",
            ],
            Set::Supplier => &["Supplier"],
        }
    }

    /// Whether entities of the set carry an ETag (derived from `LastChangeDateTime`, or from
    /// the change counter where the type has no change time stamp).
    pub(crate) const fn has_etag(self) -> bool {
        !matches!(self, Set::MaterialStock | Set::Supplier)
    }

    pub(crate) fn navs(self) -> &'static [Nav] {
        match self {
            Set::MaintenanceOrder => &[Nav {
                name: "to_MaintenanceOrderOperation",
                target: Set::MaintenanceOrderOperation,
                link: &[("MaintenanceOrder", "MaintenanceOrder")],
                insertable: true,
            }],
            Set::PurchaseOrder => &[Nav {
                name: "to_PurchaseOrderItem",
                target: Set::PurchaseOrderItem,
                link: &[("PurchaseOrder", "PurchaseOrder")],
                insertable: true,
            }],
            _ => &[],
        }
    }

    pub(crate) fn nav(self, name: &str) -> Option<&'static Nav> {
        self.navs().iter().find(|n| n.name == name)
    }

    pub(crate) fn props(self) -> &'static [Prop] {
        match self {
            Set::MaintenanceOrder => MAINTENANCE_ORDER,
            Set::MaintenanceOrderOperation => MAINTENANCE_ORDER_OPERATION,
            Set::Equipment => EQUIPMENT,
            Set::FunctionalLocation => FUNCTIONAL_LOCATION,
            Set::PurchaseOrder => PURCHASE_ORDER,
            Set::PurchaseOrderItem => PURCHASE_ORDER_ITEM,
            Set::MaterialStock => MATERIAL_STOCK,
            Set::Supplier => SUPPLIER,
        }
    }

    pub(crate) fn prop(self, name: &str) -> Option<&'static Prop> {
        self.props().iter().find(|p| p.name == name)
    }

    /// Properties a create must carry (besides keys the system assigns).
    pub(crate) const fn required_on_create(self) -> &'static [&'static str] {
        match self {
            // The fields IW31 insists on: order type, planning plant, main work center and a
            // short text [U: the API documentation lists no mandatory fields].
            Set::MaintenanceOrder => &[
                "MaintenanceOrderType",
                "MaintenanceOrderDesc",
                "MaintenancePlanningPlant",
                "MainWorkCenter",
            ],
            Set::MaintenanceOrderOperation => &["OperationDescription"],
            Set::Equipment => &["EquipmentCategory", "EquipmentName"],
            Set::FunctionalLocation => &[
                "FunctionalLocation",
                "FunctionalLocationCategory",
                "FuncLocationStructure",
            ],
            // The OpenAPI "-create" schema requires PurchaseOrderType and Supplier; a purchase
            // order cannot be saved without its organizational data either.
            Set::PurchaseOrder => &[
                "CompanyCode",
                "PurchaseOrderType",
                "Supplier",
                "PurchasingOrganization",
                "PurchasingGroup",
            ],
            // The "-create" schema requires PurchaseOrderItem and Plant.
            Set::PurchaseOrderItem => &["PurchaseOrderItem", "Plant", "OrderQuantity"],
            Set::MaterialStock | Set::Supplier => &[],
        }
    }
}

const MAINTENANCE_ORDER: &[Prop] = &[
    create_only(p("MaintenanceOrder", s(12))),
    create_only(p("MaintenanceOrderType", s(4))),
    p("MaintenanceOrderDesc", s(40)),
    p("MaintOrdBasicStartDateTime", Edm::DateTimeOffset),
    p("MaintOrdBasicEndDateTime", Edm::DateTimeOffset),
    p("MainWorkCenter", s(8)),
    p("MainWorkCenterPlant", s(4)),
    create_only(p("MaintenancePlanningPlant", s(4))),
    p("MaintenancePlant", s(4)),
    p("Equipment", s(18)),
    p("FunctionalLocation", s(30)),
    p("MaintPriority", s(1)),
    p("MaintenanceActivityType", s(3)),
    p("LatestAcceptableCompletionDate", Edm::DateTime),
    read_only(p("LastChangeByUser", s(12))),
    read_only(p("LastChangeDateTime", Edm::DateTimeOffset)),
    read_only(p("CreatedByUser", s(12))),
    read_only(p("MaintOrderCreationDateTime", Edm::DateTimeOffset)),
    display_only(p("SystemStatusText", s(40))),
    display_only(p("UserStatusText", s(40))),
    p("YY1_SafetyPermit_ORD", s(20)),
    p("ZZ1_ShutdownRequired_ORD", Edm::Boolean),
];

const MAINTENANCE_ORDER_OPERATION: &[Prop] = &[
    read_only(p("MaintenanceOrder", s(12))),
    create_only(p("MaintenanceOrderOperation", s(4))),
    create_only(p("MaintenanceOrderSubOperation", s(4))),
    p("OperationControlKey", s(4)),
    p("WorkCenter", s(8)),
    p("Plant", s(4)),
    p("OperationDescription", s(40)),
];

const EQUIPMENT: &[Prop] = &[
    create_only(p("Equipment", s(18))),
    read_only(p("ValidityEndDate", Edm::DateTime)),
    p("ValidityStartDate", Edm::DateTime),
    p("EquipmentName", s(40)),
    p("EquipmentCategory", s(1)),
    p("TechnicalObjectType", s(10)),
    p("AssetManufacturerName", s(30)),
    p("ManufacturerPartTypeName", s(20)),
    p("ManufacturerSerialNumber", s(30)),
    p("MaintenancePlant", s(4)),
    p("MaintenancePlanningPlant", s(4)),
    read_only(p("FunctionalLocation", s(30))),
    p("SuperordinateEquipment", s(18)),
    read_only(p("CreationDate", Edm::DateTime)),
    read_only(p("LastChangeDateTime", Edm::DateTimeOffset)),
    read_only(p("EquipmentIsMarkedForDeletion", Edm::Boolean)),
    read_only(p("EquipmentIsInactive", Edm::Boolean)),
    read_only(p("EquipmentIsInstalled", Edm::Boolean)),
    p("YY1_CriticalityClass_EQU", s(1)),
];

const FUNCTIONAL_LOCATION: &[Prop] = &[
    create_only(p("FunctionalLocation", s(30))),
    p("FunctionalLocationName", s(40)),
    p("FunctionalLocationCategory", s(1)),
    p("FuncLocationStructure", s(5)),
    p("SuperiorFunctionalLocation", s(30)),
    p("MaintenancePlant", s(4)),
    p("MaintenancePlanningPlant", s(4)),
    read_only(p("CreationDate", Edm::DateTime)),
    read_only(p("LastChangeDateTime", Edm::DateTimeOffset)),
    read_only(p("FuncnlLocIsMarkedForDeletion", Edm::Boolean)),
    read_only(p("FuncnlLocIsDeactivated", Edm::Boolean)),
    read_only(p("FunctionalLocationIsActive", Edm::Boolean)),
];

const PURCHASE_ORDER: &[Prop] = &[
    create_only(p("PurchaseOrder", s(10))),
    p("CompanyCode", s(4)),
    p("PurchaseOrderType", s(4)),
    read_only(p("PurchasingDocumentDeletionCode", s(1))),
    read_only(p("PurchasingProcessingStatus", s(2))),
    read_only(p("CreatedByUser", s(12))),
    read_only(p("CreationDate", Edm::DateTime)),
    read_only(p("LastChangeDateTime", Edm::DateTimeOffset)),
    p("Supplier", s(10)),
    p("PurchasingOrganization", s(4)),
    p("PurchasingGroup", s(3)),
    p("PurchaseOrderDate", Edm::DateTime),
    p("DocumentCurrency", s(5)),
    read_only(p("ReleaseIsNotCompleted", Edm::Boolean)),
    p("YY1_ProjectCode_PDH", s(10)),
    p("YY1_ContractDate_PDH", Edm::DateTime),
];

const PURCHASE_ORDER_ITEM: &[Prop] = &[
    create_only(p("PurchaseOrder", s(10))),
    create_only(p("PurchaseOrderItem", s(5))),
    read_only(p("PurchasingDocumentDeletionCode", s(1))),
    p("PurchaseOrderItemText", s(40)),
    p("Plant", s(4)),
    p("StorageLocation", s(4)),
    p("MaterialGroup", s(9)),
    p("Material", s(40)),
    p("OrderQuantity", Edm::Decimal(13, 3)),
    p("PurchaseOrderQuantityUnit", s(3)),
    read_only(p("DocumentCurrency", s(5))),
    p("NetPriceAmount", Edm::Decimal(12, 3)),
    p("AccountAssignmentCategory", s(1)),
];

const MATERIAL_STOCK: &[Prop] = &[
    read_only(p("Material", s(40))),
    read_only(p("Plant", s(4))),
    read_only(p("StorageLocation", s(4))),
    read_only(p("Batch", s(10))),
    read_only(p("Supplier", s(10))),
    read_only(p("Customer", s(10))),
    read_only(p("WBSElementInternalID", s(8))),
    read_only(p("SDDocument", s(10))),
    read_only(p("SDDocumentItem", s(6))),
    read_only(p("InventorySpecialStockType", s(1))),
    read_only(p("InventoryStockType", s(2))),
    read_only(p("WBSElementExternalID", s(24))),
    read_only(p("MaterialBaseUnit", s(3))),
    read_only(p("MatlWrhsStkQtyInMatlBaseUnit", Edm::Decimal(31, 14))),
];

const SUPPLIER: &[Prop] = &[
    create_only(p("Supplier", s(10))),
    p("SupplierName", s(80)),
    p("SupplierFullName", s(220)),
    p("SupplierAccountGroup", s(4)),
    p("PurchasingIsBlocked", Edm::Boolean),
    p("PostingIsBlocked", Edm::Boolean),
    p("DeletionIndicator", Edm::Boolean),
    read_only(p("CreationDate", Edm::DateTime)),
    read_only(p("CreatedByUser", s(12))),
];

/// A function import (`m:HttpMethod="POST"`, parameters in the query string).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FunctionImport {
    pub(crate) name: &'static str,
    pub(crate) set: Set,
    /// Parameters (name, EDM type, required).
    pub(crate) params: &'static [(&'static str, Edm, bool)],
}

const ORDER: (&str, Edm, bool) = ("MaintenanceOrder", Edm::String(12), true);
const EQUIP: [(&str, Edm, bool); 2] = [
    ("Equipment", Edm::String(18), true),
    ("ValidityEndDate", Edm::DateTime, true),
];
const FUNCLOC: (&str, Edm, bool) = ("FunctionalLocation", Edm::String(30), true);

/// The status function imports the simulator implements (names and parameters from the
/// EDMX; each returns `DummyFunctionImportResult`).
pub(crate) const FUNCTION_IMPORTS: &[FunctionImport] = &[
    FunctionImport {
        name: "ReleaseMaintenanceOrder",
        set: Set::MaintenanceOrder,
        params: &[ORDER],
    },
    FunctionImport {
        name: "SetMaintOrdToTechCompleted",
        set: Set::MaintenanceOrder,
        params: &[
            ORDER,
            ("MainWrkCmpltdDateTimeIsUsed", Edm::Boolean, false),
            ("MaintOrderReferenceDateTime", Edm::DateTimeOffset, false),
            ("AssignedMaintNotifIsToBeClosed", Edm::Boolean, false),
        ],
    },
    FunctionImport {
        name: "ResetMaintOrdStsTechCompleted",
        set: Set::MaintenanceOrder,
        params: &[
            ORDER,
            ("AssgdMaintNotifIsToBePutInProc", Edm::Boolean, false),
        ],
    },
    FunctionImport {
        name: "SetMaintOrderStatusToClosed",
        set: Set::MaintenanceOrder,
        params: &[
            ORDER,
            ("MaintOrderReferenceDateTime", Edm::DateTimeOffset, false),
            ("AssignedMaintNotifIsToBeClosed", Edm::Boolean, false),
        ],
    },
    FunctionImport {
        name: "ResetMaintOrderStatusClosed",
        set: Set::MaintenanceOrder,
        params: &[ORDER],
    },
    FunctionImport {
        name: "SetMaintOrdStsToMrkdForDeltn",
        set: Set::MaintenanceOrder,
        params: &[ORDER, ("AssgdMaintNotifIsToBeSetDel", Edm::Boolean, false)],
    },
    FunctionImport {
        name: "ResetMaintOrdStsMrkdForDeltn",
        set: Set::MaintenanceOrder,
        params: &[
            ORDER,
            ("AssgdMaintNotifIsToBeResetDel", Edm::Boolean, false),
        ],
    },
    FunctionImport {
        name: "SetMaintOrderStatusToLocked",
        set: Set::MaintenanceOrder,
        params: &[ORDER],
    },
    FunctionImport {
        name: "SetMaintOrderStatusToUnlocked",
        set: Set::MaintenanceOrder,
        params: &[ORDER],
    },
    FunctionImport {
        name: "SetEquipmentToInactive",
        set: Set::Equipment,
        params: &EQUIP,
    },
    FunctionImport {
        name: "ResetEquipmentFromInactive",
        set: Set::Equipment,
        params: &EQUIP,
    },
    FunctionImport {
        name: "SetEquipToMarkedForDeletion",
        set: Set::Equipment,
        params: &EQUIP,
    },
    FunctionImport {
        name: "RsetEquipFromMarkedForDeletion",
        set: Set::Equipment,
        params: &EQUIP,
    },
    FunctionImport {
        name: "SetFuncnlLocationToInactive",
        set: Set::FunctionalLocation,
        params: &[FUNCLOC],
    },
    FunctionImport {
        name: "RsetFuncnlLocationFromInactive",
        set: Set::FunctionalLocation,
        params: &[FUNCLOC],
    },
    FunctionImport {
        name: "SetFuncLocToMarkedForDeletion",
        set: Set::FunctionalLocation,
        params: &[FUNCLOC],
    },
    FunctionImport {
        name: "RsetFuncLocFromMrkdForDeletion",
        set: Set::FunctionalLocation,
        params: &[FUNCLOC],
    },
];

/// The function import `name` of `service`.
pub(crate) fn function_import(service: Service, name: &str) -> Option<&'static FunctionImport> {
    FUNCTION_IMPORTS
        .iter()
        .find(|f| f.name == name && f.set.service() == service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_function_imports_name_declared_properties() {
        for set in Set::ALL {
            for key in set.keys() {
                let prop = set.prop(key);
                assert!(prop.is_some(), "{}.{key}", set.name());
            }
            for req in set.required_on_create() {
                assert!(
                    set.prop(req).is_some_and(|p| p.creatable),
                    "{}.{req}",
                    set.name()
                );
            }
            assert_eq!(Set::parse(set.service(), set.name()), Some(set));
        }
        for f in FUNCTION_IMPORTS {
            assert_eq!(
                function_import(f.set.service(), f.name).map(|x| x.name),
                Some(f.name)
            );
        }
        assert!(!Set::MaintenanceOrder.deletable() && Set::PurchaseOrder.deletable());
        assert!(!Set::MaterialStock.creatable() && !Set::MaterialStock.updatable());
        assert!(Service::parse("api_equipment").is_some());
    }
}
