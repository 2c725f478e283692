//! SubRip and SBV: blocks of a timing line and text lines, separated by blank lines. Read as
//! they are found, not as specified: missing or non-numeric indices, `,` or `.` before the
//! milliseconds, one-digit hours, extra blank lines (also inside a cue), a missing blank line
//! between cues, trailing spaces.

use crate::cue::{Captions, Cue};
use crate::error::Error;
use crate::markup::{Flavour, to_payload};
use crate::time::parse_clock;

/// `00:00:01,000 --> 00:00:04,000`, perhaps followed by SubRip's `X1:… Y2:…` box, ignored.
pub fn srt_timing(line: &str) -> Option<(u64, u64)> {
    let (start, rest) = line.split_once("-->")?;
    Some((parse_clock(start)?, parse_clock(rest.split_whitespace().next()?)?))
}

/// `0:00:01.000,0:00:04.000`.
pub fn sbv_timing(line: &str) -> Option<(u64, u64)> {
    let (start, end) = line.trim().split_once(',')?;
    if !start.contains(':') || !end.contains(':') {
        return None;
    }
    Some((parse_clock(start)?, parse_clock(end)?))
}

pub fn read_srt(text: &str) -> Result<Captions, Error> {
    read(
        text,
        Layout {
            timing: srt_timing,
            looks_like_timing: |l| l.contains("-->"),
            indexed: true,
            expected: "a timing line like `00:00:01,000 --> 00:00:04,000`",
        },
    )
}

pub fn read_sbv(text: &str) -> Result<Captions, Error> {
    // YouTube's SBV sometimes marks line breaks as `[br]`.
    let text = text.replace("[br]", "\n");
    read(
        &text,
        Layout {
            timing: sbv_timing,
            looks_like_timing: |l| sbv_timing(l).is_some(),
            indexed: false,
            expected: "a timing line like `0:00:01.000,0:00:04.000`",
        },
    )
}

struct Layout {
    timing: fn(&str) -> Option<(u64, u64)>,
    looks_like_timing: fn(&str) -> bool,
    /// Whether a cue may start with an index line (SubRip).
    indexed: bool,
    expected: &'static str,
}

fn read(text: &str, layout: Layout) -> Result<Captions, Error> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut captions = Captions::default();
    let mut texts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() {
            i += 1;
            continue;
        }
        let timing_at = if (layout.looks_like_timing)(line) {
            i
        } else if layout.indexed && lines.get(i + 1).is_some_and(|l| (layout.looks_like_timing)(l)) {
            i + 1
        } else if let Some(last) = texts.last_mut() {
            // Text after a blank line inside a cue: it belongs to the cue before.
            last.push('\n');
            last.push_str(line);
            captions.repairs.push(format!("line {}: a blank line inside a cue was dropped", i));
            i += 1;
            continue;
        } else {
            let expected = if layout.indexed { "a cue number or a timing line" } else { layout.expected };
            return Err(Error::unexpected(i + 1, expected, line));
        };
        let (start, end) = (layout.timing)(lines[timing_at])
            .ok_or_else(|| Error::unexpected(timing_at + 1, layout.expected, lines[timing_at]))?;
        let mut j = timing_at + 1;
        let mut body = Vec::new();
        while let Some(l) = lines.get(j).filter(|l| !l.trim().is_empty()) {
            let next_is_timing = lines.get(j + 1).is_some_and(|n| (layout.timing)(n).is_some());
            let starts_cue = (layout.timing)(l).is_some()
                || (layout.indexed && next_is_timing && l.trim().bytes().all(|b| b.is_ascii_digit()));
            if starts_cue {
                captions.repairs.push(format!("line {}: a missing blank line before a cue was added", j + 1));
                break;
            }
            body.push(*l);
            j += 1;
        }
        captions.cues.push(Cue { id: None, start, end, settings: String::new(), payload: String::new() });
        texts.push(body.join("\n"));
        i = j;
    }
    if captions.cues.is_empty() {
        return Err(Error::NoCues);
    }
    let flavour = Flavour::SubRip;
    for (cue, text) in captions.cues.iter_mut().zip(texts) {
        let (payload, settings) = to_payload(&text, flavour);
        cue.payload = payload;
        cue.settings = settings.unwrap_or_default();
    }
    Ok(captions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(c: &Captions) -> Vec<(u64, u64, &str)> {
        c.cues.iter().map(|c| (c.start, c.end, c.payload.as_str())).collect()
    }

    #[test]
    fn subrip_as_specified() {
        let c = read_srt("1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n")
            .unwrap();
        assert_eq!(cues(&c), [(1000, 2500, "Hello\nworld"), (3000, 4000, "Bye")]);
        assert!(c.repairs.is_empty());
    }

    #[test]
    fn subrip_as_found() {
        let messy = "\n\n1\n0:00:01.000 --> 0:00:02.000   X1:100 X2:200 Y1:10 Y2:20\nOne   \n\n\n\
                     intro\n00:00:03,5 --> 00:00:04,000\n<i>Two</i>\n\nstill two\n\n\
                     00:00:05,000 --> 00:00:06,000\n{\\an8}Three --> four\n3\n00:00:07,000 --> 00:00:08,000\nFive\n";
        let c = read_srt(messy).unwrap();
        assert_eq!(
            cues(&c),
            [
                (1000, 2000, "One"),
                (3500, 4000, "<i>Two</i>\nstill two"),
                (5000, 6000, "Three --&gt; four"),
                (7000, 8000, "Five")
            ]
        );
        assert_eq!(c.cues[2].settings, "line:0");
        assert_eq!(c.repairs.len(), 2, "{:?}", c.repairs);
    }

    #[test]
    fn subrip_errors_say_where() {
        let err = read_srt("1\n00:00:01,000 --> 00:00:0x,000\nHello\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: expected a timing line like `00:00:01,000 --> 00:00:04,000`, found \"00:00:01,000 --> 00:00:0x,000\""
        );
        let err = read_srt("Hello there\nGeneral Kenobi\n").unwrap_err();
        assert!(err.to_string().starts_with("line 1: expected a cue number or a timing line"), "{err}");
        assert_eq!(read_srt("\n\n\n"), Err(Error::NoCues));
    }

    #[test]
    fn sbv() {
        let c = read_sbv("0:00:01.000,0:00:02.000\nHi[br]there\n\n0:00:03.000,0:00:04.500\n>> Bob: yes\n").unwrap();
        assert_eq!(cues(&c), [(1000, 2000, "Hi\nthere"), (3000, 4500, "&gt;&gt; Bob: yes")]);
        let err = read_sbv("0:00:01.000 0:00:02.000\nHi\n").unwrap_err();
        assert!(err.to_string().starts_with("line 1: expected a timing line like `0:00:01.000,0:00:04.000`"), "{err}");
    }
}
