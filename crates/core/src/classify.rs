//! What an upload is: by its extension (any case), checked against its first bytes so that a
//! text file named `.mp4` never reaches MediaConvert. Pure: the caller reads the bytes.

use crate::contract::{Asset, AssetKind, AssetName, CaptionFormat, ChunkRef, Container};
use crate::keys::SourceKey;

/// How many leading bytes classification looks at (one ranged GET).
pub const SNIFF_BYTES: usize = 4096;

const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "ts", "mts", "m2ts", "mpg", "mpeg", "wmv", "flv", "3gp", "3g2",
    "mxf", "ogv",
];
const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "ogg", "oga", "opus", "m4a", "aac", "aif", "aiff", "wma", "mka"];

/// What the first bytes say a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Media(Container),
    /// An ID3v2 tag: MP3 as a rule, but other audio can carry one too.
    Id3,
    Caption(CaptionFormat),
    /// Text that is no caption format we know.
    Text,
    /// Bytes that are neither text nor a container we know.
    Unknown,
    Empty,
}

/// Reads the leading bytes of a file.
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.is_empty() {
        return Sniffed::Empty;
    }
    if let Some(container) = sniff_container(head) {
        return Sniffed::Media(container);
    }
    if head.starts_with(b"ID3") {
        // What follows the tag decides: MP3 frames, or another format tagged (a WAV).
        return match id3_end(head).and_then(|end| head.get(end..)).filter(|after| after.len() >= 4).map(sniff) {
            Some(found @ Sniffed::Media(_)) => found,
            _ => Sniffed::Id3,
        };
    }
    // A UTF-16 byte order mark looks like an MPEG audio frame header.
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !utf16 && is_mp3_frame(head) {
        return Sniffed::Media(Container::Mp3);
    }
    if !utf16 && is_adts_frame(head) {
        return Sniffed::Media(Container::Adts);
    }
    match crate::text::view(head) {
        Some(text) => sniff_caption(&text).map_or(Sniffed::Text, Sniffed::Caption),
        None => Sniffed::Unknown,
    }
}

/// Where a leading ID3v2 tag ends: its 10-byte header, the syncsafe size, a footer if flagged.
pub fn id3_end(head: &[u8]) -> Option<usize> {
    let header = head.get(..10).filter(|h| h.starts_with(b"ID3"))?;
    let size = header[6..10].iter().try_fold(0usize, |n, &b| (b < 0x80).then_some((n << 7) | b as usize))?;
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// Where to read on when `head` starts with an ID3 tag it does not see past: the caller reads
/// from there and asks [`classify_past_tag`].
pub fn past_long_tag(head: &[u8]) -> Option<usize> {
    id3_end(head).filter(|end| end + 4 > head.len())
}

/// [`classify`] for an upload whose leading ID3 tag is longer than its first bytes, with
/// `after` the bytes that follow the tag: copied as MP3 only when MP3 frames follow.
pub fn classify_past_tag(key: &SourceKey, head: &[u8], after: &[u8]) -> Asset {
    match sniff(after) {
        Sniffed::Media(_) => classify(key, after),
        _ => classify(key, head),
    }
}

fn sniff_container(h: &[u8]) -> Option<Container> {
    let at = |offset: usize, magic: &[u8]| h.get(offset..offset + magic.len()) == Some(magic);
    if at(4, b"ftyp") {
        let brand = h.get(8..12).unwrap_or_default();
        return Some(match brand {
            b"qt  " => Container::QuickTime,
            b"M4A " | b"M4B " | b"M4P " => Container::M4a,
            _ => Container::Mp4,
        });
    }
    // QuickTime files from older tools start with other atoms.
    if [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"].iter().any(|a| at(4, *a)) {
        return Some(Container::QuickTime);
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(Container::Matroska);
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return Some(Container::Avi);
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some(Container::Wav);
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Some(Container::Aiff);
    }
    if at(0, b"fLaC") {
        return Some(Container::Flac);
    }
    if at(0, b"OggS") {
        return Some(Container::Ogg);
    }
    if at(0, b"FLV") {
        return Some(Container::Flv);
    }
    if at(0, &[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) {
        return Some(Container::Asf);
    }
    if at(0, &[0x06, 0x0E, 0x2B, 0x34]) {
        return Some(Container::Mxf);
    }
    if at(0, &[0x00, 0x00, 0x01, 0xBA]) {
        return Some(Container::MpegPs);
    }
    // MPEG-TS: a sync byte every 188 bytes (or 192 with the M2TS timestamp prefix).
    let synced = |start: usize, stride: usize| {
        (0..3).all(|i| h.get(start + i * stride) == Some(&0x47)) && h.len() > start + 2 * stride
    };
    if synced(0, 188) || synced(4, 192) {
        return Some(Container::MpegTs);
    }
    None
}

/// An MPEG audio frame header: 11 sync bits, a layer that is not the reserved 0 (which ADTS uses).
fn is_mp3_frame(h: &[u8]) -> bool {
    h.len() >= 4
        && h[0] == 0xFF
        && h[1] & 0xE0 == 0xE0
        && (h[1] >> 3) & 0x03 != 0x01
        && (h[1] >> 1) & 0x03 != 0
        && h[2] >> 4 != 0x0F
        && (h[2] >> 2) & 0x03 != 0x03
}

fn is_adts_frame(h: &[u8]) -> bool {
    h.len() >= 7 && h[0] == 0xFF && h[1] & 0xF6 == 0xF0
}

fn sniff_caption(text: &str) -> Option<CaptionFormat> {
    let text = text.trim_start_matches('\u{FEFF}');
    if text.starts_with("WEBVTT") {
        return Some(CaptionFormat::Vtt);
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("<tt") && (lower.contains("ttml") || lower.contains("<?xml")) {
        return Some(CaptionFormat::Ttml);
    }
    let lines = text.lines().map(str::trim);
    for line in lines.take(64) {
        if let Some((start, end)) = line.split_once("-->")
            && is_clock(start.trim())
            && is_clock(end.split_whitespace().next().unwrap_or(""))
        {
            return Some(CaptionFormat::Srt);
        }
        if let Some((start, end)) = line.split_once(',')
            && is_clock(start)
            && is_clock(end)
            && start.contains('.')
        {
            return Some(CaptionFormat::Sbv);
        }
    }
    None
}

/// `[h]h:mm:ss[,.]fff` or `mm:ss.fff`: digits and separators, at least one `:`.
fn is_clock(s: &str) -> bool {
    !s.is_empty()
        && s.contains(':')
        && s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b':' | b',' | b'.'))
        && s.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// The caption format an extension (lower case) names.
pub fn caption_format_for(extension: &str) -> Option<CaptionFormat> {
    Some(match extension {
        "srt" => CaptionFormat::Srt,
        "vtt" => CaptionFormat::Vtt,
        "sbv" => CaptionFormat::Sbv,
        "ttml" | "dfxp" | "xml" => CaptionFormat::Ttml,
        _ => return None,
    })
}

/// What the pipeline does with an upload, from its key and first bytes.
pub fn classify(key: &SourceKey, head: &[u8]) -> Asset {
    let ext = key.extension_lower();
    let mut asset = Asset {
        kind: AssetKind::Unsupported,
        name: AssetName::of(key),
        container: None,
        caption_format: None,
        chunk: None,
        reason: None,
        duplicate_of: None,
    };
    if let Some(part) = key.chunk() {
        asset.kind = AssetKind::Chunk;
        asset.chunk = Some(ChunkRef { index: part.index, target_key: part.target_key });
        return asset;
    }
    let sniffed = sniff(head);
    let shown = if ext.is_empty() { "no extension".to_string() } else { format!(".{ext}") };
    let media_ext =
        VIDEO_EXTENSIONS.contains(&ext.as_str()) || AUDIO_EXTENSIONS.contains(&ext.as_str()) || ext == "mp3";
    let unsupported = |mut asset: Asset, reason: String| {
        asset.reason = Some(reason);
        asset
    };

    if let Some(by_ext) = caption_format_for(&ext) {
        return match sniffed {
            Sniffed::Caption(found) if ext == "xml" && found != CaptionFormat::Ttml => {
                unsupported(asset, format!("named .xml but it is not TTML (it reads as {found:?})"))
            }
            Sniffed::Text if ext == "xml" => unsupported(asset, "named .xml but it is not TTML".into()),
            // Caption readers report what is wrong with a caption file line by line.
            Sniffed::Caption(_) | Sniffed::Text => {
                asset.kind = AssetKind::Caption;
                asset.caption_format = Some(by_ext);
                asset
            }
            Sniffed::Empty => unsupported(asset, "the file is empty".into()),
            Sniffed::Media(c) => {
                unsupported(asset, format!("named {shown} but its first bytes are a {} container", c.describe()))
            }
            Sniffed::Id3 => unsupported(asset, format!("named {shown} but its first bytes are an ID3 audio tag")),
            Sniffed::Unknown => unsupported(asset, format!("named {shown} but it is not text")),
        };
    }

    match sniffed {
        Sniffed::Empty => unsupported(asset, "the file is empty".into()),
        Sniffed::Media(Container::Mp3) => media(asset, AssetKind::Mp3, Container::Mp3),
        Sniffed::Id3 if ext == "mp3" || !media_ext => media(asset, AssetKind::Mp3, Container::Mp3),
        Sniffed::Id3 => media(asset, AssetKind::Audio, Container::Mp3),
        Sniffed::Media(c) => {
            let audio = c.is_audio_only() || AUDIO_EXTENSIONS.contains(&ext.as_str()) || ext == "mp3";
            media(asset, if audio { AssetKind::Audio } else { AssetKind::Video }, c)
        }
        Sniffed::Caption(format) if !media_ext && ext.is_empty() => {
            asset.kind = AssetKind::Caption;
            asset.caption_format = Some(format);
            asset
        }
        Sniffed::Caption(_) | Sniffed::Text if media_ext => {
            unsupported(asset, format!("named {shown} but it is a text file, not media"))
        }
        Sniffed::Unknown if media_ext => {
            unsupported(asset, format!("named {shown} but its first bytes match no media container the pipeline knows"))
        }
        _ => unsupported(asset, format!("{shown} is not a media or caption type the pipeline handles")),
    }
}

fn media(mut asset: Asset, kind: AssetKind, container: Container) -> Asset {
    asset.kind = kind;
    asset.container = Some(container);
    asset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_bytes(key: &str, head: &[u8]) -> Asset {
        classify(&SourceKey::parse(key).unwrap(), head)
    }

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x20];
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(brand);
        v.resize(64, 0);
        v
    }

    fn ts(prefix: usize, stride: usize) -> Vec<u8> {
        let mut v = vec![0u8; prefix + 3 * stride];
        for i in 0..3 {
            v[prefix + i * stride] = 0x47;
        }
        v
    }

    #[test]
    fn sniffs_every_container_it_names() {
        let mut riff_avi = b"RIFF\0\0\0\0AVI LIST".to_vec();
        riff_avi.resize(32, 0);
        let cases: Vec<(Vec<u8>, Sniffed)> = vec![
            (ftyp(b"isom"), Sniffed::Media(Container::Mp4)),
            (ftyp(b"qt  "), Sniffed::Media(Container::QuickTime)),
            (ftyp(b"M4A "), Sniffed::Media(Container::M4a)),
            (b"\0\0\0\x08wide\0\0\0\0mdat".to_vec(), Sniffed::Media(Container::QuickTime)),
            (vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42], Sniffed::Media(Container::Matroska)),
            (riff_avi, Sniffed::Media(Container::Avi)),
            (b"RIFF\x24\0\0\0WAVEfmt ".to_vec(), Sniffed::Media(Container::Wav)),
            (b"FORM\0\0\0\0AIFFCOMM".to_vec(), Sniffed::Media(Container::Aiff)),
            (b"fLaC\0\0\0\x22".to_vec(), Sniffed::Media(Container::Flac)),
            (b"OggS\0\x02".to_vec(), Sniffed::Media(Container::Ogg)),
            (b"FLV\x01\x05".to_vec(), Sniffed::Media(Container::Flv)),
            (vec![0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6], Sniffed::Media(Container::Asf)),
            (vec![0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05], Sniffed::Media(Container::Mxf)),
            (vec![0x00, 0x00, 0x01, 0xBA, 0x44], Sniffed::Media(Container::MpegPs)),
            (ts(0, 188), Sniffed::Media(Container::MpegTs)),
            (ts(4, 192), Sniffed::Media(Container::MpegTs)),
            (vec![0xFF, 0xFB, 0x90, 0x64, 0, 0], Sniffed::Media(Container::Mp3)),
            (vec![0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC], Sniffed::Media(Container::Adts)),
            (b"ID3\x04\0\0\0\0\x10\x00".to_vec(), Sniffed::Id3),
            (b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi".to_vec(), Sniffed::Caption(CaptionFormat::Vtt)),
            (
                b"\xEF\xBB\xBF1\r\n00:00:01,000 --> 00:00:02,000\r\nhi\r\n".to_vec(),
                Sniffed::Caption(CaptionFormat::Srt),
            ),
            (b"0:00:01.000,0:00:04.000\nhello\n".to_vec(), Sniffed::Caption(CaptionFormat::Sbv)),
            (
                b"<?xml version=\"1.0\"?>\n<tt xmlns=\"http://www.w3.org/ns/ttml\">".to_vec(),
                Sniffed::Caption(CaptionFormat::Ttml),
            ),
            (b"just some notes\n".to_vec(), Sniffed::Text),
            (vec![0x00, 0x01, 0x02, 0x03, 0x04, 0x05], Sniffed::Unknown),
            (vec![], Sniffed::Empty),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(&bytes), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn reads_utf16_and_legacy_captions_as_text() {
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("1\r\n00:00:01,000 --> 00:00:02,000\r\nhé\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(sniff(&utf16le), Sniffed::Caption(CaptionFormat::Srt));
        let utf16be: Vec<u8> =
            [0xFE, 0xFF].into_iter().chain("WEBVTT\n".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(sniff(&utf16be), Sniffed::Caption(CaptionFormat::Vtt));
        // Without a BOM too: the captions reader decodes these, so Classify takes them.
        let bare: Vec<u8> =
            "1\r\n00:00:01,000 --> 00:00:02,000\r\nhi\r\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(sniff(&bare), Sniffed::Caption(CaptionFormat::Srt));
        let asset = classify_bytes("inputs/talk.en.srt", &bare);
        assert_eq!((asset.kind, asset.caption_format), (AssetKind::Caption, Some(CaptionFormat::Srt)));
        // Windows-1252 "café" is not UTF-8 but is text.
        let latin = b"1\n00:00:01,000 --> 00:00:02,000\ncaf\xE9\n";
        assert_eq!(sniff(latin), Sniffed::Caption(CaptionFormat::Srt));
    }

    #[test]
    fn extension_and_bytes_decide_the_kind() {
        let mp4 = ftyp(b"isom");
        let cases: Vec<(&str, &[u8], AssetKind)> = vec![
            ("inputs/a.mp4", &mp4, AssetKind::Video),
            ("inputs/a.MP4", &mp4, AssetKind::Video),
            ("inputs/a.MoV", &mp4, AssetKind::Video),
            ("inputs/a.m4a", &mp4, AssetKind::Audio),
            ("inputs/a.wav", b"RIFF\x24\0\0\0WAVEfmt ", AssetKind::Audio),
            ("inputs/a.mp4", b"RIFF\x24\0\0\0WAVEfmt ", AssetKind::Audio),
            ("inputs/a.mp3", b"ID3\x04\0\0\0\0\x10\x00", AssetKind::Mp3),
            ("inputs/a.MP3", &[0xFF, 0xFB, 0x90, 0x64], AssetKind::Mp3),
            ("inputs/a.mp3", b"RIFF\x24\0\0\0WAVEfmt ", AssetKind::Audio),
            ("inputs/a.m4a", b"ID3\x04\0\0\0\0\x10\x00", AssetKind::Audio),
            // A WAV behind an ID3 tag is no MP3, whatever its name: it is transcoded.
            ("inputs/a.mp3", b"ID3\x04\0\0\0\0\x00\x02\0\0RIFF\x24\0\0\0WAVEfmt ", AssetKind::Audio),
            ("inputs/a.mp3", b"ID3\x04\0\0\0\0\x00\x02\0\0\xFF\xFB\x90\x64", AssetKind::Mp3),
            ("inputs/noext", &mp4, AssetKind::Video),
            ("inputs/noext", b"ID3\x04\0\0\0\0", AssetKind::Mp3),
            ("inputs/talk.en.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", AssetKind::Caption),
            ("inputs/talk.SRT", b"garbled but text", AssetKind::Caption),
            ("inputs/talk.dfxp", b"<tt xmlns=\"http://www.w3.org/ns/ttml\">", AssetKind::Caption),
            ("inputs/talk.xml", b"<?xml version=\"1.0\"?><tt xmlns=\"http://www.w3.org/ns/ttml\">", AssetKind::Caption),
            ("inputs/captions", b"WEBVTT\n", AssetKind::Caption),
            ("inputs/movie.mp4.CHUNK3", b"anything", AssetKind::Chunk),
        ];
        for (key, head, kind) in cases {
            let asset = classify_bytes(key, head);
            assert_eq!(asset.kind, kind, "{key}: {:?}", asset.reason);
            assert_eq!(asset.reason, None, "{key}");
        }
        let srt = classify_bytes("inputs/talk.en.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n");
        assert_eq!(srt.caption_format, Some(CaptionFormat::Srt));
        assert_eq!(srt.name.language.as_deref(), Some("en"));
        let chunk = classify_bytes("inputs/d/movie.mp4.CHUNK3", b"");
        assert_eq!(chunk.chunk.unwrap().target_key, "inputs/d/movie.mp4");
    }

    #[test]
    fn unsupported_uploads_get_a_reason_not_an_error() {
        let mp4 = ftyp(b"isom");
        let cases: Vec<(&str, &[u8], &str)> = vec![
            ("inputs/fake.mp4", b"this is a text file pretending\n", "text file, not media"),
            ("inputs/fake.mov", &[0, 1, 2, 3, 4, 5, 6, 7], "match no media container"),
            ("inputs/empty.mp4", b"", "empty"),
            ("inputs/report.docx", b"PK\x03\x04", ".docx is not"),
            ("inputs/notes.txt", b"hello", ".txt is not"),
            ("inputs/noext", b"hello", "no extension is not"),
            ("inputs/video.srt", &mp4, "MP4 container"),
            ("inputs/data.xml", b"<?xml version=\"1.0\"?><root/>", "not TTML"),
            ("inputs/data.srt", &[0, 1, 2, 3, 4], "not text"),
        ];
        for (key, head, why) in cases {
            let asset = classify_bytes(key, head);
            assert_eq!(asset.kind, AssetKind::Unsupported, "{key}");
            let reason = asset.reason.unwrap();
            assert!(reason.contains(why), "{key}: {reason}");
        }
    }
}
