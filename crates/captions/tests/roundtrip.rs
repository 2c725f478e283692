//! Any cue list written as SubRip or WebVTT and read back is the same cue list.

use mediaflow_captions::{CaptionFormat, Captions, Cue, format_srt, read};
use proptest::prelude::*;

/// Plain cue text: lines without markup characters that SubRip would read as tags or
/// overrides (those have unit tests of their own), but with `&`, `>`, `-->` and non-ASCII.
fn text_line() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.!?'&>éüß漢字-]{1,40}".prop_map(|s| s.trim().to_string()).prop_filter("not blank", |s| !s.is_empty())
}

/// `(start, end, lines)`, start order.
fn cue_list() -> impl Strategy<Value = Vec<(u64, u64, Vec<String>)>> {
    prop::collection::vec((0u64..36_000_000, 1u64..600_000, prop::collection::vec(text_line(), 1..4)), 1..40).prop_map(
        |mut cues| {
            cues.sort_by_key(|c| c.0);
            cues.into_iter().map(|(start, len, lines)| (start, start + len, lines)).collect()
        },
    )
}

fn escaped(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| l.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn as_read(c: &Captions) -> Vec<(u64, u64, String)> {
    c.cues.iter().map(|c| (c.start, c.end, c.payload.clone())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn subrip_round_trips(cues in cue_list()) {
        let mut srt = String::new();
        for (i, (start, end, lines)) in cues.iter().enumerate() {
            srt.push_str(&format!("{}\n{} --> {}\n{}\n\n", i + 1, format_srt(*start), format_srt(*end), lines.join("\n")));
        }
        let read_back = read(&srt, CaptionFormat::Srt).unwrap();
        let expected: Vec<_> = cues.iter().map(|(s, e, l)| (*s, *e, escaped(l))).collect();
        prop_assert_eq!(as_read(&read_back), expected);
        prop_assert!(read_back.repairs.is_empty(), "{:?}", read_back.repairs);
    }

    #[test]
    fn webvtt_round_trips(cues in cue_list()) {
        let captions = Captions {
            cues: cues
                .iter()
                .enumerate()
                .map(|(i, (start, end, lines))| Cue {
                    id: (i % 3 == 0).then(|| format!("cue {i}")),
                    start: *start,
                    end: *end,
                    settings: if i % 2 == 0 { "line:0 align:start".into() } else { String::new() },
                    payload: escaped(lines),
                })
                .collect(),
            ..Captions::default()
        };
        let vtt = captions.to_vtt();
        let read_back = read(&vtt, CaptionFormat::Vtt).unwrap();
        prop_assert!(read_back.repairs.is_empty(), "{:?}\n{}", read_back.repairs, vtt);
        prop_assert_eq!(read_back.cues, captions.cues);
    }
}
