//! Path forms that could step out of a connection's base path on an upstream that decodes
//! them, refused before anything is sent.
//!
//! The URL parser already resolves literal `.` and `..` segments (and `%2e` spelt ones) and
//! [`super::Egress`] refuses a result outside the base path. But an upstream, or a proxy in
//! front of it, may decode the path once more before routing: `/v1/x%2F..%2F..%2Fadmin`
//! stays under `/v1` for the host and becomes `/admin` there. So, on the path of every
//! request (the query is data and is not checked here):
//!
//! 1. **Everywhere**, each segment is percent-decoded until nothing changes (at most
//!    [`MAX_DECODING_ROUNDS`] times, so `%252e%252e` is seen as `..`), split at `/` and `\`,
//!    and every piece is cut at its first `;` (Tomcat reads `..;x` as `..`). A piece that is
//!    `.` or `..` is refused, whatever encoding or nesting spelt it. So is an encoded NUL.
//! 2. **Outside an OData quoted literal**, a segment may not carry an encoded separator
//!    (`%2F`, `%5C`, any case), an encoded dot (`%2E`: `.` is unreserved and never needs
//!    encoding), a double encoding (`%25` followed by two hex digits) or a path parameter
//!    (`;`, the `..;/` and `;sap-client=` tricks). A raw backslash is refused by the caller.
//!
//! The one exception, and why it is safe: inside a quoted literal (`'…'`, a doubled `''`
//! being a quote inside it), any percent-encoding may appear, because SAP OData keys are
//! text literals percent-encoded inside `('…')` (`FunctionalLocation('1010-SP%2FA%20B')`
//! for the key `1010-SP/A B`, `%25` for a `%` in a key). Such a literal cannot step out of
//! the base path: rule 1 still applies to it, so however the upstream decodes it, it never
//! produces a `.` or `..` segment, and a `/` it decodes to only adds a segment below the
//! base path. A literal must close within its segment. This is the rule for every adapter,
//! not a per-system switch.
//!
//! What this module must never do: accept a path because it looks like a known adapter's;
//! it decides on the text alone.

/// How many times a segment is percent-decoded before it counts as nested past reason.
pub(super) const MAX_DECODING_ROUNDS: usize = 4;

/// Checks the path of an adapter's request (relative, or an absolute URL to an extra
/// origin); `Err` says why it is refused.
pub(super) fn check(target: &str) -> Result<(), String> {
    let path = path_of(target);
    for segment in path.split('/') {
        check_segment(segment)?;
    }
    Ok(())
}

/// The path part of a request target: without a scheme and authority, query and fragment.
fn path_of(target: &str) -> &str {
    let rest = match target.find("://") {
        Some(at) if target[..at].bytes().all(|b| b.is_ascii_alphabetic()) => {
            let after = &target[at + 3..];
            after.find('/').map_or("", |slash| &after[slash..])
        }
        _ => target,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

fn check_segment(segment: &str) -> Result<(), String> {
    check_outside_literals(segment)?;
    let decoded = decode_fully(segment)?;
    if decoded.contains(&0) {
        return Err("the path carries an encoded NUL (`%00`)".into());
    }
    for piece in decoded.split(|&b| b == b'/' || b == b'\\') {
        let before_params = piece.split(|&b| b == b';').next().unwrap_or(piece);
        if before_params == b"." || before_params == b".." {
            return Err(
                "the path carries a dot segment (`.` or `..`, possibly encoded or with a `;` parameter); paths may not step out of the base path"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Rule 2: outside quoted literals, no encoded separator, encoded dot, double encoding or
/// path parameter.
fn check_outside_literals(segment: &str) -> Result<(), String> {
    let bytes = segment.as_bytes();
    let mut in_literal = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            // A doubled quote inside a literal toggles out and back in: the same state.
            in_literal = !in_literal;
        } else if !in_literal {
            if b == b';' {
                return Err(
                    "the path carries a `;` path parameter outside a quoted key literal".into(),
                );
            }
            if b == b'%'
                && let Some(code) = hex_at(bytes, i + 1)
            {
                match code {
                    b'/' | b'\\' => {
                        return Err(format!(
                            "the path carries an encoded separator (`{}`) outside a quoted key literal",
                            &segment[i..i + 3]
                        ));
                    }
                    b'.' => {
                        return Err(format!(
                            "the path carries an encoded dot (`{}`) outside a quoted key literal",
                            &segment[i..i + 3]
                        ));
                    }
                    b'%' if hex_at(bytes, i + 3).is_some() => {
                        return Err(format!(
                            "the path carries a double percent-encoding (`{}`) outside a quoted key literal",
                            &segment[i..i + 5]
                        ));
                    }
                    _ => {}
                }
            }
        }
        i += 1;
    }
    if in_literal {
        return Err("the path carries a quoted literal that does not close in its segment".into());
    }
    Ok(())
}

/// The byte a `%XX` escape at `at` (the two hex digits) stands for.
fn hex_at(bytes: &[u8], at: usize) -> Option<u8> {
    let hi = char::from(*bytes.get(at)?).to_digit(16)?;
    let lo = char::from(*bytes.get(at + 1)?).to_digit(16)?;
    u8::try_from(hi * 16 + lo).ok()
}

fn decode_once(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = hex_at(bytes, i + 1)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Decodes until nothing changes; refuses what is still encoded after the last round.
fn decode_fully(segment: &str) -> Result<Vec<u8>, String> {
    let mut current = segment.as_bytes().to_vec();
    for _ in 0..MAX_DECODING_ROUNDS {
        let next = decode_once(&current);
        if next == current {
            return Ok(current);
        }
        current = next;
    }
    if decode_once(&current) == current {
        Ok(current)
    } else {
        Err(format!(
            "the path is percent-encoded more than {MAX_DECODING_ROUNDS} times over"
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn paths_that_could_step_out_on_a_decoding_upstream_are_refused() {
        for (path, why) in [
            ("/x%2F..%2F..%2Fadmin", "encoded separator"),
            ("/x%2f..%2fadmin", "encoded separator"),
            ("/x%5C..%5Cadmin", "encoded separator"),
            ("/x%5c..", "encoded separator"),
            ("/%2e%2e/admin", "encoded dot"),
            ("/%2E%2E/admin", "encoded dot"),
            ("/.%2e/admin", "encoded dot"),
            ("/%2e./admin", "encoded dot"),
            ("/%2e/admin", "encoded dot"),
            ("/x/%252e%252e/admin", "double percent-encoding"),
            ("/x%252F..%252Fadmin", "double percent-encoding"),
            ("/x%25252F", "double percent-encoding"),
            ("/..;/admin", "`;`"),
            ("/x/..;jsessionid=1/admin", "`;`"),
            ("/x;sap-client=200", "`;`"),
            ("/workorders;/..", "`;`"),
            ("/a/../b", "dot segment"),
            ("/a/./b", "dot segment"),
            ("/..", "dot segment"),
            ("/x%00.json", "NUL"),
            // Quoted literals do not shelter a dot segment, in any encoding.
            ("/Set('x%2F..%2F..%2Fadmin')", "dot segment"),
            ("/Set('x%5C..%5Cadmin')", "dot segment"),
            ("/Set('%252F%252e%252e%252Fadmin')", "dot segment"),
            ("/Set('a%2F..;x')", "dot segment"),
            ("/Set('a')/..;/x", "`;`"),
            ("/Set('%25252525252F')", "more than"),
            ("/Set('open%2F..", "does not close"),
            ("https://auth.example.com/%2e%2e/token", "encoded dot"),
        ] {
            let err = check(path).unwrap_err();
            assert!(err.contains(why), "{path}: {err}");
        }
    }

    #[test]
    fn legitimate_adapter_paths_pass() {
        for path in [
            "/workorders",
            "/workorders/42?limit=5&cursor=abc%2Fdef",
            "/v1/workorders?model=X-2000%2FB&manufacturer=ACME%20%26%20Sons",
            // SAP key literals: percent-encoded inside the quotes, `''` for a quote.
            "/API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP%2FA%20B')",
            "/API_FUNCTIONALLOCATION/FunctionalLocation('O''X')",
            "/API_FUNCTIONALLOCATION/FunctionalLocation('100%25')",
            "/API_FUNCTIONALLOCATION/FunctionalLocation('a%5Cb')",
            "/API_FUNCTIONALLOCATION/FunctionalLocation('..x')",
            "/API_EQUIPMENT/Equipment(Equipment='10000001',ValidityEndDate=datetime'9999-12-31T00:00:00')",
            "/API_MAINTENANCEORDER/MaintenanceOrder('4000001')/to_MaintenanceOrderOperation",
            // Maximo rest ids and file-like names.
            "/os/mxapiwo/_QkVERk9SRC8xMTE2?lean=1",
            "/os/mxapiwo/_QTYwMDIvRkxFRVQ-",
            "/files/report.v2.json",
            "/x/%20y",
            "/",
            "https://auth.example.com/oauth/token",
            "https://auth.example.com",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn nested_encodings_are_decoded_to_the_limit() {
        assert_eq!(decode_fully("%2525").unwrap(), b"%");
        assert_eq!(decode_fully("%252e").unwrap(), b".");
        assert!(decode_fully("%2525252525").is_err());
        assert_eq!(path_of("https://h.example.com/a/b?q#f"), "/a/b");
        assert_eq!(path_of("/a%2Fb?c=%2F"), "/a%2Fb");
    }
}
