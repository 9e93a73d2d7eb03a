//! End-to-end tests of the SAP S/4HANA simulator over real HTTP (reqwest with a cookie jar),
//! checking the OData V2 behaviours adapters rely on: logon and `sap-client`, CSRF, paging,
//! query options, ETags (`428`/`412`), write flags, status function imports, the released
//! purchase order refusal, `$batch` change sets and SAP's error body.

#![expect(
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

use std::collections::HashSet;

use plantwire_simulators::sap::{Config, FOREIGN_ORIGIN, Malformation, SapSim};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};

fn small() -> Config {
    Config {
        maintenance_orders: 250,
        equipment: 40,
        functional_locations: 30,
        purchase_orders: 30,
        stock_rows: 50,
        suppliers: 10,
        ..Config::default()
    }
}

struct Api {
    sim: SapSim,
    http: Client,
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

impl Api {
    async fn start(config: Config) -> Api {
        let sim = SapSim::start(config).await.expect("simulator starts");
        let http = Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        Api { sim, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, self.url(path))
            .basic_auth(self.sim.user(), Some(self.sim.password()));
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
        {
            req = req.header("accept", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.expect("request");
        Reply {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], None).await
    }

    /// Fetches a CSRF token (the cookie jar keeps the session).
    async fn token(&self) -> String {
        let r = self
            .send(
                Method::GET,
                "/API_MAINTENANCEORDER/",
                &[("x-csrf-token", "Fetch")],
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        r.header("x-csrf-token").expect("token").to_owned()
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        token: &str,
        extra: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut headers = vec![("x-csrf-token", token)];
        headers.extend_from_slice(extra);
        self.send(method, path, &headers, body.map(|b| b.to_string()))
            .await
    }
}

fn error_code(r: &Reply) -> String {
    r.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn error_message(r: &Reply) -> String {
    r.json()["error"]["message"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sap_logon_client_and_basic_auth() {
    let api = Api::start(small()).await;
    let anonymous = Client::new()
        .get(api.url("/API_EQUIPMENT/Equipment?$top=1"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap_or("")
            .starts_with("Basic realm=\"SAP NetWeaver")
    );
    let r = api.get("/API_EQUIPMENT/Equipment?$top=1").await;
    assert_eq!(
        (r.status, r.header("sap-client")),
        (200, Some("100")),
        "no sap-client: the default client"
    );
    let r = api
        .get("/API_EQUIPMENT/Equipment?$top=1&sap-client=200")
        .await;
    assert_eq!((r.status, r.header("sap-client")), (200, Some("200")));
    let r = api
        .get("/API_EQUIPMENT/Equipment?$top=1&sap-client=999")
        .await;
    assert_eq!(r.status, 401);
    assert!(r.text.contains("Client 999 is not available"), "{}", r.text);
    let r = api.get("/API_NOPE/Things").await;
    assert_eq!(r.status, 404);
    // JSON must be asked for: SAP answers Atom XML otherwise.
    let r = api
        .send(
            Method::GET,
            "/API_EQUIPMENT/Equipment?$top=1",
            &[("accept", "application/xml")],
            None,
        )
        .await;
    assert_eq!(r.status, 406);
    let r = api
        .send(
            Method::GET,
            "/API_EQUIPMENT/Equipment?$top=1&$format=json",
            &[("accept", "application/xml")],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn sap_server_driven_paging_follows_next_links_without_gaps() {
    let api = Api::start(small()).await;
    let first = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder?$inlinecount=allpages")
        .await
        .json();
    assert_eq!(first["d"]["__count"], "250", "__count is a string");
    assert_eq!(first["d"]["results"].as_array().map(Vec::len), Some(100));
    let mut seen = HashSet::new();
    let mut page = first;
    let mut pages = 0;
    loop {
        pages += 1;
        for r in page["d"]["results"].as_array().expect("results") {
            assert!(seen.insert(r["MaintenanceOrder"].as_str().expect("key").to_owned()));
            assert!(
                r["__metadata"]["etag"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("W/\""))
            );
            assert!(r["to_MaintenanceOrderOperation"]["__deferred"]["uri"].is_string());
        }
        let Some(next) = page["d"]["__next"].as_str() else {
            break;
        };
        assert!(next.contains("$skiptoken="), "{next}");
        let path = next
            .strip_prefix(&api.sim.base_url())
            .expect("absolute link on the same service");
        page = api.get(path).await.json();
    }
    assert_eq!((seen.len(), pages), (250, 3));

    // $top and $skip bound the window; __next pages inside it.
    let window = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder?$top=150&$skip=20")
        .await
        .json();
    assert_eq!(window["d"]["results"][0]["MaintenanceOrder"], "4000021");
    let next = window["d"]["__next"].as_str().expect("next");
    let rest = api
        .get(next.strip_prefix(&api.sim.base_url()).expect("same base"))
        .await
        .json();
    assert_eq!(rest["d"]["results"].as_array().map(Vec::len), Some(50));
    assert!(rest["d"]["__next"].is_null());
}

#[tokio::test]
async fn sap_query_options_dates_and_decimals() {
    let api = Api::start(small()).await;
    let r = api
        .get("/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder?$filter=CompanyCode%20eq%20'1010'%20and%20PurchasingProcessingStatus%20eq%20'05'&$orderby=PurchaseOrder%20desc&$expand=to_PurchaseOrderItem&$select=PurchaseOrder,CompanyCode,PurchaseOrderDate,to_PurchaseOrderItem")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = r.json()["d"]["results"]
        .as_array()
        .cloned()
        .expect("results");
    assert!(!rows.is_empty());
    let numbers: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["PurchaseOrder"].as_str())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(numbers, sorted);
    for row in &rows {
        assert_eq!(row["CompanyCode"], "1010");
        assert!(
            row.get("Supplier").is_none(),
            "$select leaves other properties out"
        );
        let date = row["PurchaseOrderDate"].as_str().expect("date");
        assert!(date.starts_with("/Date(") && date.ends_with(")/"), "{date}");
        let items = row["to_PurchaseOrderItem"]["results"]
            .as_array()
            .expect("expanded items");
        for item in items {
            let qty = item["OrderQuantity"].as_str().expect("decimal as a string");
            assert_eq!(qty.split('.').nth(1).map(str::len), Some(3), "{qty}");
        }
    }
    let r = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("etag"),
        r.json()["d"]["__metadata"]["etag"].as_str()
    );
    assert!(
        r.json()["d"]["MaintOrdBasicStartDateTime"]
            .as_str()
            .is_some_and(|d| d.ends_with("+0000)/"))
    );
    // Errors carry SAP's body.
    for bad in [
        "/API_MAINTENANCEORDER/MaintenanceOrder?$filter=SystemStatusText%20eq%20'REL'",
        "/API_MAINTENANCEORDER/MaintenanceOrder?$orderby=Nope",
        "/API_MAINTENANCEORDER/MaintenanceOrder?$top=x",
        "/API_MAINTENANCEORDER/MaintenanceOrder('4000001'",
    ] {
        let r = api.get(bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.json()["error"]["innererror"]["errordetails"].is_array(),
            "{bad}: {}",
            r.text
        );
    }
    let r = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('999')")
        .await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (404, "/IWBEP/CM_MGW_RT/020")
    );
    let r = api
        .get("/API_EQUIPMENT/Equipment(Equipment='10000001',ValidityEndDate=datetime'9999-12-31T00:00:00')")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api
        .get("/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod?$top=2&$inlinecount=allpages")
        .await;
    assert_eq!(r.json()["d"]["__count"], "50");
    let qty = r.json()["d"]["results"][0]["MatlWrhsStkQtyInMatlBaseUnit"]
        .as_str()
        .map(str::to_owned)
        .expect("qty");
    assert_eq!(qty.split('.').nth(1).map(str::len), Some(14), "{qty}");
    let metadata = api.get("/API_MAINTENANCEORDER/$metadata").await;
    assert!(metadata.text.contains("sap:deletable=\"false\""));
}

#[tokio::test]
async fn sap_writes_need_the_csrf_token_and_the_session() {
    let api = Api::start(small()).await;
    let body = json!({
        "MaintenanceOrderType": "PM01", "MaintenanceOrderDesc": "Replace pump seal",
        "MaintenancePlanningPlant": "1010", "MainWorkCenter": "MECHANIK", "Equipment": "10000001"
    });
    let r = api
        .send(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder",
            &[],
            Some(body.to_string()),
        )
        .await;
    assert_eq!(
        (r.status, r.header("x-csrf-token")),
        (403, Some("Required"))
    );
    assert_eq!(r.text, "CSRF token validation failed");
    let token = api.token().await;
    // The token without the session cookie is refused too.
    let stranger = Client::new()
        .post(api.url("/API_MAINTENANCEORDER/MaintenanceOrder"))
        .basic_auth(api.sim.user(), Some(api.sim.password()))
        .header("x-csrf-token", &token)
        .header("accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(stranger.status(), 403);
    let before = api.sim.count("MaintenanceOrder");
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder",
            &token,
            &[],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.header("location")
            .is_some_and(|l| l.contains("MaintenanceOrder('"))
    );
    let message: Value =
        serde_json::from_str(r.header("sap-message").expect("sap-message")).expect("json");
    assert_eq!(message["severity"], "success");
    let created = r.json();
    assert!(
        created["d"]["SystemStatusText"]
            .as_str()
            .is_some_and(|s| s.starts_with("CRTD"))
    );
    assert_eq!(api.sim.count("MaintenanceOrder"), before + 1);

    // A lapsed session: 403 Required until a new token is fetched.
    api.sim.expire_sessions_on_next_writes(1);
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder",
            &token,
            &[],
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.header("x-csrf-token")),
        (403, Some("Required"))
    );
    let fresh = api.token().await;
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder",
            &fresh,
            &[],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 201);

    // Required fields and flags.
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder",
            &fresh,
            &[],
            Some(json!({"MaintenanceOrderDesc": "x"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let refs: Vec<String> = r.json()["error"]["innererror"]["errordetails"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|e| e["propertyref"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        refs.contains(&"MaintenanceOrderType".to_owned()),
        "{refs:?}"
    );
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder",
            &fresh,
            &[],
            Some(json!({"SystemStatusText": "REL"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .write(
            Method::POST,
            "/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod",
            &fresh,
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 501);
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrderOperation",
            &fresh,
            &[],
            Some(json!({"OperationDescription": "x"})),
        )
        .await;
    assert_eq!(r.status, 501, "operations are created through their order");
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/MaintenanceOrder('4000001')/to_MaintenanceOrderOperation",
            &fresh,
            &[],
            Some(json!({"OperationDescription": "Check alignment"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["d"]["MaintenanceOrderOperation"], "0030");
}

#[tokio::test]
async fn sap_etags_guard_updates_and_non_deletable_sets_refuse_delete() {
    let api = Api::start(small()).await;
    let token = api.token().await;
    let path = "/API_MAINTENANCEORDER/MaintenanceOrder('4000001')";
    let etag = api.get(path).await.header("etag").expect("etag").to_owned();
    let patch = json!({"MaintenanceOrderDesc": "Replace seal, check shaft"});
    let r = api
        .write(Method::PATCH, path, &token, &[], Some(patch.clone()))
        .await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (428, "SADL_ENTITY_RUNTIME/006")
    );
    let r = api
        .write(
            Method::PATCH,
            path,
            &token,
            &[(
                "if-match",
                "W/\"datetimeoffset'2001-01-01T00%3A00%3A00.0000000Z'\"",
            )],
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, 412);
    let r = api
        .write(
            Method::PATCH,
            path,
            &token,
            &[("if-match", &etag)],
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let after = api.get(path).await;
    assert_eq!(
        after.json()["d"]["MaintenanceOrderDesc"],
        "Replace seal, check shaft"
    );
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    let r = api
        .write(
            Method::PATCH,
            path,
            &token,
            &[("if-match", &etag)],
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, 412, "the old ETag is stale now");
    let r = api
        .write(
            Method::PATCH,
            path,
            &token,
            &[("if-match", "*")],
            Some(json!({"MaintenanceOrderType": "PM02"})),
        )
        .await;
    assert_eq!(r.status, 400, "sap:updatable=false");

    let r = api
        .write(Method::DELETE, path, &token, &[("if-match", "*")], None)
        .await;
    assert_eq!(r.status, 501);
    assert_eq!(error_code(&r), "/IWBEP/CM_MGW_RT/021");
    assert_eq!(
        error_message(&r),
        "Method 'MAINTENANCEORDER_DELETE_ENTITY' not implemented in data provider class"
    );
    let r = api.write(Method::DELETE, "/API_EQUIPMENT/Equipment(Equipment='10000001',ValidityEndDate=datetime'9999-12-31T00:00:00')", &token, &[("if-match", "*")], None).await;
    assert_eq!(r.status, 501);
}

#[tokio::test]
async fn sap_status_function_imports_and_released_purchase_orders() {
    let api = Api::start(small()).await;
    let token = api.token().await;
    let release = "/API_MAINTENANCEORDER/ReleaseMaintenanceOrder?MaintenanceOrder='4000001'";
    let r = api.send(Method::GET, release, &[], None).await;
    assert_eq!(r.status, 405);
    let r = api.write(Method::POST, release, &token, &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["d"]["IsInvalid"], false);
    let order = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")
        .await
        .json();
    assert!(
        order["d"]["SystemStatusText"]
            .as_str()
            .is_some_and(|s| s.starts_with("REL"))
    );
    let r = api.write(Method::POST, release, &token, &[], None).await;
    assert_eq!((r.status, error_code(&r).as_str()), (400, "BS/013"));
    assert_eq!(
        error_message(&r),
        "System status REL is active (ORD 4000001)"
    );
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/SetMaintOrderStatusToClosed?MaintenanceOrder='4000001'",
            &token,
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .write(
            Method::POST,
            "/API_MAINTENANCEORDER/ReleaseMaintenanceOrder",
            &token,
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 400, "missing parameter");
    let r = api
        .write(Method::POST, "/API_EQUIPMENT/SetEquipmentToInactive?Equipment='10000002'&ValidityEndDate=datetime'9999-12-31T00:00:00'", &token, &[], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A released purchase order refuses changes; one that is not released takes them.
    let released = api.get("/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder?$filter=PurchasingProcessingStatus%20eq%20'05'%20and%20PurchasingDocumentDeletionCode%20eq%20''&$top=1").await.json();
    let number = released["d"]["results"][0]["PurchaseOrder"]
        .as_str()
        .expect("a released PO")
        .to_owned();
    let path = format!("/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder('{number}')");
    let r = api
        .write(
            Method::PATCH,
            &path,
            &token,
            &[("if-match", "*")],
            Some(json!({"PurchasingGroup": "002"})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        error_message(&r).contains("has been released"),
        "{}",
        r.text
    );
    let r = api
        .write(Method::DELETE, &path, &token, &[("if-match", "*")], None)
        .await;
    assert_eq!(r.status, 400);
    let active = api.get("/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder?$filter=PurchasingProcessingStatus%20eq%20'02'%20and%20PurchasingDocumentDeletionCode%20eq%20''&$top=1").await.json();
    let number = active["d"]["results"][0]["PurchaseOrder"]
        .as_str()
        .expect("an active PO")
        .to_owned();
    let path = format!("/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder('{number}')");
    let r = api
        .write(Method::DELETE, &path, &token, &[("if-match", "*")], None)
        .await;
    assert_eq!(r.status, 204);
    let po = api
        .get(&format!("{path}?$expand=to_PurchaseOrderItem"))
        .await
        .json();
    assert_eq!(
        po["d"]["PurchasingDocumentDeletionCode"], "L",
        "deleted POs stay readable"
    );
    assert!(
        po["d"]["to_PurchaseOrderItem"]["results"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["PurchasingDocumentDeletionCode"] == "L")
    );
    let r = api
        .write(
            Method::PATCH,
            &path,
            &token,
            &[("if-match", "*")],
            Some(json!({"PurchasingGroup": "002"})),
        )
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (400, "06/020"));
}

fn batch_body(records: &[Value]) -> String {
    let mut body = String::new();
    for (i, r) in records.iter().enumerate() {
        body.push_str(&format!(
            "--batch_x\r\nContent-Type: multipart/mixed; boundary=changeset_{i}\r\n\r\n--changeset_{i}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST A_PurchaseOrder HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json\r\n\r\n{r}\r\n--changeset_{i}--\r\n\r\n"
        ));
    }
    body.push_str("--batch_x--\r\n");
    body
}

#[tokio::test]
async fn sap_deep_insert_and_batch_change_sets_fail_independently() {
    let api = Api::start(small()).await;
    let token = api.token().await;
    let po = |supplier: &str| {
        json!({
            "CompanyCode": "1010", "PurchaseOrderType": "NB", "Supplier": supplier,
            "PurchasingOrganization": "1010", "PurchasingGroup": "001", "DocumentCurrency": "EUR",
            "to_PurchaseOrderItem": {"results": [
                {"PurchaseOrderItem": "10", "Plant": "1010", "Material": "TG11", "OrderQuantity": "4", "PurchaseOrderQuantityUnit": "PC", "NetPriceAmount": "61.05"}
            ]}
        })
    };
    let before = api.sim.count("A_PurchaseOrder");
    let r = api
        .write(
            Method::POST,
            "/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder",
            &token,
            &[],
            Some(po("17300001")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    assert_eq!(
        created["d"]["to_PurchaseOrderItem"]["results"][0]["NetPriceAmount"],
        "61.050"
    );
    assert!(
        r.header("sap-message")
            .is_some_and(|m| m.contains("created under the number"))
    );

    let body = batch_body(&[po("17300002"), po("99999999"), po("17300003")]);
    let r = api
        .send(
            Method::POST,
            "/API_PURCHASEORDER_PROCESS_SRV/$batch",
            &[
                ("x-csrf-token", &token),
                ("content-type", "multipart/mixed; boundary=batch_x"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 400, "a batch needs a body");
    let resp = api
        .http
        .post(api.url("/API_PURCHASEORDER_PROCESS_SRV/$batch"))
        .basic_auth(api.sim.user(), Some(api.sim.password()))
        .header("x-csrf-token", &token)
        .header("content-type", "multipart/mixed; boundary=batch_x")
        .body(body)
        .send()
        .await
        .expect("batch");
    assert_eq!(resp.status(), 202);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("multipart/mixed; boundary=")
    );
    let text = resp.text().await.expect("body");
    let statuses: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("HTTP/1.1 "))
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 201 Created",
            "HTTP/1.1 400 Bad Request",
            "HTTP/1.1 201 Created"
        ],
        "{text}"
    );
    assert!(text.contains("Supplier 99999999 does not exist"));
    assert_eq!(api.sim.count("A_PurchaseOrder"), before + 3);
}

#[tokio::test]
async fn sap_malformed_answers_are_injected_on_request() {
    let api = Api::start(small()).await;
    let list = "/API_MAINTENANCEORDER/MaintenanceOrder?$top=250&$inlinecount=allpages";

    api.sim.malform_next(Malformation::ForeignNext, 1);
    let r = api.get(list).await;
    let next = r.json()["d"]["__next"].as_str().unwrap_or("").to_owned();
    assert!(
        next.starts_with(&format!(
            "{FOREIGN_ORIGIN}/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?"
        )) && next.contains("$skiptoken=100"),
        "{next}"
    );

    api.sim.malform_next(Malformation::RepeatedNext, 1);
    let r = api.get(list).await;
    let next = r.json()["d"]["__next"].as_str().unwrap_or("").to_owned();
    assert!(next.ends_with(list), "the link repeats the request: {next}");
    assert!(!next.contains("$skiptoken"));

    // A malformation waits for an answer it fits: a single entity has no __next.
    api.sim.malform_next(Malformation::RepeatedNext, 1);
    let r = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")
        .await;
    assert_eq!(r.json()["d"]["MaintenanceOrder"], "4000001");
    let r = api.get(list).await;
    assert!(
        r.json()["d"]["__next"]
            .as_str()
            .is_some_and(|n| n.ends_with(list))
    );

    api.sim.malform_next(Malformation::WithoutD, 1);
    let r = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("d").is_none() && r.json()["MaintenanceOrder"] == "4000001");

    api.sim.malform_next(Malformation::NotJson, 1);
    let r = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(serde_json::from_str::<Value>(&r.text).is_err());

    // Errors are never malformed.
    api.sim.malform_next(Malformation::NotJson, 1);
    let r = api
        .get("/API_MAINTENANCEORDER/MaintenanceOrder('4999999')")
        .await;
    assert_eq!(r.status, 404);
    assert!(!error_code(&r).is_empty());
    api.sim.faults().clear();

    let token = api.token().await;
    let po = json!({
        "CompanyCode": "1010", "PurchaseOrderType": "NB", "Supplier": "17300001",
        "PurchasingOrganization": "1010", "PurchasingGroup": "001", "DocumentCurrency": "EUR",
        "to_PurchaseOrderItem": {"results": [
            {"PurchaseOrderItem": "10", "Plant": "1010", "Material": "TG11", "OrderQuantity": "4", "PurchaseOrderQuantityUnit": "PC", "NetPriceAmount": "61.05"}
        ]}
    });
    let send_batch = async |records: &[Value]| {
        let resp = api
            .http
            .post(api.url("/API_PURCHASEORDER_PROCESS_SRV/$batch"))
            .basic_auth(api.sim.user(), Some(api.sim.password()))
            .header("x-csrf-token", &token)
            .header("content-type", "multipart/mixed; boundary=batch_x")
            .body(batch_body(records))
            .send()
            .await
            .expect("batch");
        let ct = resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        (ct, resp.text().await.expect("body"))
    };
    let before = api.sim.count("A_PurchaseOrder");
    api.sim.malform_next(Malformation::BatchPartMissing, 1);
    let (_, text) = send_batch(&[po.clone(), po.clone()]).await;
    assert_eq!(text.matches("HTTP/1.1 201 Created").count(), 1, "{text}");
    assert_eq!(
        api.sim.count("A_PurchaseOrder"),
        before + 2,
        "both were written"
    );
    api.sim.malform_next(Malformation::BatchBoundaryBroken, 1);
    let (ct, text) = send_batch(std::slice::from_ref(&po)).await;
    let boundary = ct.split("boundary=").nth(1).unwrap_or("").to_owned();
    assert!(boundary.ends_with("_other"), "{ct}");
    assert!(!text.contains(&format!("--{boundary}")), "{text}");
    assert!(text.contains("HTTP/1.1 201 Created"));
}

impl Api {
    /// Every entity a collection query selects, following `__next`.
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = self.get(path).await;
        loop {
            assert_eq!(page.status, 200, "{path}: {}", page.text);
            let body = page.json();
            out.extend(body["d"]["results"].as_array().cloned().expect("results"));
            let Some(next) = body["d"]["__next"].as_str() else {
                break;
            };
            let rest = next
                .strip_prefix(&self.sim.base_url())
                .expect("same service")
                .to_owned();
            page = self.get(&rest).await;
        }
        out
    }
}

/// Which records a filter should select, computed from the records themselves.
type Pred<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

fn keys_of(rows: &[Value], key: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[key].as_str().expect("key").to_owned())
        .collect()
}

/// `/Date(ms)/` or `/Date(ms+0000)/` as milliseconds.
fn wire_ms(v: &Value) -> i64 {
    let text = v.as_str().expect("date");
    let inner = text
        .strip_prefix("/Date(")
        .and_then(|t| t.strip_suffix(")/"))
        .expect("date form");
    inner
        .split(['+', '-'])
        .next()
        .and_then(|d| d.parse().ok())
        .expect("ms")
}

#[tokio::test]
async fn sap_filter_operators_are_evaluated_like_gateway() {
    let api = Api::start(small()).await;
    let orders_path = "/API_MAINTENANCEORDER/MaintenanceOrder";
    let orders = api.all(orders_path).await;
    assert_eq!(orders.len(), 250);
    let expect = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let kept: Vec<Value> = orders.iter().filter(|o| pred(o)).cloned().collect();
        keys_of(&kept, "MaintenanceOrder")
    };
    let api = &api;
    let filtered = |filter: &str| {
        let path = format!("{orders_path}?$filter={}", url_encode(filter));
        async move { keys_of(&api.all(&path).await, "MaintenanceOrder") }
    };
    let s = |o: &Value, k: &str| o[k].as_str().unwrap_or("").to_owned();

    // Comparisons on text compare characters; `ne` keeps the rest.
    let cases: Vec<(&str, Pred<'_>)> = vec![
        (
            "MainWorkCenter ne 'MECHANIK'",
            Box::new(|o| s(o, "MainWorkCenter") != "MECHANIK"),
        ),
        (
            "MaintenanceOrder lt '4000010'",
            Box::new(|o| s(o, "MaintenanceOrder").as_str() < "4000010"),
        ),
        (
            "MaintenanceOrder le '4000010'",
            Box::new(|o| s(o, "MaintenanceOrder").as_str() <= "4000010"),
        ),
        (
            "MaintenanceOrder gt '4000240'",
            Box::new(|o| s(o, "MaintenanceOrder").as_str() > "4000240"),
        ),
        (
            "MaintenanceOrder ge '4000240'",
            Box::new(|o| s(o, "MaintenanceOrder").as_str() >= "4000240"),
        ),
        (
            "MainWorkCenter ge 'INSTRUM'",
            Box::new(|o| s(o, "MainWorkCenter").as_str() >= "INSTRUM"),
        ),
        (
            "(MaintPriority eq '1' or MaintPriority eq '4')",
            Box::new(|o| ["1", "4"].contains(&s(o, "MaintPriority").as_str())),
        ),
        (
            "substringof('seal',MaintenanceOrderDesc) eq true",
            Box::new(|o| s(o, "MaintenanceOrderDesc").contains("seal")),
        ),
        // Case-sensitive, as SAP's pattern match.
        (
            "substringof('SEAL',MaintenanceOrderDesc) eq true",
            Box::new(|_| false),
        ),
        (
            "LastChangeDateTime ge datetimeoffset'2024-03-01T00:00:00Z' and LastChangeDateTime lt datetimeoffset'2024-04-01T08:00:00Z'",
            Box::new(|o| {
                let t = wire_ms(&o["LastChangeDateTime"]);
                (1_709_251_200_000..1_711_958_400_000).contains(&t)
            }),
        ),
        (
            "LatestAcceptableCompletionDate le datetime'2024-02-01T00:00:00'",
            Box::new(|o| wire_ms(&o["LatestAcceptableCompletionDate"]) <= 1_706_745_600_000),
        ),
        // Extension fields are properties like any other.
        (
            "YY1_SafetyPermit_ORD ne ''",
            Box::new(|o| !s(o, "YY1_SafetyPermit_ORD").is_empty()),
        ),
        (
            "ZZ1_ShutdownRequired_ORD eq true",
            Box::new(|o| o["ZZ1_ShutdownRequired_ORD"] == true),
        ),
    ];
    for (filter, pred) in &cases {
        let want = expect(pred.as_ref());
        let got = filtered(filter).await;
        assert_eq!(got, want, "{filter}");
    }
    // Something was selected and something left out by the interesting ones.
    let some = filtered("substringof('seal',MaintenanceOrderDesc) eq true").await;
    assert!(!some.is_empty() && some.len() < 250);
    let permits = filtered("YY1_SafetyPermit_ORD ne ''").await;
    assert!(!permits.is_empty() && permits.len() < 250);

    // Quotes are doubled inside literals; a lone quote is a syntax error.
    assert!(
        filtered("substringof('O''Neil',MaintenanceOrderDesc) eq true")
            .await
            .is_empty()
    );
    for bad in [
        "MaintenanceOrderDesc eq 'O'Neil'",
        "LatestAcceptableCompletionDate le datetimeoffset'2024-02-01T00:00:00Z'",
        "LastChangeDateTime ge '2024-01-01'",
        "substringof('x',SystemStatusText) eq true",
    ] {
        let r = api
            .get(&format!("{orders_path}?$filter={}", url_encode(bad)))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }

    // Decimals compare by value, digit for digit.
    let stock_path = "/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod";
    let stock = api.all(stock_path).await;
    let qty = |r: &Value| -> f64 {
        r["MatlWrhsStkQtyInMatlBaseUnit"]
            .as_str()
            .and_then(|q| q.parse().ok())
            .expect("qty")
    };
    for (filter, pred) in [
        (
            "MatlWrhsStkQtyInMatlBaseUnit gt 1000.5M",
            Box::new(|q: f64| q > 1000.5) as Box<dyn Fn(f64) -> bool>,
        ),
        (
            "MatlWrhsStkQtyInMatlBaseUnit le 500M",
            Box::new(|q: f64| q <= 500.0),
        ),
    ] {
        let got = api
            .all(&format!("{stock_path}?$filter={}", url_encode(filter)))
            .await;
        let want = stock.iter().filter(|r| pred(qty(r))).count();
        assert_eq!(got.len(), want, "{filter}");
        assert!(want > 0 && want < stock.len(), "{filter}");
    }

    // $select leaves an expanded navigation out unless it names it.
    let po = api
        .get("/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder?$top=2&$expand=to_PurchaseOrderItem&$select=PurchaseOrder,YY1_ProjectCode_PDH")
        .await
        .json();
    let first = &po["d"]["results"][0];
    assert!(first.get("to_PurchaseOrderItem").is_none(), "{first}");
    assert!(first.get("YY1_ProjectCode_PDH").is_some());
    assert!(first.get("Supplier").is_none());
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'\''
            | b'('
            | b')'
            | b','
            | b':' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
