//! Names the adapter may not use: the query parameters that carry the credential (an API key
//! parameter, Fiix's signing parameters), the headers its scheme uses, and the base URL's own
//! query parameters (SAP's `sap-client`). A name is compared after it is normalised the way
//! the many servers behind a base URL might read it: percent-decoded (repeatedly, so a
//! double-encoded `sap%252Dclient` is caught), `+` as space, trimmed, ASCII-lowercased,
//! `[]` suffix dropped, and `-`, `_`, `.` and space taken as one character (CGI turns `-`
//! into `_`, PHP turns `.` and space into `_`).
//!
//! Where a name may hide: a query parameter (any case, any encoding, duplicated, or nested
//! inside another parameter's encoded value), a matrix parameter of any path segment
//! (`;sap-client=`), an encoded `?` or `&` inside a path segment, and a request header of the
//! same name. Each is refused before anything is sent; the one exception is a base-URL
//! parameter repeated with exactly its name and value, which is kept once.

use plantwire_sdk::HttpError;
use url::Url;

/// How many rounds of percent-decoding a name gets.
const DECODE_ROUNDS: usize = 4;

/// The protected names of one connection, normalised.
#[derive(Debug, Clone, Default)]
pub(crate) struct Protected {
    /// Query parameters that carry the credential.
    credential: Vec<String>,
    /// Query parameters of the base URL.
    base: Vec<String>,
    /// Header names the scheme uses (only compared against headers).
    headers: Vec<String>,
}

/// `name` as a server might read it (see the module docs).
pub(crate) fn normalize(name: &str) -> String {
    let decoded = decode_fully(name, true);
    let trimmed = decoded.trim();
    let trimmed = trimmed.strip_suffix("[]").unwrap_or(trimmed);
    trimmed
        .chars()
        .map(|c| match c {
            '_' | '.' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Percent-decodes `text` until it no longer changes (at most [`DECODE_ROUNDS`] rounds);
/// `plus` reads `+` as a space, as form encoding does.
fn decode_fully(text: &str, plus: bool) -> String {
    let mut current = text.to_owned();
    for _ in 0..DECODE_ROUNDS {
        let spaced = if plus {
            current.replace('+', " ")
        } else {
            current.clone()
        };
        let next = percent_decode(&spaced);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Protected {
    pub(crate) fn new<'a>(
        credential: Vec<String>,
        base: impl Iterator<Item = &'a str>,
        scheme_headers: &[String],
    ) -> Protected {
        Protected {
            credential: credential.iter().map(|n| normalize(n)).collect(),
            base: base.map(normalize).collect(),
            headers: scheme_headers.iter().map(|n| normalize(n)).collect(),
        }
    }

    /// Whether a request header named `name` would set a protected name.
    pub(crate) fn is_protected(&self, name: &str) -> bool {
        let name = normalize(name);
        self.credential.contains(&name) || self.base.contains(&name) || self.headers.contains(&name)
    }

    /// Refuses a URL whose query or path sets a protected name. `base_query` holds the base
    /// URL's parameters as given: an exact repetition of one is allowed (it is kept once).
    pub(crate) fn check_url(
        &self,
        url: &Url,
        base_query: &[(String, String)],
    ) -> Result<(), HttpError> {
        if self.credential.is_empty() && self.base.is_empty() {
            return Ok(());
        }
        let refuse = |name: &str| {
            let owner = if self.credential.contains(&normalize(name)) {
                "carries the connection's credential and is set by the host"
            } else {
                "is set by the connection's base URL and may not be changed"
            };
            HttpError::ForbiddenDestination(format!(
                "the parameter `{}` {owner}",
                super::truncate(name, 100)
            ))
        };
        for raw in url.query().unwrap_or("").split('&') {
            if raw.is_empty() {
                continue;
            }
            let decoded = decode_fully(raw, true);
            let pieces: Vec<&str> = decoded.split(['&', ';', '?']).collect();
            for piece in &pieces {
                let name = piece.split_once('=').map_or(*piece, |(n, _)| n);
                let normalized = normalize(name);
                if self.credential.contains(&normalized) {
                    return Err(refuse(name));
                }
                if self.base.contains(&normalized) {
                    // Only `name=value` exactly as the base URL has it, alone in its pair.
                    let exact = pieces.len() == 1
                        && base_query
                            .iter()
                            .any(|(k, v)| piece.split_once('=') == Some((k.as_str(), v.as_str())));
                    if !exact {
                        return Err(refuse(
                            base_query
                                .iter()
                                .find(|(k, _)| normalize(k) == normalized)
                                .map_or(name, |(k, _)| k.as_str()),
                        ));
                    }
                }
            }
        }
        for segment in url.path().split('/') {
            let decoded = decode_fully(segment, false);
            for piece in decoded.split([';', '?', '&']).skip(1) {
                let name = piece.split_once('=').map_or(piece, |(n, _)| n);
                let normalized = normalize(name);
                if self.credential.contains(&normalized) || self.base.contains(&normalized) {
                    return Err(refuse(
                        base_query
                            .iter()
                            .find(|(k, _)| normalize(k) == normalized)
                            .map_or(name, |(k, _)| k.as_str()),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected() -> Protected {
        Protected::new(
            vec!["api_key".into()],
            ["sap-client"].into_iter(),
            &["x-api-key".to_owned()],
        )
    }

    fn base() -> Vec<(String, String)> {
        vec![("sap-client".into(), "100".into())]
    }

    fn check(path: &str) -> Result<(), HttpError> {
        let url = Url::parse(&format!("http://127.0.0.1:9{path}")).unwrap();
        protected().check_url(&url, &base())
    }

    #[test]
    fn the_credential_parameter_is_refused_in_every_spelling() {
        for path in [
            "/x?api_key=stolen",
            "/x?API_KEY=stolen",
            "/x?Api_Key=a&api_key=b",
            "/x?a=1&api%5Fkey=stolen",
            "/x?api%255Fkey=stolen",
            "/x?api.key=stolen",
            "/x?api-key=stolen",
            "/x?api_key[]=stolen",
            "/x?+api_key=stolen",
            "/x?q=1%26api_key%3Dstolen",
            "/x;api_key=stolen",
            "/x%3Bapi_key=stolen/y",
            "/x%3Fapi_key=stolen",
        ] {
            match check(path) {
                Err(HttpError::ForbiddenDestination(why)) => {
                    assert!(why.contains("credential"), "{path}: {why}")
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        assert!(check("/x?apikeys=1&key=2&api=3").is_ok());
    }

    #[test]
    fn base_parameters_are_refused_in_every_spelling_but_exact_repetition() {
        for path in [
            "/x?sap-client=200",
            "/x?SAP-CLIENT=100",
            "/x?sap%2Dclient=200",
            "/x?sap%252Dclient=200",
            "/x?sap_client=200",
            "/x?sap-client=100&sap-client=200",
            "/x?f=a%26sap-client%3D200",
            "/x;sap-client=200",
            "/Equipment;SAP-Client=200/y",
            "/x%3Bsap-client=200",
        ] {
            match check(path) {
                Err(HttpError::ForbiddenDestination(why)) => {
                    assert!(why.contains("sap-client"), "{path}: {why}")
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        assert!(check("/x?sap-client=100&$top=1").is_ok());
        assert!(check("/x;v=2?$filter=Name%20eq%20%27a%27").is_ok());
    }

    #[test]
    fn headers_of_protected_names_are_refused() {
        let p = protected();
        for name in [
            "sap-client",
            "SAP_Client",
            "x-api-key",
            "X_API_KEY",
            "api-key",
            "api_key",
        ] {
            assert!(p.is_protected(name), "{name}");
        }
        assert!(!p.is_protected("accept"));
    }
}
