//! Cue text to a WebVTT cue payload: text escaped, formatting kept where WebVTT can say it
//! (`<i>`, `<b>`, `<u>`, colour classes, voices, ruby, language spans), dropped where it cannot,
//! tags balanced, no blank lines.

/// Whose markup the text carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// HTML-ish tags (`<i>`, `<font color>`), `{\an8}` position overrides, no escaping.
    SubRip,
    /// WebVTT cue text: entities and WebVTT's own tags.
    WebVtt,
}

/// WebVTT's default colour classes (`::cue(.red)` in every conforming player).
const COLOURS: [(&str, &str); 8] = [
    ("white", "ffffff"),
    ("lime", "00ff00"),
    ("cyan", "00ffff"),
    ("red", "ff0000"),
    ("yellow", "ffff00"),
    ("magenta", "ff00ff"),
    ("blue", "0000ff"),
    ("black", "000000"),
];

/// The payload and, for SubRip's `{\anN}`, the cue settings that place it.
pub fn to_payload(text: &str, flavour: Flavour) -> (String, Option<String>) {
    let mut position = None;
    let mut out = Payload::default();
    let lines: Vec<&str> = text.lines().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.newline();
        }
        let mut rest: &str = line;
        while !rest.is_empty() {
            if flavour == Flavour::SubRip
                && rest.starts_with("{\\")
                && let Some(end) = rest.find('}')
            {
                position = position.or_else(|| an_position(&rest[2..end]));
                rest = &rest[end + 1..];
            } else if rest.starts_with('<')
                && let Some(end) = rest[1..].find(['>', '<']).map(|e| e + 1)
            {
                if rest.as_bytes()[end] == b'>' && out.tag(&rest[1..end], flavour) {
                    rest = &rest[end + 1..];
                } else {
                    out.text("<", flavour);
                    rest = &rest[1..];
                }
            } else {
                let first = rest.chars().next().map_or(1, char::len_utf8);
                let next = rest[first..].find(['<', '{']).map_or(rest.len(), |n| n + first);
                out.text(&rest[..next], flavour);
                rest = &rest[next..];
            }
        }
    }
    (out.finish(), position.map(settings_for))
}

/// `an1`…`an9`, the numeric keypad: 7-9 top, 4-6 middle, 1-3 bottom; left, centre, right.
fn an_position(override_block: &str) -> Option<u8> {
    override_block
        .split('\\')
        .find_map(|tag| tag.strip_prefix("an")?.parse::<u8>().ok().filter(|n| (1..=9).contains(n)))
}

fn settings_for(an: u8) -> String {
    let line = match an {
        7..=9 => Some("line:0"),
        4..=6 => Some("line:50%"),
        _ => None,
    };
    let align = match an % 3 {
        1 => Some("align:left"),
        0 => Some("align:right"),
        _ => None,
    };
    [line, align].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// A cue payload being written: text is escaped as it goes in, tags stay balanced.
#[derive(Default)]
pub(crate) struct Payload {
    out: String,
    /// Open tags, innermost last: (name, the start tag as written).
    open: Vec<(String, String)>,
}

impl Payload {
    /// Ends the line; an empty line is never written (WebVTT ends a cue at a blank line).
    pub(crate) fn newline(&mut self) {
        self.trim_end();
        if !self.at_line_start() {
            self.out.push('\n');
        }
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn trim_end(&mut self) {
        let kept = self.out.trim_end_matches(|c: char| c.is_whitespace() && c != '\n').len();
        self.out.truncate(kept);
    }

    /// Plain text (no markup, no references), with runs of white space as one space and none at
    /// the start of a line: how TTML's default `xml:space` shows text.
    pub(crate) fn collapsed(&mut self, text: &str) {
        for c in text.chars() {
            if c.is_whitespace() {
                if !self.at_line_start() && !self.out.ends_with(' ') {
                    self.out.push(' ');
                }
            } else {
                self.push_escaped(c);
            }
        }
    }

    /// Opens `name`, written as `<written>`.
    pub(crate) fn open(&mut self, name: &str, written: String) {
        self.out.push_str(&format!("<{written}>"));
        self.open.push((name.to_string(), written));
    }

    /// Closes the innermost open `name` (and whatever opened inside it); a close without an open
    /// tag is dropped.
    pub(crate) fn close(&mut self, name: &str) {
        if let Some(at) = self.open.iter().rposition(|(n, _)| n == name) {
            while self.open.len() > at {
                let (n, _) = self.open.pop().expect("non-empty");
                self.out.push_str(&format!("</{n}>"));
            }
        }
    }

    pub(crate) fn text(&mut self, text: &str, flavour: Flavour) {
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let mut len = c.len_utf8();
            match c {
                '&' if flavour == Flavour::WebVtt => match entity(rest) {
                    Some((Entity::Verbatim, n)) => {
                        self.out.push_str(&rest[..n]);
                        len = n;
                    }
                    Some((Entity::Char(c), n)) => {
                        self.push_escaped(c);
                        len = n;
                    }
                    None => self.out.push_str("&amp;"),
                },
                c => self.push_escaped(c),
            }
            rest = &rest[len..];
        }
    }

    fn push_escaped(&mut self, c: char) {
        match c {
            // A line never starts with white space (readers trim it; it would not round-trip).
            c if c.is_whitespace() && self.at_line_start() => {}
            '&' => self.out.push_str("&amp;"),
            '<' => self.out.push_str("&lt;"),
            '>' => self.out.push_str("&gt;"),
            c => self.out.push(c),
        }
    }

    /// Handles `<inner>`; false when it is no tag at all (then it is text).
    fn tag(&mut self, inner: &str, flavour: Flavour) -> bool {
        let looks_like_tag = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            if !looks_like_tag(&name) {
                return false;
            }
            self.close(if name == "font" { "c" } else { &name });
            return true;
        }
        if flavour == Flavour::WebVtt && inner.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            // An inline timestamp (karaoke): its timing is dropped, its text kept.
            return true;
        }
        if !looks_like_tag(inner) {
            return false;
        }
        let (head, annotation) = match inner.find([' ', '\t']) {
            Some(i) => (&inner[..i], inner[i..].trim()),
            None => (inner, ""),
        };
        let mut parts = head.split('.');
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let classes: Vec<String> = parts.map(clean_class).filter(|c| !c.is_empty()).collect();
        let start = match (flavour, name.as_str()) {
            // In SubRip, `<b and c>` is text, not a tag.
            (Flavour::SubRip, "i" | "b" | "u") if !annotation.is_empty() || !classes.is_empty() => return false,
            (_, "i" | "b" | "u") => Some((name.clone(), with_classes(&name, &classes))),
            (Flavour::SubRip, "font") => font_colour(annotation).map(|c| ("c".to_string(), format!("c.{c}"))),
            (Flavour::WebVtt, "c" | "ruby") => Some((name.clone(), with_classes(&name, &classes))),
            (Flavour::WebVtt, "rt") if self.open.last().is_some_and(|(n, _)| n == "ruby") => {
                Some((name.clone(), with_classes(&name, &classes)))
            }
            (Flavour::WebVtt, "v") if !annotation.is_empty() && !self.open.iter().any(|(n, _)| n == "v") => {
                Some((name.clone(), format!("{} {}", with_classes(&name, &classes), escape_annotation(annotation))))
            }
            (Flavour::WebVtt, "lang") if !annotation.is_empty() => {
                Some((name.clone(), format!("{} {}", with_classes(&name, &classes), escape_annotation(annotation))))
            }
            _ => None,
        };
        if let Some((name, written)) = start {
            self.open(&name, written);
        }
        true
    }

    pub(crate) fn finish(mut self) -> String {
        while let Some((n, _)) = self.open.pop() {
            self.out.push_str(&format!("</{n}>"));
        }
        let kept = self.out.trim_end().len();
        self.out.truncate(kept);
        self.out
    }
}

fn with_classes(name: &str, classes: &[String]) -> String {
    std::iter::once(name.to_string()).chain(classes.iter().cloned()).collect::<Vec<_>>().join(".")
}

fn clean_class(c: &str) -> String {
    c.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// A voice or language annotation: references kept as in text, bare `&` and `>` escaped.
fn escape_annotation(a: &str) -> String {
    let mut p = Payload::default();
    p.text(a, Flavour::WebVtt);
    p.out
}

/// `color="red"`, `color=#FF0000`, `COLOR='#f00'` → a WebVTT default colour class.
fn font_colour(attributes: &str) -> Option<&'static str> {
    let lower = attributes.to_ascii_lowercase();
    let value = lower.split_once("color")?.1.trim_start().strip_prefix('=')?.trim_start();
    let value: String =
        value.trim_start_matches(['"', '\'']).chars().take_while(|c| !matches!(c, '"' | '\'' | ' ')).collect();
    colour_class(&value)
}

/// A colour (`red`, `#f00`, `#ff0000`, `#ff0000ff`) as a WebVTT default colour class, if it is one.
pub(crate) fn colour_class(value: &str) -> Option<&'static str> {
    let value = value.trim().to_ascii_lowercase();
    let value = match value.as_str() {
        "aqua" => "cyan",
        "fuchsia" => "magenta",
        v => v,
    };
    let hex = value.trim_start_matches('#');
    let hex = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        8 if hex.is_ascii() => hex[..6].to_string(),
        _ => hex.to_string(),
    };
    COLOURS
        .iter()
        .find(|(name, code)| value == *name || (value.starts_with('#') && hex == *code))
        .map(|(name, _)| *name)
}

enum Entity {
    /// A reference every WebVTT parser knows: kept as written.
    Verbatim,
    /// Another reference: written as its character.
    Char(char),
}

/// The character reference at the start of `s` (which starts with `&`), and its length.
fn entity(s: &str) -> Option<(Entity, usize)> {
    let end = s[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|e| e + 1)?;
    if s.as_bytes()[end] != b';' {
        return None;
    }
    let name = &s[1..end];
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let found = match name {
        "amp" | "lt" | "gt" | "lrm" | "rlm" | "nbsp" => Entity::Verbatim,
        n if n.strip_prefix('#').is_some_and(digits) => Entity::Verbatim,
        n if n.strip_prefix("#x").is_some_and(digits) => Entity::Verbatim,
        "quot" => Entity::Char('"'),
        "apos" => Entity::Char('\''),
        n if n.starts_with("#x") || n.starts_with("#X") => {
            Entity::Char(u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)?)
        }
        _ => return None,
    };
    Some((found, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srt(t: &str) -> String {
        to_payload(t, Flavour::SubRip).0
    }
    fn vtt(t: &str) -> String {
        to_payload(t, Flavour::WebVtt).0
    }

    #[test]
    fn subrip_tags_kept_or_dropped() {
        assert_eq!(srt("<i>Hello</i> <b>big</b> <u>world</u>"), "<i>Hello</i> <b>big</b> <u>world</u>");
        assert_eq!(srt("<I>Shout</I>"), "<i>Shout</i>");
        assert_eq!(srt("<font color=\"red\">Alarm</font>"), "<c.red>Alarm</c>");
        assert_eq!(srt("<font color=#FFFF00>Sun</font>"), "<c.yellow>Sun</c>");
        assert_eq!(srt("<font color=\"#123456\">odd</font>"), "odd");
        assert_eq!(srt("<font color=\"ff讼舷\">odd</font>"), "odd");
        assert_eq!(srt("<font face=\"Arial\">plain</font>"), "plain");
        assert_eq!(srt("<span>gone</span>"), "gone");
    }

    #[test]
    fn text_is_escaped_and_arrows_are_harmless() {
        assert_eq!(srt("Tom & Jerry <3 a<b and c> d"), "Tom &amp; Jerry &lt;3 a&lt;b and c&gt; d");
        assert_eq!(srt("A --> B"), "A --&gt; B");
        assert_eq!(srt("Q&A"), "Q&amp;A");
        assert_eq!(srt("&amp; stays literal"), "&amp;amp; stays literal");
    }

    #[test]
    fn tags_are_balanced() {
        assert_eq!(srt("<i>never closed"), "<i>never closed</i>");
        assert_eq!(srt("stray</i> close"), "stray close");
        assert_eq!(srt("<i><b>crossed</i></b>"), "<i><b>crossed</b></i>");
        assert_eq!(srt("<i>two\nlines</i>"), "<i>two\nlines</i>");
    }

    #[test]
    fn blank_lines_and_spaces_go() {
        assert_eq!(srt("  one  \n\n   \n two "), "one\ntwo");
    }

    #[test]
    fn positions_become_cue_settings() {
        assert_eq!(to_payload("{\\an8}Top", Flavour::SubRip), ("Top".into(), Some("line:0".into())));
        assert_eq!(to_payload("{\\an7}TL", Flavour::SubRip).1.as_deref(), Some("line:0 align:left"));
        assert_eq!(to_payload("{\\an3}BR", Flavour::SubRip).1.as_deref(), Some("align:right"));
        assert_eq!(to_payload("{\\an5}Mid", Flavour::SubRip).1.as_deref(), Some("line:50%"));
        assert_eq!(to_payload("{\\an2}Bottom", Flavour::SubRip).1.as_deref(), Some(""));
        assert_eq!(to_payload("{\\pos(10,20)\\b1}x", Flavour::SubRip), ("x".into(), None));
        assert_eq!(srt("{not an override}"), "{not an override}");
    }

    #[test]
    fn webvtt_text_is_kept_valid() {
        assert_eq!(vtt("<v Roger Bingham>Hi &amp; bye</v>"), "<v Roger Bingham>Hi &amp; bye</v>");
        assert_eq!(vtt("<c.yellow.bg_blue>x</c>"), "<c.yellow.bg_blue>x</c>");
        assert_eq!(vtt("<lang en-GB>colour</lang>"), "<lang en-GB>colour</lang>");
        assert_eq!(vtt("<v A&amp;B & C>hi</v>"), "<v A&amp;B &amp; C>hi</v>");
        assert_eq!(srt("{\\an8}\n<i></i>\n\nnext"), "<i></i>\nnext");
        assert_eq!(vtt("<ruby>漢<rt>kan</rt></ruby>"), "<ruby>漢<rt>kan</rt></ruby>");
        assert_eq!(vtt("<v>no voice</v>"), "no voice");
        assert_eq!(vtt("<i annotation>x</i>"), "<i>x</i>");
        assert_eq!(
            vtt("Q&A &nbsp; &#65;&#x42; &bogus; &quot;hi&quot; &#x4F;"),
            "Q&amp;A &nbsp; &#65;&#x42; &amp;bogus; \"hi\" O"
        );
        assert_eq!(vtt("&lt;not a tag&gt; &amp"), "&lt;not a tag&gt; &amp;amp");
        assert_eq!(vtt("karaoke <00:00:01.000>word"), "karaoke word");
        assert_eq!(vtt("<font color=red>no fonts in vtt</font>"), "no fonts in vtt");
    }
}
