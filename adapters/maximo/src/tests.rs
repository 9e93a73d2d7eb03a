//! Operation tests: the adapter against a canned Maximo (an `Http` that records every request
//! and answers from a script of realistic responses).

use std::cell::RefCell;
use std::collections::VecDeque;

use plantwire_sdk::contract::{Filter, GetRequest, ListRequest};
use plantwire_sdk::{Adapter, AdapterError, Http, HttpError, Request, Response};
use serde_json::{Value, json};

use crate::{Maximo, fixtures};

#[derive(Debug, Default)]
struct Canned {
    answers: RefCell<VecDeque<Response>>,
    requests: RefCell<Vec<Request>>,
}

impl Canned {
    fn then(self, status: u16, body: &Value, headers: &[(&str, &str)]) -> Canned {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.answers.borrow_mut().push_back(Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body,
        });
        self
    }

    fn request(&self, i: usize) -> Request {
        self.requests.borrow()[i].clone()
    }

    fn count(&self) -> usize {
        self.requests.borrow().len()
    }
}

impl Http for Canned {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        self.requests.borrow_mut().push(req);
        self.answers
            .borrow_mut()
            .pop_front()
            .ok_or_else(|| HttpError::Connection("no canned answer left".into()))
    }
}

fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn body(req: &Request) -> Value {
    serde_json::from_slice(req.body.as_deref().unwrap_or_default()).unwrap()
}

fn get_req(entity: &str, key: &str, include_raw: bool) -> GetRequest {
    GetRequest {
        entity: entity.to_owned(),
        key: key.to_owned(),
        include_raw,
    }
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

#[test]
fn list_maps_a_page_and_hands_back_the_next_page_number() {
    let http = Canned::default().then(
        200,
        &serde_json::from_slice(&fixtures::work_orders_page(2)).unwrap(),
        &[],
    );
    let page = Maximo::list(
        &http,
        ListRequest {
            entity: "work-order".into(),
            page_size: 100,
            filters: vec![Filter::eq("status", "completed")],
            ..ListRequest::default()
        },
    )
    .unwrap();
    let path = http.request(0).path;
    assert!(
        path.starts_with("/os/mxapiwo?lean=1&oslc.select="),
        "{path}"
    );
    assert!(
        path.contains("oslc.where=status%20in%20%5B%22COMP%22%2C%22CLOSE%22%5D"),
        "{path}"
    );
    assert_eq!(page.records.len(), 2);
    assert_eq!(page.next_cursor.as_deref(), Some("2"));
    assert_eq!(page.total, Some(250));
    assert_eq!(parse(&page.records[1])["key"], "BEDFORD/2001");
}

#[test]
fn list_records_carry_custom_fields_and_the_raw_member_when_asked() {
    let body: Value = serde_json::from_slice(&fixtures::work_orders_page(2)).unwrap();
    let http = Canned::default().then(200, &body, &[]);
    let page = Maximo::list(
        &http,
        ListRequest {
            entity: "work-order".into(),
            include_raw: true,
            ..ListRequest::default()
        },
    )
    .unwrap();
    let path = http.request(0).path;
    assert!(
        path.contains("oslc.select=%2A%2Cdescription_longdescription&"),
        "{path}"
    );
    let record = parse(&page.records[0]);
    assert_eq!(record["raw"], body["member"][0]);
    assert_eq!(
        record["customFields"],
        json!({"orgid": "EAGLENA", "wopriority": 2, "exsafetyclass": "B"})
    );
    assert_eq!(record["title"], "Replace mechanical seal on pump P-101");

    // A selection without customFields fetches only what it reads, and no raw comes back.
    let http = Canned::default().then(200, &body, &[]);
    let page = Maximo::list(
        &http,
        ListRequest {
            entity: "work-order".into(),
            fields: vec!["title".into(), "updatedAt".into()],
            ..ListRequest::default()
        },
    )
    .unwrap();
    let path = http.request(0).path;
    assert!(
        path.contains("oslc.select=wonum%2Csiteid%2Cdescription%2Cchangedate&"),
        "{path}"
    );
    let record = parse(&page.records[0]);
    assert!(record.get("raw").is_none() && record.get("customFields").is_none());
}

#[test]
fn get_returns_custom_fields_always_and_raw_when_asked() {
    let http = Canned::default()
        .then(200, &fixtures::work_order(), &[])
        .then(200, &fixtures::work_order(), &[]);
    let with = parse(&Maximo::get(&http, get_req("work-order", "BEDFORD/1116", true)).unwrap());
    let without = parse(&Maximo::get(&http, get_req("work-order", "BEDFORD/1116", false)).unwrap());
    assert_eq!(
        http.request(0).path,
        "/os/mxapiwo/_QkVERk9SRC8xMTE2?lean=1&oslc.select=%2A%2Cdescription_longdescription"
    );
    assert_eq!(with["raw"], fixtures::work_order());
    assert!(without.get("raw").is_none());
    assert_eq!(with["customFields"], without["customFields"]);
    assert_eq!(with["customFields"]["exsafetyclass"], "B");
    // A body that is not a record is Maximo's fault, not a record.
    let http = Canned::default().then(200, &json!([1, 2]), &[]);
    assert_eq!(
        Maximo::get(&http, get_req("work-order", "BEDFORD/1116", true))
            .unwrap_err()
            .kind(),
        "upstream"
    );
}

#[test]
fn get_reads_by_rest_id_and_bad_keys_send_nothing() {
    let http = Canned::default().then(200, &fixtures::asset(), &[("etag", "\"1207\"")]);
    let asset = parse(&Maximo::get(&http, get_req("asset", "11430/BEDFORD", false)).unwrap());
    assert!(
        http.request(0)
            .path
            .starts_with("/os/mxapiasset/_MTE0MzAvQkVERk9SRA--?lean=1")
    );
    assert_eq!(asset["concurrencyToken"], "1207");
    let http = Canned::default();
    for key in ["11430", "a/b/c", "/BEDFORD"] {
        assert_eq!(
            Maximo::get(&http, get_req("asset", key, false))
                .unwrap_err()
                .kind(),
            "not-found"
        );
    }
    assert_eq!(http.count(), 0);
}

#[test]
fn a_single_create_posts_with_properties_and_a_transaction_id() {
    let mut created = fixtures::work_order();
    created["status"] = json!("WAPPR");
    let http = Canned::default().then(
        201,
        &created,
        &[(
            "location",
            "http://host/maximo/oslc/os/mxapiwo/_QkVERk9SRC8xMTE2",
        )],
    );
    let results = Maximo::create(
        &http,
        "work-order",
        vec![r#"{"title":"Fix pump","assetKey":"11430/BEDFORD"}"#.into()],
    )
    .unwrap();
    let req = http.request(0);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/os/mxapiwo?lean=1")
    );
    assert_eq!(
        header(&req, "properties"),
        Some("*,description_longdescription")
    );
    let txn = header(&req, "transactionid").unwrap();
    assert_eq!(header(&req, "idempotency-key"), Some(txn));
    assert_eq!(
        body(&req),
        json!({"description": "Fix pump", "assetnum": "11430", "siteid": "BEDFORD"})
    );
    assert_eq!(parse(results[0].as_ref().unwrap())["status"], "open");
    assert_eq!(http.count(), 1, "the answer carried the record");
}

#[test]
fn a_batch_is_one_bulk_request_with_per_record_results() {
    let location = |k: &str| format!("oslc/os/mxapiwo/{}", crate::restid::encode(k));
    let bulk = json!([
        {"_responsemeta": {"status": "201", "Location": location("BEDFORD/3001")}},
        {"_responsedata": {"Error": {"reasonCode": "BMXAA4153E", "errorattrname": "siteid",
            "message": "BMXAA4153E - NOWHERE is not a valid site.", "statusCode": "400"}},
         "_responsemeta": {"status": "400"}},
        {"_responsemeta": {"status": "201", "Location": location("BEDFORD/3002")}}
    ]);
    let found = json!({"member": [
        {"siteid": "BEDFORD", "wonum": "3002", "description": "b", "status": "WAPPR", "_rowstamp": "2"},
        {"siteid": "BEDFORD", "wonum": "3001", "description": "a", "status": "WAPPR", "_rowstamp": "1"}
    ]});
    let http = Canned::default()
        .then(200, &bulk, &[])
        .then(200, &found, &[]);
    let results = Maximo::create(
        &http,
        "work-order",
        vec![
            r#"{"title":"a"}"#.into(),
            r#"{"title":"x","siteKey":"NOWHERE"}"#.into(),
            r#"{"title":"bad","severity":"high"}"#.into(),
            r#"{"title":"b"}"#.into(),
        ],
    )
    .unwrap();
    let req = http.request(0);
    assert_eq!(header(&req, "x-method-override"), Some("BULK"));
    let items = body(&req);
    assert_eq!(
        items.as_array().unwrap().len(),
        3,
        "the invalid record is not sent"
    );
    assert_eq!(items[0]["_action"], "Add");
    assert_eq!(parse(results[0].as_ref().unwrap())["key"], "BEDFORD/3001");
    match &results[1] {
        Err(AdapterError::Invalid(e)) => assert_eq!(e[0].field, "siteKey"),
        other => panic!("{other:?}"),
    }
    assert_eq!(results[2].as_ref().unwrap_err().kind(), "invalid");
    assert_eq!(parse(results[3].as_ref().unwrap())["title"], "b");
    let read_back = http.request(1).path;
    assert!(read_back.contains("oslc.where=siteid%20in%20%5B%22BEDFORD%22%5D%20and%20wonum%20in%20%5B%223001%22%2C%223002%22%5D"), "{read_back}");
    assert_eq!(http.count(), 2);
}

#[test]
fn a_replayed_bulk_is_a_conflict_for_every_record() {
    let dup = json!({"Error": {"message": "The transaction has already been processed.", "statusCode": "409"}});
    let http = Canned::default().then(409, &dup, &[]);
    let results = Maximo::create(
        &http,
        "location",
        vec![r#"{"code":"A"}"#.into(), r#"{"code":"B"}"#.into()],
    )
    .unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap_err().kind() == "conflict")
    );
    // The same content gives the same transaction id.
    assert_eq!(
        crate::transaction_id(crate::structures::Os::Location, b"{}"),
        crate::transaction_id(crate::structures::Os::Location, b"{}")
    );
    assert_ne!(
        crate::transaction_id(crate::structures::Os::Location, b"{}"),
        crate::transaction_id(crate::structures::Os::Vendor, b"{}")
    );
}

#[test]
fn updates_merge_with_if_match_and_read_back_after_204() {
    let http = Canned::default()
        .then(204, &Value::Null, &[("etag", "\"36655\"")])
        .then(200, &fixtures::work_order(), &[]);
    let wo = Maximo::update(
        &http,
        "work-order",
        "BEDFORD/1116",
        r#"{"title":"New title"}"#.into(),
        Some("36654".into()),
    )
    .unwrap();
    let req = http.request(0);
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/os/mxapiwo/_QkVERk9SRC8xMTE2?lean=1");
    assert_eq!(header(&req, "x-method-override"), Some("PATCH"));
    assert_eq!(header(&req, "patchtype"), Some("MERGE"));
    assert_eq!(header(&req, "if-match"), Some("\"36654\""));
    assert_eq!(parse(&wo)["key"], "BEDFORD/1116");

    let stale = json!({"Error": {"message": "updated by another user", "statusCode": "412"}});
    let http = Canned::default().then(412, &stale, &[]);
    let err = Maximo::update(
        &http,
        "work-order",
        "BEDFORD/1116",
        r#"{"title":"x"}"#.into(),
        Some("1".into()),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "conflict");
    let http = Canned::default();
    let err = Maximo::update(
        &http,
        "work-order",
        "BEDFORD/1116",
        r#"{"title":"x"}"#.into(),
        Some("1\r\nx: y".into()),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(http.count(), 0);
}

#[test]
fn change_status_is_the_web_method_and_refusals_are_conflicts() {
    let mut done = fixtures::work_order();
    done["status"] = json!("COMP");
    let http = Canned::default().then(200, &done, &[]);
    let wo = Maximo::action(
        &http,
        "work-order",
        "BEDFORD/1116",
        "change-status",
        r#"{"status":"completed","memo":"done"}"#.into(),
    )
    .unwrap();
    let req = http.request(0);
    assert_eq!(
        req.path,
        "/os/mxapiwo/_QkVERk9SRC8xMTE2?action=wsmethod%3AchangeStatus&lean=1"
    );
    assert_eq!(header(&req, "x-method-override"), Some("PATCH"));
    assert_eq!(body(&req), json!({"status": "COMP", "memo": "done"}));
    assert_eq!(parse(&wo)["status"], "completed");

    let refused = json!({"Error": {"reasonCode": "BMXAA4679E", "errorattrname": "status",
        "message": "BMXAA4679E - Work order 1116 cannot be changed from status COMP to status APPR.", "statusCode": "400"}});
    let http = Canned::default().then(400, &refused, &[]);
    let err = Maximo::action(
        &http,
        "work-order",
        "BEDFORD/1116",
        "change-status",
        r#"{"nativeStatus":"APPR"}"#.into(),
    )
    .unwrap_err();
    match err {
        AdapterError::Conflict(m) => assert!(m.contains("BMXAA4679E"), "{m}"),
        other => panic!("{other:?}"),
    }

    let http = Canned::default();
    for input in [
        r#"{"status":"on-hold"}"#,
        r#"{"status":"open","nativeStatus":"APPR"}"#,
        r#"{}"#,
        r#"{"nativeStatus":"NOPE"}"#,
        r#"{"memo":1,"status":"open"}"#,
    ] {
        let err = Maximo::action(
            &http,
            "work-order",
            "BEDFORD/1116",
            "change-status",
            input.into(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "invalid", "{input}");
    }
    assert_eq!(
        Maximo::action(&http, "asset", "1/BEDFORD", "change-status", "{}".into())
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(http.count(), 0);
}

#[test]
fn delete_refusals_are_conflicts() {
    let http = Canned::default().then(200, &Value::Null, &[]);
    Maximo::delete(&http, "location", "BR999/BEDFORD").unwrap();
    assert_eq!(http.request(0).method, "DELETE");
    let refused = json!({"Error": {"message": "only WAPPR can be deleted", "statusCode": "400"}});
    let http = Canned::default().then(400, &refused, &[]);
    assert_eq!(
        Maximo::delete(&http, "work-order", "BEDFORD/1116")
            .unwrap_err()
            .kind(),
        "conflict"
    );
}

#[test]
fn unserved_entities_are_unsupported() {
    let http = Canned::default();
    assert_eq!(
        Maximo::get(&http, get_req("site", "BEDFORD", false))
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(http.count(), 0);
}

#[test]
fn external_ids_go_out_in_a_bulk_create_and_come_back_on_reads() {
    let location = |k: &str| format!("oslc/os/mxapipo/{}", crate::restid::encode(k));
    let bulk = json!([
        {"_responsemeta": {"status": "201", "Location": location("5001/0/BEDFORD")}},
        {"_responsemeta": {"status": "201", "Location": location("5002/0/BEDFORD")}}
    ]);
    let found = json!({"member": [
        {"ponum": "5001", "revisionnum": 0, "siteid": "BEDFORD", "description": "a",
         "status": "WAPPR", "externalrefid": "K7Q2M9X4ZT", "_rowstamp": "1"},
        {"ponum": "5002", "revisionnum": 0, "siteid": "BEDFORD", "description": "b",
         "status": "WAPPR", "externalrefid": "K7Q2M9X4ZU", "_rowstamp": "2"}
    ]});
    let http = Canned::default()
        .then(200, &bulk, &[])
        .then(200, &found, &[]);
    let results = Maximo::create(
        &http,
        "purchase-order",
        vec![
            r#"{"title":"a","externalId":"K7Q2M9X4ZT"}"#.into(),
            r#"{"title":"too long","externalId":"0123456789abcdef0123456789abcdef"}"#.into(),
            r#"{"title":"b","externalId":"K7Q2M9X4ZU"}"#.into(),
        ],
    )
    .unwrap();
    let items = body(&http.request(0));
    let sent: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["externalrefid"])
        .collect();
    assert_eq!(sent, [&json!("K7Q2M9X4ZT"), &json!("K7Q2M9X4ZU")]);
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i.get("externalId").is_none())
    );
    match &results[1] {
        Err(AdapterError::Invalid(e)) => {
            assert_eq!(e.len(), 1);
            assert_eq!(e[0].field, "externalId");
            assert!(e[0].message.contains("ALN(10)"), "{}", e[0].message);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse(results[0].as_ref().unwrap())["externalId"],
        "K7Q2M9X4ZT"
    );
    assert_eq!(
        parse(results[2].as_ref().unwrap())["externalId"],
        "K7Q2M9X4ZU"
    );
    assert_eq!(http.count(), 2);

    // A single record that does not fit sends nothing at all.
    let http = Canned::default();
    let results = Maximo::create(
        &http,
        "work-order",
        vec![r#"{"title":"x","externalId":"ABCDEFGHIJK"}"#.into()],
    )
    .unwrap();
    assert_eq!(results[0].as_ref().unwrap_err().kind(), "invalid");
    assert_eq!(http.count(), 0);
}

#[test]
fn external_id_filters_are_pushed_down_and_bad_ones_send_nothing() {
    let http = Canned::default().then(200, &json!({"member": []}), &[]);
    Maximo::list(
        &http,
        ListRequest {
            entity: "work-order".into(),
            filters: vec![Filter {
                field: "externalId".into(),
                op: plantwire_sdk::contract::FilterOp::In,
                values: vec!["K1".into(), "K2".into(), "K1".into()],
            }],
            fields: vec!["externalId".into()],
            ..ListRequest::default()
        },
    )
    .unwrap();
    let path = http.request(0).path;
    assert!(
        path.contains("oslc.where=externalrefid%20in%20%5B%22K1%22%2C%22K2%22%5D"),
        "{path}"
    );
    assert!(
        path.contains("oslc.select=wonum%2Csiteid%2Cexternalrefid&"),
        "{path}"
    );

    let http = Canned::default();
    let err = Maximo::list(
        &http,
        ListRequest {
            entity: "asset".into(),
            filters: vec![Filter::eq("externalId", "0123456789A")],
            ..ListRequest::default()
        },
    )
    .unwrap_err();
    match err {
        AdapterError::Invalid(e) => assert_eq!(e[0].field, "externalId"),
        other => panic!("{other:?}"),
    }
    assert_eq!(http.count(), 0);
}

#[test]
fn an_update_may_set_or_clear_the_external_id() {
    let updated = json!({"assetnum": "11430", "siteid": "BEDFORD", "externalrefid": "NEWREF",
                         "_rowstamp": "9"});
    let http = Canned::default().then(200, &updated, &[]);
    let record = Maximo::update(
        &http,
        "asset",
        "11430/BEDFORD",
        r#"{"externalId":"NEWREF"}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(body(&http.request(0)), json!({"externalrefid": "NEWREF"}));
    assert_eq!(parse(&record)["externalId"], "NEWREF");
    let http = Canned::default().then(200, &updated, &[]);
    Maximo::update(
        &http,
        "asset",
        "11430/BEDFORD",
        r#"{"externalId":null,"name":"Pump"}"#.into(),
        None,
    )
    .unwrap();
    assert_eq!(
        body(&http.request(0)),
        json!({"externalrefid": null, "description": "Pump"})
    );
}
