//! The scrubber: one place that knows every secret of a connection in every form an upstream
//! might hand it back in, and replaces each occurrence before the adapter sees a response.
//!
//! Secrets come from three sources: the credential itself (token, API key, password, client
//! secret, refresh token, HMAC keys), tokens the host obtains at run time (session tokens,
//! access tokens, rotated refresh tokens), and the values of the connection's cookie jar.
//!
//! For each secret `s` the scrubber derives, and matches ASCII-case-insensitively (so every
//! case-folded spelling, and upper- or lower-case hex digits, are covered):
//!
//! - `s` itself;
//! - percent-encoded `s`: RFC 3986 (unreserved characters kept, space as `%20`) and
//!   `application/x-www-form-urlencoded` (space as `+`), and `s` with every byte
//!   percent-encoded;
//! - JSON-escaped `s`: the minimal escape (`\"`, `\\`, control characters), the same with `\/`
//!   for `/`, every non-alphanumeric character as `\uXXXX`, and every character as `\uXXXX`;
//! - base64 of `s` (standard and URL-safe alphabets, padded or not), at each of the three
//!   alignments a secret can take inside a longer base64 text (so the base64 of `user:s`,
//!   of a JSON document holding `s`, … is found whatever precedes `s`), and the
//!   percent-encoded form of each (`%2B`, `%2F`, `%3D`);
//! - for a user name and secret sent together (HTTP basic, OAuth client authentication): the
//!   base64 of `user:s`, in both alphabets, and its percent-encoded form.
//!
//! Out of scope: encodings the upstream could invent beyond these (hex, base32, HTML
//! entities, UTF-16, a second round of percent- or base64-encoding, compression — the egress
//! refuses compressed and partial answers and non-UTF-8 charsets before they reach here),
//! Unicode case folding of non-ASCII secrets, and fragments of a secret shorter than
//! [`MIN_DERIVED`] bytes. Cookie values shorter than [`MIN_COOKIE`] bytes are not treated as
//! secrets (flags such as `lang=en`); session identifiers are far longer.
//!
//! This module must never log a secret or hand one out: it only answers "scrubbed bytes".

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// What a secret is replaced with.
pub(crate) const REDACTED: &[u8] = b"[REDACTED]";

/// Derived forms (base64 fragments) shorter than this are not matched: they would match
/// ordinary text. The secret itself is always matched.
pub(crate) const MIN_DERIVED: usize = 8;

/// Cookie values shorter than this are not treated as secrets.
pub(crate) const MIN_COOKIE: usize = 8;

/// At most this many obtained tokens, and this many cookie values, are kept (newest).
const MAX_OBTAINED: usize = 32;
const MAX_COOKIES: usize = 64;

#[derive(Default)]
struct Sources {
    /// The credential's own secrets, kept for the connection's life.
    fixed: Vec<Vec<u8>>,
    /// Tokens obtained at run time, newest last.
    obtained: VecDeque<Vec<u8>>,
    /// Cookie-jar values, newest last.
    cookies: VecDeque<Vec<u8>>,
    /// `(user, secret)` pairs sent together as `base64(user:secret)`.
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Every secret of one connection, and the automaton that finds all their forms.
#[derive(Default)]
pub(crate) struct Scrubber {
    sources: RwLock<Sources>,
    matcher: RwLock<Option<Arc<AhoCorasick>>>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrubber([REDACTED])")
    }
}

impl Scrubber {
    /// A credential secret, kept for the connection's life.
    pub(crate) fn add_fixed(&self, secret: &str) {
        self.change(|s| push_unique(&mut s.fixed, secret.as_bytes()));
    }

    /// A user name and a secret sent together as `base64(user:secret)` (the secret itself
    /// too).
    pub(crate) fn add_pair(&self, user: &str, secret: &str) {
        self.change(|s| {
            let pair = (user.as_bytes().to_vec(), secret.as_bytes().to_vec());
            let mut changed = push_unique(&mut s.fixed, secret.as_bytes());
            if !secret.is_empty() && !s.pairs.contains(&pair) {
                s.pairs.push(pair);
                changed = true;
            }
            changed
        });
    }

    /// A token obtained at run time.
    pub(crate) fn add_obtained(&self, token: &str) {
        self.change(|s| push_bounded(&mut s.obtained, token.as_bytes(), MAX_OBTAINED));
    }

    /// A value from the connection's cookie jar (ignored when shorter than [`MIN_COOKIE`]).
    pub(crate) fn add_cookie(&self, value: &[u8]) {
        if value.len() < MIN_COOKIE {
            return;
        }
        self.change(|s| push_bounded(&mut s.cookies, value, MAX_COOKIES));
    }

    /// `bytes` with every form of every secret replaced by `[REDACTED]`.
    pub(crate) fn scrub(&self, bytes: Vec<u8>) -> Vec<u8> {
        let matcher = self.matcher.read().ok().and_then(|m| m.clone());
        match matcher {
            Some(m) if m.is_match(&bytes) => {
                m.replace_all_bytes(&bytes, &vec![REDACTED; m.patterns_len()])
            }
            _ => bytes,
        }
    }

    /// Applies `f` to the sources and rebuilds the automaton when it reports a change.
    fn change(&self, f: impl FnOnce(&mut Sources) -> bool) {
        let Ok(mut sources) = self.sources.write() else {
            return;
        };
        if !f(&mut sources) {
            return;
        }
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let all = sources
            .fixed
            .iter()
            .chain(&sources.obtained)
            .chain(&sources.cookies);
        for secret in all {
            forms(secret, &mut patterns);
        }
        for (user, secret) in &sources.pairs {
            let mut joined = user.clone();
            joined.push(b':');
            joined.extend_from_slice(secret);
            for encoded in [STANDARD.encode(&joined), URL_SAFE.encode(&joined)] {
                push_unique(&mut patterns, encoded.as_bytes());
                push_unique(&mut patterns, percent(encoded.as_bytes(), false).as_bytes());
            }
        }
        patterns.retain(|p| !p.is_empty());
        let built = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .map(Arc::new);
        if let Ok(mut matcher) = self.matcher.write() {
            *matcher = built;
        }
    }
}

fn push_unique(list: &mut Vec<Vec<u8>>, value: &[u8]) -> bool {
    if value.is_empty() || list.iter().any(|v| v == value) {
        return false;
    }
    list.push(value.to_vec());
    true
}

fn push_bounded(list: &mut VecDeque<Vec<u8>>, value: &[u8], max: usize) -> bool {
    if value.is_empty() || list.iter().any(|v| v == value) {
        return false;
    }
    list.push_back(value.to_vec());
    while list.len() > max {
        list.pop_front();
    }
    true
}

/// Every form of `secret` listed in the module docs, appended to `out`.
fn forms(secret: &[u8], out: &mut Vec<Vec<u8>>) {
    push_unique(out, secret);
    let derived = |out: &mut Vec<Vec<u8>>, form: &[u8]| {
        if form.len() >= MIN_DERIVED || form.len() >= secret.len() {
            push_unique(out, form);
        }
    };
    derived(out, percent(secret, false).as_bytes());
    derived(out, percent(secret, true).as_bytes());
    derived(out, percent_every_byte(secret).as_bytes());
    if let Ok(text) = std::str::from_utf8(secret) {
        for json in json_forms(text) {
            derived(out, json.as_bytes());
        }
    }
    for fragment in base64_fragments(secret) {
        derived(out, fragment.as_bytes());
        derived(out, percent(fragment.as_bytes(), false).as_bytes());
    }
}

/// Percent-encoding with RFC 3986's unreserved characters kept; `form` writes space as `+`
/// (`application/x-www-form-urlencoded`).
pub(crate) fn percent(bytes: &[u8], form: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b'*' if form => out.push('*'),
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_every_byte(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// The JSON string escapes of `text`, without the quotes.
fn json_forms(text: &str) -> Vec<String> {
    let minimal = serde_json::to_string(text)
        .map(|s| s[1..s.len() - 1].to_owned())
        .unwrap_or_default();
    let slashed = minimal.replace('/', "\\/");
    let mut unicode_punct = String::new();
    let mut unicode_all = String::new();
    for c in text.chars() {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            let escaped = format!("\\u{unit:04x}");
            unicode_all.push_str(&escaped);
            if c.is_ascii_alphanumeric() {
                unicode_punct.push(c);
            } else {
                unicode_punct.push_str(&escaped);
            }
        }
    }
    vec![minimal, slashed, unicode_punct, unicode_all]
}

/// The base64 characters fully determined by `secret`, at each of the three byte alignments
/// it can have inside a longer text, in the standard and URL-safe alphabets; for the
/// alignment at offset 0 the whole encoding (padded and unpadded) as well.
fn base64_fragments(secret: &[u8]) -> Vec<String> {
    let mut out = vec![
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(secret);
        let encoded = STANDARD_NO_PAD.encode(&padded);
        // Character i covers bits [6i, 6i + 6): keep those entirely inside the secret.
        let first = (offset * 8).div_ceil(6);
        let end = ((offset + secret.len()) * 8) / 6;
        if let Some(fragment) = encoded.get(first..end) {
            out.push(fragment.to_owned());
            out.push(fragment.replace('+', "-").replace('/', "_"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t+/=\"\\ tok/en";

    fn scrubber() -> Scrubber {
        let s = Scrubber::default();
        s.add_pair("maint-user", SECRET);
        s
    }

    fn scrubbed(s: &Scrubber, text: &str) -> String {
        String::from_utf8(s.scrub(text.as_bytes().to_vec())).unwrap()
    }

    #[test]
    fn every_listed_form_is_replaced() {
        let s = scrubber();
        let basic = STANDARD.encode(format!("maint-user:{SECRET}"));
        let json = serde_json::to_string(SECRET).unwrap();
        let json = &json[1..json.len() - 1];
        let mut forms = vec![
            SECRET.to_owned(),
            SECRET.to_ascii_uppercase(),
            percent(SECRET.as_bytes(), false),
            percent(SECRET.as_bytes(), false).to_ascii_lowercase(),
            percent(SECRET.as_bytes(), true),
            percent_every_byte(SECRET.as_bytes()),
            json.to_owned(),
            json.replace('/', "\\/"),
            STANDARD.encode(SECRET),
            URL_SAFE_NO_PAD.encode(SECRET),
            basic.clone(),
            percent(basic.as_bytes(), false),
        ];
        forms.extend(json_forms(SECRET));
        // The secret inside any longer base64 text, whatever precedes it.
        for prefix in ["", "a", "ab", "{\"password\":\""] {
            forms.push(STANDARD.encode(format!("{prefix}{SECRET}\"}}")));
        }
        for form in forms {
            let out = scrubbed(&s, &format!("before {form} after"));
            assert!(out.contains("[REDACTED]"), "{form} -> {out}");
            assert!(!out.contains(&form), "{form} -> {out}");
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let s = scrubber();
        let text = "{\"workOrders\":[{\"id\":1,\"title\":\"Inspect chiller\"}]}";
        assert_eq!(scrubbed(&s, text), text);
        assert_eq!(Scrubber::default().scrub(b"abc".to_vec()), b"abc");
    }

    #[test]
    fn obtained_tokens_and_cookies_are_added_and_short_cookies_ignored() {
        let s = Scrubber::default();
        s.add_obtained("r:session-42-abcdef");
        s.add_cookie(b"sess-9f8e7d6c5b4a");
        s.add_cookie(b"en");
        assert_eq!(
            scrubbed(&s, "r%3Asession-42-abcdef sess-9f8e7d6c5b4a en"),
            "[REDACTED] [REDACTED] en"
        );
    }

    #[test]
    fn obtained_tokens_are_bounded() {
        let s = Scrubber::default();
        for i in 0..(MAX_OBTAINED + 5) {
            s.add_obtained(&format!("token-number-{i:04}"));
        }
        assert_eq!(scrubbed(&s, "token-number-0000"), "token-number-0000");
        let newest = format!("token-number-{:04}", MAX_OBTAINED + 4);
        assert_eq!(scrubbed(&s, &newest), "[REDACTED]");
    }
}
