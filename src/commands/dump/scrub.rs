//! Scrubbing an answer before `dump` writes it: secrets, store
//! configuration values, personal data and free text go; ids, structure,
//! counters, states and times stay, so the file still shows how the tenant
//! answers and still parses. The rules (also in `docs/dump.md`):
//!
//! - a key that names a secret ([`is_secret_key`]: password, secret, token,
//!   key, credential, authorization, auth, cookie, certificate, ...) at any
//!   depth: its whole value becomes `"<scrubbed>"`;
//! - store `configuration`, every user object's fields except
//!   [`USER_KEEP`], and personal keys anywhere ([`PERSONAL_KEYS`]): every
//!   string and number inside becomes `"<scrubbed>"`, keys, booleans and
//!   nulls stay (the shape is what we need to learn);
//! - free text (`details`, `description`, `populationExpression`) and group
//!   names: `"<scrubbed>"` when not empty;
//! - user ids and `createdBy` (people's ids): replaced everywhere, links
//!   included, by stable pseudonyms `00000000-0000-4000-8000-00000000000N`;
//! - in every remaining string: e-mail addresses become `<scrubbed-email>`,
//!   paging `cursor=` values become `cursor=scrubbed` (a cursor can encode
//!   the last user of a page), and the configured client secret, should it
//!   appear, becomes `<scrubbed>`.

use serde_json::{Map, Value};

/// What a scrubbed value is replaced with.
pub const SCRUBBED: &str = "<scrubbed>";

/// Fields of a user object that are kept (ids, times, flags).
pub const USER_KEEP: [&str; 7] = [
    "id",
    "environment",
    "population",
    "enabled",
    "createdAt",
    "updatedAt",
    "_links",
];

/// Keys holding personal data wherever they appear (compared in lower case).
pub const PERSONAL_KEYS: [&str; 16] = [
    "username",
    "email",
    "emails",
    "phone",
    "phonenumbers",
    "mobilephone",
    "primaryphone",
    "address",
    "addresses",
    "given",
    "family",
    "middle",
    "formatted",
    "nickname",
    "externalid",
    "employeeid",
];

/// Free-text keys, scrubbed when not empty.
const FREE_TEXT: [&str; 3] = ["details", "description", "populationExpression"];

/// Words that make a key a secret's key.
const SECRET_WORDS: [&str; 17] = [
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "apikey",
    "credential",
    "credentials",
    "authorization",
    "auth",
    "cookie",
    "certificate",
    "cert",
    "passphrase",
    "signature",
    "private",
];

/// Splits `BASIC_AUTH_PASSWORD`, `clientSecret` or `api-key` into lower-case
/// words.
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// True when a key names a secret (any of its words is a secret word).
pub fn is_secret_key(key: &str) -> bool {
    words(key)
        .iter()
        .any(|w| SECRET_WORDS.contains(&w.as_str()))
}

/// Replaces every string and number inside `v` by [`SCRUBBED`], keeping
/// keys, booleans and nulls.
fn scrub_values(v: &mut Value) {
    match v {
        Value::String(_) | Value::Number(_) => *v = Value::String(SCRUBBED.into()),
        Value::Array(items) => items.iter_mut().for_each(scrub_values),
        Value::Object(map) => map.values_mut().for_each(scrub_values),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Replaces e-mail addresses in `s` by `<scrubbed-email>`.
fn scrub_emails(s: &str) -> String {
    let local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let start = out.chars().rev().take_while(|c| local(*c)).count();
            let end = chars[i + 1..].iter().take_while(|c| domain(**c)).count();
            let host: String = chars[i + 1..i + 1 + end].iter().collect();
            if start > 0 && host.trim_matches('.').contains('.') {
                for _ in 0..start {
                    out.pop();
                }
                out.push_str("<scrubbed-email>");
                i += 1 + end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Replaces the value of every `cursor=` query parameter.
fn scrub_cursors(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("cursor=") {
        out.push_str(&rest[..i + "cursor=".len()]);
        rest = &rest[i + "cursor=".len()..];
        let end = rest.find(['&', '#', '"']).unwrap_or(rest.len());
        out.push_str("scrubbed");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Scrubs answers for one environment's dump.
#[derive(Debug, Default)]
pub struct Scrubber {
    /// People's ids and their pseudonyms, in registration order.
    people: Vec<(String, String)>,
    /// Values that must never be written (the client secret).
    forbidden: Vec<String>,
}

impl Scrubber {
    /// A scrubber that also removes every value of `forbidden` (empty
    /// values are ignored).
    pub fn new(forbidden: Vec<String>) -> Self {
        Self {
            people: Vec::new(),
            forbidden: forbidden.into_iter().filter(|f| !f.is_empty()).collect(),
        }
    }

    /// Registers a person's id (a user, an admin) and returns its stable
    /// pseudonym.
    pub fn person(&mut self, id: &str) -> String {
        if let Some((_, p)) = self.people.iter().find(|(real, _)| real == id) {
            return p.clone();
        }
        let p = format!("00000000-0000-4000-8000-{:012}", self.people.len() + 1);
        self.people.push((id.to_string(), p.clone()));
        p
    }

    /// Scrubs a string: people's ids, e-mail addresses, cursors, forbidden
    /// values.
    pub fn text(&self, s: &str) -> String {
        let mut out = scrub_cursors(&scrub_emails(s));
        for (real, pseudonym) in &self.people {
            if !real.is_empty() {
                out = out.replace(real.as_str(), pseudonym);
            }
        }
        for f in &self.forbidden {
            out = out.replace(f.as_str(), SCRUBBED);
        }
        out
    }

    /// Scrubs one answer in place. Objects in a `users` list are user
    /// objects.
    pub fn scrub(&self, v: &mut Value) {
        self.walk(v, None);
    }

    fn walk(&self, v: &mut Value, parent: Option<&str>) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => {
                for item in items {
                    if parent == Some("users") {
                        scrub_user(item);
                    }
                    self.walk(item, parent);
                }
            }
            Value::Object(map) => self.object(map, parent),
            Value::Bool(_) | Value::Number(_) | Value::Null => {}
        }
    }

    fn object(&self, map: &mut Map<String, Value>, parent: Option<&str>) {
        for (key, value) in map.iter_mut() {
            let lower = key.to_ascii_lowercase();
            if is_secret_key(key) {
                *value = Value::String(SCRUBBED.into());
            } else if key == "configuration" || PERSONAL_KEYS.contains(&lower.as_str()) {
                scrub_values(value);
            } else if FREE_TEXT.contains(&key.as_str())
                || (parent == Some("group") && key == "name")
            {
                if value.as_str().is_none_or(|s| !s.is_empty()) {
                    *value = Value::String(SCRUBBED.into());
                }
            } else {
                self.walk(value, Some(key));
            }
        }
    }
}

/// Scrubs a user object's fields except [`USER_KEEP`].
fn scrub_user(user: &mut Value) {
    if let Value::Object(map) = user {
        for (key, value) in map.iter_mut() {
            if !USER_KEEP.contains(&key.as_str()) {
                scrub_values(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_recognised_by_their_words() {
        for k in [
            "BASIC_AUTH_PASSWORD",
            "clientSecret",
            "api-key",
            "OAUTH_TOKEN",
            "privateKey",
            "Authorization",
            "BASIC_AUTH_USER",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "SCIM_URL",
            "keyboard",
            "monkey",
            "successCount",
            "id",
            "name",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn answers_keep_their_shape_and_lose_what_is_private() {
        let mut s = Scrubber::new(vec!["hunter2".into()]);
        let alice = s.person("u-1");
        let mut v = json!({
            "_embedded": {"users": [{"id": "u-1", "username": "alice", "email": "alice@example.com",
                "name": {"given": "Alice", "family": "Smith"}, "enabled": true, "mfa": {"enabled": false, "count": 3},
                "_links": {"self": {"href": "https://api/v1/environments/e/users/u-1"}}}]},
            "_links": {"next": {"href": "https://api/v1/environments/e/users?limit=5&cursor=YWxpY2U="}},
            "configuration": {"SCIM_URL": "https://scim.acme.example", "CREATE_USERS": true, "nested": {"port": 443}},
            "group": {"id": "g-1", "name": "Layoffs"},
            "details": "Could not reach bob@acme.example",
            "note": "mail carol@acme.example now; pw hunter2",
            "apiKey": {"value": "x"},
            "status": "SUCCESS", "successCount": 12, "description": ""
        });
        s.scrub(&mut v);
        let user = &v["_embedded"]["users"][0];
        assert_eq!(user["id"], alice.as_str());
        assert_eq!(user["username"], SCRUBBED);
        assert_eq!(user["name"], json!({"given": SCRUBBED, "family": SCRUBBED}));
        assert_eq!(user["enabled"], true);
        assert_eq!(user["mfa"], json!({"enabled": false, "count": SCRUBBED}));
        assert_eq!(
            user["_links"]["self"]["href"],
            format!("https://api/v1/environments/e/users/{alice}")
        );
        assert_eq!(
            v["_links"]["next"]["href"],
            "https://api/v1/environments/e/users?limit=5&cursor=scrubbed"
        );
        assert_eq!(
            v["configuration"],
            json!({"SCIM_URL": SCRUBBED, "CREATE_USERS": true, "nested": {"port": SCRUBBED}})
        );
        assert_eq!(v["group"], json!({"id": "g-1", "name": SCRUBBED}));
        assert_eq!(v["details"], SCRUBBED);
        assert_eq!(v["note"], "mail <scrubbed-email> now; pw <scrubbed>");
        assert_eq!(v["apiKey"], SCRUBBED);
        assert_eq!(
            (v["status"].clone(), v["successCount"].clone()),
            (json!("SUCCESS"), json!(12))
        );
        assert_eq!(v["description"], "", "empty text stays empty");
        assert_eq!(s.person("u-1"), alice, "pseudonyms are stable");
        assert_ne!(s.person("u-2"), alice);
    }

    #[test]
    fn emails_are_found_inside_text() {
        assert_eq!(
            scrub_emails("a b.c+d@x.example.com, e"),
            "a <scrubbed-email>, e"
        );
        assert_eq!(
            scrub_emails("user@localhost and @x.y"),
            "user@localhost and @x.y"
        );
    }
}
