//! TTML and DFXP (`.ttml`, `.dfxp`, `.xml`): `<p>` elements with their times, text with `<br/>`
//! and nested `<span>`s; styling reduced to what WebVTT can say (italic, bold, underline, the
//! default colours).

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::cue::{Captions, Cue};
use crate::error::Error;
use crate::markup::{Payload, colour_class};

/// Time parameters from the `<tt>` element.
#[derive(Clone, Copy, Debug)]
struct Rates {
    /// Effective frames per second (`ttp:frameRate` × `ttp:frameRateMultiplier`).
    frame: f64,
    sub_frame: f64,
    tick: f64,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates { frame: 30.0, sub_frame: 1.0, tick: 1.0 }
    }
}

/// What WebVTT can say of a TTML style.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Style {
    italic: bool,
    bold: bool,
    underline: bool,
    colour: Option<&'static str>,
}

impl Style {
    fn over(self, base: Style) -> Style {
        Style {
            italic: self.italic || base.italic,
            bold: self.bold || base.bold,
            underline: self.underline || base.underline,
            colour: self.colour.or(base.colour),
        }
    }
}

/// An element on the way down to the text.
struct Open {
    name: String,
    /// Where its children's times count from, in ms.
    base: u64,
    /// When it ends, if it says.
    end: Option<u64>,
    /// Its style with what it inherits, as far as WebVTT can say it.
    style: Style,
    /// Tags this element opened in the cue, to close at its end.
    tags: Vec<&'static str>,
}

pub fn read(text: &str) -> Result<Captions, Error> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let line_at =
        |pos: u64| text.as_bytes()[..(pos as usize).min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut rates = Rates::default();
    let mut styles: HashMap<String, Style> = HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut cue: Option<(u64, u64, Payload)> = None;
    let mut captions = Captions::default();
    let mut saw_tt = false;
    loop {
        let pos = reader.buffer_position();
        let event =
            reader.read_event().map_err(|e| Error::Xml(format!("line {}: {e}", line_at(reader.error_position()))))?;
        match event {
            Event::Start(e) | Event::Empty(e) if local(&e) == "br" => {
                if let Some((_, _, p)) = cue.as_mut() {
                    p.newline();
                }
            }
            Event::Start(e) => {
                let name = local(&e);
                if stack.is_empty() && name != "tt" {
                    return Err(Error::Xml(format!("the root element is <{name}>, not <tt>: this is not TTML")));
                }
                let parent_base = stack.last().map_or(0, |o| o.base);
                let parent_end = stack.last().and_then(|o| o.end);
                let t = times(&e, rates).map_err(|t| Error::unexpected(line_at(pos), "a TTML time expression", &t))?;
                let base = parent_base + t.begin.unwrap_or(0);
                let end = t.end.map(|t| parent_base + t).or(t.dur.map(|d| base + d)).or(parent_end);
                let inherited = stack.last().map(|o| o.style).unwrap_or_default();
                let style = style_of(&e, &styles).over(inherited);
                let mut tags = Vec::new();
                match name.as_str() {
                    "tt" => {
                        saw_tt = true;
                        rates = tt_rates(&e);
                    }
                    "style" => {
                        if let Some(id) = attr(&e, "id") {
                            styles.insert(id, style_of(&e, &styles));
                        }
                    }
                    "p" => {
                        let end =
                            end.ok_or_else(|| Error::unexpected(line_at(pos), "a <p> with an end or dur time", "<p>"))?;
                        let mut payload = Payload::default();
                        tags = open_style(&mut payload, style, Style::default());
                        cue = Some((base, end, payload));
                    }
                    "span" => {
                        if let Some((_, _, p)) = cue.as_mut() {
                            tags = open_style(p, style, inherited);
                        }
                    }
                    _ => {}
                }
                stack.push(Open { name, base, end, style, tags });
            }
            Event::Empty(e) if local(&e) == "style" => {
                if let Some(id) = attr(&e, "id") {
                    let style = style_of(&e, &styles);
                    styles.insert(id, style);
                }
            }
            Event::Empty(e) if local(&e) == "p" => {
                // An empty paragraph: no text to show.
                let _ = e;
            }
            Event::End(_) => {
                let open = stack.pop().expect("quick-xml checks that end tags match");
                if let Some((_, _, p)) = cue.as_mut() {
                    for tag in open.tags.iter().rev() {
                        p.close(tag);
                    }
                }
                if open.name == "p"
                    && let Some((start, end, payload)) = cue.take()
                {
                    captions.cues.push(Cue {
                        id: None,
                        start,
                        end,
                        settings: String::new(),
                        payload: payload.finish(),
                    });
                }
            }
            Event::Text(t) => {
                let in_metadata = stack.iter().any(|o| o.name == "metadata");
                if let Some((_, _, p)) = cue.as_mut().filter(|_| !in_metadata) {
                    p.collapsed(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, _, p)) = cue.as_mut() {
                    p.collapsed(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                let c = c.ok_or_else(|| Error::Xml(format!("line {}: unknown entity &{};", line_at(pos), &*r)))?;
                if let Some((_, _, p)) = cue.as_mut() {
                    p.collapsed(&c.to_string());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_tt {
        return Err(Error::Xml("no <tt> element: this is not TTML".into()));
    }
    if captions.cues.is_empty() {
        return Err(Error::NoCues);
    }
    Ok(captions)
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

/// An attribute's value by local name (`tts:color` → `color`, `xml:id` → `id`).
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

fn tt_rates(e: &BytesStart<'_>) -> Rates {
    let num = |n: &str| attr(e, n).and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| *v > 0.0);
    let mut frame = num("frameRate").unwrap_or(30.0);
    if let Some(m) = attr(e, "frameRateMultiplier") {
        let parts: Vec<f64> = m.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        if let [n, d] = parts[..]
            && n > 0.0
            && d > 0.0
        {
            frame *= n / d;
        }
    }
    let sub_frame = num("subFrameRate").unwrap_or(1.0);
    let tick = num("tickRate").unwrap_or(if attr(e, "frameRate").is_some() { frame * sub_frame } else { 1.0 });
    Rates { frame, sub_frame, tick }
}

/// An element's own `begin`, `end` and `dur`, in ms.
struct Times {
    begin: Option<u64>,
    end: Option<u64>,
    dur: Option<u64>,
}

/// `Err` carries an expression that is not a time.
fn times(e: &BytesStart<'_>, rates: Rates) -> Result<Times, String> {
    let one = |n: &str| attr(e, n).map(|v| parse_time(&v, rates).ok_or(v)).transpose();
    Ok(Times { begin: one("begin")?, end: one("end")?, dur: one("dur")? })
}

/// A TTML time expression: clock time (`hh:mm:ss.fff`, `hh:mm:ss:ff[.sub]`) or offset time
/// (`12.5s`, `1500ms`, `2m`, `1h`, `25f`, `1000t`).
fn parse_time(s: &str, rates: Rates) -> Option<u64> {
    let s = s.trim();
    if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        let (h, m) = (parts.first()?.parse::<f64>().ok()?, parts.get(1)?.parse::<f64>().ok()?);
        let seconds = match parts[..] {
            [_, _, sec] => sec.parse::<f64>().ok()?,
            [_, _, sec, frames] => {
                let (f, sub) = frames.split_once('.').unwrap_or((frames, "0"));
                let frames = f.parse::<f64>().ok()? + sub.parse::<f64>().ok()? / rates.sub_frame;
                sec.parse::<f64>().ok()? + frames / rates.frame
            }
            _ => return None,
        };
        return to_ms(h * 3600.0 + m * 60.0 + seconds);
    }
    let unit_at = s.find(|c: char| c.is_ascii_alphabetic())?;
    let value: f64 = s[..unit_at].parse().ok()?;
    let seconds = match &s[unit_at..] {
        "h" => value * 3600.0,
        "m" => value * 60.0,
        "s" => value,
        "ms" => value / 1000.0,
        "f" => value / rates.frame,
        "t" => value / rates.tick,
        _ => return None,
    };
    to_ms(seconds)
}

/// Times past a hundred thousand years are no caption's.
fn to_ms(seconds: f64) -> Option<u64> {
    (seconds.is_finite() && (0.0..1e12).contains(&seconds)).then(|| (seconds * 1000.0).round() as u64)
}

/// An element's own style: its `style` references, then its inline `tts:` attributes.
fn style_of(e: &BytesStart<'_>, styles: &HashMap<String, Style>) -> Style {
    let referenced = attr(e, "style")
        .map(|refs| refs.split_whitespace().filter_map(|r| styles.get(r)).fold(Style::default(), |acc, s| s.over(acc)))
        .unwrap_or_default();
    let inline = Style {
        italic: attr(e, "fontStyle").is_some_and(|v| v == "italic" || v == "oblique"),
        bold: attr(e, "fontWeight").is_some_and(|v| v == "bold"),
        underline: attr(e, "textDecoration").is_some_and(|v| v.split_whitespace().any(|d| d == "underline")),
        colour: attr(e, "color").as_deref().and_then(colour_class),
    };
    inline.over(referenced)
}

/// Opens the tags for what `style` says beyond what is already open (`outer`).
fn open_style(p: &mut Payload, style: Style, outer: Style) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if let Some(c) = style.colour.filter(|c| outer.colour != Some(c)) {
        p.open("c", format!("c.{c}"));
        tags.push("c");
    }
    for (on, was, tag) in
        [(style.italic, outer.italic, "i"), (style.bold, outer.bold, "b"), (style.underline, outer.underline, "u")]
    {
        if on && !was {
            p.open(tag, tag.to_string());
            tags.push(tag);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(text: &str) -> Vec<(u64, u64, String)> {
        read(text).unwrap().cues.into_iter().map(|c| (c.start, c.end, c.payload)).collect()
    }

    #[test]
    fn clock_times_spans_and_breaks() {
        let ttml = r##"<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:tts="http://www.w3.org/ns/ttml#styling" xml:lang="en">
  <head><styling>
    <style xml:id="it" tts:fontStyle="italic"/>
    <style xml:id="yellow" tts:color="#FFFF00FF"/>
  </styling></head>
  <body><div>
    <p begin="00:00:01.000" end="00:00:02.500">Hello,
        <span style="it">brave</span><br/>new   world &amp; more</p>
    <p begin="00:00:03.000" dur="1.5s" style="yellow"><span tts:fontWeight="bold">Loud</span> &lt;noise&gt;</p>
    <p begin="4s" end="5s"><metadata>hidden</metadata>shown</p>
  </div></body>
</tt>"##;
        assert_eq!(
            cues(ttml),
            [
                (1000, 2500, "Hello, <i>brave</i>\nnew world &amp; more".to_string()),
                (3000, 4500, "<c.yellow><b>Loud</b> &lt;noise&gt;</c>".to_string()),
                (4000, 5000, "shown".to_string()),
            ]
        );
    }

    #[test]
    fn frames_ticks_and_offsets() {
        let dfxp = r#"<tt xmlns="http://www.w3.org/2006/10/ttaf1" xmlns:ttp="http://www.w3.org/ns/ttml#parameter"
  ttp:frameRate="30" ttp:frameRateMultiplier="1000 1001" ttp:tickRate="10000000">
  <body><div begin="10s">
    <p begin="00:00:01:15" end="00:00:02:00">frames</p>
    <p begin="30000000t" end="40000000t">ticks</p>
    <p begin="500ms" end="0.02m">offsets</p>
  </div></body></tt>"#;
        let c = cues(dfxp);
        // 15 frames at 29.97 fps is 500.5 ms; times count from the div's begin.
        assert_eq!((c[0].0, c[0].1), (11_501, 12_000));
        assert_eq!((c[1].0, c[1].1), (13_000, 14_000));
        assert_eq!((c[2].0, c[2].1), (10_500, 11_200));
        let r = Rates { frame: 25.0, sub_frame: 2.0, tick: 1.0 };
        assert_eq!(parse_time("00:00:00:10.1", r), Some(420));
        assert_eq!(parse_time("1h", r), Some(3_600_000));
        assert_eq!(parse_time("50f", r), Some(2000));
        assert_eq!(parse_time("soon", r), None);
        assert_eq!(parse_time("-1s", r), None);
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = read("<tt><body><p begin=\"1s\">no end</p></body></tt>").unwrap_err();
        assert!(err.to_string().contains("a <p> with an end or dur time"), "{err}");
        let err = read("<tt><body>\n<p begin=\"soon\" end=\"2s\">x</p></body></tt>").unwrap_err();
        assert!(err.to_string().starts_with("line 2: expected a TTML time expression, found \"soon\""), "{err}");
        let err = read("<tt><body><p begin=\"1s\" end=\"2s\">x</span></body></tt>").unwrap_err();
        assert!(matches!(err, Error::Xml(_)), "{err}");
        assert!(matches!(read("<html><p>no</p></html>").unwrap_err(), Error::Xml(_)));
        assert_eq!(read("<tt><body></body></tt>").unwrap_err(), Error::NoCues);
    }
}
