//! Credentials as an operator hands them over: one JSON object, read from a file or standard
//! input (never from the command line, where `ps` shows it), whose fields depend on the
//! adapter's auth scheme. The field names are those of the sealed vault's entries.
//!
//! What this module must never do: quote the input in an error. The JSON parser's own
//! messages can quote values, so they are replaced by the position and this module's words;
//! unknown field names are named only when they look like field names.

use std::fmt;

use plantwire_sdk::AuthScheme;
use secrecy::SecretString;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

use crate::vault::StoredCredential;

/// Largest credential input read, in bytes.
pub const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// The credential forms, for `--help`.
pub const CREDENTIAL_FORMS: &str = "\
The credential is one JSON object, read from --credential-file FILE (`-` for standard input), \
never from the command line. Its fields follow the system's auth scheme (`plantwire \
capabilities SYSTEM` shows it):

  bearer token, API key           {\"token\": \"...\"}
  HTTP basic, session login       {\"user\": \"...\", \"password\": \"...\"}
  OAuth 2.0 client credentials    {\"clientId\": \"...\", \"clientSecret\": \"...\", \"refreshToken\": \"...\"}
                                  (refreshToken only when the system issues one)
  HMAC request signatures         {\"accessKey\": \"...\", \"appKey\": \"...\", \"secretKey\": \"...\"}

An optional \"kind\" field (token, basic, oauth2, hmac) is checked against the scheme. With \
`--vault env` no file is read: the credential comes from PLANTWIRE_CRED_<ID>_* variables, where \
<ID> is `CONN_` and the connection id in upper case with `.` and `-` as `_` (connection \
`mx-prod`: PLANTWIRE_CRED_CONN_MX_PROD_TOKEN).";

/// The kind of credential an auth scheme takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// The system needs no credential.
    None,
    /// `{"token"}`: a bearer token or an API key.
    Token,
    /// `{"user", "password"}`: HTTP basic or a session login.
    Basic,
    /// `{"clientId", "clientSecret", "refreshToken"?}`: OAuth 2.0 client credentials.
    OAuth2,
    /// `{"accessKey", "appKey", "secretKey"}`: HMAC request signatures.
    Hmac,
}

impl CredentialKind {
    /// The kind `scheme` takes.
    pub fn for_scheme(scheme: &AuthScheme) -> CredentialKind {
        match scheme {
            AuthScheme::None => CredentialKind::None,
            AuthScheme::Bearer | AuthScheme::ApiKeyHeader(_) | AuthScheme::ApiKeyQuery(_) => {
                CredentialKind::Token
            }
            AuthScheme::Basic | AuthScheme::SessionLogin(_) => CredentialKind::Basic,
            AuthScheme::Oauth2ClientCredentials(_) => CredentialKind::OAuth2,
            AuthScheme::HmacUrlSignature => CredentialKind::Hmac,
        }
    }

    /// The kind of a stored credential.
    pub fn of(credential: &StoredCredential) -> CredentialKind {
        match credential.kind() {
            "token" => CredentialKind::Token,
            "basic" => CredentialKind::Basic,
            "oauth2" => CredentialKind::OAuth2,
            "hmac" => CredentialKind::Hmac,
            _ => CredentialKind::None,
        }
    }

    /// The kind's name: `none`, `token`, `basic`, `oauth2`, `hmac`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialKind::None => "none",
            CredentialKind::Token => "token",
            CredentialKind::Basic => "basic",
            CredentialKind::OAuth2 => "oauth2",
            CredentialKind::Hmac => "hmac",
        }
    }

    /// The JSON form, for messages.
    pub const fn form(self) -> &'static str {
        match self {
            CredentialKind::None => "no credential",
            CredentialKind::Token => r#"{"token": "..."}"#,
            CredentialKind::Basic => r#"{"user": "...", "password": "..."}"#,
            CredentialKind::OAuth2 => {
                r#"{"clientId": "...", "clientSecret": "...", "refreshToken": "..." (optional)}"#
            }
            CredentialKind::Hmac => r#"{"accessKey": "...", "appKey": "...", "secretKey": "..."}"#,
        }
    }

    /// The fields of the kind: required ones, then optional ones.
    const fn fields(self) -> (&'static [Field], &'static [Field]) {
        match self {
            CredentialKind::None => (&[], &[]),
            CredentialKind::Token => (&[Field::Token], &[]),
            CredentialKind::Basic => (&[Field::User, Field::Password], &[]),
            CredentialKind::OAuth2 => (
                &[Field::ClientId, Field::ClientSecret],
                &[Field::RefreshToken],
            ),
            CredentialKind::Hmac => (&[Field::AccessKey, Field::AppKey, Field::SecretKey], &[]),
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a credential input was refused. Never quotes the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialInputError {
    /// The input is larger than [`MAX_CREDENTIAL_BYTES`].
    #[error("the credential is larger than {MAX_CREDENTIAL_BYTES} bytes")]
    TooLarge,
    /// The input is not a JSON object of strings, or its fields are not the kind's.
    #[error("the credential is not a {kind} credential: {problem}; expected {}", kind.form())]
    Malformed {
        /// The kind expected.
        kind: CredentialKind,
        /// What is wrong, with the position when the JSON does not parse.
        problem: String,
    },
    /// The system needs no credential, and one was given.
    #[error("this system needs no credential; do not pass one")]
    NotNeeded,
}

/// The fields of every kind, by their JSON names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Kind,
    Token,
    User,
    Password,
    ClientId,
    ClientSecret,
    RefreshToken,
    AccessKey,
    AppKey,
    SecretKey,
}

impl Field {
    const ALL: [Field; 10] = [
        Field::Kind,
        Field::Token,
        Field::User,
        Field::Password,
        Field::ClientId,
        Field::ClientSecret,
        Field::RefreshToken,
        Field::AccessKey,
        Field::AppKey,
        Field::SecretKey,
    ];

    const fn name(self) -> &'static str {
        match self {
            Field::Kind => "kind",
            Field::Token => "token",
            Field::User => "user",
            Field::Password => "password",
            Field::ClientId => "clientId",
            Field::ClientSecret => "clientSecret",
            Field::RefreshToken => "refreshToken",
            Field::AccessKey => "accessKey",
            Field::AppKey => "appKey",
            Field::SecretKey => "secretKey",
        }
    }
}

/// Marks this module's own messages among the parser's errors.
const OWN: &str = "plantwire-credential: ";

/// The fields as read, zeroed on drop.
#[derive(Default)]
struct Fields {
    values: [Option<String>; Field::ALL.len()],
}

impl Drop for Fields {
    fn drop(&mut self) {
        for v in &mut self.values {
            v.zeroize();
        }
    }
}

impl Fields {
    fn take(&mut self, f: Field) -> Option<String> {
        self.values[f as usize].take()
    }

    fn secret(&mut self, f: Field) -> Option<SecretString> {
        self.take(f).map(SecretString::from)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<String>()? {
            let Some(field) = Field::ALL.into_iter().find(|f| f.name() == key) else {
                let shown = if !key.is_empty()
                    && key.len() <= 32
                    && key.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
                {
                    format!("`{key}`")
                } else {
                    "(a name that is not a field name)".to_owned()
                };
                map.next_value::<IgnoredAny>()?;
                return Err(de::Error::custom(format!("{OWN}unknown field {shown}")));
            };
            let slot = &mut fields.values[field as usize];
            if slot.is_some() {
                map.next_value::<IgnoredAny>()?;
                return Err(de::Error::custom(format!(
                    "{OWN}field `{}` appears twice",
                    field.name()
                )));
            }
            let MaybeString(Some(value)) = map.next_value()? else {
                return Err(de::Error::custom(format!(
                    "{OWN}field `{}` is not a string",
                    field.name()
                )));
            };
            *slot = Some(value);
        }
        Ok(fields)
    }
}

/// A value that is a string, or `None` for any other JSON value (read and dropped), so that a
/// value of the wrong type is reported by this module, without the parser quoting it.
struct MaybeString(Option<String>);

impl<'de> Deserialize<'de> for MaybeString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MaybeString, D::Error> {
        d.deserialize_any(MaybeStringVisitor)
    }
}

struct MaybeStringVisitor;

impl<'de> Visitor<'de> for MaybeStringVisitor {
    type Value = MaybeString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<MaybeString, E> {
        Ok(MaybeString(Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<MaybeString, E> {
        Ok(MaybeString(Some(v)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeString, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(MaybeString(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeString, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(MaybeString(None))
    }
}

/// Parses `input` as a credential of `kind`. The input buffer is the caller's to zero.
pub fn parse_credential(
    input: &[u8],
    kind: CredentialKind,
) -> Result<StoredCredential, CredentialInputError> {
    if input.len() > MAX_CREDENTIAL_BYTES {
        return Err(CredentialInputError::TooLarge);
    }
    let malformed = |problem: String| CredentialInputError::Malformed { kind, problem };
    if kind == CredentialKind::None {
        return Err(CredentialInputError::NotNeeded);
    }
    let mut de = serde_json::Deserializer::from_slice(input);
    let mut fields = match de.deserialize_map(FieldsVisitor) {
        Ok(fields) => fields,
        Err(e) => {
            let text = e.to_string();
            let problem = match text.strip_prefix(OWN) {
                // Drop the parser's " at line L column C" suffix: the field is named.
                Some(own) => own.split(" at line ").next().unwrap_or(own).to_owned(),
                None if e.is_eof() => "the JSON ends early".to_owned(),
                None if e.is_syntax() => format!(
                    "it is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
                None => "it is not a JSON object of strings".to_owned(),
            };
            return Err(malformed(problem));
        }
    };
    de.end()
        .map_err(|_| malformed("there is more after the JSON object".into()))?;

    if let Some(given) = fields.take(Field::Kind)
        && given != kind.as_str()
    {
        let shown = if ["token", "basic", "oauth2", "hmac"].contains(&given.as_str()) {
            given
        } else {
            "another kind".to_owned()
        };
        return Err(malformed(format!("its \"kind\" is {shown}")));
    }
    let (required, optional) = kind.fields();
    for (i, value) in fields.values.iter().enumerate() {
        let Some(value) = value else { continue };
        let field = Field::ALL[i];
        if !required.contains(&field) && !optional.contains(&field) {
            return Err(malformed(format!(
                "field `{}` does not belong to it",
                field.name()
            )));
        }
        if value.is_empty() {
            return Err(malformed(format!("field `{}` is empty", field.name())));
        }
        if value.chars().any(char::is_control) {
            return Err(malformed(format!(
                "field `{}` contains control characters",
                field.name()
            )));
        }
    }
    if let Some(missing) = required
        .iter()
        .find(|f| fields.values[**f as usize].is_none())
    {
        return Err(malformed(format!("field `{}` is missing", missing.name())));
    }
    let missing = || malformed("a field is missing".into());
    Ok(match kind {
        CredentialKind::Token => StoredCredential::Token {
            token: fields.secret(Field::Token).ok_or_else(missing)?,
        },
        CredentialKind::Basic => StoredCredential::Basic {
            user: fields.take(Field::User).ok_or_else(missing)?,
            password: fields.secret(Field::Password).ok_or_else(missing)?,
        },
        CredentialKind::OAuth2 => StoredCredential::OAuth2 {
            client_id: fields.take(Field::ClientId).ok_or_else(missing)?,
            client_secret: fields.secret(Field::ClientSecret).ok_or_else(missing)?,
            refresh_token: fields.secret(Field::RefreshToken),
        },
        CredentialKind::Hmac => StoredCredential::Hmac {
            access_key: fields.secret(Field::AccessKey).ok_or_else(missing)?,
            app_key: fields.take(Field::AppKey).ok_or_else(missing)?,
            secret_key: fields.secret(Field::SecretKey).ok_or_else(missing)?,
        },
        CredentialKind::None => return Err(CredentialInputError::NotNeeded),
    })
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn parse(text: &str, kind: CredentialKind) -> Result<StoredCredential, String> {
        parse_credential(text.as_bytes(), kind).map_err(|e| e.to_string())
    }

    #[test]
    fn every_kind_parses() {
        let StoredCredential::Token { token } =
            parse(r#"{"token": "t0k"}"#, CredentialKind::Token).expect("token")
        else {
            panic!("not a token");
        };
        assert_eq!(token.expose_secret(), "t0k");
        let c = parse(
            r#"{"kind": "basic", "user": "api", "password": "pw"}"#,
            CredentialKind::Basic,
        )
        .expect("basic");
        assert_eq!(c.kind(), "basic");
        let c = parse(
            r#"{"clientId": "id", "clientSecret": "s"}"#,
            CredentialKind::OAuth2,
        )
        .expect("oauth2");
        assert!(matches!(
            c,
            StoredCredential::OAuth2 {
                refresh_token: None,
                ..
            }
        ));
        let c = parse(
            r#"{"accessKey": "a", "appKey": "b", "secretKey": "c"}"#,
            CredentialKind::Hmac,
        )
        .expect("hmac");
        assert_eq!(CredentialKind::of(&c), CredentialKind::Hmac);
        assert_eq!(
            CredentialKind::for_scheme(&AuthScheme::ApiKeyHeader("X-Key".into())),
            CredentialKind::Token
        );
    }

    #[test]
    fn refusals_name_the_problem_and_never_the_value() {
        const SECRET: &str = "planted-s3cret-value";
        let cases = [
            (
                format!(r#"{{"token": "{SECRET}", "password": "x"}}"#),
                "`password` does not belong",
            ),
            (format!(r#"{{"tokn": "{SECRET}"}}"#), "unknown field `tokn`"),
            (format!(r#"{{"{SECRET}": "x"}}"#), "not a field name"),
            (format!(r#"{{"token": "{SECRET}""#), "ends early"),
            (
                format!(r#"{{"token": {SECRET}}}"#),
                "not valid JSON (line 1, column 11)",
            ),
            (format!(r#"{{"token" {SECRET}}}"#), "not valid JSON (line 1"),
            (
                r#"{"token": 12345678}"#.to_owned(),
                "`token` is not a string",
            ),
            (format!(r#"["{SECRET}"]"#), "not a JSON object"),
            (r#"{"token": ""}"#.to_owned(), "`token` is empty"),
            (r#"{"token": "a\nb"}"#.to_owned(), "control characters"),
            (format!(r#"{{"token": "{SECRET}"}} x"#), "more after"),
            (format!(r#"{{"token": "{SECRET}", "token": "y"}}"#), "twice"),
            (
                r#"{"kind": "hmac", "token": "x"}"#.to_owned(),
                "\"kind\" is hmac",
            ),
            (
                format!(r#"{{"kind": "{SECRET}", "token": "x"}}"#),
                "another kind",
            ),
            ("{}".to_owned(), "`token` is missing"),
        ];
        for (input, expected) in cases {
            let err = parse(&input, CredentialKind::Token).expect_err(&input);
            assert!(err.contains(expected), "{input}: {err}");
            assert!(!err.contains(SECRET), "{input}: {err}");
            assert!(!err.contains("12345678"), "{input}: {err}");
            assert!(err.contains(r#"{"token": "..."}"#), "{err}");
        }
        let big = format!(r#"{{"token": "{}"}}"#, "a".repeat(MAX_CREDENTIAL_BYTES));
        assert!(
            parse(&big, CredentialKind::Token)
                .expect_err("big")
                .contains("larger")
        );
        assert!(parse(r#"{"token": "x"}"#, CredentialKind::None).is_err());
    }
}
