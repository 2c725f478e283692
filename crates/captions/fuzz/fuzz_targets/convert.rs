#![no_main]
// Raw bytes in any encoding, through decoding and every reader.
use libfuzzer_sys::fuzz_target;
use mediaflow_captions::{CaptionFormat, convert};

fuzz_target!(|data: &[u8]| {
    for format in [CaptionFormat::Srt, CaptionFormat::Sbv, CaptionFormat::Vtt, CaptionFormat::Ttml] {
        if let Ok(c) = convert(data, format) {
            assert!(c.vtt.starts_with("WEBVTT") || c.vtt.starts_with("\u{feff}WEBVTT"), "{}", c.vtt);
        }
    }
});
