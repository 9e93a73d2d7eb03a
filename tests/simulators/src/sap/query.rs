//! OData V2 system query options as SAP Gateway reads them: `$filter` (comparison operators
//! `eq ne gt ge lt le`, `and`, `or`, `not`, parentheses, `substringof`, `startswith`,
//! `endswith`), `$orderby`, `$select`, `$expand`, `$top`, `$skip`, `$skiptoken`,
//! `$inlinecount`, `$format`. A malformed option, or one naming a property the entity type does
//! not have (or that is `sap:filterable="false"` / `sap:sortable="false"`), is a `400`.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::model::{Edm, Set};
use super::values::{compare_typed, from_literal, quoted};

/// The parsed query options of a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub(crate) filter: Option<Expr>,
    pub(crate) orderby: Vec<(&'static str, bool)>,
    pub(crate) select: Option<Vec<String>>,
    pub(crate) expand: Vec<&'static str>,
    pub(crate) top: Option<usize>,
    pub(crate) skip: usize,
    pub(crate) skiptoken: Option<usize>,
    pub(crate) inlinecount: bool,
    /// `$format=json` was given.
    pub(crate) json: bool,
    /// The query string as received, to build `__next` links.
    pub(crate) raw: String,
    /// Custom (non-`$`) parameters: function import parameters, `sap-client`.
    pub(crate) custom: Vec<(String, String)>,
}

/// A `$filter` expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(&'static str, Edm, Op, Value),
    /// `substringof('x', P)`, `startswith(P, 'x')`, `endswith(P, 'x')`.
    Text(&'static str, TextFn, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextFn {
    Substring,
    Starts,
    Ends,
}

impl Expr {
    /// Whether `entity` matches.
    pub(crate) fn matches(&self, entity: &Map<String, Value>) -> bool {
        match self {
            Expr::And(a, b) => a.matches(entity) && b.matches(entity),
            Expr::Or(a, b) => a.matches(entity) || b.matches(entity),
            Expr::Not(a) => !a.matches(entity),
            Expr::Compare(prop, edm, op, literal) => {
                let stored = entity.get(*prop).unwrap_or(&Value::Null);
                let stored = match (edm, stored) {
                    // An initial string compares as '' (ABAP has no null strings).
                    (Edm::String(_), Value::Null) => &Value::String(String::new()),
                    _ => stored,
                };
                let ord = compare_typed(*edm, stored, literal);
                match op {
                    Op::Eq => ord == Ordering::Equal,
                    Op::Ne => ord != Ordering::Equal,
                    Op::Gt => ord == Ordering::Greater,
                    Op::Ge => ord != Ordering::Less,
                    Op::Lt => ord == Ordering::Less,
                    Op::Le => ord != Ordering::Greater,
                }
            }
            Expr::Text(prop, f, needle) => {
                let hay = entity.get(*prop).and_then(Value::as_str).unwrap_or("");
                match f {
                    TextFn::Substring => hay.contains(needle.as_str()),
                    TextFn::Starts => hay.starts_with(needle.as_str()),
                    TextFn::Ends => hay.ends_with(needle.as_str()),
                }
            }
        }
    }
}

/// Parses the query string of a request to `set` (`None` for a function import or service
/// document, where only the generic options are checked).
pub(crate) fn parse(query: Option<&str>, set: Option<Set>) -> Result<Options, String> {
    let mut o = Options::default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    o.raw = query.unwrap_or("").to_owned();
    for (name, value) in &pairs {
        match name.as_str() {
            "$filter" => {
                let set = set.ok_or("$filter is not allowed here")?;
                o.filter = Some(parse_filter(set, value)?);
            }
            "$orderby" => {
                let set = set.ok_or("$orderby is not allowed here")?;
                for part in value.split(',') {
                    let mut words = part.split_whitespace();
                    let name = words.next().ok_or("Invalid $orderby")?;
                    let descending = match words.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => return Err(format!("Invalid sort order '{other}'")),
                    };
                    if words.next().is_some() {
                        return Err(format!("Invalid $orderby '{value}'"));
                    }
                    let prop = set.prop(name).ok_or_else(|| {
                        format!("Property {name} not found in type {}", set.type_name())
                    })?;
                    if !prop.sortable {
                        return Err(format!("Property {name} is not sortable"));
                    }
                    o.orderby.push((prop.name, descending));
                }
            }
            "$select" => {
                let set = set.ok_or("$select is not allowed here")?;
                let mut names = Vec::new();
                for name in value.split(',').map(str::trim) {
                    if name != "*" && set.prop(name).is_none() && set.nav(name).is_none() {
                        return Err(format!(
                            "Property {name} not found in type {}",
                            set.type_name()
                        ));
                    }
                    names.push(name.to_owned());
                }
                o.select = Some(names);
            }
            "$expand" => {
                let set = set.ok_or("$expand is not allowed here")?;
                for name in value.split(',').map(str::trim) {
                    let nav = set.nav(name).ok_or_else(|| {
                        format!(
                            "Navigation property {name} not found in type {}",
                            set.type_name()
                        )
                    })?;
                    o.expand.push(nav.name);
                }
            }
            "$top" => o.top = Some(count(name, value)?),
            "$skip" => o.skip = count(name, value)?,
            "$skiptoken" => o.skiptoken = Some(count(name, value)?),
            "$inlinecount" => match value.as_str() {
                "allpages" => o.inlinecount = true,
                "none" => o.inlinecount = false,
                other => return Err(format!("Invalid value '{other}' for $inlinecount")),
            },
            "$format" => match value.as_str() {
                "json" => o.json = true,
                other => {
                    return Err(format!(
                        "Format '{other}' is not simulated; use $format=json"
                    ));
                }
            },
            other if other.starts_with('$') => {
                return Err(format!("Invalid system query option {other}"));
            }
            _ => o.custom.push((name.clone(), value.clone())),
        }
    }
    Ok(o)
}

fn count(name: &str, value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .map_err(|_| format!("Invalid value '{value}' for {name}"))
}

/// Sorts `rows` by `orderby` alone (a stable sort: ties keep the order they came in).
pub(crate) fn sort_by(
    rows: &mut [&Map<String, Value>],
    set: Set,
    orderby: &[(&'static str, bool)],
) {
    rows.sort_by(|a, b| by_orderby(set, orderby, a, b));
}

fn by_orderby(
    set: Set,
    orderby: &[(&'static str, bool)],
    a: &Map<String, Value>,
    b: &Map<String, Value>,
) -> Ordering {
    for (prop, descending) in orderby {
        let edm = set.prop(prop).map_or(Edm::String(0), |p| p.edm);
        let ord = compare_typed(
            edm,
            a.get(*prop).unwrap_or(&Value::Null),
            b.get(*prop).unwrap_or(&Value::Null),
        );
        if ord != Ordering::Equal {
            return if *descending { ord.reverse() } else { ord };
        }
    }
    Ordering::Equal
}

/// Sorts `rows` by `orderby`, the key order breaking ties (SAP's default order is the key).
pub(crate) fn sort(rows: &mut [&Map<String, Value>], set: Set, orderby: &[(&'static str, bool)]) {
    rows.sort_by(|a, b| {
        let ord = by_orderby(set, orderby, a, b);
        if ord != Ordering::Equal {
            return ord;
        }
        for key in set.keys() {
            let edm = set.prop(key).map_or(Edm::String(0), |p| p.edm);
            let ord = compare_typed(
                edm,
                a.get(*key).unwrap_or(&Value::Null),
                b.get(*key).unwrap_or(&Value::Null),
            );
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

// ------------------------------------------------------------------------------- $filter

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A literal as written (`'x'`, `datetime'…'`, `12.5M`, `true`).
    Lit(String),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '\'' {
            let (lit, next) = quoted_at(&chars, i)?;
            out.push(Tok::Lit(lit));
            i = next;
        } else if c.is_ascii_digit() || c == '-' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Lit(chars[start..i].iter().collect()));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if (word == "datetime" || word == "datetimeoffset" || word == "guid")
                && chars.get(i) == Some(&'\'')
            {
                let (lit, next) = quoted_at(&chars, i)?;
                out.push(Tok::Lit(format!("{word}{lit}")));
                i = next;
            } else if matches!(word.as_str(), "true" | "false" | "null") {
                out.push(Tok::Lit(word));
            } else {
                out.push(Tok::Ident(word));
            }
        } else {
            return Err(format!("Invalid character '{c}' in $filter"));
        }
    }
    Ok(out)
}

/// The quoted literal starting at `chars[at]` (a quote), with its quotes, and the index after.
fn quoted_at(chars: &[char], at: usize) -> Result<(String, usize), String> {
    let mut i = at + 1;
    let mut lit = String::from("'");
    loop {
        match chars.get(i) {
            None => return Err("Unterminated string literal in $filter".to_owned()),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                lit.push_str("''");
                i += 2;
            }
            Some('\'') => {
                lit.push('\'');
                return Ok((lit, i + 1));
            }
            Some(c) => {
                lit.push(*c);
                i += 1;
            }
        }
    }
}

struct Parser<'a> {
    set: Set,
    toks: &'a [Tok],
    at: usize,
}

/// Parses a `$filter` value against the properties of `set`.
pub(crate) fn parse_filter(set: Set, text: &str) -> Result<Expr, String> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        set,
        toks: &toks,
        at: 0,
    };
    let expr = p.or()?;
    if p.at != toks.len() {
        return Err(format!("Invalid filter expression: '{text}'"));
    }
    Ok(expr)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let inner = self.or()?;
            if self.next() != Some(Tok::Close) {
                return Err("Missing ')' in $filter".to_owned());
            }
            return Ok(inner);
        }
        let expr = self.primary()?;
        Ok(expr)
    }

    fn property(&self, name: &str) -> Result<(&'static str, Edm), String> {
        let prop = self
            .set
            .prop(name)
            .ok_or_else(|| format!("Property {name} not found in type {}", self.set.type_name()))?;
        if !prop.filterable {
            return Err(format!("Property {name} is not filterable"));
        }
        Ok((prop.name, prop.edm))
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(Tok::Ident(name)) = self.next() else {
            return Err("Invalid filter expression".to_owned());
        };
        let function = match name.as_str() {
            "substringof" => Some(TextFn::Substring),
            "startswith" => Some(TextFn::Starts),
            "endswith" => Some(TextFn::Ends),
            _ => None,
        };
        if let Some(f) = function {
            let expr = self.text_function(f)?;
            // `startswith(P,'x') eq true` is the V2 spelling; a bare call is accepted too.
            if self.keyword("eq") {
                return match self.next() {
                    Some(Tok::Lit(b)) if b == "true" => Ok(expr),
                    Some(Tok::Lit(b)) if b == "false" => Ok(Expr::Not(Box::new(expr))),
                    _ => Err("Invalid filter expression".to_owned()),
                };
            }
            return Ok(expr);
        }
        let (prop, edm) = self.property(&name)?;
        let op = match self.next() {
            Some(Tok::Ident(op)) => match op.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return Err(format!("Invalid operator '{other}' in $filter")),
            },
            _ => return Err(format!("Operator expected after {name} in $filter")),
        };
        let Some(Tok::Lit(literal)) = self.next() else {
            return Err(format!("Literal expected after {name} in $filter"));
        };
        let value = from_literal(edm, &literal)
            .ok_or_else(|| format!("Invalid literal {literal} for property {name}"))?;
        Ok(Expr::Compare(prop, edm, op, value))
    }

    fn text_function(&mut self, f: TextFn) -> Result<Expr, String> {
        if self.next() != Some(Tok::Open) {
            return Err("'(' expected".to_owned());
        }
        let first = self.next();
        if self.next() != Some(Tok::Comma) {
            return Err("',' expected".to_owned());
        }
        let second = self.next();
        if self.next() != Some(Tok::Close) {
            return Err("')' expected".to_owned());
        }
        let (ident, literal) = match (f, first, second) {
            (TextFn::Substring, Some(Tok::Lit(l)), Some(Tok::Ident(i)))
            | (TextFn::Starts | TextFn::Ends, Some(Tok::Ident(i)), Some(Tok::Lit(l))) => (i, l),
            _ => return Err("Invalid arguments of a string function".to_owned()),
        };
        let (prop, edm) = self.property(&ident)?;
        if !matches!(edm, Edm::String(_)) {
            return Err(format!("Property {ident} is not a string"));
        }
        let needle = quoted(&literal).ok_or_else(|| format!("Invalid literal {literal}"))?;
        Ok(Expr::Text(prop, f, needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(desc: &str, plant: &str, prio: &str) -> Map<String, Value> {
        let v = json!({"MaintenanceOrderDesc": desc, "MaintenancePlanningPlant": plant,
                       "MaintPriority": prio, "LastChangeDateTime": 1_700_697_600_000_i64});
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn filters_evaluate() {
        let set = Set::MaintenanceOrder;
        let e = parse_filter(
            set,
            "MaintenancePlanningPlant eq '1010' and (MaintPriority eq '1' or MaintPriority eq '2')",
        )
        .unwrap();
        assert!(e.matches(&order("x", "1010", "2")));
        assert!(!e.matches(&order("x", "1010", "3")));
        assert!(!e.matches(&order("x", "1710", "1")));
        let e = parse_filter(set, "substringof('Pump',MaintenanceOrderDesc)").unwrap();
        assert!(e.matches(&order("Pump P-1 leaks", "1010", "1")));
        let e = parse_filter(set, "startswith(MaintenanceOrderDesc,'O''Neil') eq true").unwrap();
        assert!(e.matches(&order("O'Neil check", "1010", "1")));
        let e = parse_filter(
            set,
            "LastChangeDateTime ge datetimeoffset'2023-11-23T00:00:00Z'",
        )
        .unwrap();
        assert!(e.matches(&order("x", "1010", "1")));
        let e = parse_filter(set, "not (MaintPriority eq '1')").unwrap();
        assert!(e.matches(&order("x", "1010", "2")));
    }

    #[test]
    fn bad_filters_are_refused() {
        let set = Set::MaintenanceOrder;
        for bad in [
            "Nope eq '1'",
            "SystemStatusText eq 'REL'",
            "MaintPriority eq",
            "MaintPriority eq 1 or",
            "MaintPriority eq 'x",
            "MaintPriority like '1'",
            "(MaintPriority eq '1'",
        ] {
            assert!(parse_filter(set, bad).is_err(), "{bad}");
        }
        assert!(parse(Some("$orderby=SystemStatusText"), Some(set)).is_err());
        assert!(parse(Some("$top=-1"), Some(set)).is_err());
        assert!(parse(Some("$expand=to_Nothing"), Some(set)).is_err());
        assert!(parse(Some("$unknown=1"), Some(set)).is_err());
        let o = parse(
            Some("$top=5&$skip=10&$inlinecount=allpages&$format=json&sap-client=100"),
            Some(set),
        )
        .unwrap();
        assert_eq!(
            (o.top, o.skip, o.inlinecount, o.json),
            (Some(5), 10, true, true)
        );
        assert_eq!(o.custom, vec![("sap-client".to_owned(), "100".to_owned())]);
    }
}
