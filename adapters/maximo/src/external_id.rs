//! The unified `externalId`: the caller's own reference for a record, kept in Maximo's
//! `EXTERNALREFID` ("External Reference ID"), the attribute Maximo's integration framework
//! keeps on its main objects for the identifier another system gives a record.
//!
//! Every object this adapter serves carries it (WORKORDER, ASSET, PO, ITEM, INVENTORY,
//! LOCATIONS, COMPANIES), and in every object structure it is an `ALN` of **10 characters**:
//! IBM's JSON schema of `MXAPIWODETAIL` (`oslc/jsonschemas/mxapiwodetail`, as IBM's Maximo
//! Mobile test fixtures carry it) declares `externalrefid` with `"subType": "ALN"` and
//! `"maxLength": 10`, and Maximo's data model gives the column the same length wherever it
//! appears. Maximo refuses a longer value with `BMXAA4049E` ("exceeds the maximum field
//! length") instead of truncating it, and it does not keep the values unique (no unique index
//! unless the customer adds one).
//!
//! The adapter therefore takes an `externalId` of at most [`MAX_LEN`] characters and refuses
//! anything else as `invalid` before sending: a value it could not write as given, or could
//! not find again with an exact `oslc.where` comparison (`%`, `"`, a lone `*` or a `[..]`
//! value, which Maximo reads as a pattern, a null test or a not-in list; surrounding blanks
//! and control characters, which a database may trim or mangle).

use crate::query;

/// The unified field name.
pub const FIELD: &str = "externalId";
/// The Maximo attribute (lean JSON, lower case).
pub const ATTR: &str = "externalrefid";
/// The length of `EXTERNALREFID` (`ALN(10)`) in Maximo's standard data model.
pub const MAX_LEN: usize = 10;

/// Why `value` cannot be an `externalId`, if it cannot.
pub fn check(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("an empty externalId cannot be written or found again".to_owned());
    }
    let len = value.chars().count();
    if len > MAX_LEN {
        return Err(format!(
            "`{value}` has {len} characters; Maximo keeps externalId in EXTERNALREFID, an \
             ALN({MAX_LEN}) attribute, and refuses a longer value (BMXAA4049E) rather than \
             truncating it: give at most {MAX_LEN} characters"
        ));
    }
    if value.trim() != value {
        return Err(format!(
            "`{value}` begins or ends with blanks, which the database may not keep"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err("an externalId cannot hold control characters".to_owned());
    }
    query::quote(value)
        .map(|_| ())
        .map_err(|why| format!("`{value}` could not be found again by equality: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_what_fits_and_can_be_found_again() {
        for ok in ["A", "K7Q2M9X4ZT", "abc-12_3", "ÄÖÜäöüßéèê"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "K7Q2M9X4ZT1",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            " AB",
            "AB ",
            "A\tB",
            "A%B",
            "A\"B",
            "*",
            "[A,B]",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        let long = check("K7Q2M9X4ZT1").unwrap_err();
        assert!(
            long.contains("ALN(10)") && long.contains("BMXAA4049E"),
            "{long}"
        );
    }

    #[test]
    fn filters_are_exact_and_declared_on_every_served_entity() {
        use crate::structures::Os;
        use plantwire_sdk::contract::{Filter, FilterOp};
        for os in Os::ALL {
            let field = crate::describe::entity(os).field(FIELD).unwrap();
            assert_eq!(field.filter_ops, [FilterOp::Eq, FilterOp::In], "{os:?}");
            assert!(field.flags.creatable && field.flags.read_list, "{os:?}");
            assert_eq!(
                field.flags.updatable,
                crate::describe::entity(os).update.is_supported()
            );
            assert_eq!(os.attrs_of(FIELD), [ATTR]);
        }
        assert_eq!(
            query::where_clause(Os::Asset, &[Filter::eq(FIELD, "K1")]).unwrap(),
            Some("externalrefid=\"K1\"".to_owned())
        );
        for (op, value) in [
            (FilterOp::Ne, "K1"),
            (FilterOp::Contains, "K1"),
            (FilterOp::Eq, "K%"),
            (FilterOp::Eq, "ABCDEFGHIJK"),
        ] {
            let f = Filter {
                field: FIELD.to_owned(),
                op,
                values: vec![value.to_owned()],
            };
            let errors = query::where_clause(Os::Vendor, &[f]).unwrap_err();
            assert_eq!(errors[0].field, FIELD, "{op:?} {value}");
        }
    }
}
