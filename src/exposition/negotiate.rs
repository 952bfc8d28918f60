//! Content negotiation from the scraper's `Accept` and `Accept-Encoding`.

use super::Format;

/// Response compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// As is.
    Identity,
    /// gzip, when the scraper accepts it.
    Gzip,
}

/// Picks the format and encoding for a scrape. OpenMetrics is chosen when
/// the scraper lists `application/openmetrics-text` with a quality at least
/// as high as any text/plain range (Prometheus' default `Accept` does);
/// everything else, including no `Accept` at all, gets the classic format.
pub fn negotiate(accept: Option<&str>, accept_encoding: Option<&str>) -> (Format, Encoding) {
    let mut q_om: f32 = 0.0;
    let mut q_text: f32 = 0.0;
    for (range, q) in media_ranges(accept.unwrap_or("")) {
        let range = range.to_ascii_lowercase();
        match range.as_str() {
            "application/openmetrics-text" => q_om = q_om.max(q),
            "text/plain" | "text/*" | "*/*" => q_text = q_text.max(q),
            _ => {}
        }
    }
    let format = if q_om > 0.0 && q_om >= q_text {
        Format::OpenMetrics
    } else {
        Format::Text
    };
    let gzip = media_ranges(accept_encoding.unwrap_or(""))
        .any(|(c, q)| q > 0.0 && (c.eq_ignore_ascii_case("gzip") || c == "*"));
    let encoding = if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    };
    (format, encoding)
}

/// Splits a header into `(value, q)` pairs; a malformed `q` counts as 0.
fn media_ranges(header: &str) -> impl Iterator<Item = (&str, f32)> {
    header.split(',').filter_map(|part| {
        let mut params = part.split(';');
        let value = params.next()?.trim();
        if value.is_empty() {
            return None;
        }
        let mut q = 1.0;
        for p in params {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0);
            }
        }
        Some((value, q))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_default_accept_gets_openmetrics() {
        let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(accept), None).0, Format::OpenMetrics);
    }

    #[test]
    fn no_accept_or_text_preference_gets_classic_text() {
        assert_eq!(negotiate(None, None).0, Format::Text);
        assert_eq!(negotiate(Some("*/*"), None).0, Format::Text);
        assert_eq!(negotiate(Some("text/plain"), None).0, Format::Text);
        let prefers_text = "text/plain;q=1,application/openmetrics-text;q=0.5";
        assert_eq!(negotiate(Some(prefers_text), None).0, Format::Text);
        assert_eq!(
            negotiate(Some("application/openmetrics-text;q=0"), None).0,
            Format::Text
        );
        assert_eq!(negotiate(Some("garbage;;;q=zz,"), None).0, Format::Text);
    }

    #[test]
    fn gzip_only_when_accepted() {
        assert_eq!(negotiate(None, Some("gzip, deflate")).1, Encoding::Gzip);
        assert_eq!(negotiate(None, Some("GZIP;q=0.5")).1, Encoding::Gzip);
        assert_eq!(negotiate(None, Some("gzip;q=0")).1, Encoding::Identity);
        assert_eq!(negotiate(None, Some("br")).1, Encoding::Identity);
        assert_eq!(negotiate(None, None).1, Encoding::Identity);
    }
}
