//! How records look on the wire: rest ids, `href`s, the members of a collection and a single
//! resource, lean (`lean=1`) and namespaced (OSLC `spi:` / `rdf:` names) JSON.
//!
//! A rest id is `_` followed by the base64 of the primary-key values joined by `/`, with `=`
//! written as `-` (IBM's examples: `_QkVERk9SRC8xMTE2` is `BEDFORD/1116`).

use serde_json::{Map, Value, json};

use super::query::Select;
use super::schema::Os;
use super::store::Record;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The rest id of primary key `key` (`BEDFORD/1116` → `_QkVERk9SRC8xMTE2`).
pub fn rest_id(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = String::from("_");
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('-');
            }
        }
    }
    out
}

/// The primary key a rest id encodes, if it is one.
pub(crate) fn key_of_rest_id(id: &str) -> Option<String> {
    let body = id.strip_prefix('_')?;
    if body.is_empty() || body.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let chars: Vec<u8> = body.bytes().collect();
    for quad in chars.chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in quad.iter().enumerate() {
            let v = if c == b'-' || c == b'=' {
                if i < 2 {
                    return None;
                }
                pad += 1;
                0
            } else if pad > 0 {
                return None;
            } else {
                u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?
            };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    String::from_utf8(out).ok()
}

/// The `href` of record `key` under API root `base` (`http://host/maximo/oslc`).
pub(crate) fn href(base: &str, os: Os, key: &str) -> String {
    format!("{base}/os/{}/{}", os.name(), rest_id(key))
}

/// A child collection and the attributes selected of it (`None`: all).
type ChildSelection<'s> = (&'s str, Option<&'s Vec<String>>);

/// One record as JSON under `select`: `href`, `_rowstamp` and the selected attributes (with
/// `<attr>_description` for status domains). Nulls are dropped unless `keep_nulls`.
pub(crate) fn member(
    base: &str,
    os: Os,
    key: &str,
    r: &Record,
    select: &Select,
    keep_nulls: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("href".into(), json!(href(base, os, key)));
    let (attrs, children): (Vec<&str>, Vec<ChildSelection<'_>>) = match select {
        Select::HrefOnly => return out,
        Select::All => (
            os.attrs().iter().map(|a| a.name).collect(),
            os.children().iter().map(|c| (*c, None)).collect(),
        ),
        Select::Some { attrs, children } => (
            attrs.iter().map(String::as_str).collect(),
            children
                .iter()
                .map(|(c, s)| (c.as_str(), s.as_ref()))
                .collect(),
        ),
    };
    if let Some(stamp) = r.get("_rowstamp") {
        out.insert("_rowstamp".into(), stamp.clone());
    }
    for attr in attrs {
        if attr == "href" || attr == "_rowstamp" {
            continue;
        }
        let value = r.get(attr).cloned().unwrap_or(Value::Null);
        if value.is_null() && !keep_nulls {
            continue;
        }
        if attr == "status"
            && let Some(d) = value.as_str().and_then(|s| os.status_description(s))
        {
            out.insert("status_description".into(), json!(d));
        }
        out.insert(attr.to_owned(), value);
    }
    for (child, selected) in children {
        let lines = r
            .get(child)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let shaped: Vec<Value> = lines
            .into_iter()
            .map(|line| {
                let Value::Object(line) = line else {
                    return line;
                };
                let kept: Map<String, Value> = line
                    .into_iter()
                    .filter(|(k, v)| {
                        (keep_nulls || !v.is_null())
                            && selected.is_none_or(|names| names.iter().any(|n| n == k))
                    })
                    .collect();
                Value::Object(kept)
            })
            .collect();
        out.insert(child.to_owned(), Value::Array(shaped));
    }
    out
}

/// The namespaced form Maximo answers without `lean=1`: attributes as `spi:<name>`, `href` as
/// `rdf:about`, `member` as `rdfs:member`, `responseInfo` as `oslc:responseInfo`.
pub(crate) fn namespaced(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let name = match k.as_str() {
                        "href" => "rdf:about".to_owned(),
                        "member" => "rdfs:member".to_owned(),
                        "responseInfo" => "oslc:responseInfo".to_owned(),
                        "nextPage" => "oslc:nextPage".to_owned(),
                        "previousPage" => "oslc:previousPage".to_owned(),
                        "totalCount" => "oslc:totalCount".to_owned(),
                        _ => format!("spi:{k}"),
                    };
                    (name, namespaced(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(namespaced).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_ids_match_ibm_examples() {
        assert_eq!(rest_id("BEDFORD/1116"), "_QkVERk9SRC8xMTE2");
        assert_eq!(rest_id("A6002/FLEET"), "_QTYwMDIvRkxFRVQ-");
        assert_eq!(rest_id("1017/0/BEDFORD"), "_MTAxNy8wL0JFREZPUkQ-");
        for key in [
            "BEDFORD/1116",
            "A6002/FLEET",
            "x",
            "xy",
            "BRG-1000/SET1/CENTRAL/BEDFORD",
        ] {
            assert_eq!(key_of_rest_id(&rest_id(key)).as_deref(), Some(key));
        }
        assert_eq!(key_of_rest_id("QkVE"), None);
        assert_eq!(key_of_rest_id("_QkV"), None);
        assert_eq!(key_of_rest_id("_Q-VE"), None);
        assert_eq!(key_of_rest_id("_!!!!"), None);
    }

    #[test]
    fn members_follow_the_selection() {
        let r: Record = json!({"wonum": "1", "siteid": "BEDFORD", "status": "APPR",
            "description": null, "_rowstamp": "7"})
        .as_object()
        .cloned()
        .unwrap_or_default();
        let base = "http://h/maximo/oslc";
        let only = member(
            base,
            Os::WorkOrder,
            "BEDFORD/1",
            &r,
            &Select::HrefOnly,
            false,
        );
        assert_eq!(only.len(), 1);
        let some = Select::Some {
            attrs: vec!["status".into(), "description".into()],
            children: vec![],
        };
        let m = member(base, Os::WorkOrder, "BEDFORD/1", &r, &some, false);
        assert_eq!(m["status_description"], "Approved");
        assert!(!m.contains_key("description"));
        assert_eq!(m["_rowstamp"], "7");
        let m = member(base, Os::WorkOrder, "BEDFORD/1", &r, &some, true);
        assert!(m["description"].is_null());
        let ns = namespaced(json!({"member": [{"href": "x", "wonum": "1"}]}));
        assert_eq!(
            ns,
            json!({"rdfs:member": [{"rdf:about": "x", "spi:wonum": "1"}]})
        );
    }
}
