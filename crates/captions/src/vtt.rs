//! WebVTT read back: validated, and repaired where it is broken (a missing header, sloppy
//! timestamps, invalid settings, unbalanced tags, bare `&` or `<`, cues out of order).

use crate::cue::{Captions, Cue};
use crate::error::Error;
use crate::markup::{Flavour, to_payload};
use crate::time::{parse_clock, parse_vtt_strict};

const TIMING: &str = "a timing line like `00:00:01.000 --> 00:00:04.000`";

pub fn read(text: &str) -> Result<Captions, Error> {
    let lines: Vec<&str> = text.lines().collect();
    let mut captions = Captions::default();
    let mut i = 0;
    let first = lines.first().copied().unwrap_or_default();
    let signed = first.strip_prefix("WEBVTT").is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']));
    if signed {
        // The header runs to the first blank line; WebVTT no longer allows lines after the
        // signature (`Kind:`, `Language:` from older tools), so they go.
        i = 1;
        while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].contains("-->") {
            i += 1;
        }
        if i > 1 {
            captions.repairs.push("header lines after WEBVTT dropped".into());
        }
        if lines.get(i).is_some_and(|l| l.contains("-->")) {
            captions.repairs.push("a blank line after WEBVTT was added".into());
        }
    } else {
        captions.repairs.push("the WEBVTT header was missing".into());
    }
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let block_start = i;
        let mut end = i;
        while end < lines.len() && !lines[end].trim().is_empty() {
            end += 1;
        }
        let block = &lines[block_start..end];
        let keyword = |k: &str| block[0].strip_prefix(k).is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']));
        if keyword("NOTE") {
            i = end;
            continue;
        }
        if keyword("STYLE") || keyword("REGION") {
            if captions.cues.is_empty() {
                captions.blocks.push(block.join("\n"));
            } else {
                captions.repairs.push(format!(
                    "line {}: a {} block after the first cue was dropped",
                    block_start + 1,
                    block[0].trim()
                ));
            }
            i = end;
            continue;
        }
        i = read_cue(&lines, block_start, end, &mut captions)?;
    }
    if captions.cues.is_empty() {
        return Err(Error::NoCues);
    }
    Ok(captions)
}

/// Reads the cue starting at `start` (a block ending before `end`); returns where reading goes on.
fn read_cue(lines: &[&str], start: usize, end: usize, captions: &mut Captions) -> Result<usize, Error> {
    let (id, timing_at) = if lines[start].contains("-->") {
        (None, start)
    } else if start + 1 < end && lines[start + 1].contains("-->") {
        (Some(lines[start].to_string()), start + 1)
    } else {
        return Err(Error::unexpected(
            start + 1,
            "a cue identifier followed by a timing line, or a timing line",
            lines[start],
        ));
    };
    let line = lines[timing_at];
    let (cue_start, cue_end, settings) =
        parse_timing(line, captions).ok_or_else(|| Error::unexpected(timing_at + 1, TIMING, line))?;
    let mut j = timing_at + 1;
    let mut body = Vec::new();
    while j < end {
        if lines[j].contains("-->") && parse_timing(lines[j], &mut Captions::default()).is_some() {
            captions.repairs.push(format!("line {}: a missing blank line before a cue was added", j + 1));
            break;
        }
        body.push(lines[j]);
        j += 1;
    }
    let written: Vec<&str> = body.iter().map(|l| l.trim_end()).collect();
    let (payload, _) = to_payload(&written.join("\n"), Flavour::WebVtt);
    let as_written: Vec<&str> = written.iter().copied().filter(|l| !l.trim().is_empty()).collect();
    if payload != as_written.join("\n") {
        captions.repairs.push(format!("line {}: cue text was escaped or its tags balanced", timing_at + 2));
    }
    captions.cues.push(Cue { id, start: cue_start, end: cue_end, settings, payload });
    Ok(j)
}

/// `start --> end [settings]`; sloppy timestamps and invalid settings are repaired and noted.
fn parse_timing(line: &str, captions: &mut Captions) -> Option<(u64, u64, String)> {
    let (left, right) = line.split_once("-->")?;
    let start_text = left.trim();
    let mut rest = right.split_whitespace();
    let end_text = rest.next()?;
    let mut time = |t: &str| match parse_vtt_strict(t) {
        Some(ms) => Some(ms),
        None => {
            let ms = parse_clock(t)?;
            captions.repairs.push(format!("timestamp {t:?} rewritten as WebVTT's hh:mm:ss.ttt"));
            Some(ms)
        }
    };
    let (start, end) = (time(start_text)?, time(end_text)?);
    if !left.ends_with([' ', '\t']) || !right.starts_with([' ', '\t']) {
        captions.repairs.push("`-->` was not separated from its timestamps by spaces".into());
    }
    let mut kept: Vec<&str> = Vec::new();
    for setting in rest {
        let name = setting.split(':').next().unwrap_or_default();
        if is_valid_setting(setting) && !kept.iter().any(|k| k.split(':').next() == Some(name)) {
            kept.push(setting);
        } else {
            captions.repairs.push(format!("cue setting {setting:?} dropped"));
        }
    }
    Some((start, end, kept.join(" ")))
}

/// A cue setting as WebVTT defines it.
fn is_valid_setting(setting: &str) -> bool {
    let Some((name, value)) = setting.split_once(':') else { return false };
    let percentage = |v: &str| {
        v.strip_suffix('%').and_then(|n| n.parse::<f64>().ok()).is_some_and(|n| (0.0..=100.0).contains(&n))
            && !v.starts_with(['-', '+'])
    };
    let with_align = |v: &str, aligns: &[&str], base: &dyn Fn(&str) -> bool| match v.split_once(',') {
        Some((b, a)) => base(b) && aligns.contains(&a),
        None => base(v),
    };
    match name {
        "vertical" => matches!(value, "rl" | "lr"),
        "line" => with_align(value, &["start", "center", "end"], &|v: &str| {
            percentage(v) || (v.parse::<i64>().is_ok() && !v.starts_with('+'))
        }),
        "position" => with_align(value, &["line-left", "center", "line-right"], &percentage),
        "size" => percentage(value),
        "align" => matches!(value, "start" | "center" | "end" | "left" | "right"),
        "region" => !value.is_empty() && !value.contains("-->"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_file_needs_no_repair() {
        let text = "WEBVTT - a talk\n\nSTYLE\n::cue { color: yellow }\n\nNOTE written by hand\n\n\
                    intro\n00:01.000 --> 00:02.000 line:0 align:start position:10%,line-left\n<v Ann>Hi &amp; welcome</v>\n\n\
                    01:00:03.000 --> 01:00:04.500\n<i>Two</i>\nlines\n";
        let c = read(text).unwrap();
        assert!(c.repairs.is_empty(), "{:?}", c.repairs);
        assert_eq!(c.blocks, ["STYLE\n::cue { color: yellow }"]);
        assert_eq!(c.cues.len(), 2);
        assert_eq!(c.cues[0].id.as_deref(), Some("intro"));
        assert_eq!(c.cues[0].settings, "line:0 align:start position:10%,line-left");
        assert_eq!((c.cues[1].start, c.cues[1].end), (3_603_000, 3_604_500));
        assert_eq!(c.cues[1].payload, "<i>Two</i>\nlines");
    }

    #[test]
    fn a_broken_file_is_repaired() {
        let text = "00:00:01,000-->00:00:02,000 align:middle line:0 line:5\nTom & Jerry <i>run\n\
                    00:00:03.000 --> 00:00:04.000\nnext\n\nSTYLE\n::cue {}\n";
        let c = read(text).unwrap();
        assert_eq!(c.cues.len(), 2);
        assert_eq!(c.cues[0].payload, "Tom &amp; Jerry <i>run</i>");
        assert_eq!(c.cues[0].settings, "line:0");
        assert!(c.repairs.len() >= 6, "{:?}", c.repairs);
    }

    #[test]
    fn header_lines_are_dropped() {
        let c = read("WEBVTT\nKind: captions\nLanguage: en\n\n00:01.000 --> 00:02.000\nhi\n").unwrap();
        assert_eq!(c.repairs, ["header lines after WEBVTT dropped"]);
        assert_eq!(c.cues.len(), 1);
    }

    #[test]
    fn errors_say_where() {
        let err = read("WEBVTT\n\n00:01.000 --> 00:0x.000\nhi\n").unwrap_err();
        assert!(err.to_string().starts_with("line 3: expected a timing line"), "{err}");
        let err = read("WEBVTT\n\njust text\n").unwrap_err();
        assert!(err.to_string().starts_with("line 3: expected a cue identifier followed by a timing line"), "{err}");
        assert_eq!(read("WEBVTT\n\nNOTE nothing here\n"), Err(Error::NoCues));
    }

    #[test]
    fn settings() {
        for ok in ["vertical:rl", "line:-1", "line:50%,end", "position:0%", "size:100%", "align:right", "region:r1"] {
            assert!(is_valid_setting(ok), "{ok}");
        }
        for bad in ["vertical:up", "line:", "line:101%", "position:10", "size:-5%", "align:middle", "foo:bar", "line"] {
            assert!(!is_valid_setting(bad), "{bad}");
        }
    }
}
