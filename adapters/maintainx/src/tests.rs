//! Operation tests: the adapter against a canned MaintainX (an `Http` that records every
//! request and answers from a script of realistic responses).

use std::cell::RefCell;
use std::collections::VecDeque;

use plantwire_sdk::contract::{FilterOp, GetRequest, ListRequest};
use plantwire_sdk::{Adapter, AdapterError, Filter, Http, HttpError, Request, Response};
use serde_json::{Value, json};

use crate::{MaintainX, fixtures};

/// A scripted MaintainX: answers in order, records the requests.
#[derive(Debug, Default)]
struct Canned {
    answers: RefCell<VecDeque<Result<Response, HttpError>>>,
    requests: RefCell<Vec<Request>>,
}

impl Canned {
    fn new() -> Canned {
        Canned::default()
    }

    fn then(self, status: u16, body: &Value) -> Canned {
        self.then_raw(status, body.to_string().as_bytes(), &[])
    }

    fn then_raw(self, status: u16, body: &[u8], headers: &[(&str, &str)]) -> Canned {
        let mut all = vec![("content-type".to_owned(), "application/json".to_owned())];
        all.extend(
            headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.answers.borrow_mut().push_back(Ok(Response {
            status,
            headers: all,
            body: body.to_vec(),
        }));
        self
    }

    fn then_fail(self, e: HttpError) -> Canned {
        self.answers.borrow_mut().push_back(Err(e));
        self
    }

    /// `(method, path)` of every request sent.
    fn sent(&self) -> Vec<(String, String)> {
        self.requests
            .borrow()
            .iter()
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect()
    }

    /// The JSON body of request `i`.
    fn body(&self, i: usize) -> Value {
        let requests = self.requests.borrow();
        let body = requests[i].body.as_deref().unwrap_or_default();
        serde_json::from_slice(body).unwrap()
    }
}

impl Http for Canned {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(req);
        self.answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {:?}", self.requests.borrow().last()))
    }
}

fn get(path: &str) -> (String, String) {
    ("GET".to_owned(), path.to_owned())
}

fn method(m: &str, path: &str) -> (String, String) {
    (m.to_owned(), path.to_owned())
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn get_req(entity: &str, key: &str) -> GetRequest {
    GetRequest {
        entity: entity.to_owned(),
        key: key.to_owned(),
        include_raw: false,
    }
}

fn list_req(entity: &str) -> ListRequest {
    ListRequest {
        entity: entity.to_owned(),
        page_size: 100,
        ..ListRequest::default()
    }
}

#[test]
fn list_maps_a_page_and_passes_the_cursor_both_ways() {
    let http = Canned::new().then_raw(200, &fixtures::sample_work_orders_page(2), &[]);
    let mut req = list_req("work-order");
    req.cursor = Some("abc".to_owned());
    req.filters = vec![Filter::eq("status", "open")];
    let page = MaintainX::list(&http, req).unwrap();
    assert_eq!(
        http.sent(),
        vec![get(
            "/workorders?limit=100&cursor=abc&show_upcoming=true&expand=asset&expand=assignees\
             &expand=extra_fields&statuses=OPEN"
        )]
    );
    assert_eq!(page.records.len(), 2);
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(fixtures::SAMPLE_NEXT_CURSOR)
    );
    assert_eq!(page.total, None);
    let first = parse(&page.records[0]);
    assert_eq!(first["key"], "1000001");
    assert_eq!(first["assetKey"], "100001");
    assert_eq!(first["assigneeKeys"], json!(["20001"]));
    assert_eq!(first["teamKey"], "501");
    assert_eq!(first["status"], "in-progress");
    assert_eq!(first["nativeStatus"], "IN_PROGRESS");
    assert_eq!(first["severity"], "low");
}

#[test]
fn list_filters_are_checked_before_any_request() {
    let http = Canned::new();
    let mut req = list_req("purchase-order");
    req.filters = vec![Filter::eq("vendorKey", "432")];
    assert_eq!(MaintainX::list(&http, req).unwrap_err().kind(), "invalid");
    let mut req = list_req("location");
    req.sort = Some("name".into());
    assert_eq!(MaintainX::list(&http, req).unwrap_err().kind(), "invalid");
    assert!(http.sent().is_empty());
}

#[test]
fn get_reads_one_record_and_unknown_keys_are_not_found_without_a_request() {
    let http = Canned::new().then(200, &json!({"workOrder": fixtures::work_order(159)}));
    let wo = parse(&MaintainX::get(&http, get_req("work-order", "159")).unwrap());
    assert_eq!(
        http.sent(),
        vec![get("/workorders/159?expand=extra_fields")]
    );
    assert_eq!(wo["title"], "Replace hydraulic hose on forklift #3");
    assert_eq!(wo["customFields"], json!({"Estimated Budget": "$250"}));

    let http = Canned::new();
    for key in ["abc", "0", "-1", "../assets", ""] {
        let err = MaintainX::get(&http, get_req("asset", key)).unwrap_err();
        assert_eq!(err.kind(), "not-found", "{key}");
    }
    assert!(http.sent().is_empty());

    let http = Canned::new().then(404, &json!({"error": "Not Found."}));
    assert_eq!(
        MaintainX::get(&http, get_req("vendor", "5")).unwrap_err(),
        AdapterError::NotFound("Not Found.".into())
    );
}

#[test]
fn include_raw_carries_the_native_record_on_get_and_list() {
    let native = fixtures::work_order(159);
    let http = Canned::new().then(200, &json!({ "workOrder": native }));
    let mut req = get_req("work-order", "159");
    req.include_raw = true;
    let wo = parse(&MaintainX::get(&http, req).unwrap());
    assert_eq!(wo["raw"], native);
    assert_eq!(wo["key"], "159");

    let body = fixtures::sample_work_orders_page(2);
    let sent: Value = serde_json::from_slice(&body).unwrap();
    let http = Canned::new().then_raw(200, &body, &[]);
    let mut req = list_req("work-order");
    req.include_raw = true;
    let page = MaintainX::list(&http, req).unwrap();
    for (i, record) in page.records.iter().enumerate() {
        assert_eq!(parse(record)["raw"], sent["workOrders"][i]);
    }
    // Without it, no `raw`.
    let http = Canned::new().then(200, &json!({ "asset": fixtures::asset(963) }));
    let asset = parse(&MaintainX::get(&http, get_req("asset", "963")).unwrap());
    assert!(asset.get("raw").is_none());
}

#[test]
fn list_sends_typed_filters_and_only_the_expands_the_selection_needs() {
    let http = Canned::new().then_raw(200, &fixtures::sample_work_orders_page(1), &[]);
    let mut req = list_req("work-order");
    req.fields = vec!["title".into(), "updatedAt".into()];
    req.filters = vec![
        Filter {
            field: "updatedAt".into(),
            op: FilterOp::Gt,
            values: vec!["2024-06-01T08:00:00+02:00".into()],
        },
        Filter {
            field: "status".into(),
            op: FilterOp::In,
            values: vec!["open".into(), "on-hold".into()],
        },
    ];
    MaintainX::list(&http, req).unwrap();
    assert_eq!(
        http.sent(),
        vec![get("/workorders?limit=100&show_upcoming=true\
             &updatedAt%5Bgte%5D=2024-06-01T06%3A00%3A00.001Z&statuses=OPEN&statuses=ON_HOLD")]
    );
}

#[test]
fn contradicting_filters_answer_an_empty_page_without_a_request() {
    let http = Canned::new();
    let mut req = list_req("work-order");
    req.cursor = Some("abc".into());
    req.filters = vec![
        Filter::eq("status", "open"),
        Filter::eq("status", "completed"),
    ];
    let page = MaintainX::list(&http, req).unwrap();
    assert!(page.records.is_empty() && page.next_cursor.is_none());
    assert!(http.sent().is_empty());
}

#[test]
fn get_maps_every_served_entity() {
    let cases = [
        (
            "asset",
            "asset",
            fixtures::asset(963),
            "/assets/963",
            "name",
            "Forklift",
        ),
        (
            "material",
            "part",
            fixtures::part(12),
            "/parts/12",
            "partNumber",
            "XC230",
        ),
        (
            "purchase-order",
            "purchaseOrder",
            fixtures::purchase_order(135),
            "/purchaseorders/135",
            "orderNo",
            "A123",
        ),
        (
            "location",
            "location",
            fixtures::location(611),
            "/locations/611",
            "name",
            "Warehouse B",
        ),
        (
            "vendor",
            "vendor",
            fixtures::vendor(432),
            "/vendors/432",
            "email",
            "orders@acme.example",
        ),
        (
            "user",
            "user",
            fixtures::user(7),
            "/users/7",
            "name",
            "Jane Doe",
        ),
    ];
    for (entity, wrapper, native, path, field, value) in cases {
        let key = path.rsplit('/').next().unwrap();
        let http = Canned::new().then(200, &json!({ wrapper: native }));
        let record = parse(&MaintainX::get(&http, get_req(entity, key)).unwrap());
        assert_eq!(http.sent(), vec![get(path)], "{entity}");
        assert_eq!(record["key"], key, "{entity}");
        assert_eq!(record[field], value, "{entity}");
    }
}

#[test]
fn create_work_order_posts_then_reads_back() {
    let http = Canned::new()
        .then(200, &json!({"id": 159}))
        .then(200, &json!({"workOrder": fixtures::work_order(159)}));
    let results = MaintainX::create(
        &http,
        "work-order",
        vec![r#"{"title":"Replace hydraulic hose on forklift #3","severity":"high","assetKey":"963"}"#.into()],
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        vec![
            method("POST", "/workorders"),
            get("/workorders/159?expand=extra_fields")
        ]
    );
    assert_eq!(
        http.body(0),
        json!({"title": "Replace hydraulic hose on forklift #3", "priority": "HIGH", "assetId": 963})
    );
    let requests = http.requests.borrow();
    assert!(
        requests[0]
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/json")
    );
    assert!(
        requests
            .iter()
            .flat_map(|r| &r.headers)
            .all(|(k, _)| !k.eq_ignore_ascii_case("authorization")),
        "the adapter never sets credentials"
    );
    drop(requests);
    assert_eq!(results.len(), 1);
    let wo = parse(results[0].as_ref().unwrap());
    assert_eq!(wo["key"], "159");
    assert_eq!(wo["status"], "in-progress");
}

#[test]
fn create_batch_reports_per_record_results_in_order() {
    let http = Canned::new()
        .then(201, &json!({"id": 1001}))
        .then(200, &json!({"asset": fixtures::asset(1001)}))
        .then(
            400,
            &json!({"errors": [{"error": "parentId is not valid", "fieldPath": "parentId", "fieldValue": 4}]}),
        )
        .then(201, &json!({"id": 1003}))
        .then(200, &json!({"asset": fixtures::asset(1003)}));
    let results = MaintainX::create(
        &http,
        "asset",
        vec![
            r#"{"name":"Pump 1"}"#.into(),
            r#"{"name":"Pump 2","parentKey":"4"}"#.into(),
            r#"{"name":"Pump 3","siteKey":"1"}"#.into(),
            r#"{"name":"Pump 4"}"#.into(),
        ],
    )
    .unwrap();
    // The locally invalid record (siteKey) is never sent.
    assert_eq!(
        http.sent(),
        vec![
            method("POST", "/assets"),
            get("/assets/1001"),
            method("POST", "/assets"),
            method("POST", "/assets"),
            get("/assets/1003"),
        ]
    );
    assert_eq!(results.len(), 4);
    assert_eq!(parse(results[0].as_ref().unwrap())["key"], "1001");
    match &results[1] {
        Err(AdapterError::Invalid(errors)) => {
            assert_eq!(errors[0].field, "parentKey");
            assert_eq!(errors[0].message, "parentId is not valid (got `4`)");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    match &results[2] {
        Err(AdapterError::Invalid(errors)) => assert_eq!(errors[0].field, "siteKey"),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert_eq!(parse(results[3].as_ref().unwrap())["key"], "1003");
}

#[test]
fn create_purchase_order_uses_the_201_body() {
    let http = Canned::new().then(201, &fixtures::purchase_order(135));
    let results = MaintainX::create(
        &http,
        "purchase-order",
        vec![r#"{"vendorKey":"432","orderNo":"A123","lineItems":[{"materialKey":"43","quantity":4,"price":1250}]}"#.into()],
    )
    .unwrap();
    assert_eq!(http.sent(), vec![method("POST", "/purchaseorders")]);
    assert_eq!(
        http.body(0),
        json!({"overrideNumber": "A123", "vendorId": 432,
               "items": [{"partId": 43, "quantityOrdered": 4, "unitCost": 125000}]})
    );
    let po = parse(results[0].as_ref().unwrap());
    assert_eq!(po["key"], "135");
    assert_eq!(po["lineItems"][0]["price"], 1250.0);
}

#[test]
fn create_stops_after_a_rate_limit() {
    let http = Canned::new().then_raw(
        429,
        br#"{"error":"Too many requests. Please retry in 10 seconds"}"#,
        &[("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Reset", "7")],
    );
    let results = MaintainX::create(
        &http,
        "vendor",
        vec![r#"{"name":"A"}"#.into(), r#"{"name":"B"}"#.into()],
    )
    .unwrap();
    assert_eq!(http.sent(), vec![method("POST", "/vendors")]);
    assert_eq!(results[0], Err(AdapterError::RateLimited(Some(7_000))));
    assert_eq!(results[1], Err(AdapterError::RateLimited(Some(7_000))));

    let http = Canned::new().then_fail(HttpError::Timeout);
    let results = MaintainX::create(
        &http,
        "vendor",
        vec![r#"{"name":"A"}"#.into(), r#"{"name":"B"}"#.into()],
    )
    .unwrap();
    assert_eq!(http.sent().len(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.kind() == "transient"))
    );
}

#[test]
fn create_refuses_oversized_batches_and_survives_a_failed_read_back() {
    let http = Canned::new();
    let many = vec![r#"{"name":"A"}"#.to_owned(); 51];
    assert_eq!(
        MaintainX::create(&http, "vendor", many).unwrap_err().kind(),
        "invalid"
    );

    let http = Canned::new()
        .then(200, &json!({"id": 77}))
        .then_fail(HttpError::Connection("reset".into()));
    let results = MaintainX::create(&http, "location", vec![r#"{"name":"Bay 3"}"#.into()]).unwrap();
    // Created: reporting an error would make the caller create it a second time.
    assert_eq!(results[0].as_deref(), Ok(r#"{"key":"77"}"#));
}

#[test]
fn update_refuses_status_and_maps_the_patch() {
    let http = Canned::new();
    let err = MaintainX::update(
        &http,
        "work-order",
        "159",
        r#"{"status":"completed"}"#.into(),
        None,
    )
    .unwrap_err();
    match err {
        AdapterError::Invalid(errors) => {
            assert_eq!(errors[0].field, "status");
            assert!(errors[0].message.contains("change-status"));
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    let err = MaintainX::update(&http, "work-order", "159", "{}".into(), Some("etag".into()))
        .unwrap_err();
    assert_eq!(err.kind(), "unsupported");
    assert!(http.sent().is_empty());

    let mut updated = fixtures::work_order(159);
    updated["priority"] = json!("LOW");
    let http = Canned::new().then(200, &json!({"workOrder": updated}));
    let wo = MaintainX::update(
        &http,
        "work-order",
        "159",
        r#"{"severity":"low","dueAt":null}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        vec![method("PATCH", "/workorders/159?expand=extra_fields")]
    );
    assert_eq!(http.body(0), json!({"priority": "LOW", "dueDate": null}));
    assert_eq!(parse(&wo)["severity"], "low");
}

#[test]
fn update_of_one_assignee_half_reads_the_other_first() {
    let http = Canned::new()
        .then(200, &json!({"workOrder": fixtures::work_order(159)}))
        .then(200, &json!({"workOrder": fixtures::work_order(159)}));
    MaintainX::update(
        &http,
        "work-order",
        "159",
        r#"{"teamKey":"5"}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        vec![
            get("/workorders/159?expand=extra_fields"),
            method("PATCH", "/workorders/159?expand=extra_fields")
        ]
    );
    assert_eq!(
        http.body(1)["assignees"],
        json!([{"type": "USER", "id": 23494}, {"type": "USER", "id": 79808}, {"type": "TEAM", "id": 5}])
    );
}

#[test]
fn an_assignee_update_carries_the_current_team_over_as_maintainx_sent_it() {
    // MaintainX's current record holds a team id the adapter would never accept as input
    // (0), and an expanded assignee whose id is a string (the spec allows integers or
    // strings): a patch that sets only assigneeKeys keeps them unchanged, without checking
    // them as if the caller had sent them.
    let mut current = fixtures::work_order(159);
    current["teamIds"] = json!([0]);
    let http = Canned::new()
        .then(200, &json!({"workOrder": current}))
        .then(200, &json!({"workOrder": fixtures::work_order(159)}));
    MaintainX::update(
        &http,
        "work-order",
        "159",
        r#"{"assigneeKeys":["7"]}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(
        http.body(1)["assignees"],
        json!([{"type": "USER", "id": 7}, {"type": "TEAM", "id": 0}])
    );
    let mut current = fixtures::work_order(159);
    current["assignees"] = json!([
        {"type": "USER", "id": "lead@plant.example"},
        {"type": "TEAM", "id": "112"}
    ]);
    let http = Canned::new()
        .then(200, &json!({"workOrder": current}))
        .then(200, &json!({"workOrder": fixtures::work_order(159)}));
    MaintainX::update(
        &http,
        "work-order",
        "159",
        r#"{"teamKey":"5"}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(
        http.body(1)["assignees"],
        json!([{"type": "USER", "id": "lead@plant.example"}, {"type": "TEAM", "id": 5}])
    );
    // The caller's own input is checked, and the error names the field the caller sent.
    let http = Canned::new().then(200, &json!({"workOrder": fixtures::work_order(159)}));
    let err = MaintainX::update(
        &http,
        "work-order",
        "159",
        r#"{"assigneeKeys":["7","x"]}"#.into(),
        None,
    )
    .unwrap_err();
    match err {
        AdapterError::Invalid(errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, "assigneeKeys[1]");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn update_errors_come_back_typed() {
    let http = Canned::new().then(
        403,
        &json!({"errors": [{"error": "User doesn't have the right permissions"}]}),
    );
    let err = MaintainX::update(
        &http,
        "purchase-order",
        "135",
        r#"{"title":"x"}"#.into(),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        AdapterError::Forbidden("User doesn't have the right permissions".into())
    );

    let http = Canned::new().then(404, &json!({"error": "part Not Found"}));
    let err =
        MaintainX::update(&http, "material", "9", r#"{"name":"x"}"#.into(), None).unwrap_err();
    assert_eq!(err, AdapterError::NotFound("part Not Found".into()));

    let http = Canned::new().then_raw(401, b"", &[]);
    let err = MaintainX::update(&http, "user", "9", r#"{"phone":"1"}"#.into(), None).unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
}

#[test]
fn delete_sends_delete() {
    let http = Canned::new().then_raw(204, b"", &[]);
    MaintainX::delete(&http, "user", "23494").unwrap();
    assert_eq!(http.sent(), vec![method("DELETE", "/users/23494")]);
    let http = Canned::new().then(404, &json!({"error": "workOrder Not Found"}));
    assert_eq!(
        MaintainX::delete(&http, "work-order", "1")
            .unwrap_err()
            .kind(),
        "not-found"
    );
    let http = Canned::new().then(500, &json!({"error": "Internal server error."}));
    assert_eq!(
        MaintainX::delete(&http, "work-order", "1")
            .unwrap_err()
            .kind(),
        "upstream"
    );
}

#[test]
fn change_status_actions() {
    let mut done = fixtures::work_order(159);
    done["status"] = json!("DONE");
    done["completedAt"] = json!("2024-03-05T16:00:00.000Z");
    let http = Canned::new().then(200, &json!({"workOrder": done}));
    let wo = MaintainX::action(
        &http,
        "work-order",
        "159",
        "change-status",
        r#"{"status":"completed"}"#.into(),
    )
    .unwrap();
    assert_eq!(http.sent(), vec![method("PATCH", "/workorders/159/status")]);
    assert_eq!(http.body(0), json!({"status": "DONE"}));
    let wo = parse(&wo);
    assert_eq!(wo["status"], "completed");
    assert_eq!(wo["completedAt"], "2024-03-05T16:00:00Z");

    let mut declined = fixtures::purchase_order(135);
    declined["status"] = json!("DECLINED");
    let http = Canned::new().then(200, &json!({"purchaseOrder": declined}));
    let po = MaintainX::action(
        &http,
        "purchase-order",
        "135",
        "change-status",
        r#"{"status":"declined","reviewNote":"Adjust quantities"}"#.into(),
    )
    .unwrap();
    assert_eq!(
        http.sent(),
        vec![method("PATCH", "/purchaseorders/135/status")]
    );
    assert_eq!(
        http.body(0),
        json!({"status": "DECLINED", "reviewNote": "Adjust quantities"})
    );
    assert_eq!(parse(&po)["status"], "declined");

    let http = Canned::new();
    let bad = |entity: &str, name: &str, input: &str| {
        MaintainX::action(&http, entity, "1", name, input.into())
            .unwrap_err()
            .kind()
    };
    assert_eq!(
        bad("work-order", "change-status", r#"{"status":"skipped"}"#),
        "invalid"
    );
    assert_eq!(
        bad("work-order", "change-status", r#"{"status":"DONE"}"#),
        "invalid"
    );
    assert_eq!(
        bad(
            "work-order",
            "change-status",
            r#"{"reviewNote":"x","status":"open"}"#
        ),
        "invalid"
    );
    assert_eq!(
        bad("purchase-order", "change-status", r#"{"status":"draft"}"#),
        "invalid"
    );
    assert_eq!(bad("purchase-order", "change-status", "{}"), "invalid");
    assert_eq!(bad("work-order", "close", "{}"), "unsupported");
    assert_eq!(
        bad("asset", "change-status", r#"{"status":"online"}"#),
        "unsupported"
    );
    assert!(http.sent().is_empty());
}

#[test]
fn unserved_entities_are_unsupported() {
    let http = Canned::new();
    for entity in ["inventory", "site", "service-request", "spaceship"] {
        let err = MaintainX::get(&http, get_req(entity, "1")).unwrap_err();
        assert_eq!(err.kind(), "unsupported", "{entity}");
        assert_eq!(
            MaintainX::list(&http, list_req(entity)).unwrap_err().kind(),
            "unsupported"
        );
    }
    assert!(http.sent().is_empty());
}

#[test]
fn closures_serve_as_http() {
    let http = |req: Request| -> Result<Response, HttpError> {
        assert_eq!(req.path, "/vendors?limit=100&expand=extra_fields");
        Ok(Response {
            status: 200,
            headers: Vec::new(),
            body: br#"{"vendors":[{"id":1,"name":"Acme"}],"nextCursor":null}"#.to_vec(),
        })
    };
    let page = MaintainX::list(&http, list_req("vendor")).unwrap();
    assert_eq!(
        page.records,
        vec![r#"{"key":"1","name":"Acme"}"#.to_owned()]
    );
    assert_eq!(page.next_cursor, None);
}

#[test]
fn transport_failures_are_typed() {
    let http = Canned::new().then_fail(HttpError::Timeout);
    assert_eq!(
        MaintainX::get(&http, get_req("asset", "1"))
            .unwrap_err()
            .kind(),
        "transient"
    );
    let http = Canned::new().then_fail(HttpError::ForbiddenHeader("authorization".into()));
    assert_eq!(
        MaintainX::get(&http, get_req("asset", "1"))
            .unwrap_err()
            .kind(),
        "forbidden"
    );
    let http = Canned::new().then_raw(503, b"<html>Service Unavailable</html>", &[]);
    assert_eq!(
        MaintainX::get(&http, get_req("asset", "1"))
            .unwrap_err()
            .kind(),
        "transient"
    );
}
