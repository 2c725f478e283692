//! Amazon Transcribe's batch output document, typed, and the timed words it holds. The local
//! stand-in writes the same document from a recognizer's words, so what reads one reads both.
//!
//! Times and confidences are strings in Transcribe's documents ("0.52", "0.999"); a number is
//! read as well (emulators vary). Fields not named here are kept in `other`, so a document
//! read and written again loses nothing.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A spoken word: seconds from the start of the media, and its text with the punctuation that
/// follows it attached ("Hello,").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedWord {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// The JSON document a batch transcription job writes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    #[serde(default)]
    pub job_name: String,
    #[serde(default)]
    pub account_id: String,
    /// "COMPLETED" in a finished job's document; older documents leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub results: Results,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Absent when the job identified several languages (then `language_codes` is in `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(default)]
    pub transcripts: Vec<TranscriptText>,
    #[serde(default)]
    pub items: Vec<Item>,
    /// `audio_segments`, `speaker_labels`, `channel_labels`, `language_codes`, ….
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TranscriptText {
    #[serde(default)]
    pub transcript: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A word (`pronunciation`, with times) or a punctuation mark (no times).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Numbered from 0 in newer documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(rename = "type")]
    pub kind: ItemKind,
    #[serde(default, deserialize_with = "text_or_number", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "text_or_number", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// The best reading first.
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Pronunciation,
    Punctuation,
    /// A kind this code does not know: kept, and skipped when reading words.
    #[serde(untagged)]
    Other(String),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    #[serde(default, deserialize_with = "text_or_number", skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    #[serde(default)]
    pub content: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The only marks Transcribe writes as punctuation items.
const MARKS: [char; 4] = ['.', ',', '?', '!'];

/// What a recognizer may put around a word that is not part of it. Anything else (`%`, `$`,
/// letters of any script, apostrophes and hyphens inside the word) stays in the word.
const AROUND: &str = ".,?!;:…\"'()[]{}«»“”„‘’‚¿¡—–-*_~";

impl Transcript {
    /// Reads a document.
    pub fn from_json(json: &[u8]) -> Result<Transcript, serde_json::Error> {
        serde_json::from_slice(json)
    }

    /// The document as Transcribe writes it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The full text (`transcripts[0]`), "" if there is none.
    pub fn text(&self) -> &str {
        self.results.transcripts.first().map_or("", |t| t.transcript.as_str())
    }

    /// The spoken words in order, each with the punctuation items that follow it appended. A
    /// punctuation item before any word has nothing to attach to and is dropped; a word without
    /// times takes the previous word's end (a document is read, not judged).
    pub fn words(&self) -> Vec<TimedWord> {
        let mut words: Vec<TimedWord> = Vec::new();
        for item in &self.results.items {
            let Some(content) = item.alternatives.first().map(|a| a.content.trim()).filter(|c| !c.is_empty()) else {
                continue;
            };
            match item.kind {
                ItemKind::Pronunciation => {
                    let previous_end = words.last().map_or(0.0, |w| w.end);
                    let start = seconds(item.start_time.as_deref()).unwrap_or(previous_end);
                    let end = seconds(item.end_time.as_deref()).unwrap_or(start).max(start);
                    words.push(TimedWord { start, end, text: content.to_string() });
                }
                ItemKind::Punctuation => {
                    if let Some(last) = words.last_mut() {
                        last.text.push_str(content);
                    }
                }
                ItemKind::Other(_) => {}
            }
        }
        words
    }

    /// The document Transcribe would write for `words` (a recognizer's, punctuation attached).
    /// Around each word, `.`, `,`, `?`, `!` (and `…` as `.`) become punctuation items as
    /// Transcribe writes them; other marks (quotes, brackets, `;`, `:`, dashes) are dropped.
    /// Items are numbered from 0; times have at most 3 decimals ("0.52", "6.1", "5.0"); a
    /// word's confidence is "1.0" (the recognizer's own is not carried by `TimedWord`),
    /// punctuation's "0.0", as Transcribe writes it.
    pub fn from_words(job_name: &str, account_id: &str, language_code: &str, words: &[TimedWord]) -> Transcript {
        let mut items: Vec<Item> = Vec::new();
        let mut text = String::new();
        for word in words {
            // A recognizer's "word" with spaces in it is several words sharing its times.
            for piece in word.text.split_whitespace() {
                let (before, core, after) = split_around(piece);
                push_marks(&mut items, &mut text, before);
                if core.is_empty() {
                    continue;
                }
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(core);
                items.push(Item {
                    id: Some(items.len() as u64),
                    kind: ItemKind::Pronunciation,
                    start_time: Some(format_seconds(word.start)),
                    end_time: Some(format_seconds(word.end.max(word.start))),
                    alternatives: vec![alternative("1.0", core)],
                    other: Map::new(),
                });
                push_marks(&mut items, &mut text, after);
            }
        }
        Transcript {
            job_name: job_name.to_string(),
            account_id: account_id.to_string(),
            status: Some("COMPLETED".to_string()),
            results: Results {
                language_code: Some(language_code.to_string()),
                transcripts: vec![TranscriptText { transcript: text, other: Map::new() }],
                items,
                other: Map::new(),
            },
            other: Map::new(),
        }
    }
}

fn alternative(confidence: &str, content: &str) -> Alternative {
    Alternative { confidence: Some(confidence.to_string()), content: content.to_string(), other: Map::new() }
}

/// `piece` as (marks before, the word, marks after).
fn split_around(piece: &str) -> (&str, &str, &str) {
    let core_start = piece.find(|c: char| !AROUND.contains(c)).unwrap_or(piece.len());
    let core_end = piece
        .rfind(|c: char| !AROUND.contains(c))
        .map_or(core_start, |i| i + piece[i..].chars().next().map_or(0, char::len_utf8));
    (&piece[..core_start], &piece[core_start..core_end], &piece[core_end..])
}

/// Punctuation items for the marks Transcribe writes, after a word only (one before any word
/// would be dropped on reading), a mark repeating the previous item once ("..." is ".").
fn push_marks(items: &mut Vec<Item>, text: &mut String, marks: &str) {
    for mark in marks.chars().filter_map(|c| if c == '…' { Some('.') } else { MARKS.contains(&c).then_some(c) }) {
        let Some(last) = items.last() else { return };
        let content = mark.to_string();
        if last.kind == ItemKind::Punctuation && last.alternatives.first().is_some_and(|a| a.content == content) {
            continue;
        }
        text.push(mark);
        items.push(Item {
            id: Some(items.len() as u64),
            kind: ItemKind::Punctuation,
            start_time: None,
            end_time: None,
            alternatives: vec![alternative("0.0", &content)],
            other: Map::new(),
        });
    }
}

/// Whole milliseconds; a negative or non-finite time is 0.
pub(crate) fn millis(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 { (seconds * 1000.0).round() as u64 } else { 0 }
}

/// Seconds with at most 3 decimals and at least one, as Transcribe writes them.
fn format_seconds(seconds: f64) -> String {
    let ms = millis(seconds);
    let mut out = format!("{}.{:03}", ms / 1000, ms % 1000);
    while out.ends_with('0') && !out.ends_with(".0") {
        out.pop();
    }
    out
}

fn seconds(text: Option<&str>) -> Option<f64> {
    text?.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0)
}

/// A time or confidence: a string as Transcribe writes it, or a number.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|e| match e {
        Either::Text(s) => s,
        Either::Number(n) => n.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The example of AWS's documentation ("Example diarization output (batch)"), with the
    /// `status`, `language_code` and `audio_segments` newer documents carry.
    const DOCUMENTED: &str = r#"{
      "jobName": "my-first-transcription-job",
      "accountId": "111122223333",
      "status": "COMPLETED",
      "results": {
        "language_code": "en-US",
        "transcripts": [{"transcript": "I've been on hold for an hour. Sorry about that."}],
        "speaker_labels": {"channel_label": "ch_0", "speakers": 2, "segments": [
          {"start_time": "4.87", "speaker_label": "spk_0", "end_time": "6.88", "items": [
            {"start_time": "4.87", "speaker_label": "spk_0", "end_time": "5.02"}]}]},
        "items": [
          {"id": 0, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "I've"}], "start_time": "4.87", "end_time": "5.02", "speaker_label": "spk_0"},
          {"id": 1, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "been"}], "start_time": "5.02", "end_time": "5.17", "speaker_label": "spk_0"},
          {"id": 2, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "on"}], "start_time": "5.17", "end_time": "5.29", "speaker_label": "spk_0"},
          {"id": 3, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "hold"}], "start_time": "5.29", "end_time": "5.64", "speaker_label": "spk_0"},
          {"id": 4, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "for"}], "start_time": "5.64", "end_time": "5.84", "speaker_label": "spk_0"},
          {"id": 5, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "an"}], "start_time": "6.11", "end_time": "6.26", "speaker_label": "spk_0"},
          {"id": 6, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "hour"}], "start_time": "6.26", "end_time": "6.88", "speaker_label": "spk_0"},
          {"id": 7, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}], "speaker_label": "spk_0"},
          {"id": 8, "type": "pronunciation", "alternatives": [{"confidence": "0.998", "content": "Sorry"}], "start_time": "8.49", "end_time": "8.88", "speaker_label": "spk_1"},
          {"id": 9, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "about"}], "start_time": "8.88", "end_time": "9.05", "speaker_label": "spk_1"},
          {"id": 10, "type": "pronunciation", "alternatives": [{"confidence": "1.0", "content": "that"}], "start_time": "9.05", "end_time": "9.24", "speaker_label": "spk_1"},
          {"id": 11, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}], "speaker_label": "spk_1"}
        ],
        "audio_segments": [
          {"id": 0, "transcript": "I've been on hold for an hour.", "start_time": "4.87", "end_time": "6.88", "speaker_label": "spk_0", "items": [0, 1, 2, 3, 4, 5, 6, 7]},
          {"id": 1, "transcript": "Sorry about that.", "start_time": "8.49", "end_time": "9.24", "speaker_label": "spk_1", "items": [8, 9, 10, 11]}
        ]
      }
    }"#;

    fn w(start: f64, end: f64, text: &str) -> TimedWord {
        TimedWord { start, end, text: text.into() }
    }

    #[test]
    fn documented_output_is_read_and_written_back_unchanged() {
        let t = Transcript::from_json(DOCUMENTED.as_bytes()).expect("documented shape");
        assert_eq!(t.job_name, "my-first-transcription-job");
        assert_eq!(t.status.as_deref(), Some("COMPLETED"));
        assert_eq!(t.results.language_code.as_deref(), Some("en-US"));
        assert_eq!(t.text(), "I've been on hold for an hour. Sorry about that.");
        assert_eq!(t.results.items[7].kind, ItemKind::Punctuation);
        assert!(t.results.other.contains_key("audio_segments"));
        let again: Value = serde_json::from_str(&t.to_json()).expect("json");
        let original: Value = serde_json::from_str(DOCUMENTED).expect("json");
        assert_eq!(again, original);
    }

    #[test]
    fn words_carry_their_punctuation() {
        let t = Transcript::from_json(DOCUMENTED.as_bytes()).expect("documented shape");
        let words = t.words();
        assert_eq!(words.len(), 10);
        assert_eq!(words[0], w(4.87, 5.02, "I've"));
        assert_eq!(words[6], w(6.26, 6.88, "hour."));
        assert_eq!(words[9], w(9.05, 9.24, "that."));
        let joined: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(joined.join(" "), t.text());
    }

    #[test]
    fn older_and_emulated_documents_are_tolerated() {
        // No ids, no status, no language_code (IdentifyMultipleLanguages), times as numbers,
        // an item kind and fields never seen, a punctuation item before any word.
        let doc = r#"{"jobName": "j", "accountId": "1", "results": {
            "language_codes": [{"language_code": "en-US", "duration_in_seconds": 2.0}],
            "transcripts": [{"transcript": "Hi there!"}],
            "items": [
              {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "¿"}]},
              {"type": "pronunciation", "start_time": 0.5, "end_time": 0.75, "language_code": "en-US",
               "alternatives": [{"confidence": 0.9, "content": "Hi"}]},
              {"type": "pronunciation", "start_time": "0.8", "end_time": "1.1",
               "alternatives": [{"confidence": "0.9", "content": "there"}], "vocabulary_filter_match": false},
              {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "!"}]},
              {"type": "speaker_change", "alternatives": [{"content": "x"}]}
            ]}, "extra": {"a": 1}}"#;
        let t = Transcript::from_json(doc.as_bytes()).expect("tolerated");
        assert_eq!(t.results.language_code, None);
        assert_eq!(t.results.items[1].start_time.as_deref(), Some("0.5"));
        assert_eq!(t.results.items[4].kind, ItemKind::Other("speaker_change".into()));
        assert_eq!(t.words(), vec![w(0.5, 0.75, "Hi"), w(0.8, 1.1, "there!")]);
        let again = Transcript::from_json(t.to_json().as_bytes()).expect("written back");
        assert_eq!(again, t);
    }

    #[test]
    fn ministack_documents_are_read() {
        // What MiniStack's Transcribe writes: canned words, times with one decimal, no punctuation.
        let doc = r#"{"jobName": "job", "accountId": "000000000000", "status": "COMPLETED", "results": {
            "transcripts": [{"transcript": "[ministack mock transcript] deterministic"}],
            "items": [
              {"type": "pronunciation", "start_time": "0.0", "end_time": "0.5", "alternatives": [{"confidence": "1.0", "content": "[ministack"}]},
              {"type": "pronunciation", "start_time": "0.5", "end_time": "1.0", "alternatives": [{"confidence": "1.0", "content": "mock"}]},
              {"type": "pronunciation", "start_time": "1.0", "end_time": "1.5", "alternatives": [{"confidence": "1.0", "content": "transcript]"}]},
              {"type": "pronunciation", "start_time": "1.5", "end_time": "2.0", "alternatives": [{"confidence": "1.0", "content": "deterministic"}]}],
            "audio_segments": [{"id": 0, "transcript": "…", "start_time": "0.0", "end_time": "2.0", "items": [0, 1, 2, 3]}]}}"#;
        let t = Transcript::from_json(doc.as_bytes()).expect("ministack");
        let words = t.words();
        assert_eq!(words.len(), 4);
        assert_eq!(words[2], w(1.0, 1.5, "transcript]"));
    }

    #[test]
    fn missing_results_is_an_error() {
        assert!(Transcript::from_json(br#"{"jobName": "j"}"#).is_err());
        assert!(Transcript::from_json(b"not json").is_err());
    }

    #[test]
    fn written_as_transcribe_writes() {
        let words = [w(0.04, 0.52, "\"Yes,\""), w(0.6, 1.0, "it's"), w(1.0, 12.345, "well-known...")];
        let t = Transcript::from_words("job", "123456789012", "en-US", &words);
        let json: Value = serde_json::from_str(&t.to_json()).expect("json");
        let expected: Value = serde_json::from_str(
            r#"{"jobName": "job", "accountId": "123456789012", "status": "COMPLETED", "results": {
              "language_code": "en-US",
              "transcripts": [{"transcript": "Yes, it's well-known."}],
              "items": [
                {"id": 0, "type": "pronunciation", "start_time": "0.04", "end_time": "0.52", "alternatives": [{"confidence": "1.0", "content": "Yes"}]},
                {"id": 1, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": ","}]},
                {"id": 2, "type": "pronunciation", "start_time": "0.6", "end_time": "1.0", "alternatives": [{"confidence": "1.0", "content": "it's"}]},
                {"id": 3, "type": "pronunciation", "start_time": "1.0", "end_time": "12.345", "alternatives": [{"confidence": "1.0", "content": "well-known"}]},
                {"id": 4, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]}]}}"#,
        )
        .expect("json");
        assert_eq!(json, expected);
    }

    #[test]
    fn punctuation_is_normalised() {
        let words = [
            w(0.0, 0.1, "¿Qué?"),
            w(0.2, 0.3, "(yes);"),
            w(0.4, 0.5, "—"),
            w(0.6, 0.7, "50%"),
            w(0.8, 0.9, "wait…"),
            w(1.0, 1.1, "!?"),
            w(1.2, 1.3, "New York."),
        ];
        let t = Transcript::from_words("j", "a", "es-US", &words);
        let texts: Vec<String> = t.words().into_iter().map(|w| w.text).collect();
        assert_eq!(texts, ["Qué?", "yes", "50%", "wait.!?", "New", "York."]);
        assert_eq!(t.text(), "Qué? yes 50% wait.!? New York.");
        assert_eq!(t.results.items.iter().map(|i| i.id).collect::<Vec<_>>(), (0..11).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn times_have_at_most_three_decimals() {
        assert_eq!(format_seconds(0.0), "0.0");
        assert_eq!(format_seconds(5.0), "5.0");
        assert_eq!(format_seconds(6.1), "6.1");
        assert_eq!(format_seconds(0.52), "0.52");
        assert_eq!(format_seconds(12.345), "12.345");
        assert_eq!(format_seconds(1.23456), "1.235");
        assert_eq!(format_seconds(-1.0), "0.0");
        assert_eq!(format_seconds(f64::NAN), "0.0");
    }

    fn word() -> impl Strategy<Value = String> {
        ("[a-zA-Z0-9]([a-zA-Z0-9'é漢-]{0,8}[a-zA-Z0-9é漢])?", prop::sample::select(vec!["", ".", ",", "?", "!", "?!"]))
            .prop_map(|(core, mark)| format!("{core}{mark}"))
    }

    proptest! {
        #[test]
        fn words_round_trip(spoken in prop::collection::vec((0u64..5_000_000, 0u64..3000, word()), 0..60)) {
            let mut spoken = spoken;
            spoken.sort_by_key(|s| s.0);
            let words: Vec<TimedWord> = spoken
                .iter()
                .map(|(start, len, text)| w(*start as f64 / 1000.0, (start + len) as f64 / 1000.0, text))
                .collect();
            let t = Transcript::from_words("j", "a", "en-US", &words);
            prop_assert_eq!(t.words(), words.clone());
            let read = Transcript::from_json(t.to_json().as_bytes()).expect("written back");
            prop_assert_eq!(read.words(), words);
        }
    }
}
