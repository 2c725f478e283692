#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mediaflow_captions::CaptionFormat;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        common::check(text, CaptionFormat::Vtt);
    }
});
