//! The smaller entities, all in the unified `Party` shape: locations (`/locations`), vendors
//! (`/vendors`) and users (`/users`).
//!
//! | unified | location | vendor | user |
//! |---|---|---|---|
//! | `key` | `id` | `id` | `id` |
//! | `name` | `name` | `name` | `firstName` + `" "` + `lastName` |
//! | `description` | `description` | `description` | – |
//! | `address` | `address` | – | – |
//! | `parentKey` | `parentId` | – | – |
//! | `email` | – | `emails[0]` | `email` |
//! | `phone` | – | `phoneNumbers[0]` | `phoneNumber` |
//! | `isActive` | – | – | `!removedFromOrganization` |
//! | `createdAt` / `updatedAt` | same names | – | – |
//! | `customFields` | `extraFields` | `extraFields` | `extraFields` |
//!
//! MaintainX has no sites (locations nest through `parentId` instead) and no codes on these
//! records; vendors and users carry no timestamps in the spec.

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::Party;
use serde_json::{Value, json};

use super::{Input, custom_fields_of, id_of, reference, text, text_of, ts_of};

/// The first string of an array field (`emails`, `phoneNumbers`).
fn first_of(v: &Value, field: &str) -> Option<String> {
    v.get(field)?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// One MaintainX location as a unified location.
pub fn location_from_native(v: &Value) -> Party {
    Party {
        key: id_of(v, "id"),
        name: text_of(v, "name"),
        description: text_of(v, "description"),
        parent_key: id_of(v, "parentId"),
        address: text_of(v, "address"),
        created_at: ts_of(v, "createdAt"),
        updated_at: ts_of(v, "updatedAt"),
        custom_fields: custom_fields_of(v),
        ..Party::default()
    }
}

/// One MaintainX vendor as a unified vendor.
pub fn vendor_from_native(v: &Value) -> Party {
    Party {
        key: id_of(v, "id"),
        name: text_of(v, "name"),
        description: text_of(v, "description"),
        email: first_of(v, "emails"),
        phone: first_of(v, "phoneNumbers"),
        custom_fields: custom_fields_of(v),
        ..Party::default()
    }
}

/// One MaintainX user as a unified user.
pub fn user_from_native(v: &Value) -> Party {
    let first = text_of(v, "firstName").filter(|s| !s.is_empty());
    let last = text_of(v, "lastName").filter(|s| !s.is_empty());
    let name = match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (one, other) => one.or(other),
    };
    Party {
        key: id_of(v, "id"),
        name,
        email: text_of(v, "email"),
        phone: text_of(v, "phoneNumber"),
        is_active: v
            .get("removedFromOrganization")
            .and_then(Value::as_bool)
            .map(|removed| !removed),
        custom_fields: custom_fields_of(v),
        ..Party::default()
    }
}

/// The `POST /locations` or `PATCH /locations/{id}` body for a unified location.
pub(crate) fn location_to_native(input: &Input<Party>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.name_and_description(r.name.as_deref(), r.description.as_deref());
    w.put("address", "address", r.address.as_deref(), text);
    w.put("parentKey", "parentId", r.parent_key.as_deref(), reference);
    w.custom_fields(r.custom_fields.as_ref());
    w.finish()
}

fn one_element(v: &str) -> Result<Value, String> {
    Ok(json!([v]))
}

/// The `POST /vendors` or `PATCH /vendors/{id}` body for a unified vendor.
pub(crate) fn vendor_to_native(input: &Input<Party>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.name_and_description(r.name.as_deref(), r.description.as_deref());
    w.put("email", "emails", r.email.as_deref(), one_element);
    w.put("phone", "phoneNumbers", r.phone.as_deref(), one_element);
    w.custom_fields(r.custom_fields.as_ref());
    w.finish()
}

/// Splits a unified user name at its first space: MaintainX requires a first and a last name.
pub(crate) fn split_name(name: &str) -> Result<(String, String), String> {
    match name.trim().split_once(char::is_whitespace) {
        Some((first, last)) if !last.trim().is_empty() => {
            Ok((first.to_owned(), last.trim().to_owned()))
        }
        _ => Err(format!(
            "MaintainX needs a first and a last name: `{name}` has no space between them"
        )),
    }
}

/// The `POST /users` or `PATCH /users/{id}` body for a unified user.
pub(crate) fn user_to_native(input: &Input<Party>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    if let Some(name) = &r.name {
        match split_name(name) {
            Ok((first, last)) => {
                w.body.insert("firstName".to_owned(), Value::String(first));
                w.body.insert("lastName".to_owned(), Value::String(last));
            }
            Err(m) => w.error("name", m),
        }
    }
    w.put("email", "email", r.email.as_deref(), text);
    w.put("phone", "phoneNumber", r.phone.as_deref(), text);
    w.custom_fields(r.custom_fields.as_ref());
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::mapping::testing::unified;
    use crate::mapping::{Mode, to_native};
    use crate::resources::Resource;

    #[test]
    fn reads_a_location() {
        assert_eq!(
            unified(Resource::Location, &fixtures::location(611)),
            json!({
                "key": "611",
                "name": "Warehouse B",
                "description": "Cold storage warehouse",
                "parentKey": "600",
                "address": "1090 main street, Franklin",
                "createdAt": "2022-01-01T00:00:00Z",
                "updatedAt": "2023-06-01T12:00:00Z",
                "customFields": {}
            })
        );
    }

    #[test]
    fn reads_a_vendor() {
        assert_eq!(
            unified(Resource::Vendor, &fixtures::vendor(432)),
            json!({
                "key": "432",
                "name": "Acme Corp",
                "description": "Provider of Acme service",
                "email": "orders@acme.example",
                "phone": "415-555-0100",
                "customFields": {"Account": "C-77"}
            })
        );
        // A list item is just id and name.
        assert_eq!(
            unified(Resource::Vendor, &json!({"id": 3, "name": "Bolt Inc"})),
            json!({"key": "3", "name": "Bolt Inc"})
        );
    }

    #[test]
    fn reads_a_user() {
        assert_eq!(
            unified(Resource::User, &fixtures::user(23494)),
            json!({
                "key": "23494",
                "name": "Jane Doe",
                "email": "jane.doe@example.com",
                "phone": "415-555-0100",
                "isActive": true,
                "customFields": {"Badge": "1042"}
            })
        );
    }

    #[test]
    fn writes_users_by_splitting_the_name() {
        let body = to_native(
            Resource::User,
            r#"{"name":"Mary Ann Smith","email":"mary@example.com"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"firstName": "Mary", "lastName": "Ann Smith", "email": "mary@example.com"})
        );
        let err = to_native(Resource::User, r#"{"name":"Cher"}"#, Mode::Create, None).unwrap_err();
        assert!(err.to_string().contains("first and a last name"), "{err}");
        let err = to_native(
            Resource::User,
            r#"{"name":"A B","isActive":false}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("isActive"), "{err}");
    }

    #[test]
    fn vendor_contacts_are_set_on_create_only() {
        let body = to_native(
            Resource::Vendor,
            r#"{"name":"Acme","email":"a@acme.example","phone":"1"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"name": "Acme", "emails": ["a@acme.example"], "phoneNumbers": ["1"]})
        );
        let err = to_native(
            Resource::Vendor,
            r#"{"email":"b@acme.example"}"#,
            Mode::Update,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("email"), "{err}");
    }

    #[test]
    fn writes_a_location() {
        let body = to_native(
            Resource::Location,
            r#"{"name":"Line 2","parentKey":"611","address":"Dock 4"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"name": "Line 2", "parentId": 611, "address": "Dock 4"})
        );
        let err = to_native(
            Resource::Location,
            r#"{"name":"x","siteKey":"1"}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("siteKey"), "{err}");
    }
}
