//! Inputs the fuzzers (`fuzz/`) once crashed on, kept so the fixes stay fixed. Each goes through
//! the fuzzers' own check: whatever a reader accepts is written as WebVTT that reads back as the
//! same cues with nothing to repair.

use mediaflow_captions::{CaptionFormat, read};

#[path = "../fuzz/fuzz_targets/common.rs"]
mod common;

#[test]
fn former_crashes_pass_the_fuzzers_check() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let format = match name.split('-').next().unwrap() {
            "convert" => {
                for format in [CaptionFormat::Srt, CaptionFormat::Sbv, CaptionFormat::Vtt, CaptionFormat::Ttml] {
                    let _ = mediaflow_captions::convert(&bytes, format);
                }
                count += 1;
                continue;
            }
            "srt" => CaptionFormat::Srt,
            "sbv" => CaptionFormat::Sbv,
            "vtt" => CaptionFormat::Vtt,
            "ttml" => CaptionFormat::Ttml,
            other => panic!("{name}: unknown target {other}"),
        };
        let text = String::from_utf8_lossy(&bytes);
        println!("{name}");
        common::check(&text, format);
        // And through the whole conversion, from bytes.
        let _ = mediaflow_captions::convert(&bytes, format);
        let _ = read(&text, format);
        count += 1;
    }
    assert!(count > 0);
}
