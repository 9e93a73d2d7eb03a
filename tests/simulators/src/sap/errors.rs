//! SAP Gateway's error answers and message header.
//!
//! * Error body (OData V2 JSON, the API Hub OpenAPI `error` schema):
//!   `{"error":{"code":"<class>/<number>","message":{"lang":"en","value":"…"},
//!   "innererror":{"application":{…},"transactionid":"…","timestamp":"…",
//!   "Error_Resolution":{…},"errordetails":[{"code","message","propertyref","severity","target"}]}}}`.
//! * Success messages go in the `sap-message` response header as JSON:
//!   `{"code","message","longtext_url","severity","target","details":[…]}`.
//!
//! Message classes and numbers used here: `/IWBEP/CM_MGW_RT/020` (resource not found for a
//! segment), `/IWBEP/CM_MGW_RT/021` (method not implemented in the data provider class, the
//! answer of an operation the entity set does not offer), `BS/013` ("System status &1 is active
//! (&2)", seen in SAP order confirmations), `06/017` ("&1 created under the number &2", message
//! class 06 of purchasing). Codes marked [U] in the code are the simulator's best knowledge,
//! not verified against a live system.

use serde_json::{Value, json};

/// An error SAP answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SapError {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    /// `(code, message, propertyref)` of each `errordetails` entry.
    pub(crate) details: Vec<(String, String, String)>,
}

impl SapError {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> SapError {
        SapError {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A `400` for a malformed request (query option, literal, body). [U: code]
    pub(crate) fn bad_request(message: impl Into<String>) -> SapError {
        SapError::new(400, "/IWBEP/CM_MGW_RT/022", message)
    }

    /// A `400` for a property value the application refuses, naming the property.
    pub(crate) fn invalid_property(property: &str, message: impl Into<String>) -> SapError {
        let message = message.into();
        let mut e = SapError::new(400, "/IWBEP/CM_MGW_RT/022", message.clone());
        e.details.push((
            "/IWBEP/CM_MGW_RT/022".to_owned(),
            message,
            property.to_owned(),
        ));
        e
    }

    /// A `404` for a segment that names nothing.
    pub(crate) fn not_found(segment: &str) -> SapError {
        SapError::new(
            404,
            "/IWBEP/CM_MGW_RT/020",
            format!("Resource not found for segment '{segment}'"),
        )
    }

    /// The body as SAP writes it.
    pub(crate) fn body(&self, transaction: &str, timestamp: &str) -> Value {
        let details: Vec<Value> = if self.details.is_empty() {
            vec![json!({
                "code": self.code,
                "message": self.message,
                "propertyref": "",
                "severity": "error",
                "target": "",
            })]
        } else {
            self.details
                .iter()
                .map(|(code, message, property)| {
                    json!({
                        "code": code,
                        "message": message,
                        "propertyref": property,
                        "severity": "error",
                        "target": property,
                    })
                })
                .collect()
        };
        json!({
            "error": {
                "code": self.code,
                "message": {"lang": "en", "value": self.message},
                "innererror": {
                    "application": {
                        "component_id": "",
                        "service_namespace": "/SAP/",
                        "service_id": "",
                        "service_version": "0001",
                    },
                    "transactionid": transaction,
                    "timestamp": timestamp,
                    "Error_Resolution": {
                        "SAP_Transaction": "For backend administrators: use ADT feed reader \"SAP Gateway Error Log\" or run transaction /IWFND/ERROR_LOG on SAP Gateway hub system and search for entries with the timestamp above for more details",
                        "SAP_Note": "See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)",
                    },
                    "errordetails": details,
                },
            }
        })
    }
}

/// The `sap-message` header value of a success message.
pub(crate) fn sap_message(code: &str, message: &str) -> String {
    json!({
        "code": code,
        "message": message,
        "longtext_url": "",
        "severity": "success",
        "target": "",
        "details": [],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_gateway_shape() {
        let e = SapError::invalid_property("Supplier", "Supplier 999 does not exist");
        let body = e.body("ABC", "20240301080000.0000000");
        assert_eq!(body["error"]["code"], "/IWBEP/CM_MGW_RT/022");
        assert_eq!(body["error"]["message"]["lang"], "en");
        assert_eq!(
            body["error"]["innererror"]["errordetails"][0]["propertyref"],
            "Supplier"
        );
        let header: Value = serde_json::from_str(&sap_message("06/017", "x")).unwrap_or_default();
        assert_eq!(header["severity"], "success");
    }
}
