//! Timestamps, in milliseconds.

/// A clock time as caption tools write it: `[h]h:mm:ss[,.]f`, `mm:ss.fff`, with one to three
/// (or more, truncated) fraction digits. Lenient on purpose: SubRip and SBV in the wild vary.
pub fn parse_clock(s: &str) -> Option<u64> {
    let s = s.trim();
    let (clock, fraction) = match s.find([',', '.']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let digits = |p: &str, most: usize| !p.is_empty() && p.len() <= most && p.bytes().all(|b| b.is_ascii_digit());
    // Hours may run long (what we write reads back); minutes and seconds are short.
    let (hours, rest) = if parts.len() == 3 { (Some(parts[0]), &parts[1..]) } else { (None, &parts[..]) };
    if !(2..=3).contains(&parts.len()) || !hours.is_none_or(|h| digits(h, 9)) || !rest.iter().all(|p| digits(p, 3)) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |p: &str| p.parse::<u64>().ok();
    let (h, m, sec) = match parts[..] {
        [h, m, s] => (n(h)?, n(m)?, n(s)?),
        [m, s] => (0, n(m)?, n(s)?),
        _ => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    let ms = if fraction.is_empty() {
        0
    } else {
        let f: String = fraction.chars().chain("00".chars()).take(3).collect();
        f.parse::<u64>().ok()?
    };
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// WebVTT's `hh:mm:ss.ttt` (hours grow past two digits when needed).
pub fn format_vtt(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    format!("{h:02}:{:02}:{:02}.{:03}", rest / 60_000, rest % 60_000 / 1000, rest % 1000)
}

/// SubRip's `hh:mm:ss,ttt`.
pub fn format_srt(ms: u64) -> String {
    format_vtt(ms).replacen('.', ",", 1)
}

/// A WebVTT timestamp exactly as the specification writes it: `[hh…:]mm:ss.ttt`.
pub fn parse_vtt_strict(s: &str) -> Option<u64> {
    let (clock, ms) = s.split_once('.')?;
    if ms.len() != 3 || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let two = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    let ok = match parts[..] {
        [h, m, s] => h.len() >= 2 && h.bytes().all(|b| b.is_ascii_digit()) && two(m) && two(s),
        [m, s] => two(m) && two(s),
        _ => false,
    };
    if !ok {
        return None;
    }
    parse_clock(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_clocks() {
        assert_eq!(parse_clock("00:00:01,000"), Some(1000));
        assert_eq!(parse_clock("00:00:01.500"), Some(1500));
        assert_eq!(parse_clock("1:02:03,004"), Some(3_723_004));
        assert_eq!(parse_clock(" 0:00:01,5 "), Some(1500));
        assert_eq!(parse_clock("0:00:01.05"), Some(1050));
        assert_eq!(parse_clock("0:00:01.123456"), Some(1123));
        assert_eq!(parse_clock("02:03.250"), Some(123_250));
        assert_eq!(parse_clock("100:00:00,000"), Some(360_000_000));
        assert_eq!(parse_clock("13902:46:40.000"), Some(50_050_000_000));
        assert_eq!(parse_vtt_strict(&format_vtt(50_050_000_000)), Some(50_050_000_000));
        assert_eq!(parse_clock("00:00:01"), Some(1000));
        for bad in ["", "1", "00:60:00,000", "00:00:60,000", "aa:00:01,000", "00:00:01,0x0", "1:2:3:4", "00:-1:00"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn vtt_timestamps() {
        assert_eq!(format_vtt(0), "00:00:00.000");
        assert_eq!(format_vtt(3_723_004), "01:02:03.004");
        assert_eq!(format_vtt(360_000_000), "100:00:00.000");
        assert_eq!(format_srt(3_723_004), "01:02:03,004");
        assert_eq!(parse_vtt_strict("01:02:03.004"), Some(3_723_004));
        assert_eq!(parse_vtt_strict("02:03.004"), Some(123_004));
        for bad in ["1:02:03.004", "01:02:03,004", "01:02:03.04", "2:03.004", "01:2:03.004"] {
            assert_eq!(parse_vtt_strict(bad), None, "{bad}");
        }
    }
}
