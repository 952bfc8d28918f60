//! Removing secrets from free text before it leaves the process: PingOne's
//! `syncStatus.details` and error messages, log lines, `status` and `dump`.
//!
//! Two layers, because the exporter cannot know every secret a text may
//! quote: the literal secrets it holds (client secret, current access token)
//! are removed wherever they appear, and anything *shaped* like a credential
//! is removed too: `Bearer <token>`, a JWT (three base64url parts joined by
//! dots), the value of a `password=` / `secret=` / `token=` / `key=` style
//! pair (also `:` and quoted JSON forms), and the userinfo of a URL. Each is
//! replaced with [`REDACTED`]. Depends on nothing else in the crate.

/// What a removed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The longest cleaned text [`clean_details`] returns, in characters (the
/// cut adds one more: `…`).
pub const DETAILS_MAX_CHARS: usize = 200;

/// Literal secrets shorter than this are not searched for: removing every
/// `a` of a text would redact nothing useful and destroy the text.
const MIN_SECRET_LEN: usize = 4;

/// Key names whose value is a credential (compared case-insensitively, as
/// the end of a key, so `client_secret`, `apiKey`, `access_token` match).
const SECRET_KEYS: [&str; 5] = ["password", "passwd", "secret", "token", "key"];

/// `text` with every literal `secrets` entry and everything shaped like a
/// credential replaced with [`REDACTED`] (see the module docs).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    // Longest first, so a secret containing another is removed whole.
    let mut literal: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    literal.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in literal {
        out = out.replace(s, REDACTED);
    }
    let out = bearer(&out);
    let out = key_values(&out);
    let out = userinfo(&out);
    jwts(&out)
}

/// Cleans a `details` text for a label, a log line or `status`: trimmed,
/// control characters and whitespace runs turned into one space, scrubbed
/// ([`scrub`]), cut to [`DETAILS_MAX_CHARS`] characters (on a character
/// boundary) plus `…`. `None` when nothing is left.
pub fn clean_details(text: &str, secrets: &[&str]) -> Option<String> {
    let mut flat = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
        } else {
            if space && !flat.is_empty() {
                flat.push(' ');
            }
            space = false;
            flat.push(c);
        }
    }
    let scrubbed = scrub(&flat, secrets);
    let scrubbed = scrubbed.trim();
    if scrubbed.is_empty() {
        return None;
    }
    match scrubbed.char_indices().nth(DETAILS_MAX_CHARS) {
        Some((cut, _)) => Some(format!("{}…", scrubbed[..cut].trim_end())),
        None => Some(scrubbed.to_string()),
    }
}

/// Characters a token, key value or userinfo is made of: anything but
/// whitespace, quotes and the separators that end a value in prose.
fn token_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '"' | '\'' | ',' | ';' | '&' | '<' | '>' | ')' | ']' | '}'
        )
}

/// The byte length of the token starting `s`.
fn token_len(s: &str) -> usize {
    s.find(|c: char| !token_char(c)).unwrap_or(s.len())
}

/// `Bearer <token>` (any case) → `Bearer [redacted]`.
fn bearer(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = lower[from..].find("bearer") {
        let start = from + pos;
        let after = start + "bearer".len();
        from = after;
        let boundary = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let gap = text[after..].len() - text[after..].trim_start().len();
        if !boundary || gap == 0 {
            continue;
        }
        let value = after + gap;
        let len = token_len(&text[value..]);
        if len == 0 || text[value..value + len] == *REDACTED {
            continue;
        }
        out.push_str(&text[last..value]);
        out.push_str(REDACTED);
        last = value + len;
        from = last;
    }
    out.push_str(&text[last..]);
    out
}

/// `password=x`, `client_secret: x`, `"apiKey":"x"` → the value redacted.
fn key_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != b'=' && c != b':' {
            i += 1;
            continue;
        }
        // The key: the identifier just before the separator, maybe quoted.
        let mut key_end = i;
        if key_end > 0 && matches!(bytes[key_end - 1], b'"' | b'\'') {
            key_end -= 1;
        }
        // After the character that ends the key, which may be several
        // bytes long (`é=`): a byte offset of +1 would split it.
        let key_start = text[..key_end]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let key = text[key_start..key_end].to_ascii_lowercase();
        let secret_key = SECRET_KEYS.iter().any(|k| key.ends_with(k));
        // `://` is a URL scheme, not a key-value pair.
        if !secret_key || text[i..].starts_with("://") {
            i += 1;
            continue;
        }
        let mut value = i + 1;
        while value < bytes.len() && bytes[value] == b' ' {
            value += 1;
        }
        if value < bytes.len() && matches!(bytes[value], b'"' | b'\'') {
            value += 1;
        }
        let len = token_len(&text[value..]);
        if len == 0 || text[value..].starts_with(REDACTED) {
            i = value.max(i + 1);
            continue;
        }
        out.push_str(&text[last..value]);
        out.push_str(REDACTED);
        last = value + len;
        i = last;
    }
    out.push_str(&text[last..]);
    out
}

/// `scheme://user:pass@host` → `scheme://[redacted]@host`.
fn userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = text[from..].find("://") {
        let auth = from + pos + 3;
        from = auth;
        let len = token_len(&text[auth..]);
        let authority = &text[auth..auth + len];
        let authority = &authority[..authority.find('/').unwrap_or(authority.len())];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        if at == 0 || authority[..at] == *REDACTED {
            continue;
        }
        out.push_str(&text[last..auth]);
        out.push_str(REDACTED);
        last = auth + at;
        from = last;
    }
    out.push_str(&text[last..]);
    out
}

/// True for a base64url character.
fn b64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Three base64url parts joined by dots whose first part starts like a
/// JSON object's encoding (`eyJ`) → redacted. Requiring `eyJ` keeps host
/// names and version numbers (`a.b.c`) intact.
fn jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = text[from..].find("eyJ") {
        let start = from + pos;
        from = start + 3;
        if text[..start].chars().next_back().is_some_and(b64url) {
            continue;
        }
        let len = text[start..]
            .find(|c: char| !(b64url(c) || c == '.'))
            .unwrap_or(text.len() - start);
        let candidate = &text[start..start + len];
        let parts: Vec<&str> = candidate.split('.').collect();
        if parts.len() < 3 || parts[..2].iter().any(|p| p.is_empty()) {
            continue;
        }
        // Keep a sentence's full stop after the token.
        let len = candidate.trim_end_matches('.').len();
        out.push_str(&text[last..start]);
        out.push_str(REDACTED);
        last = start + len;
        from = last;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ";

    #[test]
    fn literal_secrets_are_removed_wherever_they_appear() {
        let got = scrub(
            "auth failed for s3cr3t-value (s3cr3t-value)",
            &["s3cr3t-value"],
        );
        assert_eq!(got, "auth failed for [redacted] ([redacted])");
        // Too short to search for: left alone rather than shredding the text.
        assert_eq!(scrub("a b c", &["a", ""]), "a b c");
    }

    #[test]
    fn bearer_tokens_are_removed_in_any_case() {
        assert_eq!(
            scrub("Authorization: Bearer abc.def-123 was rejected", &[]),
            "Authorization: Bearer [redacted] was rejected"
        );
        assert_eq!(scrub("bearer   xyz", &[]), "bearer   [redacted]");
        // A word that merely contains "bearer" is not a token.
        assert_eq!(
            scrub("the flagbearer went home", &[]),
            "the flagbearer went home"
        );
    }

    #[test]
    fn jwts_are_removed_but_dotted_names_are_not() {
        assert_eq!(scrub(&format!("token {JWT}."), &[]), "token [redacted].");
        assert_eq!(
            scrub("host api.pingone.eu version 1.2.3", &[]),
            "host api.pingone.eu version 1.2.3"
        );
    }

    #[test]
    fn secret_key_values_are_removed() {
        assert_eq!(
            scrub("login password=hunter2 user=bob", &[]),
            "login password=[redacted] user=bob"
        );
        assert_eq!(
            scrub(r#"{"client_secret": "abc123", "apiKey":"k-9"}"#, &[]),
            r#"{"client_secret": "[redacted]", "apiKey":"[redacted]"}"#
        );
        assert_eq!(
            scrub("access_token: zzz;", &[]),
            "access_token: [redacted];"
        );
        assert_eq!(scrub("SECRET=x&next=1", &[]), "SECRET=[redacted]&next=1");
        assert_eq!(scrub("status: FAILED", &[]), "status: FAILED");
    }

    #[test]
    fn a_multibyte_character_before_a_key_is_not_split() {
        // Found by the fuzz test: this panicked on a char boundary.
        assert_eq!(
            scrub("passwor\u{fffd}=hunter2", &[]),
            "passwor\u{fffd}=hunter2"
        );
        assert_eq!(scrub("é password=x", &[]), "é password=[redacted]");
        assert_eq!(scrub("ésecret: y", &[]), "ésecret: [redacted]");
    }

    #[test]
    fn url_userinfo_is_removed() {
        assert_eq!(
            scrub("POST https://bob:pw@scim.example.com/Users failed", &[]),
            "POST https://[redacted]@scim.example.com/Users failed"
        );
        assert_eq!(
            scrub("see https://example.com/a@b", &[]),
            "see https://example.com/a@b",
            "an @ in the path is not userinfo"
        );
    }

    #[test]
    fn details_are_flattened_scrubbed_and_cut() {
        assert_eq!(
            clean_details("  SCIM\t 401:\r\n\u{7}Bearer abc  ", &[]),
            Some("SCIM 401: Bearer [redacted]".into())
        );
        assert_eq!(clean_details(" \n\t ", &[]), None);
        assert_eq!(clean_details("", &[]), None);
        let long = "é".repeat(250);
        let cut = clean_details(&long, &[]).unwrap();
        assert_eq!(cut.chars().count(), DETAILS_MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
        let exact = "x".repeat(DETAILS_MAX_CHARS);
        assert_eq!(clean_details(&exact, &[]), Some(exact));
    }

    #[test]
    fn the_literal_secret_goes_before_the_cut() {
        let text = format!("{} tok-abcdef", "y".repeat(198));
        let cleaned = clean_details(&text, &["tok-abcdef"]).unwrap();
        assert!(!cleaned.contains("tok-ab"), "{cleaned}");
    }
}
