//! Text made safe for a terminal: every control character (`\r`, ANSI
//! escapes, DEL, the C1 range) and every bidirectional-override mark shown
//! as an escape instead of acted on, so a rule name or a PingOne message
//! cannot move the cursor, recolour or hide a line of the log or of
//! `status`. Used by the logfmt writer and `status`' table.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for a character a terminal would act on rather than show: control
/// characters and the marks that reorder text (U+200E/F, U+202A–E,
/// U+2066–9).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Appends `c` escaped: `\n`, `\r`, `\t`, else `\u{…}` in hex.
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `text` with every [`is_unsafe`] character escaped ([`push_escaped`]);
/// borrowed when there is none.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_reordering_marks_are_escaped() {
        assert_eq!(printable("plain é text"), "plain é text");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(
            printable("ok\rFAKE\x1b[31mred\x7f\u{85}\u{202e}"),
            "ok\\rFAKE\\u{1b}[31mred\\u{7f}\\u{85}\\u{202e}"
        );
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
    }
}
