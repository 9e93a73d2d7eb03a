//! The object structures the simulator serves: their primary keys (in rest-id order), their
//! attributes and types, which attributes Maximo fills in itself, and the status domains.
//! Work orders and assets carry one attribute each that a customer added to the object in
//! Database Configuration (`exsafetyclass`, `excriticality`, with the customer's `ex`
//! prefix): an MXAPI object structure carries every persistent attribute of its main object,
//! customer-added ones included.
//!
//! Names follow Maximo's own (lower-case in lean JSON). Primary-key orders follow the rest ids
//! the IBM REST API guide and IBM's Maximo Mobile fixtures show: work orders encode
//! `siteid/wonum`, assets `assetnum/siteid`, purchase orders `ponum/revisionnum/siteid`. The
//! orders of items (`itemnum/itemsetid`), inventory (`itemnum/itemsetid/location/siteid`),
//! locations (`location/siteid`) and companies (`company/orgid`) are not shown in public
//! sources and follow the same rule (the object's unique key, in attribute order) [U].

/// The type of an attribute, which decides how `oslc.where` compares it and how writes are
/// checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// Text (Maximo ALN / UPPER / LONGALN).
    Text,
    /// Whole number (INTEGER, BIGINT).
    Int,
    /// Decimal (DECIMAL, AMOUNT, DURATION).
    Dec,
    /// YORN, sent as JSON `true` / `false`.
    Bool,
    /// DATETIME, ISO-8601 with an offset.
    Date,
}

/// One attribute of an object structure's main object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attr {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    /// Set by Maximo only; a write that gives it is refused.
    pub(crate) read_only: bool,
    /// The most characters a text attribute holds (checked on writes); `None`: not checked.
    pub(crate) max_len: Option<usize>,
}

const fn a(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        read_only: false,
        max_len: None,
    }
}

const fn ro(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        read_only: true,
        max_len: None,
    }
}

/// A writable ALN attribute of at most `len` characters.
const fn aln(name: &'static str, len: usize) -> Attr {
    Attr {
        name,
        ty: Ty::Text,
        read_only: false,
        max_len: Some(len),
    }
}

/// The length of `EXTERNALREFID` ("External Reference ID"), the integration framework's
/// attribute for another system's identifier of a record: `ALN(10)` on every main object
/// served here (IBM's `MXAPIWODETAIL` JSON schema: `"subType": "ALN"`, `"maxLength": 10`).
/// Maximo does not keep its values unique.
pub(crate) const EXTERNALREFID_LEN: usize = 10;

/// The object structures served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Os {
    /// `MXAPIWO` (WORKORDER).
    WorkOrder,
    /// `MXAPIASSET` (ASSET).
    Asset,
    /// `MXAPIPO` (PO with POLINE).
    Po,
    /// `MXAPIINVENTORY` (INVENTORY).
    Inventory,
    /// `MXAPIITEM` (ITEM).
    Item,
    /// `MXAPILOCATIONS` (LOCATIONS).
    Location,
    /// `MXAPIVENDOR` (COMPANIES); also answers as `MXVENDOR`.
    Vendor,
}

pub(crate) const ALL: [Os; 7] = [
    Os::WorkOrder,
    Os::Asset,
    Os::Po,
    Os::Inventory,
    Os::Item,
    Os::Location,
    Os::Vendor,
];

/// Work order statuses of the WOSTATUS synonym domain (internal values).
pub(crate) const WO_STATUSES: &[(&str, &str)] = &[
    ("WAPPR", "Waiting on Approval"),
    ("APPR", "Approved"),
    ("WSCH", "Waiting to be Scheduled"),
    ("WMATL", "Waiting on Material"),
    ("WPCOND", "Waiting on Plant Conditions"),
    ("INPRG", "In Progress"),
    ("COMP", "Completed"),
    ("CLOSE", "Closed"),
    ("CAN", "Canceled"),
];

/// Purchase order statuses of the POSTATUS synonym domain.
pub(crate) const PO_STATUSES: &[(&str, &str)] = &[
    ("WAPPR", "Waiting on Approval"),
    ("APPR", "Approved"),
    ("INPRG", "In Progress"),
    ("HOLD", "On Hold"),
    ("REVISE", "Revision in Progress"),
    ("CLOSE", "Closed"),
    ("CAN", "Canceled"),
];

/// Asset statuses of the LOCASSETSTATUS domain.
pub(crate) const ASSET_STATUSES: &[(&str, &str)] = &[
    ("NOT READY", "Not Ready"),
    ("OPERATING", "Operating"),
    ("BROKEN", "Broken"),
    ("LIMITEDUSE", "Limited Use"),
    ("DECOMMISSIONED", "Decommissioned"),
];

/// Item statuses of the ITEMSTATUS domain.
pub(crate) const ITEM_STATUSES: &[(&str, &str)] = &[
    ("ACTIVE", "Active"),
    ("PENDING", "Pending"),
    ("PLANNING", "Planning"),
    ("OBSOLETE", "Obsolete"),
];

impl Os {
    /// The lower-case object structure name used in URLs.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Os::WorkOrder => "mxapiwo",
            Os::Asset => "mxapiasset",
            Os::Po => "mxapipo",
            Os::Inventory => "mxapiinventory",
            Os::Item => "mxapiitem",
            Os::Location => "mxapilocations",
            Os::Vendor => "mxapivendor",
        }
    }

    /// The object structure named `name` (case-insensitive, as Maximo matches them).
    pub(crate) fn parse(name: &str) -> Option<Os> {
        let lower = name.to_ascii_lowercase();
        if lower == "mxvendor" {
            return Some(Os::Vendor);
        }
        ALL.into_iter().find(|os| os.name() == lower)
    }

    /// The main MBO name (`errorobjpath` in error bodies).
    pub(crate) const fn mbo(self) -> &'static str {
        match self {
            Os::WorkOrder => "workorder",
            Os::Asset => "asset",
            Os::Po => "po",
            Os::Inventory => "inventory",
            Os::Item => "item",
            Os::Location => "locations",
            Os::Vendor => "companies",
        }
    }

    /// Primary-key attributes in the order the rest id encodes them.
    pub(crate) const fn pk(self) -> &'static [&'static str] {
        match self {
            Os::WorkOrder => &["siteid", "wonum"],
            Os::Asset => &["assetnum", "siteid"],
            Os::Po => &["ponum", "revisionnum", "siteid"],
            Os::Inventory => &["itemnum", "itemsetid", "location", "siteid"],
            Os::Item => &["itemnum", "itemsetid"],
            Os::Location => &["location", "siteid"],
            Os::Vendor => &["company", "orgid"],
        }
    }

    /// The numeric unique id attribute (`workorderid`, ...).
    pub(crate) const fn id_attr(self) -> &'static str {
        match self {
            Os::WorkOrder => "workorderid",
            Os::Asset => "assetid",
            Os::Po => "poid",
            Os::Inventory => "inventoryid",
            Os::Item => "itemid",
            Os::Location => "locationsid",
            Os::Vendor => "companiesid",
        }
    }

    /// The key attribute Maximo numbers itself when a create leaves it out (autokey), if any.
    pub(crate) const fn autokey(self) -> Option<&'static str> {
        match self {
            Os::WorkOrder => Some("wonum"),
            Os::Asset => Some("assetnum"),
            Os::Po => Some("ponum"),
            Os::Item => Some("itemnum"),
            Os::Inventory | Os::Location | Os::Vendor => None,
        }
    }

    /// The status domain, for objects with a status.
    pub(crate) const fn statuses(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Os::WorkOrder => WO_STATUSES,
            Os::Po => PO_STATUSES,
            Os::Asset => ASSET_STATUSES,
            Os::Item => ITEM_STATUSES,
            Os::Inventory | Os::Location | Os::Vendor => &[],
        }
    }

    /// The description of status value `value` (`status_description`).
    pub(crate) fn status_description(self, value: &str) -> Option<&'static str> {
        self.statuses()
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, d)| *d)
    }

    /// Whether the object takes `wsmethod:changeStatus`.
    pub(crate) const fn has_change_status(self) -> bool {
        matches!(self, Os::WorkOrder | Os::Po)
    }

    /// The attributes of the main object (the key ones included).
    pub(crate) fn attrs(self) -> &'static [Attr] {
        use Ty::{Bool, Date, Dec, Int, Text};
        match self {
            Os::WorkOrder => {
                const {
                    &[
                        ro("workorderid", Int),
                        a("wonum", Text),
                        a("siteid", Text),
                        ro("orgid", Text),
                        a("description", Text),
                        a("description_longdescription", Text),
                        ro("status", Text),
                        ro("statusdate", Date),
                        a("worktype", Text),
                        a("wopriority", Int),
                        a("assetnum", Text),
                        a("location", Text),
                        a("persongroup", Text),
                        a("schedstart", Date),
                        a("schedfinish", Date),
                        a("targstartdate", Date),
                        a("targcompdate", Date),
                        ro("actstart", Date),
                        ro("actfinish", Date),
                        ro("reportdate", Date),
                        ro("reportedby", Text),
                        ro("changedate", Date),
                        ro("changeby", Text),
                        // Added by the customer in Database Configuration.
                        a("exsafetyclass", Text),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
            Os::Asset => {
                const {
                    &[
                        ro("assetid", Int),
                        a("assetnum", Text),
                        a("siteid", Text),
                        ro("orgid", Text),
                        a("description", Text),
                        a("description_longdescription", Text),
                        ro("status", Text),
                        a("location", Text),
                        a("parent", Text),
                        a("serialnum", Text),
                        a("manufacturer", Text),
                        a("vendor", Text),
                        a("installdate", Date),
                        ro("isrunning", Bool),
                        ro("changedate", Date),
                        ro("changeby", Text),
                        // Added by the customer in Database Configuration.
                        a("excriticality", Int),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
            Os::Po => {
                const {
                    &[
                        ro("poid", Int),
                        a("ponum", Text),
                        ro("revisionnum", Int),
                        a("siteid", Text),
                        ro("orgid", Text),
                        a("description", Text),
                        ro("status", Text),
                        ro("statusdate", Date),
                        a("vendor", Text),
                        a("orderdate", Date),
                        a("requireddate", Date),
                        a("currencycode", Text),
                        ro("totalcost", Dec),
                        a("potype", Text),
                        ro("changedate", Date),
                        ro("changeby", Text),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
            Os::Inventory => {
                const {
                    &[
                        ro("inventoryid", Int),
                        a("itemnum", Text),
                        a("itemsetid", Text),
                        a("location", Text),
                        a("siteid", Text),
                        ro("orgid", Text),
                        ro("curbaltotal", Dec),
                        ro("avgcost", Dec),
                        a("issueunit", Text),
                        a("binnum", Text),
                        a("minlevel", Dec),
                        a("orderqty", Dec),
                        ro("status", Text),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
            Os::Item => {
                const {
                    &[
                        ro("itemid", Int),
                        a("itemnum", Text),
                        a("itemsetid", Text),
                        a("description", Text),
                        a("description_longdescription", Text),
                        a("issueunit", Text),
                        a("orderunit", Text),
                        a("commoditygroup", Text),
                        ro("status", Text),
                        a("rotating", Bool),
                        ro("changedate", Date),
                        ro("changeby", Text),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
            Os::Location => {
                const {
                    &[
                        ro("locationsid", Int),
                        a("location", Text),
                        a("siteid", Text),
                        ro("orgid", Text),
                        a("description", Text),
                        a("type", Text),
                        ro("status", Text),
                        ro("changedate", Date),
                        ro("changeby", Text),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
            Os::Vendor => {
                const {
                    &[
                        ro("companiesid", Int),
                        a("company", Text),
                        a("orgid", Text),
                        a("name", Text),
                        a("type", Text),
                        a("address1", Text),
                        a("city", Text),
                        a("country", Text),
                        a("phone1", Text),
                        a("currencycode", Text),
                        a("disabled", Bool),
                        ro("changedate", Date),
                        ro("changeby", Text),
                        aln("externalrefid", EXTERNALREFID_LEN),
                    ]
                }
            }
        }
    }

    /// The attribute named `name`.
    pub(crate) fn attr(self, name: &str) -> Option<&'static Attr> {
        self.attrs().iter().find(|a| a.name == name)
    }

    /// Child object collections and their attributes (only purchase order lines here).
    pub(crate) fn child(self, name: &str) -> Option<&'static [Attr]> {
        use Ty::{Dec, Int, Text};
        const POLINE: &[Attr] = &[
            ro("polineid", Int),
            a("polinenum", Int),
            a("itemnum", Text),
            a("itemsetid", Text),
            a("description", Text),
            a("orderqty", Dec),
            a("orderunit", Text),
            a("unitcost", Dec),
            ro("linecost", Dec),
            ro("receivedqty", Dec),
        ];
        match (self, name) {
            (Os::Po, "poline") => Some(POLINE),
            _ => None,
        }
    }

    /// The names of the child collections.
    pub(crate) const fn children(self) -> &'static [&'static str] {
        match self {
            Os::Po => &["poline"],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_keys_are_attributes() {
        assert_eq!(Os::parse("MXAPIWO"), Some(Os::WorkOrder));
        assert_eq!(Os::parse("mxvendor"), Some(Os::Vendor));
        assert_eq!(Os::parse("mxwo"), None);
        for os in ALL {
            for key in os.pk() {
                assert!(os.attr(key).is_some(), "{} {key}", os.name());
            }
            assert!(os.attr(os.id_attr()).is_some());
        }
        assert_eq!(Os::WorkOrder.status_description("COMP"), Some("Completed"));
    }
}
