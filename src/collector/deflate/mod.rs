//! A small deflate writer (RFC 1951) for the part of a gzip scrape that
//! changes at every scrape: the age lines, whose names and labels change
//! only per poll. Their codes are prepared with the poll's rendering
//! ([`LineCodes::new`]); a scrape only concatenates bit strings and codes
//! the value digits ([`LineCodes::write`]), which costs a fraction of
//! compressing the text.

mod bits;
mod codes;
mod crc;
mod lines;
mod text;
mod tokens;

pub(crate) use bits::Bits;
pub(crate) use crc::{Crc32, shift_factor};
pub(crate) use lines::LineCodes;
pub(crate) use text::{FixedLines, fixed_end, fixed_start};
