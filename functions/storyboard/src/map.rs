//! The WebVTT map: one cue per tile naming its rectangle of the sprite by a `#xywh=` fragment,
//! which players (video.js, Vidstack, JW Player, Shaka) read as thumbnail tracks. No I/O.

use mediaflow_captions::format_vtt;
use mediaflow_core::storyboard::cue_span;

use crate::sprite::Layout;

/// The map of `layout`'s tiles, one every `interval_seconds`, the last to `duration_seconds`;
/// each cue names `sprite` (the sprite's file name: the map sits beside it) and its tile.
pub fn map(sprite: &str, layout: &Layout, interval_seconds: u32, duration_seconds: Option<f64>) -> String {
    let reference = url_segment(sprite);
    let mut vtt = String::from("WEBVTT\n");
    for index in 0..layout.tiles {
        let (start, end) = cue_span(index, layout.tiles, interval_seconds, duration_seconds);
        let (x, y, w, h) = layout.rect(index);
        vtt.push_str(&format!("\n{} --> {}\n{reference}#xywh={x},{y},{w},{h}\n", format_vtt(start), format_vtt(end)));
    }
    vtt
}

/// `name` as a relative URL's path segment. A stem may hold anything a key may: `#` or `?` would
/// end the path, `%` start an escape, `&` and `<` are markup in cue text, and `-->` would end the
/// cue's text, so all but RFC 3986's unreserved characters and a few harmless ones are
/// percent-encoded.
fn url_segment(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, SEGMENT_ESCAPED).to_string()
}

/// What [`url_segment`] escapes: all but unreserved characters and `!$'()*+,;=:@`.
const SEGMENT_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

#[cfg(test)]
mod tests {
    use super::*;

    /// (start ms, end ms, x, y, w, h) of each cue, read back from the text.
    fn cues(vtt: &str, sprite: &str) -> Vec<(u64, u64, u32, u32, u32, u32)> {
        let ms = |t: &str| {
            let (clock, milli) = t.split_once('.').unwrap();
            let hms: Vec<u64> = clock.split(':').map(|p| p.parse().unwrap()).collect();
            ((hms[0] * 60 + hms[1]) * 60 + hms[2]) * 1000 + milli.parse::<u64>().unwrap()
        };
        let blocks: Vec<&str> = vtt.split("\n\n").collect();
        assert_eq!(blocks[0], "WEBVTT");
        blocks[1..]
            .iter()
            .map(|block| {
                let (timing, text) = block.trim_end().split_once('\n').unwrap();
                let (start, end) = timing.split_once(" --> ").unwrap();
                let rect = text.strip_prefix(&format!("{sprite}#xywh=")).unwrap();
                let r: Vec<u32> = rect.split(',').map(|n| n.parse().unwrap()).collect();
                (ms(start), ms(end), r[0], r[1], r[2], r[3])
            })
            .collect()
    }

    /// Every cue's rectangle inside the sprite, none overlapping, every tile covered; cues
    /// contiguous from 0 to the duration.
    fn assert_tiles_exactly(tiles: u32, tile: (u32, u32), interval: u32, duration: f64) {
        let layout = Layout::new(tiles, tile.0, tile.1).unwrap();
        let vtt = map("talk.storyboard.jpg", &layout, interval, Some(duration));
        let cues = cues(&vtt, "talk.storyboard.jpg");
        assert_eq!(cues.len() as u32, tiles);
        let (width, height) = layout.size();
        let mut covered = vec![0u8; (width * height) as usize];
        for &(_, _, x, y, w, h) in &cues {
            assert!(x + w <= width && y + h <= height, "({x},{y},{w},{h}) outside {width}x{height}");
            for row in y..y + h {
                for col in x..x + w {
                    covered[(row * width + col) as usize] += 1;
                }
            }
        }
        assert!(covered.iter().all(|&n| n <= 1), "tiles overlap");
        assert_eq!(covered.iter().filter(|&&n| n == 1).count() as u32, tiles * tile.0 * tile.1);
        assert_eq!(cues[0].0, 0);
        assert!(cues.windows(2).all(|c| c[0].1 == c[1].0), "contiguous");
        assert!(cues.iter().all(|c| c.0 < c.1), "no empty cue");
        assert_eq!(cues.last().unwrap().1, (duration * 1000.0).round() as u64);
    }

    #[test]
    fn the_map_tiles_the_sprite_exactly_and_covers_the_duration() {
        assert_tiles_exactly(1, (120, 68), 1, 0.4);
        assert_tiles_exactly(12, (160, 90), 1, 11.5);
        assert_tiles_exactly(10, (160, 90), 1, 10.0);
        assert_tiles_exactly(51, (160, 284), 2, 100.5);
        assert_tiles_exactly(100, (160, 90), 108, 10_800.0);
    }

    #[test]
    fn the_map_reads_as_written() {
        let layout = Layout::new(2, 160, 90).unwrap();
        assert_eq!(
            map("talk.storyboard.jpg", &layout, 5, Some(7.25)),
            "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\ntalk.storyboard.jpg#xywh=0,0,160,90\n\n\
             00:00:05.000 --> 00:00:07.250\ntalk.storyboard.jpg#xywh=160,0,160,90\n"
        );
    }

    #[test]
    fn a_stem_of_any_characters_is_one_path_segment() {
        assert_eq!(url_segment("long+1.storyboard.jpg"), "long+1.storyboard.jpg");
        assert_eq!(url_segment("a b#c?d%e&f<g-->h.jpg"), "a%20b%23c%3Fd%25e%26f%3Cg--%3Eh.jpg");
        assert_eq!(url_segment("café.jpg"), "caf%C3%A9.jpg");
    }
}
