//! What Maximo checks and fills in on a write: attribute types, read-only attributes, required
//! keys and autokeys, site and organization, references to other records, purchase order lines,
//! status changes and the status transitions each object allows, and the business rules that
//! refuse a delete.
//!
//! Message codes: `BMXAA4153E` (not a valid site) is quoted from the IBM REST API guide; the
//! work order transition codes `BMXAA4679E` (back from COMP to an approval status) and
//! `BMXAA4638E` (COMP to INPRG) come from community reports of the changeStatus action;
//! `BMXAA4195E` (a value is required) is Maximo's required-field message; `BMXAA4049E` (a
//! value longer than its attribute, refused rather than truncated) is the length error
//! integrations report for ALN attributes such as `EXTERNALREFID`. Every other refusal
//! is answered with a message and no code, since the exact code is not documented [U].

use serde_json::{Map, Value, json};

use super::schema::{Attr, Os, Ty};
use super::seed::maximo_date;
use super::store::{ITEMSET, Record, Store, key_of, site};
use crate::clock::parse_ms;

/// A Maximo error: rendered as `{"Error": {...}}` with the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MaxError {
    pub(crate) status: u16,
    pub(crate) reason: Option<&'static str>,
    pub(crate) message: String,
    pub(crate) attr: Option<String>,
    pub(crate) objpath: Option<&'static str>,
}

impl MaxError {
    /// A 400 on attribute `attr` of `os`.
    pub(crate) fn attr(
        os: Os,
        attr: &str,
        reason: Option<&'static str>,
        message: String,
    ) -> MaxError {
        MaxError {
            status: 400,
            reason,
            message,
            attr: Some(attr.to_owned()),
            objpath: Some(os.mbo()),
        }
    }

    /// A request-level error.
    pub(crate) fn plain(status: u16, reason: Option<&'static str>, message: String) -> MaxError {
        MaxError {
            status,
            reason,
            message,
            attr: None,
            objpath: None,
        }
    }

    /// The `{"Error": {...}}` body.
    pub(crate) fn body(&self, base: &str) -> Value {
        let mut e = Map::new();
        if let Some(a) = &self.attr {
            e.insert("errorattrname".into(), json!(a));
        }
        if let Some(o) = self.objpath {
            e.insert("errorobjpath".into(), json!(o));
        }
        if let Some(code) = self.reason {
            e.insert("reasonCode".into(), json!(code));
            e.insert(
                "extendedError".into(),
                json!({"moreInfo": {"href": format!("{base}/error/messages/{code}")}}),
            );
        }
        e.insert("message".into(), json!(self.message));
        e.insert("statusCode".into(), json!(self.status.to_string()));
        e.insert("correlationid".into(), Value::Null);
        json!({ "Error": e })
    }
}

/// Who writes (for `changeby`, `reportedby`) and where (default insert site).
#[derive(Debug, Clone)]
pub(crate) struct Writer<'a> {
    pub(crate) user: &'a str,
    pub(crate) default_site: &'a str,
    pub(crate) now: i64,
}

/// A required value is missing (`BMXAA4195E`).
fn required(os: Os, attr: &str) -> MaxError {
    MaxError::attr(
        os,
        attr,
        Some("BMXAA4195E"),
        format!(
            "BMXAA4195E - A value is required for the {} field on the {} object.",
            attr.to_ascii_uppercase(),
            os.mbo().to_ascii_uppercase()
        ),
    )
}

/// A text longer than its attribute (`BMXAA4049E`): Maximo refuses it rather than truncating.
fn too_long(os: Os, attr: &Attr, text: &str) -> MaxError {
    MaxError::attr(
        os,
        attr.name,
        Some("BMXAA4049E"),
        format!("BMXAA4049E - The value specified {text} exceeds the maximum field length."),
    )
}

/// `value` checked against the attribute's type and normalized (dates in server time).
fn typed(os: Os, attr: &Attr, value: &Value) -> Result<Value, MaxError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let bad = |what: &str| {
        MaxError::attr(
            os,
            attr.name,
            None,
            format!(
                "{} must be {what}; {value} was given.",
                attr.name.to_ascii_uppercase()
            ),
        )
    };
    match attr.ty {
        Ty::Text => {
            let text = value.as_str().ok_or_else(|| bad("text"))?;
            if let Some(max) = attr.max_len
                && text.chars().count() > max
            {
                return Err(too_long(os, attr, text));
            }
            Ok(json!(text))
        }
        Ty::Int => value
            .as_i64()
            .map(Value::from)
            .ok_or_else(|| bad("a whole number")),
        Ty::Dec => value
            .as_f64()
            .map(Value::from)
            .ok_or_else(|| bad("a number")),
        Ty::Bool => value
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| bad("true or false")),
        Ty::Date => value
            .as_str()
            .and_then(parse_ms)
            .map(|ms| json!(maximo_date(ms)))
            .ok_or_else(|| bad("an ISO-8601 date and time")),
    }
}

fn text<'r>(r: &'r Record, attr: &str) -> Option<&'r str> {
    r.get(attr)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Applies the attributes of `body` to `record` (create when `creating`), checking each.
fn apply_attrs(
    os: Os,
    body: &Map<String, Value>,
    record: &mut Record,
    creating: bool,
) -> Result<(), MaxError> {
    for (name, value) in body {
        let lower = name.to_ascii_lowercase();
        if lower == "_action"
            || lower == "href"
            || lower == "_rowstamp"
            || os.child(&lower).is_some()
        {
            continue;
        }
        if lower == "status" && !creating && os.has_change_status() {
            continue; // a status change, handled by the caller
        }
        let Some(attr) = os.attr(&lower) else {
            return Err(MaxError::attr(
                os,
                &lower,
                None,
                format!(
                    "The attribute {} is not in the {} object structure.",
                    lower.to_ascii_uppercase(),
                    os.name().to_ascii_uppercase()
                ),
            ));
        };
        if attr.read_only {
            return Err(MaxError::attr(
                os,
                &lower,
                None,
                format!("The {} field is read-only.", lower.to_ascii_uppercase()),
            ));
        }
        if !creating && os.pk().contains(&attr.name) {
            if record.get(attr.name) == Some(value) {
                continue;
            }
            return Err(MaxError::attr(
                os,
                &lower,
                None,
                format!(
                    "The {} field is part of the key and cannot be changed.",
                    lower.to_ascii_uppercase()
                ),
            ));
        }
        let v = typed(os, attr, value)?;
        record.insert(attr.name.to_owned(), v);
    }
    Ok(())
}

/// Checks that the record's references point at existing records of its site or organization.
fn check_references(os: Os, store: &Store, r: &Record) -> Result<(), MaxError> {
    let siteid = text(r, "siteid").unwrap_or_default();
    let orgid = text(r, "orgid").unwrap_or_default();
    let missing = |attr: &str, what: &str, value: &str| {
        MaxError::attr(
            os,
            attr,
            None,
            format!(
                "{what} {value} is not valid for {}.",
                if siteid.is_empty() { orgid } else { siteid }
            ),
        )
    };
    let check_site_ref = |attr: &str, target: Os, what: &str| -> Result<(), MaxError> {
        if let Some(v) = text(r, attr)
            && !store.exists(target, &format!("{v}/{siteid}"))
        {
            return Err(missing(attr, what, v));
        }
        Ok(())
    };
    let check_company = |attr: &str| -> Result<(), MaxError> {
        if let Some(v) = text(r, attr)
            && !store.exists(Os::Vendor, &format!("{v}/{orgid}"))
        {
            return Err(missing(attr, "Company", v));
        }
        Ok(())
    };
    match os {
        Os::WorkOrder => {
            check_site_ref("assetnum", Os::Asset, "Asset")?;
            check_site_ref("location", Os::Location, "Location")?;
        }
        Os::Asset => {
            check_site_ref("location", Os::Location, "Location")?;
            check_site_ref("parent", Os::Asset, "Parent asset")?;
            check_company("manufacturer")?;
            check_company("vendor")?;
        }
        Os::Po => {
            check_company("vendor")?;
            if let Some(lines) = r.get("poline").and_then(Value::as_array) {
                for line in lines {
                    let item = line.get("itemnum").and_then(Value::as_str);
                    let set = line
                        .get("itemsetid")
                        .and_then(Value::as_str)
                        .unwrap_or(ITEMSET);
                    if let Some(item) = item
                        && !store.exists(Os::Item, &format!("{item}/{set}"))
                    {
                        return Err(MaxError::attr(
                            os,
                            "itemnum",
                            None,
                            format!("Item {item} is not in item set {set}."),
                        ));
                    }
                }
            }
        }
        Os::Inventory => {
            let item = text(r, "itemnum").unwrap_or_default();
            let set = text(r, "itemsetid").unwrap_or(ITEMSET);
            if !store.exists(Os::Item, &format!("{item}/{set}")) {
                return Err(missing("itemnum", "Item", item));
            }
            let location = text(r, "location").unwrap_or_default();
            let is_storeroom = store
                .get(Os::Location, &format!("{location}/{siteid}"))
                .is_some_and(|l| text(l, "type") == Some("STOREROOM"));
            if !is_storeroom {
                return Err(missing("location", "Storeroom", location));
            }
        }
        Os::Item | Os::Location | Os::Vendor => {}
    }
    Ok(())
}

/// Merges or replaces the purchase order lines of `record` with `lines` from a request.
fn apply_lines(
    os: Os,
    store: &mut Store,
    record: &mut Record,
    lines: &Value,
    merge: bool,
) -> Result<(), MaxError> {
    let Some(attrs) = os.child("poline") else {
        return Ok(());
    };
    let Value::Array(incoming) = lines else {
        return Err(MaxError::attr(
            os,
            "poline",
            None,
            "POLINE must be an array.".to_owned(),
        ));
    };
    let mut current: Vec<Map<String, Value>> = if merge {
        record
            .get("poline")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_object().cloned()).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for line in incoming {
        let Some(line) = line.as_object() else {
            return Err(MaxError::attr(
                os,
                "poline",
                None,
                "A POLINE must be an object.".to_owned(),
            ));
        };
        let number = line.get("polinenum").and_then(Value::as_i64);
        let action = line
            .get("_action")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let existing = number.and_then(|n| {
            current
                .iter()
                .position(|l| l.get("polinenum").and_then(Value::as_i64) == Some(n))
        });
        if action.as_deref() == Some("delete") {
            match existing {
                Some(at) => {
                    current.remove(at);
                    continue;
                }
                None => {
                    return Err(MaxError::attr(
                        os,
                        "polinenum",
                        None,
                        format!("PO line {} does not exist.", number.unwrap_or_default()),
                    ));
                }
            }
        }
        let mut target = match existing {
            Some(at) => current.remove(at),
            None => {
                let next = current
                    .iter()
                    .filter_map(|l| l.get("polinenum").and_then(Value::as_i64))
                    .max()
                    .unwrap_or(0)
                    + 1;
                let mut fresh = Map::new();
                fresh.insert("polineid".into(), json!(store.next_polineid()));
                fresh.insert("polinenum".into(), json!(number.unwrap_or(next)));
                fresh.insert("itemsetid".into(), json!(ITEMSET));
                fresh.insert("receivedqty".into(), json!(0.0));
                fresh
            }
        };
        for (name, value) in line {
            let lower = name.to_ascii_lowercase();
            if lower == "_action" || lower == "polinenum" {
                continue;
            }
            let Some(attr) = attrs.iter().find(|a| a.name == lower) else {
                return Err(MaxError::attr(
                    os,
                    &lower,
                    None,
                    format!(
                        "The attribute {} is not in POLINE.",
                        lower.to_ascii_uppercase()
                    ),
                ));
            };
            if attr.read_only {
                return Err(MaxError::attr(
                    os,
                    &lower,
                    None,
                    format!("The {} field is read-only.", lower.to_ascii_uppercase()),
                ));
            }
            target.insert(attr.name.to_owned(), typed(os, attr, value)?);
        }
        // Item defaults and the line cost.
        if let Some(item) = target
            .get("itemnum")
            .and_then(Value::as_str)
            .map(str::to_owned)
        {
            let set = target
                .get("itemsetid")
                .and_then(Value::as_str)
                .unwrap_or(ITEMSET)
                .to_owned();
            if let Some(master) = store.get(Os::Item, &format!("{item}/{set}")) {
                for (from, to) in [("description", "description"), ("orderunit", "orderunit")] {
                    if target.get(to).is_none_or(Value::is_null)
                        && let Some(v) = master.get(from)
                    {
                        target.insert(to.to_owned(), v.clone());
                    }
                }
            }
        }
        let qty = target
            .get("orderqty")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        if qty <= 0.0 {
            return Err(MaxError::attr(
                os,
                "orderqty",
                None,
                "The order quantity of a PO line must be greater than zero.".to_owned(),
            ));
        }
        let cost = target
            .get("unitcost")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        target.insert(
            "linecost".into(),
            json!((qty * cost * 100.0).round() / 100.0),
        );
        current.push(target);
    }
    current.sort_by_key(|l| l.get("polinenum").and_then(Value::as_i64));
    let total: f64 = current
        .iter()
        .filter_map(|l| l.get("linecost").and_then(Value::as_f64))
        .sum();
    record.insert("totalcost".into(), json!((total * 100.0).round() / 100.0));
    record.insert(
        "poline".into(),
        Value::Array(current.into_iter().map(Value::Object).collect()),
    );
    Ok(())
}

/// A new record of `os` from a create body (not yet stored).
pub(crate) fn create(
    os: Os,
    store: &mut Store,
    body: &Map<String, Value>,
    w: &Writer<'_>,
) -> Result<Record, MaxError> {
    let now = json!(maximo_date(w.now));
    let mut r = Record::new();
    apply_attrs(os, body, &mut r, true)?;
    // Site and organization.
    if os.attr("siteid").is_some() {
        let siteid = text(&r, "siteid").unwrap_or(w.default_site).to_owned();
        let Some(s) = site(&siteid) else {
            return Err(MaxError::attr(
                os,
                "siteid",
                Some("BMXAA4153E"),
                format!(
                    "BMXAA4153E - {siteid} is not a valid site. Enter a valid Site value as defined in the Organization Application."
                ),
            ));
        };
        r.insert("siteid".into(), json!(s.siteid));
        r.insert("orgid".into(), json!(s.orgid));
    } else if os.attr("orgid").is_some() {
        let orgid = text(&r, "orgid").unwrap_or("EAGLENA").to_owned();
        if !super::store::SITES.iter().any(|s| s.orgid == orgid) {
            return Err(MaxError::attr(
                os,
                "orgid",
                None,
                format!("{orgid} is not a valid organization."),
            ));
        }
        r.insert("orgid".into(), json!(orgid));
    }
    if os.attr("itemsetid").is_some() && text(&r, "itemsetid").is_none() {
        r.insert("itemsetid".into(), json!(ITEMSET));
    }
    // Keys: autokeyed or required.
    if let Some(auto) = os.autokey()
        && text(&r, auto).is_none()
    {
        let value = store.next_autokey(os);
        r.insert(auto.to_owned(), json!(value));
    }
    if os == Os::Po {
        r.insert("revisionnum".into(), json!(0));
    }
    for key in os.pk() {
        if r.get(*key)
            .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
        {
            return Err(required(os, key));
        }
    }
    // Defaults Maximo fills in.
    match os {
        Os::WorkOrder => {
            r.insert("status".into(), json!("WAPPR"));
            r.insert("statusdate".into(), now.clone());
            r.insert("reportdate".into(), now.clone());
            r.insert("reportedby".into(), json!(w.user));
            r.entry("worktype").or_insert(json!("CM"));
        }
        Os::Po => {
            r.insert("status".into(), json!("WAPPR"));
            r.insert("statusdate".into(), now.clone());
            r.entry("orderdate").or_insert(now.clone());
            r.entry("currencycode").or_insert(json!("USD"));
            r.entry("potype").or_insert(json!("STD"));
            r.insert("totalcost".into(), json!(0.0));
            r.insert("poline".into(), json!([]));
            if let Some(lines) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("poline")) {
                apply_lines(os, store, &mut r, lines.1, false)?;
            }
        }
        Os::Asset => {
            r.insert("status".into(), json!("NOT READY"));
            r.insert("isrunning".into(), json!(false));
        }
        Os::Item => {
            r.insert("status".into(), json!("ACTIVE"));
            r.entry("rotating").or_insert(json!(false));
            if let Some(unit) = r.get("issueunit").cloned() {
                r.entry("orderunit").or_insert(unit);
            }
        }
        Os::Inventory => {
            r.insert("curbaltotal".into(), json!(0.0));
            r.insert("avgcost".into(), json!(0.0));
            r.insert("status".into(), json!("ACTIVE"));
            if text(&r, "issueunit").is_none() {
                let item = format!(
                    "{}/{}",
                    text(&r, "itemnum").unwrap_or_default(),
                    text(&r, "itemsetid").unwrap_or(ITEMSET)
                );
                if let Some(unit) = store.get(Os::Item, &item).and_then(|i| i.get("issueunit")) {
                    r.insert("issueunit".into(), unit.clone());
                }
            }
        }
        Os::Location => {
            r.insert("status".into(), json!("OPERATING"));
            r.entry("type").or_insert(json!("OPERATING"));
        }
        Os::Vendor => {
            r.entry("type").or_insert(json!("V"));
            r.entry("disabled").or_insert(json!(false));
        }
    }
    if os.attr("changedate").is_some() {
        r.insert("changedate".into(), now);
        r.insert("changeby".into(), json!(w.user));
    }
    check_references(os, store, &r)?;
    if let Some(key) = key_of(os, &r)
        && store.exists(os, &key)
    {
        return Err(MaxError::attr(
            os,
            os.pk().last().copied().unwrap_or_default(),
            None,
            format!(
                "The record {key} already exists in {}.",
                os.mbo().to_ascii_uppercase()
            ),
        ));
    }
    Ok(r)
}

/// `current` changed by an update body. `merge` is `patchtype: MERGE` (child lines merged
/// instead of replaced). A `status` in the body is a status change, with its rules.
pub(crate) fn update(
    os: Os,
    store: &mut Store,
    current: &Record,
    body: &Map<String, Value>,
    merge: bool,
    w: &Writer<'_>,
) -> Result<Record, MaxError> {
    let mut r = current.clone();
    apply_attrs(os, body, &mut r, false)?;
    if let Some((_, lines)) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("poline")) {
        apply_lines(os, store, &mut r, lines, merge)?;
    }
    check_references(os, store, &r)?;
    if os.attr("changedate").is_some() {
        r.insert("changedate".into(), json!(maximo_date(w.now)));
        r.insert("changeby".into(), json!(w.user));
    }
    if os.has_change_status()
        && let Some((_, status)) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("status"))
    {
        let Some(status) = status.as_str() else {
            return Err(MaxError::attr(
                os,
                "status",
                None,
                "STATUS must be text.".to_owned(),
            ));
        };
        change_status(os, &mut r, status, w)?;
    }
    Ok(r)
}

/// Changes the status of `r`, enforcing the transitions of its object.
pub(crate) fn change_status(
    os: Os,
    r: &mut Record,
    to: &str,
    w: &Writer<'_>,
) -> Result<(), MaxError> {
    let from = text(r, "status").unwrap_or_default().to_owned();
    if os.status_description(to).is_none() {
        return Err(MaxError::attr(
            os,
            "status",
            None,
            format!(
                "{to} is not a valid status for {}.",
                os.mbo().to_ascii_uppercase()
            ),
        ));
    }
    if from == to {
        return Ok(());
    }
    let id = key_of(os, r).unwrap_or_default();
    match os {
        Os::WorkOrder => wo_transition(&id, &from, to)?,
        Os::Po => po_transition(&id, &from, to)?,
        _ => {
            return Err(MaxError::attr(
                os,
                "status",
                None,
                "The status cannot be changed here.".to_owned(),
            ));
        }
    }
    let now = json!(maximo_date(w.now));
    r.insert("status".into(), json!(to));
    r.insert("statusdate".into(), now.clone());
    r.insert("changedate".into(), now.clone());
    r.insert("changeby".into(), json!(w.user));
    if os == Os::WorkOrder {
        if to == "INPRG" && r.get("actstart").is_none_or(Value::is_null) {
            r.insert("actstart".into(), now.clone());
        }
        if to == "COMP" || (to == "CLOSE" && r.get("actfinish").is_none_or(Value::is_null)) {
            r.insert("actfinish".into(), now);
        }
    }
    Ok(())
}

/// Work order transitions. Statuses before INPRG move freely among themselves and forward;
/// INPRG goes on to waiting statuses or completion; COMP may only be closed; CLOSE and CAN
/// are final.
fn wo_transition(wonum: &str, from: &str, to: &str) -> Result<(), MaxError> {
    let refuse = |code: &'static str| {
        Err(MaxError::attr(
            Os::WorkOrder,
            "status",
            Some(code),
            format!(
                "{code} - Work order {wonum} cannot be changed from status {from} to status {to}."
            ),
        ))
    };
    let allowed = match from {
        "WAPPR" | "APPR" | "WSCH" | "WMATL" | "WPCOND" => true,
        "INPRG" => matches!(to, "WMATL" | "WPCOND" | "COMP" | "CLOSE"),
        "COMP" => to == "CLOSE",
        _ => false,
    };
    if allowed {
        Ok(())
    } else if to == "INPRG" {
        refuse("BMXAA4638E")
    } else {
        refuse("BMXAA4679E")
    }
}

/// Purchase order transitions: approval, hold and cancellation; CLOSE and CAN are final.
fn po_transition(ponum: &str, from: &str, to: &str) -> Result<(), MaxError> {
    let allowed = match from {
        "WAPPR" | "INPRG" => matches!(to, "APPR" | "HOLD" | "CAN" | "INPRG" | "WAPPR"),
        "APPR" => matches!(to, "CLOSE" | "CAN" | "HOLD"),
        "HOLD" => matches!(to, "WAPPR" | "APPR" | "CAN"),
        "REVISE" => matches!(to, "APPR" | "CAN"),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(MaxError::attr(
            Os::Po,
            "status",
            None,
            format!("Purchase order {ponum} cannot be changed from status {from} to status {to}."),
        ))
    }
}

/// Why `record` of `os` cannot be deleted, if it cannot: a status or balance rule, or another
/// record that still refers to it (Maximo's `canDelete` checks; the exact message codes are
/// not documented [U], so the refusals carry none).
pub(crate) fn delete_refusal(os: Os, store: &Store, record: &Record) -> Option<MaxError> {
    if let Some(refusal) = referenced(os, store, record) {
        return Some(refusal);
    }
    let status = text(record, "status").unwrap_or_default();
    let key = key_of(os, record).unwrap_or_default();
    match os {
        Os::WorkOrder | Os::Po if status != "WAPPR" => Some(MaxError::plain(
            400,
            None,
            format!(
                "{} {key} has status {status}; only a record waiting on approval (WAPPR) can be deleted. Cancel it instead.",
                os.mbo().to_ascii_uppercase()
            ),
        )),
        Os::Inventory
            if record
                .get("curbaltotal")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                != 0.0 =>
        {
            Some(MaxError::plain(
                400,
                None,
                format!(
                    "Inventory {key} has a current balance; only a record with a zero balance can be deleted."
                ),
            ))
        }
        _ => None,
    }
}

/// A record of another object structure that refers to `record`, as a refusal to delete it:
/// an asset or a location on a work order, a location holding assets or stock, an item in a
/// storeroom or on a purchase order line, a company that is a purchase order's vendor.
fn referenced(os: Os, store: &Store, record: &Record) -> Option<MaxError> {
    let same = |r: &Record, pairs: &[(&str, &str)]| {
        pairs.iter().all(|(theirs, ours)| {
            text(r, theirs).is_some() && text(r, theirs) == text(record, ours)
        })
    };
    let key = key_of(os, record).unwrap_or_default();
    let first = |by: Os, pairs: &[(&str, &str)]| {
        store
            .iter(by)
            .find(|r| same(r, pairs))
            .and_then(|r| key_of(by, r))
            .map(|other| (by, other))
    };
    let hit = match os {
        Os::Asset => first(
            Os::WorkOrder,
            &[("assetnum", "assetnum"), ("siteid", "siteid")],
        )
        .or_else(|| first(Os::Asset, &[("parent", "assetnum"), ("siteid", "siteid")])),
        Os::Location => first(Os::Asset, &[("location", "location"), ("siteid", "siteid")])
            .or_else(|| {
                first(
                    Os::Inventory,
                    &[("location", "location"), ("siteid", "siteid")],
                )
            })
            .or_else(|| {
                first(
                    Os::WorkOrder,
                    &[("location", "location"), ("siteid", "siteid")],
                )
            }),
        Os::Item => first(
            Os::Inventory,
            &[("itemnum", "itemnum"), ("itemsetid", "itemsetid")],
        )
        .or_else(|| {
            let itemnum = text(record, "itemnum")?;
            store
                .iter(Os::Po)
                .find(|po| {
                    po.get("poline")
                        .and_then(Value::as_array)
                        .is_some_and(|lines| {
                            lines
                                .iter()
                                .any(|l| l.get("itemnum").and_then(Value::as_str) == Some(itemnum))
                        })
                })
                .and_then(|po| key_of(Os::Po, po))
                .map(|other| (Os::Po, other))
        }),
        Os::Vendor => first(Os::Po, &[("vendor", "company"), ("orgid", "orgid")]),
        Os::WorkOrder | Os::Po | Os::Inventory => None,
    }?;
    let (by, other) = hit;
    Some(MaxError::plain(
        400,
        None,
        format!(
            "{} {key} cannot be deleted because {} {other} refers to it.",
            os.mbo().to_ascii_uppercase(),
            by.mbo().to_ascii_uppercase()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maximo::seed::{SeedPlan, seeded};

    fn store() -> Store {
        seeded(SeedPlan {
            work_orders: 5,
            assets: 8,
            purchase_orders: 2,
            items: 6,
            locations: 6,
            vendors: 4,
        })
    }

    fn w() -> Writer<'static> {
        Writer {
            user: "MAXADMIN",
            default_site: "BEDFORD",
            now: 1_700_000_000_000,
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn creates_fill_in_keys_and_defaults_and_check_sites() {
        let mut s = store();
        let r = create(
            Os::WorkOrder,
            &mut s,
            &body(json!({"description": "x"})),
            &w(),
        )
        .unwrap();
        assert_eq!(r["siteid"], "BEDFORD");
        assert_eq!(r["status"], "WAPPR");
        assert_eq!(r["wonum"], "1005");
        let e = create(
            Os::WorkOrder,
            &mut s,
            &body(json!({"siteid": "BEDFORDXXYY"})),
            &w(),
        )
        .unwrap_err();
        assert_eq!(e.reason, Some("BMXAA4153E"));
        let e = create(
            Os::WorkOrder,
            &mut s,
            &body(json!({"status": "APPR"})),
            &w(),
        )
        .unwrap_err();
        assert_eq!(e.attr.as_deref(), Some("status"));
        let e = create(
            Os::Location,
            &mut s,
            &body(json!({"description": "x"})),
            &w(),
        )
        .unwrap_err();
        assert_eq!(e.reason, Some("BMXAA4195E"));
        let e = create(
            Os::WorkOrder,
            &mut s,
            &body(json!({"assetnum": "NOPE"})),
            &w(),
        )
        .unwrap_err();
        assert_eq!(e.attr.as_deref(), Some("assetnum"));
    }

    #[test]
    fn po_lines_merge_or_replace() {
        let mut s = store();
        let po = create(
            Os::Po,
            &mut s,
            &body(
                json!({"poline": [{"itemnum": "BRG-1000", "orderqty": 2, "unitcost": 10.0},
                                    {"itemnum": "BLT-1001", "orderqty": 1, "unitcost": 5.5}]}),
            ),
            &w(),
        )
        .unwrap();
        assert_eq!(po["totalcost"], 25.5);
        let merged = update(
            Os::Po,
            &mut s,
            &po,
            &body(json!({"poline": [{"polinenum": 1, "orderqty": 3}]})),
            true,
            &w(),
        )
        .unwrap();
        assert_eq!(merged["poline"].as_array().unwrap().len(), 2);
        assert_eq!(merged["totalcost"], 35.5);
        let replaced = update(
            Os::Po,
            &mut s,
            &po,
            &body(json!({"poline": [{"polinenum": 1, "itemnum": "BRG-1000", "orderqty": 1, "unitcost": 1.0}]})),
            false,
            &w(),
        )
        .unwrap();
        assert_eq!(replaced["poline"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn work_order_transitions_give_the_documented_codes() {
        let mut r = body(json!({"siteid": "BEDFORD", "wonum": "1", "status": "COMP"}));
        let e = change_status(Os::WorkOrder, &mut r, "APPR", &w()).unwrap_err();
        assert_eq!(e.reason, Some("BMXAA4679E"));
        let e = change_status(Os::WorkOrder, &mut r, "INPRG", &w()).unwrap_err();
        assert_eq!(e.reason, Some("BMXAA4638E"));
        change_status(Os::WorkOrder, &mut r, "CLOSE", &w()).unwrap();
        assert_eq!(r["status"], "CLOSE");
        assert!(change_status(Os::WorkOrder, &mut r, "BOGUS", &w()).is_err());
    }
}
