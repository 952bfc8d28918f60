//! The input generator of the property tests: structured mutations of
//! valid inputs, seeded so a failure can be replayed.
//!
//! `FUZZ_CASES` (default [`DEFAULT_CASES`]) sets the inputs per target,
//! `FUZZ_SEED` the first seed (default a fixed one, so CI runs the same
//! inputs every time). A failing case prints its seed and input.

use serde_json::{Value, json};

/// Inputs per target in CI: enough to cover every mutation kind many
/// times, a fraction of a second per target.
pub const DEFAULT_CASES: u64 = 400;

/// Inputs per target: `FUZZ_CASES` or [`DEFAULT_CASES`].
pub fn cases() -> u64 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// The seed of the first case: `FUZZ_SEED` or a fixed value.
pub fn first_seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1234)
}

/// Pieces that break parsers: structure, YAML features, extreme numbers,
/// control characters, escapes, encodings.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    ":",
    ": ",
    ",",
    "\n",
    "\r\n",
    "  ",
    "\t",
    "- ",
    "null",
    "true",
    "~",
    "-1",
    "0",
    "-0",
    "1e999",
    "-1e999",
    "0.5",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "NaN",
    "\\u0000",
    "\\ud800",
    "\u{0}",
    "\u{1b}[2J",
    "\r",
    "é",
    "💥",
    "\u{202e}",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "!!str ",
    "? ",
    "|",
    ">-",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
    "#",
    "=",
    ";",
    "q=",
    "q=0.5",
    "*/*",
    "http://",
    "https://x@y/",
    "../",
    "%00",
    "%ff",
    "%",
    "+",
    "&",
    "?",
    "//",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln",
    "Bearer ",
    "GMT",
    "Mon, ",
];

/// A seeded generator.
pub struct Gen {
    pub rng: fastrand::Rng,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    fn token(&mut self) -> &'static str {
        TOKENS[self.rng.usize(..TOKENS.len())]
    }

    /// One to four byte-level mutations of `seed`: insert a token, delete,
    /// duplicate or repeat a span, flip a byte, swap two lines, truncate,
    /// or make a number extreme.
    pub fn bytes(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut b = seed.to_vec();
        for _ in 0..self.rng.usize(1..=4) {
            let len = b.len();
            let at = self.rng.usize(..=len);
            let span = self.rng.usize(..=16.min(len - at));
            match self.rng.u8(..8) {
                0 => {
                    let t = self.token().as_bytes().to_vec();
                    b.splice(at..at, t);
                }
                1 => {
                    b.drain(at..at + span);
                }
                2 => {
                    let piece = b[at..at + span].to_vec();
                    b.splice(at..at, piece);
                }
                3 if len > 0 => b[self.rng.usize(..len)] = self.rng.u8(..),
                4 => {
                    let text = String::from_utf8_lossy(&b).into_owned();
                    let mut lines: Vec<&str> = text.lines().collect();
                    if lines.len() > 1 {
                        let (i, j) = (self.rng.usize(..lines.len()), self.rng.usize(..lines.len()));
                        lines.swap(i, j);
                    }
                    b = lines.join("\n").into_bytes();
                }
                5 => b.truncate(at),
                6 => {
                    let piece = b[at..at + span].to_vec();
                    for _ in 0..self.rng.usize(2..200) {
                        b.splice(at..at, piece.iter().copied());
                    }
                }
                _ => {
                    if let Some(p) = b.iter().position(u8::is_ascii_digit) {
                        let end = b[p..]
                            .iter()
                            .position(|c| !c.is_ascii_digit())
                            .map_or(b.len(), |e| p + e);
                        b.splice(p..end, self.token().bytes());
                    }
                }
            }
        }
        b
    }

    /// [`Gen::text`] of one of `seeds`, picked at random.
    pub fn text_from<S: AsRef<str>>(&mut self, seeds: &[S]) -> String {
        let seed = seeds[self.rng.usize(..seeds.len())].as_ref();
        self.text(seed)
    }

    /// [`Gen::bytes`] as text (invalid UTF-8 replaced).
    pub fn text(&mut self, seed: &str) -> String {
        String::from_utf8_lossy(&self.bytes(seed.as_bytes())).into_owned()
    }

    /// A value of another shape or an extreme one.
    fn odd_value(&mut self, depth: u32) -> Value {
        match self.rng.u8(..10) {
            0 => Value::Null,
            1 => json!(u64::MAX),
            2 => json!(-1),
            3 => json!(1.5e300),
            4 => json!("x".repeat(self.rng.usize(0..5000))),
            5 => json!(self.token()),
            6 => json!([]),
            7 => json!({}),
            8 if depth < 40 => json!([self.odd_value(depth + 1)]),
            _ => json!({ "k": self.odd_value(depth + 1) }),
        }
    }

    /// Structured mutations of a JSON document: one to four values
    /// replaced by another shape, removed, or duplicated into a sibling.
    pub fn json(&mut self, seed: &Value) -> Value {
        let mut v = seed.clone();
        for _ in 0..self.rng.usize(1..=4) {
            let mut paths = Vec::new();
            collect(&v, &mut Vec::new(), &mut paths);
            if paths.is_empty() {
                return self.odd_value(0);
            }
            let path = paths[self.rng.usize(..paths.len())].clone();
            let odd = self.odd_value(0);
            let remove = self.rng.bool();
            if let Some(target) = pointer_mut(&mut v, &path) {
                *target = if remove { Value::Null } else { odd };
            }
        }
        v
    }
}

/// Every path (object keys and array indexes) in `v`.
fn collect(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    let children: Vec<(String, &Value)> = match v {
        Value::Object(o) => o.iter().map(|(k, c)| (k.clone(), c)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, c)| (i.to_string(), c))
            .collect(),
        _ => return,
    };
    for (k, c) in children {
        at.push(k);
        collect(c, at, out);
        at.pop();
    }
}

fn pointer_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| match v {
        Value::Object(o) => o.get_mut(k),
        Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Runs `check` on `cases()` generated inputs; a panic (or a failed
/// assertion) names the target, the seed and the input.
pub fn run<I: std::fmt::Debug>(
    target: &str,
    mut make: impl FnMut(&mut Gen) -> I,
    check: impl Fn(&I),
) -> u64 {
    let first = first_seed();
    let n = cases();
    for seed in first..first + n {
        let input = make(&mut Gen::new(seed));
        if std::env::var_os("FUZZ_SHOW").is_some() {
            eprintln!("{target} seed {seed}: {input:?}");
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if let Err(e) = result {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let shown = format!("{input:?}");
            let shown: String = shown.chars().take(2000).collect();
            panic!("{target}: FUZZ_SEED={seed} FUZZ_CASES=1 fails: {why}\ninput: {shown}");
        }
    }
    n
}
