//! What the vault stores: [`CredentialId`], the validated name a connection refers to, and
//! [`StoredCredential`], the secret itself. Also the private wire form a credential takes
//! inside a sealed entry, which exposes the secrets only while they are being (de)serialized.

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::VaultError;
use crate::egress::Credential;

/// Longest credential id, in characters.
pub const MAX_ID_LEN: usize = 128;

/// The name of a stored credential, as a connection refers to it.
///
/// 1 to 128 characters of `A-Z a-z 0-9 . _ -`, not starting with `.`. An id is bound into
/// each sealed entry (as associated data) and into environment variable names; it is never
/// used as a path component, and the character set would not let it escape one anyway.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CredentialId(String);

impl CredentialId {
    /// Validates `id`.
    pub fn new(id: impl Into<String>) -> Result<CredentialId, VaultError> {
        let id = id.into();
        let shown = if id.len() <= MAX_ID_LEN {
            format!("{id:?}")
        } else {
            "(id)".to_owned()
        };
        if id.is_empty() {
            return Err(VaultError::InvalidId("the id is empty".into()));
        }
        if id.len() > MAX_ID_LEN {
            return Err(VaultError::InvalidId(format!(
                "the id is {} bytes long; at most {MAX_ID_LEN} are allowed",
                id.len()
            )));
        }
        if let Some((pos, c)) = id
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(VaultError::InvalidId(format!(
                "{shown} has {c:?} at byte {pos}; use only A-Z, a-z, 0-9, '.', '_' and '-'"
            )));
        }
        if id.starts_with('.') {
            return Err(VaultError::InvalidId(format!("{shown} starts with '.'")));
        }
        Ok(CredentialId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({:?})", self.0)
    }
}

impl FromStr for CredentialId {
    type Err = VaultError;
    fn from_str(s: &str) -> Result<CredentialId, VaultError> {
        CredentialId::new(s)
    }
}

impl TryFrom<String> for CredentialId {
    type Error = VaultError;
    fn try_from(s: String) -> Result<CredentialId, VaultError> {
        CredentialId::new(s)
    }
}

impl From<CredentialId> for String {
    fn from(id: CredentialId) -> String {
        id.0
    }
}

impl AsRef<str> for CredentialId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A stored credential: the secret a connection authenticates with.
///
/// Secret fields are [`SecretString`]s: zeroed on drop, no `Debug`, no `Serialize`. Plain
/// `String` fields are identifiers that are not secret on their own (a user name, an OAuth2
/// client id, a Fiix application key); `Debug` shows them and redacts everything else. There is
/// deliberately no `Serialize` impl: the only way a credential leaves memory is sealed.
#[derive(Clone)]
#[non_exhaustive]
pub enum StoredCredential {
    /// A bearer token or an API key (sent in a header or a query parameter).
    Token {
        /// The token.
        token: SecretString,
    },
    /// A user name and a password (HTTP basic, or a session login).
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: SecretString,
    },
    /// OAuth2 client credentials, with the refresh token when the grant issues one.
    OAuth2 {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// The current refresh token; it rotates, so the host writes the new one back.
        refresh_token: Option<SecretString>,
    },
    /// Keys for HMAC request signing (Fiix: access key, application key, secret key).
    Hmac {
        /// The access key, identifying the API user; kept secret as it is half a login.
        access_key: SecretString,
        /// The application key.
        app_key: String,
        /// The secret key the requests are signed with.
        secret_key: SecretString,
    },
}

impl StoredCredential {
    /// The credential's kind: `token`, `basic`, `oauth2` or `hmac`.
    pub fn kind(&self) -> &'static str {
        match self {
            StoredCredential::Token { .. } => "token",
            StoredCredential::Basic { .. } => "basic",
            StoredCredential::OAuth2 { .. } => "oauth2",
            StoredCredential::Hmac { .. } => "hmac",
        }
    }

    /// The credential as egress applies it.
    pub fn to_credential(&self) -> Credential {
        match self {
            StoredCredential::Token { token } => Credential::Token(token.clone()),
            StoredCredential::Basic { user, password } => Credential::Basic {
                user: user.clone(),
                password: password.clone(),
            },
            // The refresh-token store (writing a rotated token back to the vault) is attached
            // by the caller that owns the vault handle.
            StoredCredential::OAuth2 {
                client_id,
                client_secret,
                refresh_token,
            } => Credential::OAuth2 {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                refresh_token: refresh_token.clone(),
                store: None,
            },
            StoredCredential::Hmac {
                access_key,
                app_key,
                secret_key,
            } => Credential::Hmac {
                access_key: access_key.expose_secret().to_owned(),
                app_key: app_key.clone(),
                secret_key: secret_key.clone(),
            },
        }
    }

    /// The plaintext of a sealed entry: the credential as JSON, in a buffer zeroed on drop.
    pub(super) fn to_plaintext(&self) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let wire = WireOut::from(self);
        // Reserve the worst case (every byte escaped as `\u00XX`) so that the buffer never
        // reallocates and leaves an unzeroed copy of a secret behind.
        let capacity = 256 + 6 * wire.secret_len();
        let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
        serde_json::to_writer(&mut *buf, &wire)
            .map_err(|_| VaultError::Corrupt("a credential could not be serialized".into()))?;
        Ok(buf)
    }

    /// Parses the plaintext of a sealed entry. The error never carries the parser's message,
    /// which could quote the plaintext.
    pub(super) fn from_plaintext(plaintext: &[u8]) -> Option<StoredCredential> {
        let mut wire: WireIn = serde_json::from_slice(plaintext).ok()?;
        wire.take_credential()
    }
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const R: &str = "[REDACTED]";
        match self {
            StoredCredential::Token { .. } => write!(f, "StoredCredential::Token {{ token: {R} }}"),
            StoredCredential::Basic { user, .. } => write!(
                f,
                "StoredCredential::Basic {{ user: {user:?}, password: {R} }}"
            ),
            StoredCredential::OAuth2 {
                client_id,
                refresh_token,
                ..
            } => {
                let refresh = if refresh_token.is_some() { R } else { "None" };
                write!(
                    f,
                    "StoredCredential::OAuth2 {{ client_id: {client_id:?}, client_secret: {R}, refresh_token: {refresh} }}"
                )
            }
            StoredCredential::Hmac { app_key, .. } => write!(
                f,
                "StoredCredential::Hmac {{ access_key: {R}, app_key: {app_key:?}, secret_key: {R} }}"
            ),
        }
    }
}

/// A credential on its way into a sealed entry: borrows the secrets, copies nothing.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOut<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<&'a str>,
}

impl<'a> WireOut<'a> {
    fn empty(kind: &'static str) -> WireOut<'a> {
        WireOut {
            kind,
            token: None,
            user: None,
            password: None,
            client_id: None,
            client_secret: None,
            refresh_token: None,
            access_key: None,
            app_key: None,
            secret_key: None,
        }
    }

    /// Total length of the fields, an upper bound for the secrets' share of the JSON.
    fn secret_len(&self) -> usize {
        [
            self.token,
            self.user,
            self.password,
            self.client_id,
            self.client_secret,
            self.refresh_token,
            self.access_key,
            self.app_key,
            self.secret_key,
        ]
        .iter()
        .flatten()
        .map(|s| s.len())
        .sum()
    }
}

impl<'a> From<&'a StoredCredential> for WireOut<'a> {
    fn from(cred: &'a StoredCredential) -> WireOut<'a> {
        let mut w = WireOut::empty(cred.kind());
        match cred {
            StoredCredential::Token { token } => w.token = Some(token.expose_secret()),
            StoredCredential::Basic { user, password } => {
                w.user = Some(user);
                w.password = Some(password.expose_secret());
            }
            StoredCredential::OAuth2 {
                client_id,
                client_secret,
                refresh_token,
            } => {
                w.client_id = Some(client_id);
                w.client_secret = Some(client_secret.expose_secret());
                w.refresh_token = refresh_token.as_ref().map(|t| t.expose_secret());
            }
            StoredCredential::Hmac {
                access_key,
                app_key,
                secret_key,
            } => {
                w.access_key = Some(access_key.expose_secret());
                w.app_key = Some(app_key);
                w.secret_key = Some(secret_key.expose_secret());
            }
        }
        w
    }
}

/// A credential on its way out of a sealed entry. A flat struct rather than a tagged enum, so
/// serde parses it without buffering the secrets in intermediate values; whatever is not moved
/// into a [`SecretString`] is zeroed on drop.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireIn {
    kind: String,
    token: Option<String>,
    user: Option<String>,
    password: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    access_key: Option<String>,
    app_key: Option<String>,
    secret_key: Option<String>,
}

impl WireIn {
    /// Moves the fields of the recorded kind out; `None` if one is missing or another is set.
    fn take_credential(&mut self) -> Option<StoredCredential> {
        let secret = |s: &mut Option<String>| s.take().map(SecretString::from);
        let cred = match self.kind.as_str() {
            "token" => StoredCredential::Token {
                token: secret(&mut self.token)?,
            },
            "basic" => StoredCredential::Basic {
                user: self.user.take()?,
                password: secret(&mut self.password)?,
            },
            "oauth2" => StoredCredential::OAuth2 {
                client_id: self.client_id.take()?,
                client_secret: secret(&mut self.client_secret)?,
                refresh_token: secret(&mut self.refresh_token),
            },
            "hmac" => StoredCredential::Hmac {
                access_key: secret(&mut self.access_key)?,
                app_key: self.app_key.take()?,
                secret_key: secret(&mut self.secret_key)?,
            },
            _ => return None,
        };
        let leftovers = [
            &self.token,
            &self.user,
            &self.password,
            &self.client_id,
            &self.client_secret,
            &self.refresh_token,
            &self.access_key,
            &self.app_key,
            &self.secret_key,
        ];
        if leftovers.iter().any(|f| f.is_some()) {
            return None;
        }
        Some(cred)
    }
}

impl Drop for WireIn {
    fn drop(&mut self) {
        for field in [
            &mut self.token,
            &mut self.user,
            &mut self.password,
            &mut self.client_id,
            &mut self.client_secret,
            &mut self.refresh_token,
            &mut self.access_key,
            &mut self.app_key,
            &mut self.secret_key,
        ] {
            field.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests fail loudly"
    )]

    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v)
    }

    #[test]
    fn ids_that_could_escape_or_confuse_are_refused() {
        let long = "a".repeat(MAX_ID_LEN + 1);
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a b", "a\0b", "é", "a:b", &long,
        ] {
            assert!(CredentialId::new(bad).is_err(), "{bad:?} accepted");
        }
        for good in [
            "a",
            "maintainx.prod",
            "A-b_c.9",
            "x..y",
            &"a".repeat(MAX_ID_LEN),
        ] {
            assert_eq!(CredentialId::new(good).unwrap().as_str(), good);
        }
        let err = CredentialId::new("../x").unwrap_err().to_string();
        assert!(err.contains("'/'"), "{err}");
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        assert!(serde_json::from_str::<CredentialId>(r#""ok.id""#).is_ok());
        assert!(serde_json::from_str::<CredentialId>(r#""../etc""#).is_err());
    }

    fn all_kinds() -> Vec<StoredCredential> {
        vec![
            StoredCredential::Token {
                token: s("T0KEN-\"quoted\"\\-\u{1}"),
            },
            StoredCredential::Basic {
                user: "alice".into(),
                password: s("PA55WORD"),
            },
            StoredCredential::OAuth2 {
                client_id: "client-1".into(),
                client_secret: s("CL1ENT-SECRET"),
                refresh_token: Some(s("REFRESH-1")),
            },
            StoredCredential::OAuth2 {
                client_id: "client-2".into(),
                client_secret: s("CL1ENT-SECRET-2"),
                refresh_token: None,
            },
            StoredCredential::Hmac {
                access_key: s("ACCESS-K"),
                app_key: "app-1".into(),
                secret_key: s("SECRET-K"),
            },
        ]
    }

    #[test]
    fn plaintext_round_trips_every_kind() {
        for cred in all_kinds() {
            let text = cred.to_plaintext().unwrap();
            let back = StoredCredential::from_plaintext(&text).unwrap();
            assert_eq!(format!("{cred:?}"), format!("{back:?}"));
            assert_eq!(text.as_slice(), back.to_plaintext().unwrap().as_slice());
        }
    }

    #[test]
    fn debug_redacts_every_secret() {
        for cred in all_kinds() {
            let debug = format!("{cred:?}");
            for secret in [
                "T0KEN",
                "PA55WORD",
                "CL1ENT-SECRET",
                "REFRESH-1",
                "ACCESS-K",
                "SECRET-K",
            ] {
                assert!(!debug.contains(secret), "{debug}");
            }
            assert!(debug.starts_with("StoredCredential::"), "{debug}");
        }
    }

    #[test]
    fn plaintext_with_mixed_or_missing_fields_is_refused() {
        for bad in [
            r#"{"kind":"token"}"#,
            r#"{"kind":"token","token":"t","password":"p"}"#,
            r#"{"kind":"basic","user":"u"}"#,
            r#"{"kind":"hmac","accessKey":"a","appKey":"b"}"#,
            r#"{"kind":"magic","token":"t"}"#,
            r#"{"kind":"token","token":"t","other":1}"#,
        ] {
            assert!(
                StoredCredential::from_plaintext(bad.as_bytes()).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn egress_gets_the_kinds_it_applies() {
        let kinds = all_kinds();
        assert!(matches!(kinds[0].to_credential(), Credential::Token(_)));
        assert!(matches!(
            kinds[1].to_credential(),
            Credential::Basic { ref user, .. } if user == "alice"
        ));
        for kind in &kinds[2..] {
            let applied = kind.to_credential();
            assert!(
                matches!(applied, Credential::OAuth2 { .. } | Credential::Hmac { .. }),
                "{applied:?}"
            );
        }
    }
}
