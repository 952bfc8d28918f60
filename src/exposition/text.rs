//! Sample lines: label escaping, number formatting and whole lines, shared
//! by both formats and by every part that writes its own families at
//! scrape time (self-metrics, the alert sender's status).

/// A label set: `(name, value)` pairs in output order.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// Appends `name="value",...` (no braces), escaping values as both formats
/// require: backslash, double quote and newline.
pub fn write_label_pairs(out: &mut Vec<u8>, labels: Labels<'_>) {
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_into(out, v);
        out.push(b'"');
    }
}

fn escape_into(out: &mut Vec<u8>, v: &str) {
    let bytes = v.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'\\' => b"\\\\",
            b'"' => b"\\\"",
            b'\n' => b"\\n",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends an integer sample value.
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v}");
}

/// Appends a float sample value: the shortest decimal that round-trips,
/// never an exponent (Rust's `Display`), and `NaN`/`+Inf`/`-Inf` spelled as
/// both formats expect.
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    use std::io::Write;
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{v}");
    }
}

/// Appends one sample line, `name{suffix}{labels,extra} value\n`; the
/// braces are left out when both label lists are empty. `labels` are the
/// series' common labels, `extra` the family's own (e.g. `le`).
pub fn write_sample(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    labels: Labels<'_>,
    extra: Labels<'_>,
    value: impl FnOnce(&mut Vec<u8>),
) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    if !labels.is_empty() || !extra.is_empty() {
        out.push(b'{');
        write_label_pairs(out, labels);
        if !labels.is_empty() && !extra.is_empty() {
            out.push(b',');
        }
        write_label_pairs(out, extra);
        out.push(b'}');
    }
    out.push(b' ');
    value(out);
    out.push(b'\n');
}

/// Appends a counter's sample line: `name_total{labels,extra} n\n` (the
/// `_total` suffix is the same in both formats).
pub fn write_counter(out: &mut Vec<u8>, name: &str, labels: Labels<'_>, extra: Labels<'_>, n: u64) {
    write_sample(out, name, "_total", labels, extra, |o| write_u64(o, n));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = Vec::new();
        write_label_pairs(&mut out, &[("a", "x"), ("b", "q\"uo\\te\nnl")]);
        assert_eq!(s(out), r#"a="x",b="q\"uo\\te\nnl""#);
    }

    #[test]
    fn floats_have_no_exponent_and_special_values_are_spelled_out() {
        for (v, want) in [
            (1_714_644_903.12, "1714644903.12"),
            (0.5, "0.5"),
            (3.0, "3"),
            (1e21, "1000000000000000000000"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            let mut out = Vec::new();
            write_f64(&mut out, v);
            assert_eq!(s(out), want);
        }
    }
}
