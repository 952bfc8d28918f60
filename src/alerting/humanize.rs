//! The template functions the bundled rules' descriptions use, written as
//! Prometheus writes them, so the daemon's annotations read the same:
//! `humanizePercentage` and `humanizeDuration`, both built on Go's `%.4g`.

/// Go's `%.4g`: four significant digits, trailing zeros removed, exponent
/// form below 1e-4 and from 1e4 on.
pub fn g4(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    // Rounded to four significant digits first, so the exponent is that
    // of the rounded value (9999.5 → 1e+04).
    let sci = format!("{v:.3e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..4).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs());
    }
    let decimals = usize::try_from(3 - exp).unwrap_or(0);
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `{{ $value }}` for the counts the rules print: whole numbers without a
/// fraction (`3`), anything else as Rust's shortest form.
pub fn g4_plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// `humanizePercentage`: a ratio as a percentage, `0.125` → `12.5%`.
pub fn percentage(ratio: f64) -> String {
    format!("{}%", g4(ratio * 100.0))
}

/// `humanizeDuration`: seconds as `1d 2h 3m 4s`, `5m 0s`, `42s`, `1.5s`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return g4(seconds);
    }
    if seconds == 0.0 {
        return "0s".into();
    }
    if seconds.abs() < 1.0 {
        let mut v = seconds;
        let mut prefix = "";
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
        return format!("{}{prefix}s", g4(v));
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let v = seconds.abs();
    let whole = v as u64;
    let (days, hours, minutes, secs) = (
        whole / 86_400,
        (whole / 3600) % 24,
        (whole / 60) % 60,
        whole % 60,
    );
    if days != 0 {
        format!("{sign}{days}d {hours}h {minutes}m {secs}s")
    } else if hours != 0 {
        format!("{sign}{hours}h {minutes}m {secs}s")
    } else if minutes != 0 {
        format!("{sign}{minutes}m {secs}s")
    } else {
        format!("{sign}{}s", g4(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go_percent_g() {
        let cases = [
            (12.5, "12.5"),
            (33.333_333, "33.33"),
            (100.0, "100"),
            (5.0, "5"),
            (1234.4, "1234"),
            (12_345.0, "1.234e+04"),
            (9999.5, "1e+04"),
            (0.0001, "0.0001"),
            (0.000_012_34, "1.234e-05"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "+Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(g4(v), want, "{v}");
        }
    }

    #[test]
    fn like_prometheus_templates() {
        assert_eq!(percentage(0.125), "12.5%");
        assert_eq!(percentage(1.0 / 3.0), "33.33%");
        assert_eq!(percentage(f64::INFINITY), "+Inf%");
        assert_eq!(duration(0.0), "0s");
        assert_eq!(duration(1.5), "1.5s");
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(300.0), "5m 0s");
        assert_eq!(duration(3723.0), "1h 2m 3s");
        assert_eq!(duration(90_061.0), "1d 1h 1m 1s");
        assert_eq!(duration(0.25), "250ms");
        assert_eq!(duration(-61.0), "-1m 1s");
    }
}
