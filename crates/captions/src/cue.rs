//! Cues, and the one WebVTT writer every format goes through.

use crate::time::format_vtt;

/// One caption cue. `payload` is WebVTT cue text: escaped, tags balanced, no blank line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    pub id: Option<String>,
    /// Milliseconds.
    pub start: u64,
    pub end: u64,
    /// WebVTT cue settings (`line:0 align:left`), "" for none.
    pub settings: String,
    pub payload: String,
}

/// A caption file as read: its cues, the WebVTT blocks that come before them (`STYLE`,
/// `REGION`) and what had to be repaired on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captions {
    pub cues: Vec<Cue>,
    pub blocks: Vec<String>,
    pub repairs: Vec<String>,
}

impl Captions {
    /// Puts cues in start order (players and validators need it) and gives a cue that ends
    /// before it starts a second, noting each repair.
    pub fn normalise(&mut self) {
        if self.cues.windows(2).any(|w| w[1].start < w[0].start) {
            self.cues.sort_by_key(|c| c.start);
            self.repairs.push("cues put in start order".into());
        }
        for cue in &mut self.cues {
            if cue.end <= cue.start {
                self.repairs
                    .push(format!("cue at {} ended before it started; it now lasts 1 s", format_vtt(cue.start)));
                cue.end = cue.start + 1000;
            }
        }
    }

    /// The captions as a WebVTT file.
    pub fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for block in &self.blocks {
            out.push_str(block.trim_end());
            out.push_str("\n\n");
        }
        for cue in &self.cues {
            if let Some(id) = cue.id.as_deref().filter(|id| is_valid_id(id)) {
                out.push_str(id);
                out.push('\n');
            }
            out.push_str(&format_vtt(cue.start));
            out.push_str(" --> ");
            out.push_str(&format_vtt(cue.end));
            if !cue.settings.is_empty() {
                out.push(' ');
                out.push_str(&cue.settings);
            }
            out.push('\n');
            for line in cue.payload.lines().filter(|l| !l.trim().is_empty()) {
                out.push_str(line);
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

/// A cue identifier may not contain `-->` or a line break, and may not be blank.
fn is_valid_id(id: &str) -> bool {
    !id.trim().is_empty() && !id.contains("-->") && !id.contains('\n')
}
