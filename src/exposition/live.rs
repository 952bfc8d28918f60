//! [`LiveSink`]: where the families kept in memory are written at a scrape.
//!
//! Most of what a scrape writes fresh is one environment's lines in one
//! family (its poll outcomes, its API calls), and those change only when
//! the environment's own metrics do, at most a few times per poll. A writer
//! hands such a piece over with a generation number that changes whenever
//! the piece may have, so a sink may keep what it made of the piece
//! (the gzip scrape keeps its deflate codes) and skip writing it again.
//!
//! Lines whose values follow the clock (the request plan's data ages) change
//! at every scrape whatever the environments do. They go last, through
//! [`LiveSink::volatile`], so that a sink can keep everything before them
//! whole from one scrape to the next.

/// Receives the text of the families kept in memory, in exposition order.
pub trait LiveSink {
    /// Text written fresh at this scrape (headers, process-wide lines).
    fn text(&mut self) -> &mut Vec<u8>;

    /// The lines of environment `env` in family `family` (an index in the
    /// writer's own family list, unique within a process), unchanged while
    /// `generation` is: a generation is never reused for other content.
    /// `write` appends the lines (whole lines, each ending in a newline);
    /// the sink calls it unless it kept this piece at this generation.
    fn piece(
        &mut self,
        env: &str,
        family: usize,
        generation: u64,
        write: &mut dyn FnMut(&mut Vec<u8>),
    );

    /// Text that changes at every scrape (values computed from the clock),
    /// written after everything else: text or pieces given after it go
    /// after it, but may cost the sink what it kept.
    fn volatile(&mut self) -> &mut Vec<u8>;
}

/// Plain text: every piece written out.
impl LiveSink for Vec<u8> {
    fn text(&mut self) -> &mut Vec<u8> {
        self
    }

    fn piece(&mut self, _: &str, _: usize, _: u64, write: &mut dyn FnMut(&mut Vec<u8>)) {
        write(self);
    }

    fn volatile(&mut self) -> &mut Vec<u8> {
        self
    }
}
