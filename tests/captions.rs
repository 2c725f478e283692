//! `mediaflow captions`: a caption file to WebVTT from the command line.

mod common;

use common::mediaflow;

#[test]
fn converts_subrip_next_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("talk.en.srt"), "1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>Hi</i> & bye\r\n")
        .unwrap();
    let out = mediaflow(dir.path(), &["captions", "talk.en.srt"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let vtt = std::fs::read_to_string(dir.path().join("talk.en.vtt")).unwrap();
    assert_eq!(vtt, "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<i>Hi</i> &amp; bye\n\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 cues, read as UTF-8"));
}

#[test]
fn bad_captions_fail_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.srt"), "1\n00:00:01,000 --> soon\nHi\n").unwrap();
    let out = mediaflow(dir.path(), &["captions", "bad.srt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: expected a timing line") && err.contains("MediaFlow.InvalidCaption"), "{err}");
    let out = mediaflow(dir.path(), &["captions", "notes.txt"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a caption file"));
}
