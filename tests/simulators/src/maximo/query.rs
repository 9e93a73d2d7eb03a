//! Collection queries: `oslc.where`, `oslc.select` and `oslc.orderBy` as the IBM REST API
//! guide documents them (`query/filtering`, `query/selecting`, `query/sort_and_paging`).
//!
//! `oslc.where` is a list of conditions joined by `and` (OSLC has no `or`):
//!
//! * `attr = "text"`, `attr != "text"`, `attr > 10`, `>=`, `<`, `<=`; strings and ISO dates in
//!   double quotes, numbers bare, booleans `1`/`0` or `true`/`false`;
//! * a `%` inside a quoted value makes the condition a case-insensitive LIKE
//!   (`description="%pump%"`), in which `_` stands for any one character, as in SQL;
//! * `attr="*"` is "not null", `attr!="*"` is "null";
//! * `attr in ["A","B"]` is a set; `attr!="[A,B]"` is "not in" (text attributes only).
//!
//! A `"` inside a quoted value is written `\"` [U: the guide does not say how to escape one].
//! Conditions on attributes the object structure does not have are a 400.

use std::cmp::Ordering;

use serde_json::Value;

use super::schema::{Os, Ty};
use super::store::Record;
use crate::clock::parse_ms;

/// A 400 on a query: the message goes into the `Error` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError(pub(crate) String);

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A literal of the where clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    /// A quoted string.
    Text(String),
    /// A bare number.
    Number(f64),
    /// A bare `true` / `false`.
    Bool(bool),
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Compare {
        attr: String,
        op: Op,
        value: Literal,
    },
    /// `attr in [..]` (or `attr!="[..]"` when `negated`).
    In {
        attr: String,
        values: Vec<Literal>,
        negated: bool,
    },
    /// `attr="*"` (not null) or `attr!="*"` (null).
    Present { attr: String, present: bool },
}

/// A parsed `oslc.where`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Where(pub(crate) Vec<Cond>);

struct Lexer<'a> {
    s: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.s[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }

    fn quoted(&mut self) -> Result<String, QueryError> {
        // The opening quote is already consumed.
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(QueryError("unterminated quoted value".to_owned())),
                Some(b'\\') if self.s.get(self.at + 1) == Some(&b'"') => {
                    out.push(b'"');
                    self.at += 2;
                }
                Some(b'"') => {
                    self.at += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, QueryError> {
        self.skip_ws();
        if self.eat("\"") {
            return self.quoted().map(Literal::Text);
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'+')
        {
            self.at += 1;
        }
        let raw = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
        match raw.as_str() {
            "" => Err(QueryError("a value is missing".to_owned())),
            "true" => Ok(Literal::Bool(true)),
            "false" => Ok(Literal::Bool(false)),
            _ => raw
                .parse::<f64>()
                .map(Literal::Number)
                .map_err(|_| QueryError(format!("`{raw}` is neither a number nor quoted"))),
        }
    }
}

impl Where {
    /// Parses `oslc.where` against the attributes of `os`.
    pub(crate) fn parse(os: Os, text: &str) -> Result<Where, QueryError> {
        let mut lx = Lexer {
            s: text.as_bytes(),
            at: 0,
        };
        let mut conds = Vec::new();
        loop {
            lx.skip_ws();
            let attr = lx.word().to_ascii_lowercase();
            if attr.is_empty() {
                return Err(QueryError(format!(
                    "an attribute name is expected at position {}",
                    lx.at
                )));
            }
            if os.attr(&attr).is_none() {
                return Err(QueryError(format!(
                    "{attr} is not an attribute of the {} object structure",
                    os.name().to_ascii_uppercase()
                )));
            }
            lx.skip_ws();
            let cond = if lx.eat("in") || lx.eat("IN") {
                lx.skip_ws();
                if !lx.eat("[") {
                    return Err(QueryError("`in` takes a list in [ ]".to_owned()));
                }
                let mut values = Vec::new();
                loop {
                    values.push(lx.literal()?);
                    lx.skip_ws();
                    if lx.eat(",") {
                        continue;
                    }
                    if lx.eat("]") {
                        break;
                    }
                    return Err(QueryError("a list must end with ]".to_owned()));
                }
                Cond::In {
                    attr,
                    values,
                    negated: false,
                }
            } else {
                let op = if lx.eat("!=") {
                    Op::Ne
                } else if lx.eat(">=") {
                    Op::Ge
                } else if lx.eat("<=") {
                    Op::Le
                } else if lx.eat("=") {
                    Op::Eq
                } else if lx.eat(">") {
                    Op::Gt
                } else if lx.eat("<") {
                    Op::Lt
                } else {
                    return Err(QueryError(format!(
                        "an operator (=, !=, >, >=, <, <=, in) is expected after {attr}"
                    )));
                };
                let value = lx.literal()?;
                match (&value, op) {
                    (Literal::Text(t), Op::Eq | Op::Ne) if t == "*" => Cond::Present {
                        attr,
                        present: op == Op::Eq,
                    },
                    (Literal::Text(t), Op::Ne) if t.starts_with('[') && t.ends_with(']') => {
                        let inner = &t[1..t.len() - 1];
                        Cond::In {
                            attr,
                            values: inner
                                .split(',')
                                .map(|v| Literal::Text(v.trim().to_owned()))
                                .collect(),
                            negated: true,
                        }
                    }
                    _ => Cond::Compare { attr, op, value },
                }
            };
            conds.push(cond);
            lx.skip_ws();
            if lx.peek().is_none() {
                break;
            }
            let at = lx.at;
            let word = lx.word();
            if !word.eq_ignore_ascii_case("and") {
                return Err(QueryError(format!(
                    "`and` is expected at position {at}; OSLC where clauses join conditions with `and` only"
                )));
            }
        }
        Ok(Where(conds))
    }

    /// Whether `record` of `os` meets every condition.
    pub(crate) fn matches(&self, os: Os, record: &Record) -> bool {
        self.0.iter().all(|c| cond_matches(os, c, record))
    }
}

fn is_null(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

fn cond_matches(os: Os, cond: &Cond, record: &Record) -> bool {
    match cond {
        Cond::Present { attr, present } => is_null(record.get(attr)) != *present,
        Cond::In {
            attr,
            values,
            negated,
        } => {
            let ty = os.attr(attr).map_or(Ty::Text, |a| a.ty);
            let v = record.get(attr);
            let hit = values
                .iter()
                .any(|lit| compare(ty, v, lit) == Some(Ordering::Equal));
            hit != *negated
        }
        Cond::Compare { attr, op, value } => {
            let ty = os.attr(attr).map_or(Ty::Text, |a| a.ty);
            let v = record.get(attr);
            if let Literal::Text(pattern) = value
                && ty == Ty::Text
                && pattern.contains('%')
            {
                let text = v.and_then(Value::as_str).unwrap_or_default();
                let like = like(&pattern.to_lowercase(), &text.to_lowercase());
                return match op {
                    Op::Eq => like,
                    Op::Ne => !like,
                    _ => false,
                };
            }
            let Some(ord) = compare(ty, v, value) else {
                // Nulls match nothing but `!=`.
                return *op == Op::Ne && is_null(v);
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
            }
        }
    }
}

/// The order of a record's value against a literal, by the attribute's type.
fn compare(ty: Ty, v: Option<&Value>, lit: &Literal) -> Option<Ordering> {
    let v = v.filter(|v| !v.is_null())?;
    match ty {
        Ty::Int | Ty::Dec => {
            let x = match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            let y = match lit {
                Literal::Number(n) => *n,
                Literal::Text(t) => t.parse().ok()?,
                Literal::Bool(_) => return None,
            };
            x.partial_cmp(&y)
        }
        Ty::Bool => {
            let x = v.as_bool()?;
            let y = match lit {
                Literal::Bool(b) => *b,
                Literal::Number(n) => *n != 0.0,
                Literal::Text(t) => matches!(t.as_str(), "1" | "true"),
            };
            Some(x.cmp(&y))
        }
        Ty::Date => {
            let x = parse_ms(v.as_str()?)?;
            let Literal::Text(t) = lit else { return None };
            Some(x.cmp(&parse_ms(t)?))
        }
        Ty::Text => {
            let x = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            let y = match lit {
                Literal::Text(t) => t.clone(),
                Literal::Number(n) => format_number(*n),
                Literal::Bool(b) => b.to_string(),
            };
            Some(x.cmp(&y))
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// SQL LIKE (both sides already lower-cased): `%` is any run of characters, `_` any one
/// character, as in the SQL Maximo generates for a quoted value with `%` [U: whether Maximo
/// escapes `_` is not documented; the databases it runs on read it as a wildcard].
fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Positions in `p` and `t`, and where to resume after the last `%`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        match p.get(i) {
            Some('%') => {
                star = Some((i, j));
                i += 1;
            }
            Some(c) if *c == '_' || *c == t[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|c| *c == '%')
}

/// A parsed `oslc.select`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Select {
    /// No `oslc.select`: collection members carry only `href`.
    HrefOnly,
    /// `*`: every attribute.
    All,
    /// These attributes, and these children with their attributes (`None` = all).
    Some {
        attrs: Vec<String>,
        children: Vec<(String, Option<Vec<String>>)>,
    },
}

impl Select {
    /// Parses `oslc.select` (e.g. `wonum,status,poline{itemnum,orderqty}`).
    pub(crate) fn parse(os: Os, text: &str) -> Result<Select, QueryError> {
        let text = text.trim();
        if text == "*" {
            return Ok(Select::All);
        }
        let mut attrs: Vec<String> = Vec::new();
        let mut children = Vec::new();
        for part in split_top(text) {
            let part = part.trim().to_ascii_lowercase();
            if part.is_empty() {
                continue;
            }
            if part == "*" {
                // Among other terms `*` is every persistent attribute of the main object; the
                // long description is not one (it is named when wanted), nor are children.
                for a in os.attrs() {
                    if a.name != "description_longdescription" && !attrs.iter().any(|x| x == a.name)
                    {
                        attrs.push(a.name.to_owned());
                    }
                }
                continue;
            }
            if let Some((name, rest)) = part.split_once('{') {
                let inner = rest.strip_suffix('}').ok_or_else(|| {
                    QueryError(format!("`{part}`: a child selection must end with }}"))
                })?;
                let Some(child_attrs) = os.child(name) else {
                    return Err(QueryError(format!(
                        "{name} is not a child object of {}",
                        os.name().to_ascii_uppercase()
                    )));
                };
                let selected = if inner.trim() == "*" {
                    None
                } else {
                    let names: Vec<String> =
                        inner.split(',').map(|s| s.trim().to_owned()).collect();
                    for n in &names {
                        if !child_attrs.iter().any(|a| a.name == n) {
                            return Err(QueryError(format!("{n} is not an attribute of {name}")));
                        }
                    }
                    Some(names)
                };
                children.push((name.to_owned(), selected));
            } else if os.attr(&part).is_some() || part == "_rowstamp" || part == "href" {
                attrs.push(part);
            } else if os.child(&part).is_some() {
                children.push((part, None));
            } else if let Some(base) = part.strip_suffix("_description") {
                if os.attr(base).is_none() {
                    return Err(QueryError(format!("{part} is not an attribute")));
                }
                attrs.push(base.to_owned());
            } else {
                return Err(QueryError(format!(
                    "{part} is not an attribute of the {} object structure",
                    os.name().to_ascii_uppercase()
                )));
            }
        }
        Ok(Select::Some { attrs, children })
    }
}

/// Splits at commas outside braces.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// A parsed `oslc.orderBy`: (attribute, descending).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OrderBy(pub(crate) Vec<(String, bool)>);

impl OrderBy {
    /// Parses `-attr1,+attr2`. Every attribute must carry its sign; a `+` that was not
    /// percent-encoded arrives as a space and is refused, as on a real server.
    pub(crate) fn parse(os: Os, text: &str) -> Result<OrderBy, QueryError> {
        let mut out = Vec::new();
        for part in text.split(',') {
            let (descending, name) = if let Some(n) = part.strip_prefix('-') {
                (true, n)
            } else if let Some(n) = part.strip_prefix('+') {
                (false, n)
            } else {
                return Err(QueryError(format!(
                    "`{part}`: every oslc.orderBy attribute must be prefixed with + or - (an unencoded + arrives as a space)"
                )));
            };
            let name = name.to_ascii_lowercase();
            if os.attr(&name).is_none() {
                return Err(QueryError(format!(
                    "{name} is not a persistent attribute of the {} main object",
                    os.name().to_ascii_uppercase()
                )));
            }
            out.push((name, descending));
        }
        Ok(OrderBy(out))
    }

    /// Compares two records of `os` (ties keep creation order).
    pub(crate) fn cmp(&self, os: Os, a: &Record, b: &Record) -> Ordering {
        for (attr, descending) in &self.0 {
            let ty = os.attr(attr).map_or(Ty::Text, |x| x.ty);
            let ord = value_order(ty, a.get(attr), b.get(attr));
            let ord = if *descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

/// Orders two attribute values; nulls sort first.
fn value_order(ty: Ty, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => match ty {
            Ty::Int | Ty::Dec => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            Ty::Date => parse_ms(x.as_str().unwrap_or_default())
                .cmp(&parse_ms(y.as_str().unwrap_or_default())),
            Ty::Bool => x.as_bool().cmp(&y.as_bool()),
            Ty::Text => x.as_str().cmp(&y.as_str()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        match v {
            Value::Object(m) => m,
            _ => Record::new(),
        }
    }

    #[test]
    fn where_parses_the_documented_forms() {
        let w = Where::parse(
            Os::WorkOrder,
            r#"status in ["WAPPR","APPR"] and siteid="BEDFORD" and wopriority>=2 and assetnum="*" and description="%pump%" and location!="[BR1,BR2]""#,
        )
        .unwrap();
        assert_eq!(w.0.len(), 6);
        let r = rec(
            json!({"status": "APPR", "siteid": "BEDFORD", "wopriority": 3,
            "assetnum": "11200", "description": "Replace seal on Pump P-1", "location": "BR7"}),
        );
        assert!(w.matches(Os::WorkOrder, &r));
        let r2 = rec(json!({"status": "COMP", "siteid": "BEDFORD", "wopriority": 3}));
        assert!(!w.matches(Os::WorkOrder, &r2));
        let nulls = Where::parse(Os::WorkOrder, r#"assetnum!="*""#).unwrap();
        assert!(nulls.matches(Os::WorkOrder, &r2));
        let dated =
            Where::parse(Os::WorkOrder, r#"changedate>="2024-01-01T00:00:00-05:00""#).unwrap();
        assert!(dated.matches(
            Os::WorkOrder,
            &rec(json!({"changedate": "2024-01-01T06:00:00+00:00"}))
        ));
        let quoted = Where::parse(Os::WorkOrder, r#"description="say \"hi\"""#).unwrap();
        assert!(quoted.matches(Os::WorkOrder, &rec(json!({"description": "say \"hi\""}))));
    }

    #[test]
    fn where_refuses_what_oslc_lacks() {
        for bad in [
            r#"status="APPR" or status="WAPPR""#,
            r#"nosuch="x""#,
            r#"status="APPR"#,
            "status=APPR",
            r#"status in ["A""#,
            "",
        ] {
            assert!(Where::parse(Os::WorkOrder, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn select_and_order_by() {
        assert_eq!(Select::parse(Os::Po, "*").unwrap(), Select::All);
        let s = Select::parse(Os::Po, "ponum,status_description,poline{itemnum,orderqty}").unwrap();
        assert_eq!(
            s,
            Select::Some {
                attrs: vec!["ponum".into(), "status".into()],
                children: vec![(
                    "poline".into(),
                    Some(vec!["itemnum".into(), "orderqty".into()])
                )],
            }
        );
        assert!(Select::parse(Os::Po, "nosuch").is_err());
        let o = OrderBy::parse(Os::WorkOrder, "-changedate,+wonum").unwrap();
        assert_eq!(
            o.0,
            vec![("changedate".into(), true), ("wonum".into(), false)]
        );
        assert!(OrderBy::parse(Os::WorkOrder, " changedate").is_err());
        assert!(OrderBy::parse(Os::WorkOrder, "-location.description").is_err());
        assert!(like("%pump%", "replace seal on pump p-1"));
        assert!(!like("pump%", "replace pump"));
        assert!(like("%p_mp%", "replace pump"));
        assert!(like("%p_mp%", "pxmp"));
        assert!(!like("%p_mp%", "pmp"));
        assert!(like("a%b%c", "aXbYbc"));
        assert!(!like("a%b%c", "aXbYb"));
        assert!(like("%", ""));
        assert!(like("%%x%", "yx"));
        assert!(!like("_", ""));
        assert!(like("%é%", "café"));
        let s = Select::parse(Os::WorkOrder, "*,description_longdescription").unwrap();
        let Select::Some { attrs, .. } = s else {
            panic!("a selection")
        };
        assert!(attrs.iter().any(|a| a == "exsafetyclass"));
        assert_eq!(
            attrs
                .iter()
                .filter(|a| a.as_str() == "description_longdescription")
                .count(),
            1
        );
    }
}
