//! Continuation tokens handed to callers: opaque, sealed, bound to what they continue, and
//! short-lived.
//!
//! A token is `v1.` followed by URL-safe base64 (no padding) of a random 24-byte nonce and the
//! XChaCha20-Poly1305 ciphertext of the position (the system's own cursor, how many records
//! of that upstream page were already handed out, the recent cursors for the loop guard) and
//! of the binding: digests of the tenant and connection, of the entity and of the query
//! (filters, fields, sort and page size), and the expiry. The associated data is the format
//! version, so a token of another format never opens.
//!
//! A caller learns nothing from a token and can change nothing in it: a forged or tampered
//! token fails authentication; an expired one, one presented on another connection or for
//! another entity, or with another query, opens but is refused, each with its own message.
//! Every refusal happens before anything is sent upstream.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The prefix (and associated data) of this token format.
const VERSION: &str = "v1";
/// XChaCha20 nonce length.
const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// The largest token accepted, in characters: a system cursor may be long (an OData
/// `$skiptoken` link), but a caller may not make the host decrypt megabytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// How many recent upstream cursors a token remembers for the loop guard.
pub const RECENT_CURSORS: usize = 4;

/// Why a continuation token was refused. Every variant is the caller's error (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the continuation token is malformed (it must be passed back exactly as received)")]
    Malformed,
    #[error("the continuation token is not valid: it was altered, or issued by another host key")]
    Forged,
    #[error(
        "the continuation token expired at {expired_at}; start the listing again without a token"
    )]
    Expired { expired_at: String },
    #[error("the continuation token was issued for another connection or tenant")]
    OtherConnection,
    #[error("the continuation token was issued for another entity")]
    OtherEntity,
    #[error(
        "the continuation token was issued for another query: filters, fields, sort and page size must stay the same while paging"
    )]
    OtherQuery,
}

/// What a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub tenant: Option<String>,
    pub connection: String,
    pub entity: String,
    /// A canonical digest of the query (see [`super::Query::fingerprint`]).
    pub query: [u8; 32],
}

impl Binding {
    fn connection_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"plantwire.paging.connection\0");
        match &self.tenant {
            Some(t) => {
                h.update(b"1");
                h.update((t.len() as u64).to_be_bytes());
                h.update(t.as_bytes());
            }
            None => h.update(b"0"),
        }
        h.update(self.connection.as_bytes());
        h.finalize().into()
    }

    fn entity_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"plantwire.paging.entity\0");
        h.update(self.entity.as_bytes());
        h.finalize().into()
    }
}

/// Where a listing stands between two caller pages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The system's cursor of the upstream page to read next; `None` for the first page.
    pub cursor: Option<String>,
    /// Records of that upstream page already handed to the caller.
    pub skip: u32,
    /// Upstream pages read so far in this listing (for the page cap).
    pub pages: u64,
    /// Digests (8 bytes, hex) of the most recent upstream cursors, newest last.
    pub recent: Vec<String>,
    /// Digests of the keys most recently returned to the caller (at most
    /// [`super::TOKEN_KEYS`], newest last), so that the next caller page can refuse a record
    /// the listing already returned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<u64>,
}

/// The sealed payload.
#[derive(Serialize, Deserialize)]
struct Sealed {
    c: String,
    e: String,
    q: String,
    /// Expiry, Unix seconds.
    x: i64,
    p: Position,
}

/// Seals and opens continuation tokens under one 32-byte key. Hosts that share tokens (several
/// replicas behind one API) must share the key; a key change invalidates outstanding tokens,
/// which callers see as [`TokenError::Forged`] and answer by starting over.
pub struct TokenSealer {
    key: Zeroizing<[u8; 32]>,
    ttl: Duration,
}

impl fmt::Debug for TokenSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSealer")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenSealer {
    /// Tokens live this long unless configured otherwise.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

    /// A sealer with `key`, issuing tokens valid for `ttl`.
    pub fn new(key: [u8; 32], ttl: Duration) -> TokenSealer {
        TokenSealer {
            key: Zeroizing::new(key),
            ttl,
        }
    }

    /// A sealer with a fresh random key: tokens are valid only in this process.
    pub fn ephemeral() -> TokenSealer {
        let mut key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&key);
        zeroize::Zeroize::zeroize(key.as_mut_slice());
        TokenSealer::new(bytes, TokenSealer::DEFAULT_TTL)
    }

    /// A sealer whose key is 64 hex characters (what replicas behind one API share), issuing
    /// tokens valid for the default TTL. The error never quotes the text.
    pub fn from_hex(hex_key: &str) -> Result<TokenSealer, &'static str> {
        let bytes = Zeroizing::new(
            hex::decode(hex_key.trim())
                .map_err(|_| "a page-token key must be 64 hex characters")?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| "a page-token key must be 64 hex characters")?;
        Ok(TokenSealer::new(key, TokenSealer::DEFAULT_TTL))
    }

    /// How long a token stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.key.as_slice()))
    }

    /// A token for `position` under `binding`, valid until `now` + the TTL.
    pub fn seal(&self, binding: &Binding, position: &Position, now: OffsetDateTime) -> String {
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let sealed = Sealed {
            c: hex::encode(binding.connection_digest()),
            e: hex::encode(binding.entity_digest()),
            q: hex::encode(binding.query),
            x: now.unix_timestamp().saturating_add(ttl),
            p: position.clone(),
        };
        // Serializing plain strings and integers cannot fail.
        let plain = Zeroizing::new(serde_json::to_vec(&sealed).unwrap_or_default());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plain.as_slice(),
            aad: VERSION.as_bytes(),
        };
        // Encryption fails only for messages beyond the cipher's 256 GiB limit.
        let ciphertext = self.cipher().encrypt(&nonce, payload).unwrap_or_default();
        let mut raw = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ciphertext);
        format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// The position in `token`, if it is authentic, unexpired at `now` and bound to
    /// `binding`.
    pub fn open(
        &self,
        token: &str,
        binding: &Binding,
        now: OffsetDateTime,
    ) -> Result<Position, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let body = token
            .strip_prefix(VERSION)
            .and_then(|rest| rest.strip_prefix('.'))
            .ok_or(TokenError::Malformed)?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(TokenError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: VERSION.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| TokenError::Forged)?;
        // Authentic but unreadable: only a host with the same key and another format wrote it.
        let sealed: Sealed =
            serde_json::from_slice(plain.as_slice()).map_err(|_| TokenError::Malformed)?;
        if sealed.x <= now.unix_timestamp() {
            let expired_at = OffsetDateTime::from_unix_timestamp(sealed.x)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| sealed.x.to_string());
            return Err(TokenError::Expired { expired_at });
        }
        if sealed.c != hex::encode(binding.connection_digest()) {
            return Err(TokenError::OtherConnection);
        }
        if sealed.e != hex::encode(binding.entity_digest()) {
            return Err(TokenError::OtherEntity);
        }
        if sealed.q != hex::encode(binding.query) {
            return Err(TokenError::OtherQuery);
        }
        Ok(sealed.p)
    }
}

/// The short digest of an upstream cursor the loop guard remembers.
pub fn cursor_digest(cursor: &str) -> String {
    let d = Sha256::digest(cursor.as_bytes());
    hex::encode(&d[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            tenant: Some("acme".into()),
            connection: "mx-prod".into(),
            entity: "work-order".into(),
            query: [7; 32],
        }
    }

    fn position() -> Position {
        Position {
            cursor: Some("eyJpZCI6MTAwfQ".into()),
            skip: 20,
            pages: 3,
            recent: vec![cursor_digest("a"), cursor_digest("b")],
            seen: vec![u64::MAX, 1, 0x0123_4567_89ab_cdef],
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time")
    }

    #[test]
    fn a_token_round_trips_and_reveals_nothing() {
        let sealer = TokenSealer::ephemeral();
        let token = sealer.seal(&binding(), &position(), now());
        assert!(token.starts_with("v1."));
        assert!(!token.contains("eyJpZCI6MTAwfQ"));
        assert!(!token.contains("mx-prod"));
        assert_eq!(sealer.open(&token, &binding(), now()), Ok(position()));
        // Two tokens for the same position differ (fresh nonce).
        assert_ne!(token, sealer.seal(&binding(), &position(), now()));
    }

    #[test]
    fn every_flipped_byte_is_refused_as_forged_or_malformed() {
        let sealer = TokenSealer::ephemeral();
        let token = sealer.seal(&binding(), &position(), now());
        let raw = URL_SAFE_NO_PAD
            .decode(token.strip_prefix("v1.").expect("prefix"))
            .expect("b64");
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            let forged = format!("v1.{}", URL_SAFE_NO_PAD.encode(&bad));
            assert_eq!(
                sealer.open(&forged, &binding(), now()),
                Err(TokenError::Forged),
                "byte {i}"
            );
        }
        let truncated = &token[..token.len() - 4];
        assert!(sealer.open(truncated, &binding(), now()).is_err());
    }

    #[test]
    fn garbage_is_malformed() {
        let sealer = TokenSealer::ephemeral();
        for bad in [
            "",
            "v1.",
            "v1.!!!",
            "v2.AAAA",
            "cursor=100",
            "v1.AAAA",
            &"v1.".repeat(5000),
        ] {
            assert_eq!(
                sealer.open(bad, &binding(), now()),
                Err(TokenError::Malformed),
                "{bad:.20}"
            );
        }
    }

    #[test]
    fn another_key_is_forged() {
        let token = TokenSealer::ephemeral().seal(&binding(), &position(), now());
        assert_eq!(
            TokenSealer::ephemeral().open(&token, &binding(), now()),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn expiry_and_every_binding_part_are_checked() {
        let sealer = TokenSealer::new([9; 32], Duration::from_secs(60));
        let token = sealer.seal(&binding(), &position(), now());
        let later = now() + time::Duration::seconds(61);
        assert!(matches!(
            sealer.open(&token, &binding(), later),
            Err(TokenError::Expired { .. })
        ));
        let mut other = binding();
        other.connection = "mx-test".into();
        assert_eq!(
            sealer.open(&token, &other, now()),
            Err(TokenError::OtherConnection)
        );
        let mut other = binding();
        other.tenant = None;
        assert_eq!(
            sealer.open(&token, &other, now()),
            Err(TokenError::OtherConnection)
        );
        let mut other = binding();
        other.entity = "asset".into();
        assert_eq!(
            sealer.open(&token, &other, now()),
            Err(TokenError::OtherEntity)
        );
        let mut other = binding();
        other.query = [8; 32];
        assert_eq!(
            sealer.open(&token, &other, now()),
            Err(TokenError::OtherQuery)
        );
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let sealer = TokenSealer::new([0xAB; 32], Duration::from_secs(5));
        let debug = format!("{sealer:?}");
        assert!(!debug.contains("171"), "{debug}");
        assert!(!debug.to_lowercase().contains("abab"), "{debug}");
    }
}
