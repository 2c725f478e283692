//! Every file of `testdata/` converted, and every WebVTT written passes the W3C validator
//! (npm `webvtt-parser`) with zero errors.

use mediaflow_core::Named;
use std::path::{Path, PathBuf};
use std::process::Command;

use mediaflow_captions::{CaptionFormat, Conversion, Error, convert};
use mediaflow_core::classify::caption_format_for;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn format_of(path: &Path) -> CaptionFormat {
    let ext = path.extension().unwrap().to_str().unwrap().to_ascii_lowercase();
    caption_format_for(&ext).unwrap_or_else(|| panic!("{}: not a caption extension", path.display()))
}

fn convert_file(rel: &str) -> Result<Conversion, Error> {
    let path = testdata().join(rel);
    convert(&std::fs::read(&path).unwrap(), format_of(&path))
}

#[test]
fn every_readable_file_becomes_valid_webvtt() {
    let failing = ["srt/bad-timing.srt", "srt/no-cues.srt", "srt/empty.srt", "ttml/no-timing.ttml"];
    let out = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for dir in ["srt", "sbv", "ttml", "vtt"] {
        for entry in std::fs::read_dir(testdata().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let rel = format!("{dir}/{}", path.file_name().unwrap().to_str().unwrap());
            if failing.contains(&rel.as_str()) {
                continue;
            }
            let conversion = convert_file(&rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert!(conversion.cues > 0, "{rel}");
            let target = out.path().join(rel.replace('/', "-") + ".vtt");
            std::fs::write(&target, &conversion.vtt).unwrap();
            written.push(target);
        }
    }
    assert!(written.len() >= 15, "{written:?}");
    mediaflow_testkit::assert_w3c_webvtt(&written);
}

#[test]
fn the_validator_catches_what_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.vtt");
    std::fs::write(&bad, "WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nQ&A <i>open\n").unwrap();
    let out =
        Command::new("node").arg(mediaflow_testkit::repo().join("scripts/check-vtt.cjs")).arg(&bad).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn subrip_in_every_encoding_reads_the_same() {
    let plain = convert_file("srt/plain.srt").unwrap();
    assert_eq!(plain.encoding, "UTF-8");
    assert_eq!(plain.cues, 3);
    assert!(
        plain.vtt.contains("00:00:04.500 --> 00:00:07.250\nToday: <i>codecs</i> &amp; containers.\n"),
        "{}",
        plain.vtt
    );
    for (rel, encoding) in [("srt/bom-crlf.srt", "UTF-8"), ("srt/cr-only.srt", "UTF-8")] {
        let c = convert_file(rel).unwrap();
        assert_eq!((c.vtt.as_str(), c.encoding), (plain.vtt.as_str(), encoding), "{rel}");
    }
    for (rel, encoding) in [("srt/utf16le-bom.srt", "UTF-16LE"), ("srt/utf16be-bom.srt", "UTF-16BE")] {
        let c = convert_file(rel).unwrap();
        assert_eq!(c.encoding, encoding);
        assert_eq!(c.vtt, plain.vtt.replace("codecs", "códecs"), "{rel}");
    }
    let cp1252 = convert_file("srt/windows-1252.srt").unwrap();
    assert_eq!(cp1252.encoding, "windows-1252");
    assert!(cp1252.vtt.contains("Déjà vu, señor. Ça coûte 5 €."), "{}", cp1252.vtt);
    assert!(cp1252.vtt.contains("« Très bien », dit-elle — naïve."));
    let latin1 = convert_file("srt/latin1.srt").unwrap();
    assert!(latin1.vtt.contains("Déjà vu, señor. Ça coûte 5 EUR."), "{}", latin1.vtt);
    assert!(convert_file("srt/windows-1251.srt").unwrap().vtt.contains("Привет, как дела?"));
}

#[test]
fn messy_subrip_is_repaired_without_losing_text() {
    let c = convert_file("srt/messy.srt").unwrap();
    let vtt = &c.vtt;
    for expected in [
        "00:00:01.000 --> 00:00:02.000\nOne line with trailing spaces\n",
        "<i>Italic</i>, <b>bold</b>, <u>underlined</u>, <c.red>red</c>, plain\nstill part of the cue above\n",
        "00:00:05.000 --> 00:00:06.000 line:0\nA caption at the top --&gt; with an arrow\n",
        "Overlapping cue <i>left open</i>\n",
        "00:00:09.000 --> 00:00:10.000\nEnds before it starts\n",
        "Out of order &amp; &lt; &gt; signs\n",
    ] {
        assert!(vtt.contains(expected), "missing {expected:?} in\n{vtt}");
    }
    // In start order.
    assert!(vtt.find("Out of order").unwrap() < vtt.find("Italic").unwrap());
    assert_eq!(c.cues, 6);
    assert!(!c.repairs.is_empty());
}

#[test]
fn sbv_and_ttml() {
    let sbv = convert_file("sbv/youtube.sbv").unwrap();
    assert!(
        sbv.vtt.contains("00:00:00.599 --> 00:00:04.160\n&gt;&gt; ALICE: Hi, my name is Alice\nand this is a demo.\n"),
        "{}",
        sbv.vtt
    );
    let ttml = convert_file("ttml/basic.ttml").unwrap();
    assert!(ttml.vtt.contains("00:00:01.000 --> 00:00:03.000\nHello <i>world</i>,\nsecond line\n"), "{}", ttml.vtt);
    assert!(ttml.vtt.contains("<c.red>Red &amp; <b>bold</b></c>"), "{}", ttml.vtt);
    assert!(ttml.vtt.contains("00:00:06.000 --> 00:00:07.500\nOffset <u>times</u> &lt;3\n"), "{}", ttml.vtt);
    let dfxp = convert_file("ttml/netflix.dfxp").unwrap();
    assert!(dfxp.vtt.contains("00:00:01.001 --> 00:00:03.337\n<c.white>[DOOR CREAKS]</c>\n"), "{}", dfxp.vtt);
    assert!(dfxp.vtt.contains("<c.white>Who's there?\n<i>(whispering) Nobody.</i></c>"), "{}", dfxp.vtt);
    // 7 s and 12 frames at 23.976 fps.
    assert!(dfxp.vtt.contains("00:00:07.501 --> 00:00:09.000"), "{}", dfxp.vtt);
    assert!(convert_file("ttml/captions.xml").unwrap().vtt.contains("Prefixed <i>elements</i>"));
}

#[test]
fn valid_webvtt_is_kept_byte_for_byte_and_broken_webvtt_is_rewritten() {
    let original = std::fs::read_to_string(testdata().join("vtt/valid.vtt")).unwrap();
    let valid = convert_file("vtt/valid.vtt").unwrap();
    assert!(valid.unchanged, "{:?}", valid.repairs);
    assert_eq!(valid.vtt, original);
    let youtube = convert_file("vtt/youtube-header.vtt").unwrap();
    assert!(!youtube.unchanged);
    assert!(
        youtube.vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.000 align:start position:0%\nfirst\n"),
        "{}",
        youtube.vtt
    );
    let broken = convert_file("vtt/broken.vtt").unwrap();
    assert!(!broken.unchanged);
    assert_eq!(broken.cues, 3);
    assert!(broken.vtt.contains("00:00:01.000 --> 00:00:02.000\nTom &amp; Jerry <i>run</i>\n"), "{}", broken.vtt);
}

#[test]
fn unreadable_files_say_what_and_where() {
    let err = convert_file("srt/bad-timing.srt").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 6: expected a timing line like `00:00:01,000 --> 00:00:04,000`, found \"00:00:03,000 --> 00:0O:04,000\""
    );
    assert_eq!(err.name(), mediaflow_core::ErrorName::InvalidCaption);
    assert_eq!(
        convert_file("srt/no-cues.srt").unwrap_err().to_string(),
        "line 1: expected a cue number or a timing line, found \"just some text\""
    );
    assert_eq!(convert_file("srt/empty.srt").unwrap_err(), Error::Empty);
    assert!(convert_file("ttml/no-timing.ttml").unwrap_err().to_string().contains("a <p> with an end or dur time"));
}
