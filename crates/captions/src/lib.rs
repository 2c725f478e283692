//! Caption files to WebVTT. SubRip (`.srt`), SBV (`.sbv`), TTML/DFXP (`.ttml`, `.dfxp`, `.xml`)
//! and WebVTT itself are read as they are found in the wild, in any common text encoding, and
//! written by one WebVTT writer whose output the W3C validator accepts. No I/O.

mod blocks;
mod cue;
mod decode;
mod error;
mod layout;
mod markup;
mod time;
mod transcript;
mod ttml;
mod vtt;

pub use cue::{Captions, Cue};
pub use decode::{Decoded, decode};
pub use error::Error;
pub use layout::{
    LINGER_MS, MAX_CUE_MS, MAX_LINE_CHARS, MAX_LINES, MIN_CUE_MS, PAUSE_MS, Rule, RuleBroken, check, layout, vtt,
};
pub use mediaflow_core::contract::CaptionFormat;
pub use time::{format_srt, format_vtt};
pub use transcript::{Alternative, Item, ItemKind, Results, TimedWord, Transcript, TranscriptText};

/// A caption file converted.
#[derive(Debug, PartialEq, Eq)]
pub struct Conversion {
    /// The WebVTT file, UTF-8.
    pub vtt: String,
    pub cues: usize,
    /// A WebVTT upload that needed no repair: `vtt` is the upload itself, byte for byte.
    pub unchanged: bool,
    /// The encoding the upload was read as.
    pub encoding: &'static str,
    /// What was repaired on the way, for logs and the metadata.
    pub repairs: Vec<String>,
}

/// Reads a caption file of `format` (as classification found it) and writes it as WebVTT.
pub fn convert(bytes: &[u8], format: CaptionFormat) -> Result<Conversion, Error> {
    let decoded = decode(bytes)?;
    let mut captions = read(&decoded.text, format)?;
    captions.normalise();
    let unchanged = format == CaptionFormat::Vtt && decoded.encoding == "UTF-8" && captions.repairs.is_empty();
    let vtt = if unchanged {
        // Valid UTF-8: the same bytes, BOM and line ends as uploaded.
        String::from_utf8(bytes.to_vec()).expect("decoded as UTF-8")
    } else {
        captions.to_vtt()
    };
    Ok(Conversion { vtt, cues: captions.cues.len(), unchanged, encoding: decoded.encoding, repairs: captions.repairs })
}

/// Reads decoded caption text of `format`.
pub fn read(text: &str, format: CaptionFormat) -> Result<Captions, Error> {
    match format {
        CaptionFormat::Srt => blocks::read_srt(text),
        CaptionFormat::Sbv => blocks::read_sbv(text),
        CaptionFormat::Vtt => vtt::read(text),
        CaptionFormat::Ttml => ttml::read(text),
    }
}
