//! The last gzip scrape's live part, kept as a log so the next scrape can
//! take the part that did not change as it was coded.
//!
//! Between two scrapes most of the live part is the same: the same family
//! headers, and the same piece of each environment at the same
//! generation, unless a poll finished in between. The log lists what the
//! last scrape was given, in order (each family of fresh text, each piece
//! by environment, family and generation), and after each entry where the
//! coded stream and its CRC stood. A scrape that is given the same entries
//! codes nothing until the first one that differs; there it takes the last
//! scrape's bits up to that point, its CRC and the line before, and codes
//! the rest as usual (see `live`). A scrape given exactly the same entries
//! serves the last segment again.

use std::sync::Arc;

use super::deflate::{Bits, Crc32};
use super::gzip::Deflated;

/// One thing the live part was given.
#[derive(Debug)]
pub(super) enum Event {
    /// One family of fresh text: `text[start..end]` of the log (not
    /// empty; see [`family_end`]).
    Text { start: usize, end: usize },
    /// Environment `env`'s piece of family `family` at `generation`
    /// (`env` is the piece cache's own key, so the log keeps its
    /// environment's pieces alive: see `LiveCoder::finish`).
    Piece {
        env: Arc<str>,
        family: usize,
        generation: u64,
    },
}

/// Where the coded stream stood after an event.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    /// Bits written, from the block's start.
    pub(super) bits: usize,
    /// CRC of the text so far.
    pub(super) crc: Crc32,
}

/// Bits of the block header that opens the live part (`fixed_start`).
pub(super) const START_BITS: usize = 3;

/// One format's log of a live part.
#[derive(Debug, Default)]
pub(super) struct Log {
    pub(super) events: Vec<Event>,
    /// `marks[i]` is where the stream stood after `events[i]`.
    pub(super) marks: Vec<Mark>,
    /// The fresh text of every `Event::Text`, in order.
    pub(super) text: Vec<u8>,
    /// The segment the events made, once a scrape finished with them; its
    /// bytes start with the stream the marks point into.
    pub(super) done: Option<Deflated>,
}

impl Log {
    /// Forgets the events from `k` on (and their text), keeping the first
    /// `k`; returns where the stream stood after them.
    pub(super) fn truncate(&mut self, k: usize) -> Mark {
        self.events.truncate(k);
        self.marks.truncate(k);
        let text_end = self.events.iter().rev().find_map(|e| match e {
            Event::Text { end, .. } => Some(*end),
            Event::Piece { .. } => None,
        });
        self.text.truncate(text_end.unwrap_or(0));
        self.marks.last().copied().unwrap_or(Mark {
            bits: START_BITS,
            crc: Crc32::default(),
        })
    }

    /// Records an event and where the stream stands after it.
    pub(super) fn push(&mut self, event: Event, out: &Bits, crc: Crc32) {
        self.events.push(event);
        self.marks.push(Mark {
            bits: out.len(),
            crc,
        });
    }

    /// The line coded last before event `k` (without its newline), as the
    /// line coder matches against it: found by walking back over the
    /// events, asking `piece` for a piece's text. Empty after a partial
    /// line or at the start. `None` if a piece's text is not known at its
    /// event's generation any more.
    pub(super) fn prev_line(
        &self,
        k: usize,
        piece: impl Fn(&str, usize, u64) -> Option<Vec<u8>>,
    ) -> Option<Vec<u8>> {
        for event in self.events[..k].iter().rev() {
            let owned;
            let text: &[u8] = match event {
                Event::Text { start, end } => &self.text[*start..*end],
                Event::Piece {
                    env,
                    family,
                    generation,
                } => {
                    owned = piece(env, *family, *generation)?;
                    &owned
                }
            };
            // An empty piece leaves the line before as it was.
            if text.is_empty() {
                continue;
            }
            return Some(last_line(text).to_vec());
        }
        Some(Vec::new())
    }
}

/// Where the family that starts at `start` in `text` ends: at the next
/// comment line (`# HELP`, `# TYPE`, `# EOF`, ...) that follows a line that
/// is not one, else at the end. A family's header lines stay with its
/// samples.
pub(super) fn family_end(text: &[u8], start: usize) -> usize {
    let mut at = start;
    let mut comment = text.get(at) == Some(&b'#');
    loop {
        let Some(nl) = memchr::memchr(b'\n', &text[at..]) else {
            return text.len();
        };
        at += nl + 1;
        let Some(&first) = text.get(at) else {
            return text.len();
        };
        let next = first == b'#';
        if next && !comment {
            return at;
        }
        comment = next;
    }
}

/// The last line of `text` without its newline, or nothing if `text` ends
/// in a partial line.
pub(super) fn last_line(text: &[u8]) -> &[u8] {
    let Some(body) = text.strip_suffix(b"\n") else {
        return &[];
    };
    let start = memchr::memrchr(b'\n', body).map_or(0, |i| i + 1);
    &body[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_end_where_the_next_header_starts() {
        let split = |text: &[u8]| {
            let mut out = Vec::new();
            let mut start = 0;
            while start < text.len() {
                let end = family_end(text, start);
                out.push(String::from_utf8_lossy(&text[start..end]).into_owned());
                start = end;
            }
            out
        };
        assert_eq!(
            split(b"# HELP a x\n# TYPE a gauge\na 1\na 2\n# HELP b y\n# TYPE b gauge\n# EOF\n"),
            [
                "# HELP a x\n# TYPE a gauge\na 1\na 2\n",
                "# HELP b y\n# TYPE b gauge\n# EOF\n"
            ]
        );
        assert_eq!(
            split(b"a 1\n# TYPE b gauge\nb 1\n# EOF\n"),
            ["a 1\n", "# TYPE b gauge\nb 1\n", "# EOF\n"]
        );
        assert_eq!(split(b"a 1\nb 2"), ["a 1\nb 2"]);
        assert_eq!(split(b"x\n#"), ["x\n", "#"]);
        assert!(split(b"").is_empty());
    }

    #[test]
    fn last_line_is_empty_after_a_partial_line() {
        assert_eq!(last_line(b"a\nbc\n"), b"bc");
        assert_eq!(last_line(b"bc\n"), b"bc");
        assert_eq!(last_line(b"a\nbc"), b"");
        assert_eq!(last_line(b"\n"), b"");
    }

    #[test]
    fn truncating_keeps_the_text_of_the_events_kept() {
        let mut log = Log::default();
        let mut out = Bits::default();
        out.put(0b010, 3);
        log.text.extend_from_slice(b"ab\ncd\n");
        out.put(0xff, 8);
        log.push(Event::Text { start: 0, end: 3 }, &out, Crc32::of(b"ab\n"));
        let env: Arc<str> = Arc::from("e");
        log.push(
            Event::Piece {
                env: env.clone(),
                family: 0,
                generation: 7,
            },
            &out,
            Crc32::of(b"ab\n"),
        );
        out.put(0x1, 8);
        log.push(
            Event::Text { start: 3, end: 6 },
            &out,
            Crc32::of(b"ab\ncd\n"),
        );
        let mark = log.truncate(2);
        assert_eq!(mark.bits, 11);
        assert_eq!(mark.crc, Crc32::of(b"ab\n"));
        assert_eq!(log.text, b"ab\n");
        assert_eq!(Arc::strong_count(&env), 2);
        let prev = log.prev_line(2, |_, _, _| Some(Vec::new()));
        assert_eq!(prev.as_deref(), Some(&b"ab"[..]), "empty piece skipped");
        assert_eq!(log.prev_line(2, |_, _, _| None), None);
        assert_eq!(log.truncate(0).bits, START_BITS);
        assert!(log.text.is_empty());
        assert_eq!(Arc::strong_count(&env), 1);
    }
}
