//! A read-only backend over environment variables, for containers and CI where secrets arrive
//! as variables ([`EnvVault`], whose docs give the naming scheme).
//!
//! This module must never log or put into an error a variable's value; errors name variables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{CredentialId, StoredCredential, Vault, VaultError};

/// Prefix of every credential variable.
const PREFIX: &str = "PLANTWIRE_CRED_";

/// Each kind with its required and optional variable suffixes.
const KINDS: &[(&str, &[&str], &[&str])] = &[
    ("token", &["TOKEN"], &[]),
    ("basic", &["USER", "PASSWORD"], &[]),
    (
        "oauth2",
        &["CLIENT_ID", "CLIENT_SECRET"],
        &["REFRESH_TOKEN"],
    ),
    ("hmac", &["ACCESS_KEY", "APP_KEY", "SECRET_KEY"], &[]),
];

/// Credentials from `PLANTWIRE_CRED_*` environment variables, read once at open. Read-only.
///
/// A credential id maps to a variable prefix: `PLANTWIRE_CRED_` followed by the id in upper
/// case with `.` and `-` turned into `_` (id `maintainx.prod` → `PLANTWIRE_CRED_MAINTAINX_PROD`).
/// The kind follows from which variables are set:
///
/// | kind | variables |
/// |---|---|
/// | token | `<prefix>_TOKEN` |
/// | basic | `<prefix>_USER`, `<prefix>_PASSWORD` |
/// | oauth2 | `<prefix>_CLIENT_ID`, `<prefix>_CLIENT_SECRET`, optionally `<prefix>_REFRESH_TOKEN` |
/// | hmac | `<prefix>_ACCESS_KEY`, `<prefix>_APP_KEY`, `<prefix>_SECRET_KEY` |
///
/// Variables of two kinds for one id, a kind with a variable missing, or an empty value are
/// errors. Since the mapping folds case and `.`/`-`/`_`, ids such as `a.b` and `A_B` share
/// variables; [`EnvVault::open`] refuses expected ids that collide. The variables are read once,
/// when the vault is opened; a refresh token that rotates cannot be written back (`put` is
/// refused), so OAuth2 connections whose refresh token rotates need a writable backend.
pub struct EnvVault {
    /// The `PLANTWIRE_CRED_*` variables as they were at open.
    vars: BTreeMap<String, SecretString>,
    /// The ids checked at open, which [`Vault::list`] reports.
    expected: Vec<CredentialId>,
}

impl fmt::Debug for EnvVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVault")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl EnvVault {
    /// Reads the process environment and checks that every `expected` id has a complete,
    /// unambiguous credential; the error names the variable at fault.
    pub fn open(expected: &[CredentialId]) -> Result<EnvVault, VaultError> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().filter(|n| n.starts_with(PREFIX)) else {
                continue;
            };
            let value = value.into_string().map_err(|_| {
                VaultError::Config(format!("the variable {name} is not valid UTF-8"))
            })?;
            vars.push((name.to_owned(), value));
        }
        EnvVault::from_vars(vars, expected)
    }

    /// Like [`EnvVault::open`], over the given variables instead of the process environment
    /// (tests, or variables loaded from elsewhere). Variables without the prefix are ignored.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
        expected: &[CredentialId],
    ) -> Result<EnvVault, VaultError> {
        let vars = vars
            .into_iter()
            .filter(|(name, _)| name.starts_with(PREFIX))
            .map(|(name, value)| (name, SecretString::from(value)))
            .collect();
        let expected: Vec<CredentialId> = expected
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        check_collisions(&expected)?;
        let vault = EnvVault { vars, expected };
        for id in &vault.expected {
            match vault.resolve(id) {
                Ok(_) => {}
                Err(VaultError::NotFound(_)) => {
                    let p = prefix(id);
                    return Err(VaultError::Config(format!(
                        "credential `{id}` is not in the environment: set {p}_TOKEN, or {p}_USER and \
                         {p}_PASSWORD, or {p}_CLIENT_ID and {p}_CLIENT_SECRET, or {p}_ACCESS_KEY, \
                         {p}_APP_KEY and {p}_SECRET_KEY"
                    )));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(vault)
    }

    /// The credential of `id` from the variables read at open.
    fn resolve(&self, id: &CredentialId) -> Result<StoredCredential, VaultError> {
        let p = prefix(id);
        let var = |suffix: &str| format!("{p}_{suffix}");
        let present: Vec<&str> = KINDS
            .iter()
            .filter(|(_, required, optional)| {
                required
                    .iter()
                    .chain(optional.iter())
                    .any(|s| self.vars.contains_key(&var(s)))
            })
            .map(|(kind, _, _)| *kind)
            .collect();
        let kind = match present.as_slice() {
            [] => return Err(VaultError::NotFound(id.clone())),
            [kind] => *kind,
            kinds => {
                return Err(VaultError::Config(format!(
                    "credential `{id}` is ambiguous: variables of the kinds {} are all set under {p}_*",
                    kinds.join(" and ")
                )));
            }
        };
        // A required variable: set and not empty.
        let get = |suffix: &str| -> Result<SecretString, VaultError> {
            let name = var(suffix);
            match self.vars.get(&name) {
                Some(v) if !v.expose_secret().is_empty() => Ok(v.clone()),
                Some(_) => Err(VaultError::Config(format!(
                    "credential `{id}`: the variable {name} is empty"
                ))),
                None => Err(VaultError::Config(format!(
                    "credential `{id}` ({kind}): the variable {name} is not set"
                ))),
            }
        };
        let plain = |suffix: &str| get(suffix).map(|v| v.expose_secret().to_owned());
        Ok(match kind {
            "token" => StoredCredential::Token {
                token: get("TOKEN")?,
            },
            "basic" => StoredCredential::Basic {
                user: plain("USER")?,
                password: get("PASSWORD")?,
            },
            "oauth2" => StoredCredential::OAuth2 {
                client_id: plain("CLIENT_ID")?,
                client_secret: get("CLIENT_SECRET")?,
                refresh_token: match self.vars.get(&var("REFRESH_TOKEN")) {
                    None => None,
                    Some(_) => Some(get("REFRESH_TOKEN")?),
                },
            },
            _ => StoredCredential::Hmac {
                access_key: get("ACCESS_KEY")?,
                app_key: plain("APP_KEY")?,
                secret_key: get("SECRET_KEY")?,
            },
        })
    }
}

/// The variable prefix of `id`.
fn prefix(id: &CredentialId) -> String {
    let mut p = String::from(PREFIX);
    p.extend(id.as_str().chars().map(|c| match c {
        '.' | '-' => '_',
        c => c.to_ascii_uppercase(),
    }));
    p
}

/// Refuses expected ids that would read the same variable.
fn check_collisions(ids: &[CredentialId]) -> Result<(), VaultError> {
    let mut owner: BTreeMap<String, &CredentialId> = BTreeMap::new();
    for id in ids {
        let p = prefix(id);
        for (_, required, optional) in KINDS {
            for suffix in required.iter().chain(optional.iter()) {
                let name = format!("{p}_{suffix}");
                if let Some(other) = owner.get(&name).filter(|o| **o != id) {
                    return Err(VaultError::Config(format!(
                        "credentials `{other}` and `{id}` both map to the variable {name}; rename one"
                    )));
                }
                owner.insert(name, id);
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Vault for EnvVault {
    async fn get(&self, id: &CredentialId) -> Result<StoredCredential, VaultError> {
        let result = self.resolve(id);
        match &result {
            Ok(_) => tracing::debug!(credential = %id, backend = "env", op = "get", "vault"),
            Err(e) => {
                tracing::debug!(credential = %id, backend = "env", op = "get", error = %e, "vault")
            }
        }
        result
    }

    async fn put(&self, _id: &CredentialId, _cred: &StoredCredential) -> Result<(), VaultError> {
        Err(VaultError::ReadOnly { backend: "env" })
    }

    async fn delete(&self, _id: &CredentialId) -> Result<(), VaultError> {
        Err(VaultError::ReadOnly { backend: "env" })
    }

    async fn list(&self) -> Result<Vec<CredentialId>, VaultError> {
        Ok(self.expected.clone())
    }

    fn backend(&self) -> &'static str {
        "env"
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

    fn id(s: &str) -> CredentialId {
        CredentialId::new(s).unwrap()
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn ids_map_to_upper_case_prefixes() {
        assert_eq!(
            prefix(&id("maintainx.prod-1")),
            "PLANTWIRE_CRED_MAINTAINX_PROD_1"
        );
    }

    #[tokio::test]
    async fn every_kind_resolves() {
        let v = EnvVault::from_vars(
            vars(&[
                ("PLANTWIRE_CRED_T_TOKEN", "tok"),
                ("PLANTWIRE_CRED_B_USER", "u"),
                ("PLANTWIRE_CRED_B_PASSWORD", "pw"),
                ("PLANTWIRE_CRED_O_CLIENT_ID", "cid"),
                ("PLANTWIRE_CRED_O_CLIENT_SECRET", "cs"),
                ("PLANTWIRE_CRED_O_REFRESH_TOKEN", "rt"),
                ("PLANTWIRE_CRED_H_ACCESS_KEY", "ak"),
                ("PLANTWIRE_CRED_H_APP_KEY", "apk"),
                ("PLANTWIRE_CRED_H_SECRET_KEY", "sk"),
                ("UNRELATED", "x"),
            ]),
            &[id("t"), id("b"), id("o"), id("h")],
        )
        .unwrap();
        assert_eq!(v.get(&id("t")).await.unwrap().kind(), "token");
        assert_eq!(v.get(&id("b")).await.unwrap().kind(), "basic");
        match v.get(&id("o")).await.unwrap() {
            StoredCredential::OAuth2 {
                client_id,
                refresh_token,
                ..
            } => {
                assert_eq!(client_id, "cid");
                assert_eq!(refresh_token.unwrap().expose_secret(), "rt");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(v.get(&id("h")).await.unwrap().kind(), "hmac");
        assert!(matches!(
            v.get(&id("nope")).await,
            Err(VaultError::NotFound(_))
        ));
        assert_eq!(v.list().await.unwrap().len(), 4);
        assert!(matches!(
            v.put(&id("t"), &v.get(&id("t")).await.unwrap()).await,
            Err(VaultError::ReadOnly { .. })
        ));
        assert!(matches!(
            v.delete(&id("t")).await,
            Err(VaultError::ReadOnly { .. })
        ));
    }

    /// The variables, the expected ids, and what the error must name.
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
        &'static str,
    );

    #[test]
    fn ambiguous_incomplete_empty_and_colliding_are_start_errors() {
        let cases: &[Case] = &[
            (
                &[
                    ("PLANTWIRE_CRED_X_TOKEN", "sekrit1"),
                    ("PLANTWIRE_CRED_X_USER", "sekrit2"),
                ],
                &["x"],
                "ambiguous",
            ),
            (
                &[("PLANTWIRE_CRED_X_USER", "sekrit2")],
                &["x"],
                "PLANTWIRE_CRED_X_PASSWORD",
            ),
            (
                &[("PLANTWIRE_CRED_X_TOKEN", "")],
                &["x"],
                "PLANTWIRE_CRED_X_TOKEN is empty",
            ),
            (
                &[("PLANTWIRE_CRED_X_TOKEN", "sekrit1")],
                &["x", "X"],
                "PLANTWIRE_CRED_X_TOKEN",
            ),
            (
                &[("PLANTWIRE_CRED_X_TOKEN", "sekrit1")],
                &["x", "x.refresh"],
                "PLANTWIRE_CRED_X_REFRESH_TOKEN",
            ),
        ];
        for (env, expected, needle) in cases {
            let ids: Vec<_> = expected.iter().map(|s| id(s)).collect();
            let err = EnvVault::from_vars(vars(env), &ids).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, VaultError::Config(_)), "{msg}");
            assert!(msg.contains(needle), "{msg} lacks {needle}");
            assert!(!msg.contains("sekrit"), "{msg}");
        }
    }
}
