//! Timed words laid out as caption cues made for reading.
//!
//! What every cue list `layout` returns holds, and `check` verifies:
//! - a cue has one or two lines, none blank; a line shows at most 42 characters (`&amp;` is one)
//!   unless it is one word longer than that, which then has its line to itself;
//! - a cue is on screen at most 7 s, and at least 1 s unless the next cue starts sooner, in which
//!   case it ends exactly where the next begins (speech too fast to merge: see below);
//! - cues are in order and never overlap; each ends after it starts.
//!
//! How `layout` chooses (tested in this file; not visible in the cues alone):
//! - a pause of 1.5 s or more between words always ends a cue, and a cue ends 0.5 s after its
//!   last word (or 1 s after its start, if later), so it does not stay up through a silence;
//! - where cues end is chosen over the whole text at once: at sentence ends (`.` `?` `!` `…`);
//!   a sentence too long or too slow for one cue is broken preferably at a clause end (`,` `;`
//!   `:` dashes), into cues of even length. A sentence end inside a cue costs more than any cut;
//!   what it buys is a cue of at least 1 s: a sentence said in under 1 s joins its neighbour;
//! - within a cue: one line if the text fits, else the break that best balances the two lines,
//!   a break after a clause end counting as 10 characters better balanced, after a sentence end 20.

use crate::cue::{Captions, Cue};
use crate::markup::Payload;
use crate::time::format_vtt;
use crate::transcript::{TimedWord, millis};

/// Characters a line shows, at most (one word longer than this has its line to itself).
pub const MAX_LINE_CHARS: usize = 42;
pub const MAX_LINES: usize = 2;
/// Milliseconds a cue is on screen, at most.
pub const MAX_CUE_MS: u64 = 7_000;
/// Milliseconds a cue is on screen, at least, unless the next cue starts sooner.
pub const MIN_CUE_MS: u64 = 1_000;
/// A silence between words this long or longer ends a cue.
pub const PAUSE_MS: u64 = 1_500;
/// How long a cue stays after its last word ends (unless it must stay longer to last 1 s).
pub const LINGER_MS: u64 = 500;

// What a cue costs, to choose where cues end: fewer cues, of even length (the square of its
// characters / 4), ending at sentence ends; a clause end is a better place to break a sentence
// than any other word; a sentence end inside a cue is worse, and a cue under 1 s worse still.
const CUE_COST: u64 = 1_000;
const CLAUSE_BREAK_COST: u64 = 3_000;
const WORD_BREAK_COST: u64 = 6_000;
const SENTENCE_INSIDE_COST: u64 = 10_000;
const SHORT_COST: u64 = 20_000;

/// Times past this (30,000 years) are taken as this: arithmetic on them never overflows.
const LATEST_MS: u64 = 1 << 50;

/// A rule `check` found broken, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cue {index} (at {}): {rule}", format_vtt(*start))]
pub struct RuleBroken {
    /// Its index in the list, from 0.
    pub index: usize,
    pub start: u64,
    pub rule: Rule,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    #[error("it has no text or a blank line")]
    Blank,
    #[error("it has {0} lines (at most {MAX_LINES})")]
    Lines(usize),
    #[error("a line shows {0} characters (at most {MAX_LINE_CHARS}, unless it is one word)")]
    LineLength(usize),
    #[error("it ends before it starts")]
    Backwards,
    #[error("it starts before the previous cue ends")]
    Overlap,
    #[error("it is on screen {0} ms (at most {MAX_CUE_MS})")]
    TooLong(u64),
    #[error("it is on screen {0} ms (at least {MIN_CUE_MS} unless it ends where the next cue starts)")]
    TooShort(u64),
}

/// `words` as cues made for reading (rules above). No word is lost: each appears once, in
/// order; a word's own white space separates it into several words sharing its times.
pub fn layout(words: &[TimedWord]) -> Vec<Cue> {
    let words = tokens(words);
    let text = Text::new(&words);
    let cues = text.cue_ranges();
    let mut out: Vec<Cue> = Vec::with_capacity(cues.len());
    let mut previous_end = 0;
    for (n, &(i, j)) in cues.iter().enumerate() {
        // Only out-of-order input starts a cue before the previous one ends.
        let start = words[i].start.max(previous_end);
        let natural = text.natural_end(i, j, start);
        let end = match cues.get(n + 1) {
            Some(&(next, _)) => natural.min(words[next].start.max(start + 1)),
            None => natural,
        };
        previous_end = end;
        out.push(Cue { id: None, start, end, settings: String::new(), payload: text.payload(i, j) });
    }
    out
}

/// The WebVTT file of `layout(words)`, and its number of cues.
pub fn vtt(words: &[TimedWord]) -> (String, usize) {
    let cues = layout(words);
    let count = cues.len();
    (Captions { cues, ..Default::default() }.to_vtt(), count)
}

/// Whether `cues` keep the published rules (the first list in this module's documentation).
pub fn check(cues: &[Cue]) -> Result<(), RuleBroken> {
    for (index, cue) in cues.iter().enumerate() {
        let broken = |rule| Err(RuleBroken { index, start: cue.start, rule });
        let lines: Vec<&str> = cue.payload.split('\n').collect();
        if lines.iter().any(|l| l.trim().is_empty()) {
            return broken(Rule::Blank);
        }
        if lines.len() > MAX_LINES {
            return broken(Rule::Lines(lines.len()));
        }
        for line in lines {
            let shown = shown_chars(line);
            if shown > MAX_LINE_CHARS && line.trim().contains(char::is_whitespace) {
                return broken(Rule::LineLength(shown));
            }
        }
        if cue.end <= cue.start {
            return broken(Rule::Backwards);
        }
        if index > 0 && cue.start < cues[index - 1].end {
            return broken(Rule::Overlap);
        }
        let on_screen = cue.end - cue.start;
        if on_screen > MAX_CUE_MS {
            return broken(Rule::TooLong(on_screen));
        }
        if on_screen < MIN_CUE_MS && cues.get(index + 1).is_none_or(|next| next.start != cue.end) {
            return broken(Rule::TooShort(on_screen));
        }
    }
    Ok(())
}

/// Characters a payload line shows: a character reference is one, a tag none.
fn shown_chars(line: &str) -> usize {
    let mut shown = 0;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let skip = match c {
            '<' => rest.find('>').map(|e| (e + 1, 0)),
            '&' => rest
                .find(';')
                .filter(|&e| e > 1 && rest[1..e].chars().all(|c| c.is_ascii_alphanumeric() || c == '#'))
                .map(|e| (e + 1, 1)),
            _ => None,
        };
        let (bytes, chars) = skip.unwrap_or((c.len_utf8(), 1));
        shown += chars;
        rest = &rest[bytes..];
    }
    shown
}

/// A word as laid out: times in ms, never starting before the word before it.
struct Word {
    text: String,
    chars: usize,
    start: u64,
    end: u64,
}

fn tokens(words: &[TimedWord]) -> Vec<Word> {
    let mut out = Vec::with_capacity(words.len());
    let mut latest_start = 0;
    for word in words {
        let start = millis(word.start).min(LATEST_MS).max(latest_start);
        let end = millis(word.end).min(LATEST_MS).max(start);
        latest_start = start;
        for piece in word.text.split_whitespace() {
            let text: String = piece.chars().filter(|c| !c.is_control()).collect();
            if !text.is_empty() {
                out.push(Word { chars: text.chars().count(), text, start, end });
            }
        }
    }
    out
}

/// Ends a sentence: `.`, `?`, `!` or `…`, before any closing quotes or brackets.
fn ends_sentence(word: &str) -> bool {
    word.trim_end_matches(['"', '\'', '”', '’', ')', ']', '»']).ends_with(['.', '?', '!', '…'])
}

/// Ends a clause: `,`, `;`, `:` or a dash.
fn ends_clause(word: &str) -> bool {
    word.trim_end_matches(['"', '\'', '”', '’', ')', ']', '»']).ends_with([',', ';', ':', '—', '–'])
}

struct Text<'a> {
    words: &'a [Word],
    /// `prefix[i]`: the characters of the words before `i`.
    prefix: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(words: &'a [Word]) -> Text<'a> {
        let mut prefix = Vec::with_capacity(words.len() + 1);
        prefix.push(0);
        for w in words {
            prefix.push(prefix[prefix.len() - 1] + w.chars);
        }
        Text { words, prefix }
    }

    /// Characters of words `i..j` on one line (`i < j`).
    fn chars(&self, i: usize, j: usize) -> usize {
        self.prefix[j] - self.prefix[i] + (j - i - 1)
    }

    fn line_fits(&self, i: usize, j: usize) -> bool {
        j - i == 1 || self.chars(i, j) <= MAX_LINE_CHARS
    }

    /// Where words `i..j` go to a second line (`j` for one line), if they fit in two.
    fn line_break(&self, i: usize, j: usize) -> Option<usize> {
        if self.line_fits(i, j) {
            return Some(j);
        }
        let score = |k: usize| {
            let balance = self.chars(i, k).abs_diff(self.chars(k, j)) as i64 * 10;
            let text = &self.words[k - 1].text;
            let bonus = if ends_sentence(text) {
                200
            } else if ends_clause(text) {
                100
            } else {
                0
            };
            balance - bonus
        };
        (i + 1..j).filter(|&k| self.line_fits(i, k) && self.line_fits(k, j)).min_by_key(|&k| score(k))
    }

    /// The latest end of words `i..j`.
    fn last_end(&self, i: usize, j: usize) -> u64 {
        self.words[i..j].iter().map(|w| w.end).max().unwrap_or(0)
    }

    /// Where a cue of words `i..j` starting at `start` ends if the next cue does not cut it short.
    fn natural_end(&self, i: usize, j: usize, start: u64) -> u64 {
        (self.last_end(i, j) + LINGER_MS).max(start + MIN_CUE_MS).min(start + MAX_CUE_MS)
    }

    /// The cues as word ranges `(i, j)`: the cheapest of all ways to cut the text into cues that
    /// keep the limits (dynamic programming over the cut points; a cue holds at most 2 × 21
    /// words, so this is linear in the words).
    fn cue_ranges(&self) -> Vec<(usize, usize)> {
        let n = self.words.len();
        let mut best = vec![u64::MAX; n + 1];
        let mut from = vec![0; n + 1];
        best[0] = 0;
        for i in 0..n {
            // Every cut point is reachable: one word alone is always a cue.
            let mut last_end = self.words[i].end;
            // Words i..j fit in two lines iff they do with the first line as full as it can be.
            let first_line = (i + 1..=n).take_while(|&k| self.line_fits(i, k)).last().unwrap_or(i + 1);
            let mut sentences_inside = 0;
            for j in i + 1..=n {
                if j > i + 1 {
                    let added = &self.words[j - 1];
                    let pause = added.start.saturating_sub(last_end) >= PAUSE_MS;
                    let too_long = added.end.max(last_end) - self.words[i].start > MAX_CUE_MS;
                    // Each limit, once broken, stays broken for longer cues.
                    if pause || too_long || !(j <= first_line || self.line_fits(first_line, j)) {
                        break;
                    }
                    last_end = last_end.max(added.end);
                    sentences_inside += u64::from(ends_sentence(&self.words[j - 2].text));
                }
                let cost = best[i].saturating_add(self.cost(i, j, last_end, sentences_inside));
                if cost < best[j] {
                    best[j] = cost;
                    from[j] = i;
                }
            }
        }
        let mut cues = Vec::new();
        let mut j = n;
        while j > 0 {
            cues.push((from[j], j));
            j = from[j];
        }
        cues.reverse();
        cues
    }

    fn cost(&self, i: usize, j: usize, last_end: u64, sentences_inside: u64) -> u64 {
        let chars = self.chars(i, j) as u64;
        let start = self.words[i].start;
        let natural = (last_end + LINGER_MS).max(start + MIN_CUE_MS).min(start + MAX_CUE_MS);
        let (on_screen, cut) = match self.words.get(j) {
            None => (natural - start, 0),
            Some(next) => {
                let before = &self.words[j - 1].text;
                let cut = if ends_sentence(before) || next.start.saturating_sub(last_end) >= PAUSE_MS {
                    0
                } else if ends_clause(before) {
                    CLAUSE_BREAK_COST
                } else {
                    WORD_BREAK_COST
                };
                (natural.min(next.start).saturating_sub(start), cut)
            }
        };
        let short = if on_screen < MIN_CUE_MS { SHORT_COST } else { 0 };
        CUE_COST + chars.saturating_mul(chars) / 4 + sentences_inside * SENTENCE_INSIDE_COST + cut + short
    }

    /// The cue text of words `i..j`: one or two lines, escaped.
    fn payload(&self, i: usize, j: usize) -> String {
        let k = self.line_break(i, j).unwrap_or(j);
        let line = |a: usize, b: usize| self.words[a..b].iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        let mut payload = Payload::default();
        payload.collapsed(&line(i, k));
        if k < j {
            payload.newline();
            payload.collapsed(&line(k, j));
        }
        payload.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(start: f64, end: f64, text: &str) -> TimedWord {
        TimedWord { start, end, text: text.into() }
    }

    /// `text` spoken from `start`, each word taking `each` seconds, no pause.
    fn spoken(text: &str, start: f64, each: f64) -> Vec<TimedWord> {
        text.split(' ').enumerate().map(|(n, t)| w(start + n as f64 * each, start + (n + 1) as f64 * each, t)).collect()
    }

    fn laid_out(words: &[TimedWord]) -> Vec<Cue> {
        let cues = layout(words);
        check(&cues).expect("rules kept");
        cues
    }

    fn texts(cues: &[Cue]) -> Vec<&str> {
        cues.iter().map(|c| c.payload.as_str()).collect()
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(layout(&[]).is_empty());
        assert!(layout(&[w(1.0, 2.0, " \t"), w(2.0, 3.0, "")]).is_empty());
        assert_eq!(vtt(&[]), ("WEBVTT\n\n".to_string(), 0));
    }

    #[test]
    fn one_line_when_it_fits() {
        let cues = laid_out(&spoken("It fits on a single line.", 1.0, 0.3));
        assert_eq!(texts(&cues), ["It fits on a single line."]);
        assert_eq!((cues[0].start, cues[0].end), (1000, 3300));
    }

    #[test]
    fn two_balanced_lines_of_at_most_42() {
        let cues =
            laid_out(&spoken("the quick brown fox jumps over the lazy dog and runs far away from here", 0.0, 0.3));
        assert_eq!(texts(&cues), ["the quick brown fox jumps over the\nlazy dog and runs far away from here"]);
    }

    #[test]
    fn lines_break_after_punctuation_before_balance() {
        // Balanced would be "…river, and we" / "swam until the sun set" (4 apart).
        let cues = laid_out(&spoken("We went down to the river, and we swam until the sun set", 0.0, 0.3));
        assert_eq!(texts(&cues), ["We went down to the river,\nand we swam until the sun set"]);
        // A sentence too short for a cue of its own: its end is where the line breaks.
        let cues = laid_out(&spoken("Well, I know that. We went to the river and we swam", 0.0, 0.1));
        assert_eq!(texts(&cues), ["Well, I know that.\nWe went to the river and we swam"]);
    }

    #[test]
    fn sentence_ends_end_cues() {
        let cues = laid_out(&spoken("Hello there. How are you today?", 0.0, 0.5));
        assert_eq!(texts(&cues), ["Hello there.", "How are you today?"]);
        assert_eq!((cues[0].start, cues[0].end, cues[1].start, cues[1].end), (0, 1000, 1000, 3500));
        // Unless the first would be on screen under 1 s: then they share one.
        let cues = laid_out(&spoken("Hello there. How are you today?", 0.0, 0.4));
        assert_eq!(texts(&cues), ["Hello there. How are you today?"]);
    }

    #[test]
    fn a_sentence_too_short_to_read_joins_the_next() {
        let mut words = vec![w(0.0, 0.3, "Yes.")];
        words.extend(spoken("Come in, please.", 0.4, 0.3));
        let cues = laid_out(&words);
        assert_eq!(texts(&cues), ["Yes. Come in, please."]);
    }

    #[test]
    fn long_sentences_break_at_clause_ends() {
        let text = "When the rain finally stopped after many long days, \
                    the children ran out into the fields and played until the evening came";
        let cues = laid_out(&spoken(text, 0.0, 0.25));
        assert_eq!(cues.len(), 2);
        assert!(cues[0].payload.ends_with("days,"), "{:?}", texts(&cues));
    }

    #[test]
    fn at_most_seven_seconds() {
        let words = spoken(&["so"; 40].join(" "), 0.0, 0.4);
        let cues = laid_out(&words);
        assert!(cues.len() >= 3);
        assert!(cues.iter().all(|c| c.end - c.start <= MAX_CUE_MS));
        // One word said for ten seconds is cut to seven.
        let cues = laid_out(&[w(2.0, 12.0, "Ooooh")]);
        assert_eq!((cues[0].start, cues[0].end), (2000, 9000));
    }

    #[test]
    fn at_least_one_second() {
        let cues = laid_out(&[w(0.2, 0.4, "Hi.")]);
        assert_eq!((cues[0].start, cues[0].end), (200, 1200));
        let cues = laid_out(&[w(0.0, 0.2, "Hi."), w(3.0, 3.2, "Bye.")]);
        assert_eq!(cues.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>(), [(0, 1000), (3000, 4000)]);
    }

    #[test]
    fn speech_too_fast_to_merge_is_cut_where_the_next_cue_starts() {
        // Sentences of two 30-character words, each filling a cue, each said in 0.3 s.
        let sentence = format!("{} {}.", "a".repeat(30), "b".repeat(30));
        let words: Vec<TimedWord> = (0..3).flat_map(|n| spoken(&sentence, n as f64 * 0.3, 0.15)).collect();
        let cues = laid_out(&words);
        let times: Vec<(u64, u64)> = cues.iter().map(|c| (c.start, c.end)).collect();
        assert_eq!(times, [(0, 300), (300, 600), (600, 1600)]);
    }

    #[test]
    fn a_pause_ends_a_cue_which_does_not_stay_through_it() {
        let mut words = spoken("Wait for it", 0.0, 0.5);
        words.push(w(3.0, 3.4, "now"));
        let cues = laid_out(&words);
        assert_eq!(texts(&cues), ["Wait for it", "now"]);
        assert_eq!(cues[0].end, 2000);
        // A shorter pause does not.
        let cues = laid_out(&[w(0.0, 0.5, "one"), w(1.9, 2.4, "two")]);
        assert_eq!(texts(&cues), ["one two"]);
    }

    #[test]
    fn an_overlong_word_has_its_own_line() {
        let long = "Pneumonoultramicroscopicsilicovolcanoconiosis-ish-word";
        let cues = laid_out(&spoken(&format!("He said {long} twice."), 0.0, 0.5));
        let lines: Vec<&str> = cues.iter().flat_map(|c| c.payload.lines()).collect();
        assert!(lines.contains(&long), "{lines:?}");
        let cues = laid_out(&[w(0.0, 1.0, &"x".repeat(500))]);
        assert_eq!(cues.len(), 1);
    }

    #[test]
    fn text_is_escaped() {
        let cues = laid_out(&spoken("Tom & Jerry <3 --> A&B", 0.0, 0.3));
        assert_eq!(texts(&cues), ["Tom &amp; Jerry &lt;3 --&gt; A&amp;B"]);
        assert_eq!(shown_chars("Tom &amp; Jerry &lt;3 --&gt; A&amp;B"), 22);
    }

    #[test]
    fn disorderly_times_still_keep_the_rules() {
        let words = [
            w(5.0, 4.0, "backwards"),
            w(1.0, 1.5, "earlier"),
            w(f64::NAN, f64::INFINITY, "nan"),
            w(-3.0, 9e300, "huge."),
            w(5.0, 5.0, "same"),
            w(5.0, 5.0, "start."),
        ];
        let cues = laid_out(&words);
        let all: Vec<&str> = cues.iter().flat_map(|c| c.payload.split_whitespace()).collect();
        assert_eq!(all, ["backwards", "earlier", "nan", "huge.", "same", "start."]);
    }

    #[test]
    fn vtt_writes_the_cues() {
        let (text, count) = vtt(&spoken("Hello there. How are you today?", 0.0, 0.5));
        assert_eq!(count, 2);
        assert_eq!(
            text,
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello there.\n\n00:00:01.000 --> 00:00:03.500\nHow are you today?\n\n"
        );
    }

    #[test]
    fn check_names_each_broken_rule() {
        let cue = |start: u64, end: u64, payload: &str| Cue {
            id: None,
            start,
            end,
            settings: String::new(),
            payload: payload.into(),
        };
        let rule = |cues: &[Cue]| check(cues).map_err(|e| (e.index, e.rule));
        assert_eq!(rule(&[cue(0, 1000, "ok"), cue(1000, 8000, "ok\nok")]), Ok(()));
        assert_eq!(rule(&[cue(0, 1000, "a\n\nb")]), Err((0, Rule::Blank)));
        assert_eq!(rule(&[cue(0, 1000, "")]), Err((0, Rule::Blank)));
        assert_eq!(rule(&[cue(0, 1000, "a\nb\nc")]), Err((0, Rule::Lines(3))));
        assert_eq!(rule(&[cue(0, 1000, &format!("{} b", "a".repeat(41)))]), Err((0, Rule::LineLength(43))));
        assert_eq!(rule(&[cue(0, 1000, &"a".repeat(60))]), Ok(()));
        assert_eq!(rule(&[cue(0, 1000, &format!("{}&amp;", "a".repeat(41)))]), Ok(()));
        assert_eq!(rule(&[cue(5, 5, "a")]), Err((0, Rule::Backwards)));
        assert_eq!(rule(&[cue(0, 1500, "a"), cue(1000, 2500, "b")]), Err((1, Rule::Overlap)));
        assert_eq!(rule(&[cue(0, 7001, "a")]), Err((0, Rule::TooLong(7001))));
        assert_eq!(rule(&[cue(0, 999, "a")]), Err((0, Rule::TooShort(999))));
        assert_eq!(rule(&[cue(0, 500, "a"), cue(600, 1600, "b")]), Err((0, Rule::TooShort(500))));
        assert_eq!(rule(&[cue(0, 500, "a"), cue(500, 1500, "b")]), Ok(()));
        let message = check(&[cue(61_000, 61_500, "a")]).expect_err("short").to_string();
        assert_eq!(
            message,
            "cue 0 (at 00:01:01.000): it is on screen 500 ms (at least 1000 unless it ends where the next cue starts)"
        );
    }

    /// Words with the punctuation, lengths and pauses of speech, and now and then a word
    /// longer than a line; times in ms, in order.
    fn speech() -> impl Strategy<Value = Vec<(u64, u64, String)>> {
        let word = prop_oneof![
            8 => "[a-zA-Z&<>'é漢]{1,12}",
            1 => "[a-z]{40,60}",
        ];
        let mark = prop::sample::select(vec!["", "", "", "", ".", ",", "?", "!", ";", "…\""]);
        let gap = prop_oneof![6 => 0u64..300, 2 => 300u64..1600, 1 => 1400u64..5000];
        prop::collection::vec((gap, 10u64..2000, word, mark), 0..200).prop_map(|words| {
            let mut at = 0;
            words
                .into_iter()
                .map(|(gap, length, word, mark)| {
                    let start = at + gap;
                    at = start + length;
                    (start, at, format!("{word}{mark}"))
                })
                .collect()
        })
    }

    fn unescaped(payload: &str) -> String {
        payload.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn every_layout_keeps_the_rules(spoken in speech()) {
            let words: Vec<TimedWord> =
                spoken.iter().map(|(s, e, t)| w(*s as f64 / 1000.0, *e as f64 / 1000.0, t)).collect();
            let cues = layout(&words);
            prop_assert_eq!(check(&cues), Ok(()));
            // Every word once, in order; and what each cue holds.
            let mut next = 0;
            for cue in &cues {
                let held: Vec<String> = unescaped(&cue.payload).split_whitespace().map(String::from).collect();
                prop_assert!(!held.is_empty());
                let mine = &spoken[next..next + held.len()];
                prop_assert_eq!(&held, &mine.iter().map(|s| s.2.clone()).collect::<Vec<_>>());
                next += held.len();
                // It starts with its first word, holds no long pause, lasts no longer than its
                // words (7 s at most) and then stays at most 0.5 s, or until it has lasted 1 s.
                prop_assert_eq!(cue.start, mine[0].0);
                prop_assert!(mine.windows(2).all(|p| p[1].0 - p[0].1 < PAUSE_MS));
                let last_end = mine.iter().map(|m| m.1).max().unwrap_or(0);
                prop_assert!(mine.len() == 1 || last_end - cue.start <= MAX_CUE_MS);
                prop_assert!(cue.end <= (last_end + LINGER_MS).max(cue.start + MIN_CUE_MS));
            }
            prop_assert_eq!(next, spoken.len());
        }

        #[test]
        fn disorderly_times_keep_the_rules(
            spoken in prop::collection::vec((-1.0f64..30.0, -1.0f64..30.0, "[a-z.,]{1,50}"), 0..80)
        ) {
            let words: Vec<TimedWord> = spoken.iter().map(|(s, e, t)| w(*s, *e, t)).collect();
            prop_assert_eq!(check(&layout(&words)), Ok(()));
        }
    }
}
