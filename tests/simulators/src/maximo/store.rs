//! The simulator's records in memory: one table per object structure, in creation order
//! (the numeric unique id ascends), indexed by primary key.
//!
//! Every write stamps the record with a fresh `_rowstamp` from one counter for the whole
//! database, as Maximo's row stamps do; the ETag of a record is derived from it.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::schema::{ALL, Os};

/// A record as stored: lean JSON attributes (children as arrays), `_rowstamp` included.
pub(crate) type Record = Map<String, Value>;

/// A site of the simulated organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Site {
    pub(crate) siteid: &'static str,
    pub(crate) orgid: &'static str,
    pub(crate) description: &'static str,
}

/// The sites (one organization, two sites, as in Maximo's demo data layout).
pub(crate) const SITES: [Site; 2] = [
    Site {
        siteid: "BEDFORD",
        orgid: "EAGLENA",
        description: "Bedford Manufacturing Plant",
    },
    Site {
        siteid: "TEXAS",
        orgid: "EAGLENA",
        description: "Texas Assembly Plant",
    },
];

/// The organization's item set.
pub(crate) const ITEMSET: &str = "SET1";

/// The site named `siteid`.
pub(crate) fn site(siteid: &str) -> Option<Site> {
    SITES.into_iter().find(|s| s.siteid == siteid)
}

#[derive(Debug, Default)]
struct Table {
    /// Records by unique id (creation order).
    rows: BTreeMap<u64, Record>,
    /// Unique id by primary key (the key values joined by `/`).
    by_key: HashMap<String, u64>,
    next_id: u64,
    /// The next autokey number.
    next_number: u64,
    /// Records created through the API (seeded ones not counted).
    created: usize,
    /// How many records hold each value of the structure's autokey attribute, so a new
    /// autokey is found without scanning every record.
    autokeys: HashMap<String, usize>,
}

impl Table {
    fn count_autokey(&mut self, os: Os, record: &Record, delta: isize) {
        let Some(value) = os
            .autokey()
            .and_then(|attr| record.get(attr))
            .and_then(Value::as_str)
        else {
            return;
        };
        let n = self.autokeys.entry(value.to_owned()).or_default();
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            self.autokeys.remove(value);
        }
    }
}

/// Every table of the simulated Maximo database.
#[derive(Debug)]
pub(crate) struct Store {
    tables: HashMap<Os, Table>,
    rowstamp: u64,
    next_polineid: u64,
}

/// The primary key of `record` of `os`: its key values joined by `/` (what the rest id
/// encodes), or `None` if a key attribute is missing.
pub(crate) fn key_of(os: Os, record: &Record) -> Option<String> {
    let mut parts = Vec::with_capacity(os.pk().len());
    for attr in os.pk() {
        match record.get(*attr)? {
            Value::String(s) => parts.push(s.clone()),
            Value::Number(n) => parts.push(n.to_string()),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

impl Store {
    /// An empty database; autokeys start at 1001.
    pub(crate) fn new() -> Store {
        let tables = ALL
            .into_iter()
            .map(|os| {
                (
                    os,
                    Table {
                        next_id: 1,
                        next_number: 1001,
                        ..Table::default()
                    },
                )
            })
            .collect();
        Store {
            tables,
            rowstamp: 3_401_000,
            next_polineid: 1,
        }
    }

    fn table(&self, os: Os) -> Option<&Table> {
        self.tables.get(&os)
    }

    /// A fresh row stamp.
    pub(crate) fn next_rowstamp(&mut self) -> String {
        self.rowstamp += 1;
        self.rowstamp.to_string()
    }

    /// A fresh `polineid`.
    pub(crate) fn next_polineid(&mut self) -> u64 {
        let id = self.next_polineid;
        self.next_polineid += 1;
        id
    }

    /// The next autokey value of `os` that no record uses (Maximo autokeys are numbers).
    pub(crate) fn next_autokey(&mut self, os: Os) -> String {
        loop {
            let Some(table) = self.tables.get_mut(&os) else {
                return String::new();
            };
            let n = table.next_number;
            table.next_number += 1;
            let candidate = n.to_string();
            if !table.autokeys.contains_key(&candidate) {
                return candidate;
            }
        }
    }

    /// Sets where autokey numbering of `os` continues.
    pub(crate) fn set_autokey_start(&mut self, os: Os, next: u64) {
        if let Some(t) = self.tables.get_mut(&os) {
            t.next_number = next;
        }
    }

    /// Number of records of `os`.
    pub(crate) fn count(&self, os: Os) -> usize {
        self.table(os).map_or(0, |t| t.rows.len())
    }

    /// The record of `os` with primary key `key`.
    pub(crate) fn get(&self, os: Os, key: &str) -> Option<&Record> {
        let t = self.table(os)?;
        t.rows.get(t.by_key.get(key)?)
    }

    /// Whether a record of `os` has primary key `key`.
    pub(crate) fn exists(&self, os: Os, key: &str) -> bool {
        self.table(os).is_some_and(|t| t.by_key.contains_key(key))
    }

    /// Every record of `os` in creation order.
    pub(crate) fn iter(&self, os: Os) -> impl Iterator<Item = &Record> + '_ {
        self.table(os).into_iter().flat_map(|t| t.rows.values())
    }

    /// Stores a new record: assigns its unique id and row stamp. Returns its key, or `None`
    /// if a key attribute is missing or the key is taken.
    pub(crate) fn insert(&mut self, os: Os, mut record: Record) -> Option<String> {
        let key = key_of(os, &record)?;
        if self.exists(os, &key) {
            return None;
        }
        let rowstamp = self.next_rowstamp();
        let table = self.tables.get_mut(&os)?;
        let id = table.next_id;
        table.next_id += 1;
        record.insert(os.id_attr().to_owned(), Value::from(id));
        record.insert("_rowstamp".to_owned(), Value::String(rowstamp));
        table.by_key.insert(key.clone(), id);
        table.count_autokey(os, &record, 1);
        table.rows.insert(id, record);
        Some(key)
    }

    /// [`Store::insert`] for a record created through the API: also counted in
    /// [`Store::created`].
    pub(crate) fn insert_created(&mut self, os: Os, record: Record) -> Option<String> {
        let key = self.insert(os, record)?;
        if let Some(t) = self.tables.get_mut(&os) {
            t.created += 1;
        }
        Some(key)
    }

    /// Number of records of `os` created through the API (single creates and BULK `Add`s that
    /// succeeded).
    pub(crate) fn created(&self, os: Os) -> usize {
        self.table(os).map_or(0, |t| t.created)
    }

    /// The keys of the records of `os` whose text attribute `attr` is `value`, in creation
    /// order.
    pub(crate) fn keys_where(&self, os: Os, attr: &str, value: &str) -> Vec<String> {
        self.iter(os)
            .filter(|r| r.get(attr).and_then(Value::as_str) == Some(value))
            .filter_map(|r| key_of(os, r))
            .collect()
    }

    /// Every value of text attribute `attr` that more than one record of `os` carries, with
    /// their keys (values in order of first appearance).
    pub(crate) fn duplicates(&self, os: Os, attr: &str) -> Vec<(String, Vec<String>)> {
        let mut seen: Vec<(String, Vec<String>)> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for r in self.iter(os) {
            let (Some(v), Some(k)) = (
                r.get(attr)
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty()),
                key_of(os, r),
            ) else {
                continue;
            };
            match at.get(v) {
                Some(&i) => seen[i].1.push(k),
                None => {
                    at.insert(v.to_owned(), seen.len());
                    seen.push((v.to_owned(), vec![k]));
                }
            }
        }
        seen.retain(|(_, keys)| keys.len() > 1);
        seen
    }

    /// Replaces record `key` of `os` (its key attributes unchanged) with a fresh row stamp.
    pub(crate) fn replace(&mut self, os: Os, key: &str, mut record: Record) -> bool {
        let rowstamp = self.next_rowstamp();
        let Some(table) = self.tables.get_mut(&os) else {
            return false;
        };
        let Some(id) = table.by_key.get(key).copied() else {
            return false;
        };
        record.insert("_rowstamp".to_owned(), Value::String(rowstamp));
        table.count_autokey(os, &record, 1);
        if let Some(old) = table.rows.insert(id, record) {
            table.count_autokey(os, &old, -1);
        }
        true
    }

    /// Deletes record `key` of `os`; `false` if there was none.
    pub(crate) fn remove(&mut self, os: Os, key: &str) -> bool {
        let Some(table) = self.tables.get_mut(&os) else {
            return false;
        };
        let Some(old) = table
            .by_key
            .remove(key)
            .and_then(|id| table.rows.remove(&id))
        else {
            return false;
        };
        table.count_autokey(os, &old, -1);
        true
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
    fn keys_index_and_rowstamps_advance() {
        let mut s = Store::new();
        let k = s
            .insert(
                Os::WorkOrder,
                rec(json!({"siteid": "BEDFORD", "wonum": "1116"})),
            )
            .unwrap();
        assert_eq!(k, "BEDFORD/1116");
        assert!(
            s.insert(
                Os::WorkOrder,
                rec(json!({"siteid": "BEDFORD", "wonum": "1116"}))
            )
            .is_none()
        );
        let first = s.get(Os::WorkOrder, &k).unwrap()["_rowstamp"].clone();
        let mut changed = s.get(Os::WorkOrder, &k).unwrap().clone();
        changed.insert("description".into(), json!("x"));
        assert!(s.replace(Os::WorkOrder, &k, changed));
        assert_ne!(s.get(Os::WorkOrder, &k).unwrap()["_rowstamp"], first);
        assert_eq!(s.get(Os::WorkOrder, &k).unwrap()["workorderid"], 1);
        assert!(s.remove(Os::WorkOrder, &k));
        assert!(!s.remove(Os::WorkOrder, &k));
        assert_eq!(s.count(Os::WorkOrder), 0);
        assert_eq!(
            key_of(
                Os::Po,
                &rec(json!({"ponum": "1017", "revisionnum": 0, "siteid": "BEDFORD"}))
            )
            .as_deref(),
            Some("1017/0/BEDFORD")
        );
    }
}
