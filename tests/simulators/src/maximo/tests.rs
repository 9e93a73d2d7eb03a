//! The simulator over HTTP: auth, queries, paging, writes and refusals, as a client sees them.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use super::{Config, MaximoSim, rest_id};

/// JSON request bodies (the workspace's reqwest has no `json` feature).
trait JsonBody {
    fn json_body(self, v: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(v.to_string())
    }
}

/// A response body as JSON (`null` when it is not JSON).
async fn read(resp: reqwest::Response) -> Value {
    let bytes = resp.bytes().await.unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn small() -> Config {
    Config {
        work_orders: 230,
        assets: 40,
        purchase_orders: 12,
        items: 30,
        locations: 20,
        vendors: 20,
        max_page_size: 100,
        ..Config::default()
    }
}

struct T {
    sim: MaximoSim,
    http: Client,
}

impl T {
    async fn new(config: Config) -> T {
        T {
            sim: MaximoSim::start(config).await.unwrap(),
            http: Client::new(),
        }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sim.base_url()))
            .header("apikey", self.sim.apikey())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self.req(Method::GET, path).send().await.unwrap();
        let status = resp.status();
        (status, read(resp).await)
    }
}

#[tokio::test]
async fn credentials_are_checked_in_every_documented_form() {
    let t = T::new(small()).await;
    let url = format!("{}/os/mxapiwo?lean=1", t.sim.base_url());
    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = read(resp).await;
    assert_eq!(body["Error"]["reasonCode"], "BMXAA0021E");
    assert_eq!(body["Error"]["statusCode"], "401");
    let ok = t
        .http
        .get(format!("{url}&apikey={}", t.sim.apikey()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (user, password) = t.sim.user();
    let maxauth = super::routes::base64(format!("{user}:{password}").as_bytes());
    let ok = t
        .http
        .get(&url)
        .header("maxauth", maxauth)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let alias = format!("{}/os/mxapiwo?lean=1", t.sim.api_base_url());
    let ok = t
        .http
        .get(&alias)
        .header("apikey", t.sim.apikey())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    t.sim.faults().revoke_token();
    assert_eq!(t.get("/os/mxapiwo?lean=1").await.0, 401);
    t.sim.faults().restore_token();
    assert!(
        t.sim.requests().len() >= 5,
        "refused requests are recorded too"
    );
}

#[tokio::test]
async fn collections_select_page_and_count() {
    let t = T::new(small()).await;
    let (s, body) = t.get("/os/mxapiwo?lean=1&oslc.pageSize=10").await;
    assert_eq!(s, 200);
    let first = &body["member"][0];
    assert_eq!(
        first.as_object().unwrap().len(),
        1,
        "no oslc.select: only href"
    );
    assert!(
        first["href"]
            .as_str()
            .unwrap()
            .contains("/maximo/oslc/os/mxapiwo/_")
    );

    let mut seen = 0;
    let mut pages = 0;
    let mut next = Some(format!(
        "{}/os/mxapiwo?lean=1&oslc.select=wonum,status&oslc.pageSize=100&collectioncount=1",
        t.sim.base_url()
    ));
    while let Some(url) = next {
        let body = read(
            t.http
                .get(&url)
                .header("apikey", t.sim.apikey())
                .send()
                .await
                .unwrap(),
        )
        .await;
        pages += 1;
        seen += body["member"].as_array().unwrap().len();
        if pages == 1 {
            assert_eq!(body["responseInfo"]["totalCount"], 230);
            assert_eq!(body["responseInfo"]["totalPages"], 3);
            assert!(body["member"][0]["status_description"].is_string());
            assert!(body["member"][0]["_rowstamp"].is_string());
        } else {
            assert!(body["responseInfo"]["previousPage"]["href"].is_string());
        }
        next = body["responseInfo"]["nextPage"]["href"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!((seen, pages), (230, 3));

    let (s, body) = t.get("/os/mxapiwo?lean=1&oslc.pageSize=101").await;
    assert_eq!(s, 400);
    assert!(
        body["Error"]["message"]
            .as_str()
            .unwrap()
            .contains("maximum page size 100")
    );
    let (_, body) = t.get("/os/mxapiwo?lean=1&count=1").await;
    assert_eq!(body, json!({"totalCount": 230}));
    let (_, body) = t.get("/os/mxapiwo?oslc.select=wonum&oslc.pageSize=1").await;
    assert!(
        body["rdfs:member"][0]["spi:wonum"].is_string(),
        "namespaced without lean"
    );
}

#[tokio::test]
async fn where_and_order_by_follow_the_oslc_syntax() {
    let t = T::new(small()).await;
    let w = urlencode(r#"status in ["COMP","CLOSE"] and siteid="BEDFORD" and assetnum="*""#);
    let (s, body) = t
        .get(&format!("/os/mxapiwo?lean=1&oslc.select=wonum,status,siteid,assetnum,changedate&oslc.where={w}&oslc.orderBy=-changedate&oslc.pageSize=100"))
        .await;
    assert_eq!(s, 200, "{body}");
    let members = body["member"].as_array().unwrap();
    assert!(!members.is_empty());
    let mut last: Option<String> = None;
    for m in members {
        assert!(["COMP", "CLOSE"].contains(&m["status"].as_str().unwrap()));
        assert_eq!(m["siteid"], "BEDFORD");
        assert!(m["assetnum"].is_string());
        let c = m["changedate"].as_str().unwrap().to_owned();
        if let Some(l) = &last {
            assert!(c <= *l, "descending");
        }
        last = Some(c);
    }
    let like = urlencode(r#"description="%seal%""#);
    let (_, body) = t
        .get(&format!(
            "/os/mxapiwo?lean=1&oslc.select=description&oslc.where={like}&oslc.pageSize=100"
        ))
        .await;
    for m in body["member"].as_array().unwrap() {
        assert!(
            m["description"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("seal")
        );
    }
    // An unencoded `+` arrives as a space: refused, as on a real server.
    assert_eq!(t.get("/os/mxapiwo?lean=1&oslc.orderBy=+wonum").await.0, 400);
    assert_eq!(
        t.get(&format!(
            "/os/mxapiwo?lean=1&oslc.where={}",
            urlencode(r#"status="A" or status="B""#)
        ))
        .await
        .0,
        400
    );
    assert_eq!(
        t.get(&format!(
            "/os/mxapiwo?lean=1&oslc.where={}",
            urlencode(r#"nosuch="A""#)
        ))
        .await
        .0,
        400
    );
}

/// Every member of `os` meeting `clause` (every page), selected with `select`.
async fn every(t: &T, os: &str, select: &str, clause: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let mut path = format!(
            "/os/{os}?lean=1&oslc.select={}&oslc.pageSize=100&pageno={page}",
            urlencode(select)
        );
        if let Some(c) = clause {
            path.push_str(&format!("&oslc.where={}", urlencode(c)));
        }
        let (s, body) = t.get(&path).await;
        assert_eq!(s, 200, "{clause:?}: {body}");
        out.extend(body["member"].as_array().unwrap().iter().cloned());
        if body["responseInfo"]["nextPage"].is_null() {
            return out;
        }
        page += 1;
    }
}

fn wonums(members: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = members
        .iter()
        .map(|m| m["wonum"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_operator_a_client_sends_is_evaluated() {
    let t = T::new(small()).await;
    let all = every(&t, "mxapiwo", "*", None).await;
    assert_eq!(all.len(), 230);
    let expect = |keep: &dyn Fn(&Value) -> bool| {
        let kept: Vec<Value> = all.iter().filter(|m| keep(m)).cloned().collect();
        assert!(
            !kept.is_empty() && kept.len() < all.len(),
            "a filter that tells"
        );
        wonums(&kept)
    };
    let text = |m: &Value, a: &str| m[a].as_str().unwrap_or_default().to_owned();
    let first = text(&all[0], "description");
    let second = text(&all[1], "description");
    let ms = |m: &Value| crate::clock::parse_ms(m["changedate"].as_str().unwrap()).unwrap();
    let mid = ms(&all[115]);
    let late = ms(&all[200]);
    let iso = |ms: i64| super::seed::maximo_date(ms);
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!(r#"description!="{first}""#),
            expect(&|m| text(m, "description") != first),
        ),
        (
            format!(r#"description in ["{first}","{second}"]"#),
            expect(&|m| [&first, &second].contains(&&text(m, "description"))),
        ),
        (
            r#"description="%SEAL%""#.to_owned(),
            expect(&|m| text(m, "description").to_lowercase().contains("seal")),
        ),
        (
            r#"status!="[COMP,CLOSE,CAN]""#.to_owned(),
            expect(&|m| !["COMP", "CLOSE", "CAN"].contains(&text(m, "status").as_str())),
        ),
        (
            format!(
                r#"changedate>="{}" and changedate<"{}""#,
                iso(mid),
                iso(late)
            ),
            expect(&|m| ms(m) >= mid && ms(m) < late),
        ),
        (
            format!(r#"changedate>"{}""#, iso(mid)),
            expect(&|m| ms(m) > mid),
        ),
        (
            format!(r#"changedate<="{}""#, iso(mid)),
            expect(&|m| ms(m) <= mid),
        ),
        (
            "wopriority>=3 and wopriority!=5".to_owned(),
            expect(&|m| {
                let p = m["wopriority"].as_i64().unwrap();
                p >= 3 && p != 5
            }),
        ),
        (
            r#"exsafetyclass="B""#.to_owned(),
            expect(&|m| text(m, "exsafetyclass") == "B"),
        ),
    ];
    for (clause, want) in cases {
        let got = every(&t, "mxapiwo", "wonum", Some(&clause)).await;
        assert_eq!(wonums(&got), want, "{clause}");
    }
    // `*` among other terms: every persistent attribute, the long description only when named.
    let (_, body) = t
        .get(&format!(
            "/os/mxapiwo?lean=1&oslc.pageSize=1&oslc.select={}",
            urlencode("*,description_longdescription")
        ))
        .await;
    let m = &body["member"][0];
    assert!(
        m["exsafetyclass"].is_string() && m["worktype"].is_string(),
        "{m}"
    );
    assert!(m["description_longdescription"].is_string(), "{m}");
    let (_, body) = t
        .get(&format!(
            "/os/mxapiwo?lean=1&oslc.pageSize=1&oslc.select={}",
            urlencode("*,wonum")
        ))
        .await;
    assert!(
        body["member"][0]
            .get("description_longdescription")
            .is_none()
    );
    let (_, body) = t
        .get(&format!(
            "/os/mxapipo?lean=1&oslc.pageSize=1&oslc.select={}",
            urlencode("*,poline{polinenum}")
        ))
        .await;
    let po = &body["member"][0];
    assert!(po["vendor"].is_string(), "{po}");
    for line in po["poline"].as_array().unwrap() {
        assert_eq!(line.as_object().unwrap().len(), 1, "{line}");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn members_are_read_by_rest_id_with_an_etag() {
    let t = T::new(small()).await;
    let key = t.sim.keys("mxapiwo")[0].clone();
    let resp = t
        .req(
            Method::GET,
            &format!("/os/mxapiwo/{}?lean=1", rest_id(&key)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = read(resp).await;
    assert_eq!(etag, format!("\"{}\"", body["_rowstamp"].as_str().unwrap()));
    assert_eq!(
        format!(
            "{}/{}",
            body["siteid"].as_str().unwrap(),
            body["wonum"].as_str().unwrap()
        ),
        key
    );
    assert_eq!(
        t.get(&format!("/os/mxapiwo/{}", rest_id("BEDFORD/NOPE")))
            .await
            .0,
        404
    );
    assert_eq!(t.get("/os/mxapiwo/not-a-rest-id").await.0, 404);
    assert_eq!(t.get("/os/mxnothing").await.0, 404);
}

#[tokio::test]
async fn creates_answer_201_with_location_and_refuse_duplicate_transactions() {
    let t = T::new(small()).await;
    let before = t.sim.count("mxapiwo");
    let resp = t
        .req(Method::POST, "/os/mxapiwo?lean=1")
        .header("properties", "wonum,siteid,status")
        .header("transactionid", "txn-1")
        .json_body(&json!({"description": "Inspect compressor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = read(resp).await;
    assert_eq!(body["status"], "WAPPR");
    assert!(location.ends_with(&rest_id(&format!(
        "BEDFORD/{}",
        body["wonum"].as_str().unwrap()
    ))));
    let again = t
        .req(Method::POST, "/os/mxapiwo?lean=1")
        .header("transactionid", "txn-1")
        .json_body(&json!({"description": "Inspect compressor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(t.sim.count("mxapiwo"), before + 1);
    let bad = t
        .req(Method::POST, "/os/mxapiwo?lean=1")
        .json_body(&json!({"siteid": "BEDFORDXXYY"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = read(bad).await;
    assert_eq!(body["Error"]["reasonCode"], "BMXAA4153E");
    assert_eq!(body["Error"]["errorattrname"], "siteid");
    assert_eq!(t.sim.count("mxapiwo"), before + 1);
}

#[tokio::test]
async fn bulk_answers_per_item() {
    let t = T::new(small()).await;
    let resp = t
        .req(Method::POST, "/os/mxapiasset?lean=1")
        .header("x-method-override", "BULK")
        .json_body(&json!([
            {"assetnum": "T-1", "siteid": "BEDFORD", "description": "one", "_action": "Add"},
            {"assetnum": "T-2", "siteid": "BEDFORDXXYY", "description": "two", "_action": "Add"},
            {"assetnum": "T-3", "description": "three"}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = read(resp).await;
    assert_eq!(body[0]["_responsemeta"]["status"], "201");
    assert!(
        body[0]["_responsemeta"]["Location"]
            .as_str()
            .unwrap()
            .ends_with(&rest_id("T-1/BEDFORD"))
    );
    assert_eq!(body[1]["_responsemeta"]["status"], "400");
    assert_eq!(
        body[1]["_responsedata"]["Error"]["reasonCode"],
        "BMXAA4153E"
    );
    assert_eq!(body[2]["_responsemeta"]["status"], "201");
    assert!(t.sim.record("mxapiasset", "T-3/BEDFORD").is_some());
}

#[tokio::test]
async fn patches_honour_if_match_and_merge() {
    let t = T::new(small()).await;
    let key = t.sim.keys("mxapipo")[0].clone();
    let path = format!("/os/mxapipo/{}?lean=1", rest_id(&key));
    let stamp = t.sim.record("mxapipo", &key).unwrap()["_rowstamp"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines = t.sim.record("mxapipo", &key).unwrap()["poline"]
        .as_array()
        .unwrap()
        .len();
    let stale = t
        .req(Method::POST, &path)
        .header("x-method-override", "PATCH")
        .header("if-match", "\"1\"")
        .json_body(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let ok = t
        .req(Method::POST, &path)
        .header("x-method-override", "PATCH")
        .header("patchtype", "MERGE")
        .header("if-match", format!("\"{stamp}\""))
        .json_body(&json!({"description": "Merged", "poline": [{"itemnum": "BRG-1000", "orderqty": 2, "unitcost": 1.5}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    let after = t.sim.record("mxapipo", &key).unwrap();
    assert_eq!(after["description"], "Merged");
    assert_eq!(after["poline"].as_array().unwrap().len(), lines + 1);
    assert_ne!(after["_rowstamp"].as_str().unwrap(), stamp);
    let replaced = t
        .req(Method::POST, &path)
        .header("x-method-override", "PATCH")
        .header("properties", "*")
        .json_body(&json!({"poline": [{"itemnum": "BRG-1000", "orderqty": 1, "unitcost": 1.0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200);
    let body: Value = read(replaced).await;
    assert_eq!(
        body["poline"].as_array().unwrap().len(),
        1,
        "plain PATCH replaces children"
    );
    let no_override = t
        .req(Method::POST, &path)
        .json_body(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_override.status(), 400);
}

#[tokio::test]
async fn status_changes_follow_maximo_transitions_and_deletes_its_rules() {
    let t = T::new(small()).await;
    let created = t
        .req(Method::POST, "/os/mxapiwo?lean=1")
        .header("properties", "wonum")
        .json_body(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    let wonum = read(created).await["wonum"].as_str().unwrap().to_owned();
    let key = format!("BEDFORD/{wonum}");
    let action = format!(
        "/os/mxapiwo/{}?action=wsmethod:changeStatus&lean=1",
        rest_id(&key)
    );
    let change = |status: &'static str| {
        t.req(Method::POST, &action)
            .header("x-method-override", "PATCH")
            .json_body(&json!({"status": status, "memo": "test"}))
            .send()
    };
    assert_eq!(change("COMP").await.unwrap().status(), 204);
    let refused: Value = read(change("APPR").await.unwrap()).await;
    assert_eq!(refused["Error"]["reasonCode"], "BMXAA4679E");
    let refused: Value = read(change("INPRG").await.unwrap()).await;
    assert_eq!(refused["Error"]["reasonCode"], "BMXAA4638E");
    assert_eq!(t.sim.record("mxapiwo", &key).unwrap()["status"], "COMP");
    let delete = t
        .req(Method::DELETE, &format!("/os/mxapiwo/{}", rest_id(&key)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        delete.status(),
        400,
        "only WAPPR work orders can be deleted"
    );

    let fresh = t
        .req(Method::POST, "/os/mxapiwo?lean=1")
        .header("properties", "wonum")
        .json_body(&json!({}))
        .send()
        .await
        .unwrap();
    let wonum = read(fresh).await["wonum"].as_str().unwrap().to_owned();
    let delete = t
        .req(
            Method::DELETE,
            &format!("/os/mxapiwo/{}", rest_id(&format!("BEDFORD/{wonum}"))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 200);
    assert!(
        t.sim
            .record("mxapiwo", &format!("BEDFORD/{wonum}"))
            .is_none()
    );
}

#[tokio::test]
async fn faults_are_injected() {
    let t = T::new(small()).await;
    t.sim.faults().fail_next(1, 503);
    let (s, body) = t.get("/os/mxapiwo?lean=1").await;
    assert_eq!(s, 503);
    assert_eq!(body["Error"]["statusCode"], "503");
    t.sim.faults().set_latency(Duration::from_millis(50));
    let started = std::time::Instant::now();
    assert_eq!(t.get("/os/mxapiwo?lean=1&oslc.pageSize=1").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn collection_answers_can_be_spoiled_for_client_tests() {
    use super::ListTamper;
    let t = T::new(small()).await;
    let path = "/os/mxapiwo?lean=1&oslc.select=wonum&oslc.pageSize=10&pageno=2";
    t.sim.tamper_lists(Some(ListTamper::NotJson));
    let resp = t.req(Method::GET, path).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().starts_with("<html>"));
    t.sim.tamper_lists(Some(ListTamper::NoMember));
    let (_, body) = t.get(path).await;
    assert!(body.get("member").is_none() && body.get("responseInfo").is_some());
    t.sim.tamper_lists(Some(ListTamper::MembersNotRecords));
    assert_eq!(t.get(path).await.1["member"], json!([1, "x", null]));
    t.sim.tamper_lists(Some(ListTamper::ForeignNextPage));
    let next = t.get(path).await.1["responseInfo"]["nextPage"]["href"].clone();
    let next = next.as_str().unwrap();
    assert!(
        next.starts_with("http://mirror.invalid/maximo/oslc/os/mxapiwo?")
            && next.contains("pageno=3"),
        "{next}"
    );
    t.sim.tamper_lists(Some(ListTamper::RepeatedNextPage));
    let next = t.get(path).await.1["responseInfo"]["nextPage"]["href"].clone();
    assert!(next.as_str().unwrap().ends_with("pageno=2"), "{next}");
    t.sim.tamper_lists(Some(ListTamper::NextPageAsString));
    let next = t.get(path).await.1["responseInfo"]["nextPage"].clone();
    assert!(next.as_str().unwrap().ends_with("pageno=3"), "{next}");
    // Other requests are untouched, and lists answer normally again once cleared.
    let one = rest_id(&t.sim.keys("mxapiwo")[0]);
    assert_eq!(t.get(&format!("/os/mxapiwo/{one}?lean=1")).await.0, 200);
    t.sim.tamper_lists(None);
    let (status, body) = t.get(path).await;
    assert_eq!(status, 200);
    assert_eq!(body["member"].as_array().unwrap().len(), 10);
    assert!(
        body["responseInfo"]["nextPage"]["href"]
            .as_str()
            .unwrap()
            .ends_with("pageno=3")
    );
}

#[tokio::test]
async fn records_other_records_refer_to_are_not_deleted() {
    let t = T::new(small()).await;
    let po = t.sim.record("mxapipo", &t.sim.keys("mxapipo")[0]).unwrap();
    let text = |v: &Value, a: &str| v[a].as_str().unwrap().to_owned();
    let used_asset = t
        .sim
        .keys("mxapiasset")
        .into_iter()
        .find(|k| {
            t.sim.keys("mxapiwo").iter().any(|w| {
                let r = t.sim.record("mxapiwo", w).unwrap();
                r["assetnum"]
                    .as_str()
                    .map(|a| format!("{a}/{}", text(&r, "siteid")))
                    == Some(k.clone())
            })
        })
        .expect("an asset on a work order");
    let item = t.sim.keys("mxapiinventory")[0]
        .split('/')
        .take(2)
        .collect::<Vec<_>>()
        .join("/");
    for (os, key, by) in [
        ("mxapiasset", used_asset, "WORKORDER"),
        ("mxapilocations", "CENTRAL/BEDFORD".to_owned(), "INVENTORY"),
        ("mxapiitem", item, "INVENTORY"),
        (
            "mxapivendor",
            format!("{}/{}", text(&po, "vendor"), text(&po, "orgid")),
            "PO",
        ),
    ] {
        let resp = t
            .req(Method::DELETE, &format!("/os/{os}/{}", rest_id(&key)))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{os} {key}");
        let body = read(resp).await;
        let message = body["Error"]["message"].as_str().unwrap();
        assert!(message.contains(by), "{os} {key}: {message}");
        assert!(t.sim.record(os, &key).is_some(), "{os} {key} kept");
    }
    // A record nothing refers to is deleted.
    let created = t
        .req(Method::POST, "/os/mxapilocations?lean=1")
        .json_body(&json!({"location": "BR999", "siteid": "BEDFORD"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let resp = t
        .req(
            Method::DELETE,
            &format!("/os/mxapilocations/{}", rest_id("BR999/BEDFORD")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn external_references_are_stored_filtered_length_checked_and_counted() {
    let t = T::new(small()).await;
    assert_eq!(
        t.sim.created("mxapipo"),
        0,
        "seeded records are not counted"
    );
    let resp = t
        .req(Method::POST, "/os/mxapipo?lean=1")
        .header("x-method-override", "BULK")
        .json_body(&json!([
            {"description": "one", "externalrefid": "EXT0000001", "_action": "Add"},
            {"description": "too long", "externalrefid": "EXT00000012", "_action": "Add"},
            {"description": "two", "externalrefid": "EXT0000002", "_action": "Add"},
            {"description": "again", "externalrefid": "EXT0000001", "_action": "Add"}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = read(resp).await;
    let statuses: Vec<&Value> = (0..4)
        .map(|i| &body[i]["_responsemeta"]["status"])
        .collect();
    assert_eq!(
        statuses,
        [&json!("201"), &json!("400"), &json!("201"), &json!("201")]
    );
    let error = &body[1]["_responsedata"]["Error"];
    assert_eq!(error["reasonCode"], "BMXAA4049E");
    assert_eq!(error["errorattrname"], "externalrefid");
    assert_eq!(error["statusCode"], "400");

    // Three records were written; the reused reference is visible as a duplicate.
    assert_eq!(t.sim.created("mxapipo"), 3);
    assert_eq!(t.sim.created("mxapiwo"), 0);
    let twice = t.sim.keys_by_externalrefid("mxapipo", "EXT0000001");
    assert_eq!(twice.len(), 2);
    assert_eq!(
        t.sim.duplicate_externalrefids("mxapipo"),
        vec![("EXT0000001".to_owned(), twice.clone())]
    );
    assert!(t.sim.duplicate_externalrefids("mxapiwo").is_empty());
    assert!(
        t.sim
            .keys_by_externalrefid("mxapipo", "EXT00000012")
            .is_empty()
    );

    // Returned and filtered with `=` and `in`.
    let found = every(
        &t,
        "mxapipo",
        "ponum,externalrefid",
        Some(r#"externalrefid in ["EXT0000001","EXT0000002","NOPE"]"#),
    )
    .await;
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|m| {
        m["externalrefid"]
            .as_str()
            .is_some_and(|x| x.starts_with("EXT000000"))
    }));
    let one = every(&t, "mxapipo", "*", Some(r#"externalrefid="EXT0000002""#)).await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["description"], "two");

    // A single create and an update are length-checked the same way; nothing is written.
    let resp = t
        .req(Method::POST, "/os/mxapiwo?lean=1")
        .json_body(&json!({"description": "x", "externalrefid": "ABCDEFGHIJK"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(read(resp).await["Error"]["reasonCode"], "BMXAA4049E");
    assert_eq!(t.sim.created("mxapiwo"), 0);
    let key = &twice[0];
    let resp = t
        .req(
            Method::POST,
            &format!("/os/mxapipo/{}?lean=1", rest_id(key)),
        )
        .header("x-method-override", "PATCH")
        .json_body(&json!({"externalrefid": "ÄÖÜäöüßéèêx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        t.sim.record("mxapipo", key).unwrap()["externalrefid"],
        "EXT0000001"
    );
    let resp = t
        .req(
            Method::POST,
            &format!("/os/mxapipo/{}?lean=1", rest_id(key)),
        )
        .header("x-method-override", "PATCH")
        .json_body(&json!({"externalrefid": "ÄÖÜäöüßéèê"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert!(t.sim.duplicate_externalrefids("mxapipo").is_empty());
}
