//! Operation tests: the adapter against a scripted SAP (an `Http` that records every request
//! and answers from a script of realistic responses).

use std::cell::RefCell;
use std::collections::VecDeque;

use plantwire_sdk::contract::{Filter, FilterOp, GetRequest, ListRequest};
use plantwire_sdk::{Adapter, AdapterError, Http, HttpError, Request, Response};
use serde_json::{Value, json};

use crate::{SapS4Hana, fixtures};

#[derive(Debug, Default)]
struct Canned {
    answers: RefCell<VecDeque<Response>>,
    requests: RefCell<Vec<Request>>,
}

impl Canned {
    fn then(self, status: u16, body: &Value, headers: &[(&str, &str)]) -> Canned {
        self.then_raw(status, body.to_string().as_bytes(), headers)
    }

    fn then_raw(self, status: u16, body: &[u8], headers: &[(&str, &str)]) -> Canned {
        let mut all = Vec::new();
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            all.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        all.extend(
            headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.answers.borrow_mut().push_back(Response {
            status,
            headers: all,
            body: body.to_vec(),
        });
        self
    }

    fn sent(&self) -> Vec<String> {
        self.requests
            .borrow()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    fn header(&self, i: usize, name: &str) -> Option<String> {
        self.requests.borrow()[i]
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn body(&self, i: usize) -> String {
        String::from_utf8(self.requests.borrow()[i].body.clone().unwrap_or_default()).unwrap()
    }
}

impl Http for Canned {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(req);
        self.answers.borrow_mut().pop_front().ok_or_else(|| {
            HttpError::Connection(format!(
                "unexpected request {:?}",
                self.requests.borrow().last()
            ))
        })
    }
}

fn d(v: Value) -> Value {
    json!({ "d": v })
}

const TOKEN: (&str, &str) = ("x-csrf-token", "tok-1");

fn get_req(entity: &str, key: &str, include_raw: bool) -> GetRequest {
    GetRequest {
        entity: entity.into(),
        key: key.into(),
        include_raw,
    }
}

#[test]
fn lists_follow_server_paging() {
    let next = "https://s4h.example.com/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$skiptoken=100";
    let http = Canned::default().then(
        200,
        &fixtures::collection(vec![fixtures::maintenance_order()], 2500, Some(next)),
        &[],
    );
    let page = SapS4Hana::list(
        &http,
        ListRequest {
            entity: "work-order".into(),
            cursor: None,
            page_size: 200,
            filters: vec![Filter::eq("teamKey", "MECHANIK")],
            sort: Some("-updatedAt".into()),
            fields: Vec::new(),
            include_raw: false,
        },
    )
    .unwrap();
    assert_eq!(page.total, Some(2500));
    assert_eq!(page.records.len(), 1);
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$skiptoken=100#w0.200.1"
        )
    );
    assert_eq!(
        http.sent(),
        [
            "GET /API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$filter=MainWorkCenter%20eq%20'MECHANIK'&$orderby=LastChangeDateTime%20desc,MaintenanceOrder"
        ]
    );
    assert_eq!(
        http.header(0, "accept").as_deref(),
        Some("application/json")
    );
}

#[test]
fn updates_fetch_token_and_etag_then_patch_with_if_match() {
    let order = fixtures::maintenance_order();
    let http = Canned::default()
        .then(200, &d(order.clone()), &[TOKEN])
        .then_raw(204, b"", &[])
        .then(200, &d(order), &[]);
    let out = SapS4Hana::update(
        &http,
        "work-order",
        "4000012",
        r#"{"title":"Replace seal"}"#.into(),
        None,
    )
    .unwrap();
    assert!(out.contains("\"key\":\"4000012\""));
    assert_eq!(
        http.sent()[1],
        "PATCH /API_MAINTENANCEORDER/MaintenanceOrder('4000012')"
    );
    assert_eq!(http.header(0, "x-csrf-token").as_deref(), Some("Fetch"));
    assert_eq!(http.header(1, "x-csrf-token").as_deref(), Some("tok-1"));
    assert_eq!(
        http.header(1, "if-match").as_deref(),
        Some("W/\"datetimeoffset'2024-03-01T08%3A00%3A00.0000002Z'\"")
    );
    assert_eq!(http.body(1), r#"{"MaintenanceOrderDesc":"Replace seal"}"#);
}

#[test]
fn a_lapsed_csrf_token_is_fetched_again_once() {
    let order = fixtures::maintenance_order();
    let required = [("x-csrf-token", "Required")];
    let http = Canned::default()
        .then(200, &d(order.clone()), &[TOKEN])
        .then_raw(403, b"CSRF token validation failed", &required)
        .then(
            200,
            &json!({"d": {"EntitySets": []}}),
            &[("x-csrf-token", "tok-2")],
        )
        .then_raw(204, b"", &[])
        .then(200, &d(order.clone()), &[]);
    SapS4Hana::update(
        &http,
        "work-order",
        "4000012",
        r#"{"title":"x"}"#.into(),
        Some("W/\"t\"".into()),
    )
    .unwrap();
    assert_eq!(http.header(3, "x-csrf-token").as_deref(), Some("tok-2"));
    assert_eq!(
        http.header(3, "if-match").as_deref(),
        Some("W/\"t\""),
        "the caller's token"
    );
    // Refused twice: forbidden, and no third attempt.
    let http = Canned::default()
        .then(200, &d(order), &[TOKEN])
        .then_raw(403, b"CSRF token validation failed", &required)
        .then(
            200,
            &json!({"d": {"EntitySets": []}}),
            &[("x-csrf-token", "tok-2")],
        )
        .then_raw(403, b"CSRF token validation failed", &required);
    let e = SapS4Hana::update(
        &http,
        "work-order",
        "4000012",
        r#"{"title":"x"}"#.into(),
        None,
    )
    .unwrap_err();
    assert_eq!(e.kind(), "forbidden");
    assert_eq!(http.sent().len(), 4);
}

#[test]
fn stale_tokens_and_released_purchase_orders_are_conflicts() {
    let http = Canned::default()
        .then(200, &d(fixtures::maintenance_order()), &[TOKEN])
        .then(
            412,
            &fixtures::error("/IWBEP/CM_MGW_RT/098", "ETag out of date"),
            &[],
        );
    let e = SapS4Hana::update(
        &http,
        "work-order",
        "4000012",
        r#"{"title":"x"}"#.into(),
        Some("W/\"old\"".into()),
    )
    .unwrap_err();
    assert_eq!(e.kind(), "conflict");
    let message = "Purchase order 4500000004 has been released; changes are not possible";
    let http = Canned::default()
        .then(200, &d(fixtures::purchase_order()), &[TOKEN])
        .then(400, &fixtures::error("06/079", message), &[]);
    let e = SapS4Hana::update(
        &http,
        "purchase-order",
        "4500000004",
        r#"{"currencyKey":"USD"}"#.into(),
        None,
    )
    .unwrap_err();
    assert_eq!(e, AdapterError::Conflict(format!("06/079: {message}")));
    let http = Canned::default()
        .then(200, &d(fixtures::purchase_order()), &[TOKEN])
        .then(400, &fixtures::error("06/079", message), &[]);
    assert_eq!(
        SapS4Hana::delete(&http, "purchase-order", "4500000004")
            .unwrap_err()
            .kind(),
        "conflict"
    );
}

#[test]
fn status_changes_pick_the_function_import() {
    let order = fixtures::maintenance_order();
    let mut teco = order.clone();
    teco["SystemStatusText"] = json!("TECO MANC NMAT");
    let http = Canned::default()
        .then(200, &d(order.clone()), &[TOKEN])
        .then(200, &json!({"d": {"IsInvalid": false}}), &[])
        .then(200, &d(teco.clone()), &[]);
    let out = SapS4Hana::action(
        &http,
        "work-order",
        "4000012",
        "change-status",
        r#"{"status":"completed"}"#.into(),
    )
    .unwrap();
    assert!(out.contains("\"status\":\"completed\""));
    assert_eq!(
        http.sent()[1],
        "POST /API_MAINTENANCEORDER/SetMaintOrdToTechCompleted?MaintenanceOrder='4000012'"
    );
    assert_eq!(http.sent().len(), 3, "the import, then one read");
    // SAP accepts the import but the status does not move: an error, not a silent loop.
    let http = Canned::default()
        .then(200, &d(order.clone()), &[TOKEN])
        .then(200, &json!({"d": {"IsInvalid": false}}), &[])
        .then(200, &d(order.clone()), &[]);
    let e = SapS4Hana::action(
        &http,
        "work-order",
        "4000012",
        "change-status",
        r#"{"status":"completed"}"#.into(),
    )
    .unwrap_err();
    match e {
        AdapterError::Conflict(m) => assert!(
            m.starts_with("after SAP ran SetMaintOrdToTechCompleted: ")
                && m.contains("status is not `completed`"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(http.sent().len(), 3, "the same import is not sent twice");
    // Several statuses to reset: one import after the other, each after a read.
    let mut both = fixtures::equipment();
    both["EquipmentIsMarkedForDeletion"] = json!(true);
    let mut inactive = both.clone();
    inactive["EquipmentIsMarkedForDeletion"] = json!(false);
    let mut active = inactive.clone();
    active["EquipmentIsInactive"] = json!(false);
    let http = Canned::default()
        .then(200, &d(both), &[TOKEN])
        .then(200, &json!({"d": {"IsInvalid": false}}), &[])
        .then(200, &d(inactive), &[])
        .then(200, &json!({"d": {"IsInvalid": false}}), &[])
        .then(200, &d(active), &[]);
    let out = SapS4Hana::action(
        &http,
        "asset",
        "10000041",
        "change-status",
        r#"{"status":"active"}"#.into(),
    )
    .unwrap();
    assert!(out.contains("\"status\":\"active\""), "{out}");
    let sent = http.sent();
    assert!(sent[1].starts_with("POST /API_EQUIPMENT/RsetEquipFromMarkedForDeletion?"));
    assert!(sent[3].starts_with("POST /API_EQUIPMENT/ResetEquipmentFromInactive?"));
    assert_eq!(sent.len(), 5);
    // Already there: no function import.
    let http = Canned::default().then(200, &d(order.clone()), &[TOKEN]);
    let out = SapS4Hana::action(
        &http,
        "work-order",
        "4000012",
        "change-status",
        r#"{"status":"in-progress"}"#.into(),
    )
    .unwrap();
    assert!(out.contains("\"status\":\"in-progress\""));
    // SAP refuses: a conflict carrying SAP's message.
    let http = Canned::default().then(200, &d(order), &[TOKEN]).then(
        400,
        &fixtures::error("BS/012", "System status TECO is not active (ORD 4000012)"),
        &[],
    );
    let e = SapS4Hana::action(
        &http,
        "work-order",
        "4000012",
        "change-status",
        r#"{"status":"closed"}"#.into(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        AdapterError::Conflict("BS/012: System status TECO is not active (ORD 4000012)".into())
    );
    let mut reactivated = fixtures::equipment();
    reactivated["EquipmentIsInactive"] = json!(false);
    let http = Canned::default()
        .then(200, &d(fixtures::equipment()), &[TOKEN])
        .then(200, &json!({"d": {"IsInvalid": false}}), &[])
        .then(200, &d(reactivated), &[]);
    SapS4Hana::action(
        &http,
        "asset",
        "10000041",
        "change-status",
        r#"{"status":"active"}"#.into(),
    )
    .unwrap();
    assert_eq!(
        http.sent()[1],
        "POST /API_EQUIPMENT/ResetEquipmentFromInactive?Equipment='10000041'&ValidityEndDate=datetime'9999-12-31T00:00:00'"
    );
    let none = Canned::default();
    assert_eq!(
        SapS4Hana::action(&none, "purchase-order", "1", "change-status", "{}".into())
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(
        SapS4Hana::action(
            &none,
            "work-order",
            "1",
            "change-status",
            r#"{"state":"x"}"#.into()
        )
        .unwrap_err()
        .kind(),
        "invalid"
    );
}

#[test]
fn creates_go_through_one_batch_with_a_change_set_per_record() {
    let po = one_po;
    let created = json!({"d": fixtures::purchase_order()}).to_string();
    let error = fixtures::error("/IWBEP/CM_MGW_RT/022", "Supplier 9 does not exist").to_string();
    let answer = format!(
        "--resp\r\nContent-Type: multipart/mixed; boundary=resp_cs0\r\n\r\n--resp_cs0\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{created}\r\n--resp_cs0--\r\n--resp\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{error}\r\n--resp--\r\n"
    );
    let http = Canned::default()
        .then(200, &json!({"d": {"EntitySets": []}}), &[TOKEN])
        .then_raw(
            202,
            answer.as_bytes(),
            &[("content-type", "multipart/mixed; boundary=resp")],
        );
    let results = SapS4Hana::create(
        &http,
        "purchase-order",
        vec![po("17300001"), po("9"), r#"{"vendorKey":"1"}"#.into()],
    )
    .unwrap();
    assert_eq!(results.len(), 3);
    assert!(
        results[0]
            .as_ref()
            .is_ok_and(|r| r.contains("\"key\":\"4500000004\""))
    );
    assert_eq!(results[1].as_ref().unwrap_err().kind(), "invalid");
    assert_eq!(
        results[2].as_ref().unwrap_err().kind(),
        "invalid",
        "refused before sending"
    );
    assert_eq!(
        http.sent(),
        [
            "GET /API_PURCHASEORDER_PROCESS_SRV/",
            "POST /API_PURCHASEORDER_PROCESS_SRV/$batch"
        ]
    );
    let body = http.body(1);
    assert_eq!(body.matches("POST A_PurchaseOrder HTTP/1.1").count(), 2);
    assert!(body.contains("\"NetPriceAmount\":\"10.5\""), "{body}");
    assert!(
        http.header(1, "content-type")
            .is_some_and(|c| c.starts_with("multipart/mixed; boundary="))
    );
}

#[test]
fn reads_map_errors_and_refuse_bad_keys_without_a_request() {
    let http = Canned::default().then(
        404,
        &fixtures::error(
            "/IWBEP/CM_MGW_RT/020",
            "Resource not found for segment 'MaintenanceOrder'",
        ),
        &[],
    );
    assert_eq!(
        SapS4Hana::get(&http, get_req("work-order", "4000099", false))
            .unwrap_err()
            .kind(),
        "not-found"
    );
    let none = Canned::default();
    assert_eq!(
        SapS4Hana::get(&none, get_req("work-order", "1234567890123", false))
            .unwrap_err()
            .kind(),
        "not-found"
    );
    assert_eq!(
        SapS4Hana::get(&none, get_req("inventory", "TG11", false))
            .unwrap_err()
            .kind(),
        "not-found"
    );
    assert_eq!(
        SapS4Hana::get(&none, get_req("material", "1", false))
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert!(none.sent().is_empty());
    let http = Canned::default().then(200, &d(fixtures::stock_row()), &[]);
    let stock = SapS4Hana::get(
        &http,
        get_req("inventory", "TG11|1010|101A||||0||0||01", false),
    )
    .unwrap();
    assert!(stock.contains("\"quantity\":125.5"));
    assert!(http.sent()[0].starts_with("GET /API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod(Material='TG11',Plant='1010',StorageLocation='101A',Batch=''"));
}

#[test]
fn lists_push_every_filter_and_the_selection_down() {
    let http = Canned::default().then(
        200,
        &fixtures::collection(vec![fixtures::maintenance_order()], 1, None),
        &[],
    );
    let page = SapS4Hana::list(
        &http,
        ListRequest {
            entity: "work-order".into(),
            cursor: None,
            page_size: 10,
            filters: vec![
                Filter {
                    field: "updatedAt".into(),
                    op: FilterOp::Ge,
                    values: vec!["2024-03-01T00:00:00Z".into()],
                },
                Filter {
                    field: "teamKey".into(),
                    op: FilterOp::In,
                    values: vec!["MECHANIK".into(), "ELEKTRIK".into()],
                },
                Filter {
                    field: "title".into(),
                    op: FilterOp::Contains,
                    values: vec!["seal".into()],
                },
            ],
            sort: None,
            fields: vec!["title".into(), "updatedAt".into()],
            include_raw: false,
        },
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        [
            "GET /API_MAINTENANCEORDER/MaintenanceOrder?$top=10&$skip=0&$inlinecount=allpages&$filter=LastChangeDateTime%20ge%20datetimeoffset'2024-03-01T00:00:00Z'%20and%20(MainWorkCenter%20eq%20'MECHANIK'%20or%20MainWorkCenter%20eq%20'ELEKTRIK')%20and%20substringof('seal',MaintenanceOrderDesc)%20eq%20true&$orderby=MaintenanceOrder&$select=MaintenanceOrder,MaintenanceOrderDesc,LastChangeDateTime"
        ]
    );
    let record: Value = serde_json::from_str(&page.records[0]).unwrap();
    assert!(record.get("raw").is_none());
    // A filter the adapter cannot push down is refused before any request.
    let none = Canned::default();
    let err = SapS4Hana::list(
        &none,
        ListRequest {
            entity: "work-order".into(),
            page_size: 10,
            filters: vec![Filter::eq("status", "open")],
            ..ListRequest::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert!(none.sent().is_empty());
}

#[test]
fn raw_payloads_and_extension_fields() {
    let mut order = fixtures::maintenance_order();
    order["YY1_SafetyPermit_ORD"] = json!("SP-0042");
    order["ZZ1_ShutdownRequired_ORD"] = json!(true);
    order["YY1_PermitValidTo_ORD"] = json!("/Date(1709251200000)/");
    order["YY1_Empty_ORD"] = json!("");
    let http =
        Canned::default()
            .then(200, &d(order.clone()), &[])
            .then(200, &d(order.clone()), &[]);
    let with: Value = serde_json::from_str(
        &SapS4Hana::get(&http, get_req("work-order", "4000012", true)).unwrap(),
    )
    .unwrap();
    assert_eq!(with["raw"], order);
    assert_eq!(with["customFields"]["YY1_SafetyPermit_ORD"], "SP-0042");
    assert_eq!(with["customFields"]["ZZ1_ShutdownRequired_ORD"], true);
    assert_eq!(
        with["customFields"]["YY1_PermitValidTo_ORD"],
        "2024-03-01T00:00:00Z"
    );
    assert!(with["customFields"].get("YY1_Empty_ORD").is_none());
    assert_eq!(with["customFields"]["MaintenanceOrderType"], "PM01");
    let without: Value = serde_json::from_str(
        &SapS4Hana::get(&http, get_req("work-order", "4000012", false)).unwrap(),
    )
    .unwrap();
    assert!(without.get("raw").is_none());
    // A list with raw records reads SAP's whole entities, whatever the selection.
    let http = Canned::default().then(
        200,
        &fixtures::collection(vec![fixtures::purchase_order()], 1, None),
        &[],
    );
    let page = SapS4Hana::list(
        &http,
        ListRequest {
            entity: "purchase-order".into(),
            page_size: 5,
            fields: vec!["orderDate".into()],
            include_raw: true,
            ..ListRequest::default()
        },
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        [
            "GET /API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder?$top=5&$skip=0&$inlinecount=allpages&$orderby=PurchaseOrder&$expand=to_PurchaseOrderItem"
        ]
    );
    let record: Value = serde_json::from_str(&page.records[0]).unwrap();
    assert_eq!(record["raw"]["PurchaseOrder"], record["key"]);
    assert!(record["raw"]["to_PurchaseOrderItem"]["results"].is_array());
    // Extension fields are read, not written.
    let none = Canned::default();
    let err = SapS4Hana::update(
        &none,
        "work-order",
        "4000012",
        r#"{"customFields":{"YY1_SafetyPermit_ORD":"SP-1"}}"#.into(),
        None,
    )
    .unwrap_err();
    match err {
        AdapterError::Invalid(errors) => {
            assert_eq!(errors[0].field, "customFields.YY1_SafetyPermit_ORD");
            assert!(errors[0].message.contains("extension field"));
        }
        other => panic!("{other:?}"),
    }
    assert!(none.sent().is_empty());
}

#[test]
fn writes_go_without_a_csrf_token_when_the_server_issues_none() {
    let order = fixtures::maintenance_order();
    // The read that fetches a token answers none (CSRF protection off): the PATCH is sent
    // without the header, not refused.
    let http = Canned::default()
        .then(200, &d(order.clone()), &[])
        .then_raw(204, b"", &[])
        .then(200, &d(order.clone()), &[]);
    SapS4Hana::update(
        &http,
        "work-order",
        "4000012",
        r#"{"title":"x"}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        [
            "GET /API_MAINTENANCEORDER/MaintenanceOrder('4000012')",
            "PATCH /API_MAINTENANCEORDER/MaintenanceOrder('4000012')",
            "GET /API_MAINTENANCEORDER/MaintenanceOrder('4000012')",
        ]
    );
    assert_eq!(http.header(1, "x-csrf-token"), None);
    // A server that sends none on the fetch but then wants one: fetched once more, sent with it.
    let http = Canned::default()
        .then(200, &json!({"d": {"EntitySets": []}}), &[])
        .then_raw(
            403,
            b"CSRF token validation failed",
            &[("x-csrf-token", "Required")],
        )
        .then(200, &json!({"d": {"EntitySets": []}}), &[TOKEN])
        .then(201, &d(fixtures::purchase_order()), &[]);
    let results = SapS4Hana::create(&http, "purchase-order", vec![one_po("17300001")]).unwrap();
    assert_eq!(http.header(1, "x-csrf-token"), None);
    assert_eq!(http.header(3, "x-csrf-token").as_deref(), Some(TOKEN.1));
    assert!(results[0].is_ok(), "{results:?}");
    // Asked for a token and still given none: forbidden, without a third attempt.
    let http = Canned::default()
        .then(200, &json!({"d": {"EntitySets": []}}), &[])
        .then_raw(
            403,
            b"CSRF token validation failed",
            &[("x-csrf-token", "Required")],
        )
        .then(200, &json!({"d": {"EntitySets": []}}), &[]);
    let e = SapS4Hana::create(&http, "purchase-order", vec![one_po("17300001")]).unwrap_err();
    assert_eq!(e.kind(), "forbidden");
    assert_eq!(http.sent().len(), 3);
}

/// A `$batch` answer of `parts` (each `(status, content-id)`), as SAP writes it.
fn batch_answer(parts: &[(u16, Option<&str>)]) -> String {
    let created = json!({"d": fixtures::purchase_order()}).to_string();
    let error = fixtures::error("/IWBEP/CM_MGW_RT/022", "Supplier 9 does not exist").to_string();
    let mut out = String::new();
    for (i, (status, id)) in parts.iter().enumerate() {
        let id = id
            .map(|v| format!("Content-ID: {v}\r\n"))
            .unwrap_or_default();
        if *status == 201 {
            out.push_str(&format!("--resp\r\nContent-Type: multipart/mixed; boundary=cs{i}\r\n\r\n--cs{i}\r\nContent-Type: application/http\r\n{id}\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{created}\r\n--cs{i}--\r\n"));
        } else {
            out.push_str(&format!("--resp\r\nContent-Type: application/http\r\n{id}\r\nHTTP/1.1 {status} Bad Request\r\nContent-Type: application/json\r\n\r\n{error}\r\n"));
        }
    }
    out.push_str("--resp--\r\n");
    out
}

/// A purchase order to create, from `supplier`.
fn one_po(supplier: &str) -> String {
    json!({"vendorKey": supplier, "customFields": {"CompanyCode": "1010", "PurchaseOrderType": "NB", "PurchasingOrganization": "1010", "PurchasingGroup": "001", "Plant": "1010"},
           "lineItems": [{"materialKey": "TG11", "quantity": 2, "price": 10.5}]})
    .to_string()
}

fn create_three(answer: &str) -> Vec<Result<String, AdapterError>> {
    let po = one_po;
    let http = Canned::default()
        .then(200, &json!({"d": {"EntitySets": []}}), &[TOKEN])
        .then_raw(
            202,
            answer.as_bytes(),
            &[("content-type", "multipart/mixed; boundary=resp")],
        );
    let results = SapS4Hana::create(
        &http,
        "purchase-order",
        vec![po("17300001"), po("9"), po("17300002")],
    )
    .unwrap();
    let body = http.body(1);
    for i in 0..3 {
        assert!(body.contains(&format!("Content-ID: {i}\r\n")), "{body}");
    }
    results
}

fn outcome(r: &Result<String, AdapterError>) -> &'static str {
    match r {
        Ok(_) => "created",
        Err(e) if e.is_outcome_unknown() => "unknown",
        Err(_) => "failed",
    }
}

#[test]
fn batch_answers_that_cannot_be_matched_leave_records_unknown() {
    let outcomes =
        |answer: &str| -> Vec<&'static str> { create_three(answer).iter().map(outcome).collect() };
    // One part per change set: matched by position.
    assert_eq!(
        outcomes(&batch_answer(&[(201, None), (400, None), (201, None)])),
        ["created", "failed", "created"]
    );
    // A server that stops at the first failing change set: two parts for three change sets
    // and no Content-IDs, so no part can be matched for sure — every record is unknown.
    assert_eq!(
        outcomes(&batch_answer(&[(201, None), (400, None)])),
        ["unknown", "unknown", "unknown"]
    );
    // The same with Content-IDs echoed: the parts keep their outcome, the rest is unknown.
    assert_eq!(
        outcomes(&batch_answer(&[(201, Some("0")), (400, Some("1"))])),
        ["created", "failed", "unknown"]
    );
    // Content-IDs in another order, and one the request never had.
    assert_eq!(
        outcomes(&batch_answer(&[
            (201, Some("2")),
            (400, Some("7")),
            (201, Some("0"))
        ])),
        ["created", "unknown", "created"]
    );
    // Not multipart at all.
    let results = create_three("<html>gateway timeout</html>");
    assert!(
        results.iter().all(|r| outcome(r) == "unknown"),
        "{results:?}"
    );
    match &results[0] {
        Err(AdapterError::Upstream(u)) => {
            assert!(u.message.contains("is unknown"), "{}", u.message)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_status_change_does_not_guess_an_unreported_status() {
    let mut bare = fixtures::maintenance_order();
    bare.as_object_mut().unwrap().remove("SystemStatusText");
    let change = |http: &Canned| {
        SapS4Hana::action(
            http,
            "work-order",
            "4000012",
            "change-status",
            r#"{"status":"in-progress"}"#.into(),
        )
    };
    // Reported in neither read: refused, nothing sent but the two reads.
    let http = Canned::default()
        .then(200, &d(bare.clone()), &[TOKEN])
        .then(200, &d(bare.clone()), &[]);
    match change(&http).unwrap_err() {
        AdapterError::Upstream(u) => {
            assert!(u.message.contains("SystemStatusText"), "{}", u.message)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(http.sent().len(), 2);
    assert!(http.sent().iter().all(|s| s.starts_with("GET ")));
    // Reported on the second read (REL): nothing to do, no import is sent.
    let mut released = fixtures::maintenance_order();
    released["SystemStatusText"] = json!("REL  MANC NMAT");
    let http = Canned::default()
        .then(200, &d(bare.clone()), &[TOKEN])
        .then(200, &d(released), &[]);
    let out = change(&http).unwrap();
    assert!(out.contains("\"status\":\"in-progress\""), "{out}");
    assert_eq!(http.sent().len(), 2);
    // A read of an order without the status leaves `status` out, never `open`.
    let http = Canned::default().then(200, &d(bare), &[]);
    let record = SapS4Hana::get(&http, get_req("work-order", "4000012", false)).unwrap();
    let record: Value = serde_json::from_str(&record).unwrap();
    assert!(record.get("status").is_none(), "{record}");
}
