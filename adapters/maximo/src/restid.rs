//! Maximo rest ids: `_` followed by the base64 of the primary-key values joined by `/`, with
//! `=` written as `-` (IBM REST API guide and Maximo Mobile fixtures: `_QkVERk9SRC8xMTE2` is
//! `BEDFORD/1116`, `_MTAxNy8wL0JFREZPUkQ-` is `1017/0/BEDFORD`). The unified key is the
//! decoded text.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The rest id of unified key `key`.
pub fn encode(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = String::with_capacity(1 + bytes.len().div_ceil(3) * 4);
    out.push('_');
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..4usize {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('-');
            }
        }
    }
    out
}

/// The unified key a rest id encodes; `None` when it is not a rest id.
pub fn decode(id: &str) -> Option<String> {
    let body = id.strip_prefix('_')?.as_bytes();
    if body.is_empty() || body.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    for quad in body.chunks(4) {
        let mut n = 0u32;
        let mut pad = 0usize;
        for (i, &c) in quad.iter().enumerate() {
            let v = if c == b'-' || c == b'=' {
                if i < 2 {
                    return None;
                }
                pad += 1;
                0
            } else if pad > 0 {
                return None;
            } else {
                u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?
            };
            n = (n << 6) | v;
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    String::from_utf8(out).ok()
}

/// The unified key of a member URI (`http://host/maximo/oslc/os/mxapiwo/_QkVE...`, or a
/// relative `oslc/os/...` as BULK answers carry): its last path segment, decoded.
pub fn key_of_href(href: &str) -> Option<String> {
    let path = href.split(['?', '#']).next()?;
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    decode(&percent_decode(last))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ibm_examples_and_round_trips() {
        assert_eq!(encode("BEDFORD/1116"), "_QkVERk9SRC8xMTE2");
        assert_eq!(encode("A6002/FLEET"), "_QTYwMDIvRkxFRVQ-");
        assert_eq!(encode("1017/0/BEDFORD"), "_MTAxNy8wL0JFREZPUkQ-");
        for key in [
            "a",
            "ab",
            "abc",
            "BRG-1000/SET1/CENTRAL/BEDFORD",
            "Ünïcode/1",
        ] {
            assert_eq!(decode(&encode(key)).as_deref(), Some(key));
        }
        for bad in ["", "_", "QkVE", "_QkV", "_Q-VE", "_QQ-Q", "_!!!!"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(
            key_of_href("http://h:1/maximo/oslc/os/mxapiwo/_QkVERk9SRC8xMTE2?lean=1").as_deref(),
            Some("BEDFORD/1116")
        );
        assert_eq!(
            key_of_href("oslc/os/mxapiasset/_QTYwMDIvRkxFRVQ-").as_deref(),
            Some("A6002/FLEET")
        );
        assert_eq!(
            key_of_href("/os/mxapiwo/_QkVERk9SRC8x%2BTE2").map(|k| k.len()),
            decode("_QkVERk9SRC8x+TE2").map(|k| k.len())
        );
    }
}
