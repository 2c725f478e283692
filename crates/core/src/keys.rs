//! Where an upload's outputs go. Uploads land under `inputs/<dir>/<name>`; every output keeps
//! `<dir>` and is named by the upload's stem, so two users' `intro.mp4` never collide and a
//! later upload with the same dir and stem replaces the earlier one's outputs.

use crate::error::Error;

/// The watch bucket's prefix that starts the pipeline.
pub const INPUTS_PREFIX: &str = "inputs/";

/// The room left after an input's relative key for the longest output folder and suffix, and
/// the staging folder outputs are written to first, so that no key passes S3's 1,024 bytes.
const MAX_RELATIVE_KEY_BYTES: usize = 1024 - 32 - crate::publish::STAGING_KEY_BYTES;

/// What a storyboard's files add to the stem, under `thumbnail/`; no upload's stem may end so.
const STORYBOARD_SUFFIX: &str = ".storyboard";

/// The output folders of the public bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    AudioVideo,
    Json,
    Thumbnail,
    ClosedCaption,
    Original,
}

impl Folder {
    pub const fn prefix(self) -> &'static str {
        match self {
            Folder::AudioVideo => "audiovideo/",
            Folder::Json => "json/",
            Folder::Thumbnail => "thumbnail/",
            Folder::ClosedCaption => "closed-caption/",
            Folder::Original => "original/",
        }
    }
}

/// An upload's key in the watch bucket, checked and split into the parts outputs are named by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceKey {
    key: String,
    /// The folders between `inputs/` and the name, without slashes at either end; "" for none.
    dir: String,
    name: String,
    /// `name` without its last extension: `a.b.c.mp4` → `a.b.c`; a dot-file keeps its dot.
    stem: String,
    /// The last extension as written, without the dot; "" when there is none.
    extension: String,
}

/// A `.CHUNK<n>` part of an upload that arrives in pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkPart {
    pub index: u32,
    /// The key the assembled upload will have.
    pub target_key: String,
}

impl SourceKey {
    /// Checks an upload key and splits it. Refuses keys outside `inputs/`, empty names, `.`/`..`
    /// segments, empty segments, control characters and keys too long for their outputs.
    pub fn parse(key: &str) -> Result<SourceKey, Error> {
        let refuse = |reason| Error::InvalidKey { key: key.to_string(), reason };
        let relative = key.strip_prefix(INPUTS_PREFIX).ok_or_else(|| refuse("it is not under inputs/"))?;
        if relative.is_empty() || relative.ends_with('/') {
            return Err(refuse("it names a folder, not a file"));
        }
        if relative.chars().any(char::is_control) {
            return Err(refuse("it contains control characters"));
        }
        if relative.len() > MAX_RELATIVE_KEY_BYTES {
            return Err(refuse("its outputs would pass S3's 1,024-byte key limit"));
        }
        let segments: Vec<&str> = relative.split('/').collect();
        for segment in &segments {
            match *segment {
                "" => return Err(refuse("it contains an empty path segment ('//')")),
                "." | ".." => return Err(refuse("it contains a '.' or '..' segment")),
                _ => {}
            }
        }
        let (name, dirs) = segments.split_last().expect("split yields one segment at least");
        let (stem, extension) = split_extension(name);
        if stem.ends_with(STORYBOARD_SUFFIX) {
            // `talk.storyboard.mp4`'s thumbnail would be `talk.mp4`'s storyboard sprite.
            return Err(refuse("a name ending '.storyboard' before its extension is reserved for storyboards"));
        }
        Ok(SourceKey {
            key: key.to_string(),
            dir: dirs.join("/"),
            name: name.to_string(),
            stem: stem.to_string(),
            extension: extension.to_string(),
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }
    pub fn dir(&self) -> &str {
        &self.dir
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn stem(&self) -> &str {
        &self.stem
    }
    pub fn extension(&self) -> &str {
        &self.extension
    }
    /// The extension in lower case, for matching.
    pub fn extension_lower(&self) -> String {
        self.extension.to_ascii_lowercase()
    }

    /// `Some` when this key is one part (`.CHUNK<n>`, any case) of a larger upload.
    pub fn chunk(&self) -> Option<ChunkPart> {
        let digits =
            self.extension.get(..5).filter(|p| p.eq_ignore_ascii_case("chunk")).map(|_| &self.extension[5..])?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let index = digits.parse().ok()?;
        Some(ChunkPart { index, target_key: self.key[..self.key.len() - self.extension.len() - 1].to_string() })
    }

    /// A language tag as the last dot-part of the stem (`talk.en.srt` → `en`, `talk.pt-BR.srt`
    /// → `pt-BR`): two or three letters, then optional `-` subtags of two to eight letters or digits.
    pub fn language(&self) -> Option<&str> {
        let (_, tag) = self.stem.rsplit_once('.')?;
        let mut parts = tag.split('-');
        let primary = parts.next()?;
        let primary_ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        (primary_ok && rest_ok).then_some(tag)
    }

    /// `<folder>/<dir>/<file>`.
    pub fn output_key(&self, folder: Folder, file: &str) -> String {
        if self.dir.is_empty() {
            format!("{}{file}", folder.prefix())
        } else {
            format!("{}{}/{file}", folder.prefix(), self.dir)
        }
    }

    /// The base MediaConvert appends name modifiers and extensions to: `audiovideo/<dir>/<stem>`.
    pub fn rendition_base(&self) -> String {
        self.output_key(Folder::AudioVideo, &self.stem)
    }
    /// `audiovideo/<dir>/<stem>_<label>.mp4`.
    pub fn rendition_key(&self, label: &str) -> String {
        self.output_key(Folder::AudioVideo, &format!("{}_{label}.mp4", self.stem))
    }
    /// `audiovideo/<dir>/<stem>.mp3`.
    pub fn mp3_key(&self) -> String {
        self.output_key(Folder::AudioVideo, &format!("{}.mp3", self.stem))
    }
    /// `json/<dir>/<stem>.json`.
    pub fn metadata_key(&self) -> String {
        self.output_key(Folder::Json, &format!("{}.json", self.stem))
    }
    /// `thumbnail/<dir>/<stem>.jpg`.
    pub fn thumbnail_key(&self) -> String {
        self.output_key(Folder::Thumbnail, &format!("{}.jpg", self.stem))
    }
    /// `thumbnail/<dir>/<stem>.storyboard.jpg`: the storyboard's sprite.
    pub fn storyboard_image_key(&self) -> String {
        self.output_key(Folder::Thumbnail, &format!("{}{STORYBOARD_SUFFIX}.jpg", self.stem))
    }
    /// `thumbnail/<dir>/<stem>.storyboard.vtt`: the storyboard's WebVTT map.
    pub fn storyboard_map_key(&self) -> String {
        self.output_key(Folder::Thumbnail, &format!("{}{STORYBOARD_SUFFIX}.vtt", self.stem))
    }
    /// `closed-caption/<dir>/<stem>.vtt`; the stem keeps any language tag.
    pub fn caption_key(&self) -> String {
        self.output_key(Folder::ClosedCaption, &format!("{}.vtt", self.stem))
    }
    /// `original/<dir>/<name>`, the upload's own name.
    pub fn original_key(&self) -> String {
        self.output_key(Folder::Original, &self.name)
    }

    /// Whether `key` is a rendition of this upload's stem with some label (`<stem>_<n>p.mp4`),
    /// so that a re-upload can remove the ones it did not make. Another stem that merely starts
    /// the same (`talk-2_720p.mp4` for `talk`) never matches.
    pub fn is_rendition_key(&self, key: &str) -> bool {
        let prefix = self.output_key(Folder::AudioVideo, &format!("{}_", self.stem));
        key.strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix("p.mp4"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Of `existing` keys, the renditions of this stem that `made` does not hold: what an earlier
    /// upload with the same dir and stem left behind.
    pub fn stale_renditions<'a>(&self, existing: &'a [String], made: &[String]) -> Vec<&'a str> {
        existing.iter().filter(|k| self.is_rendition_key(k) && !made.contains(k)).map(String::as_str).collect()
    }
}

/// `s3://bucket/key` as its bucket and key; `None` for anything else.
pub fn s3_location(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")?.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty())
}

/// Where Classify claims an upload, in the watch bucket: one object per upload, told apart by
/// bucket, key, ETag and sequencer, so a repeated delivery of the same upload finds the claim
/// and a new upload to the same key does not.
pub fn claim_key(bucket: &str, key: &str, etag: &str, sequencer: &str) -> String {
    format!(".mediaflow/claims/{}.json", crate::publish::digest(&[bucket, key, etag, sequencer]))
}

/// A key as S3 writes it into event notifications: URL-encoded, with `+` for spaces. `None`
/// when it is not valid encoding (then it was meant literally).
pub fn decode_event_key(key: &str) -> Option<String> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `a.b.c.mp4` → (`a.b.c`, `mp4`); `README` → (`README`, ``); `.hidden` → (`.hidden`, ``);
/// `.hidden.mp4` → (`.hidden`, `mp4`); `name.` → (`name.`, ``).
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && dot + 1 < name.len() => (&name[..dot], &name[dot + 1..]),
        _ => (name, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;

    fn key(k: &str) -> SourceKey {
        SourceKey::parse(k).unwrap()
    }

    #[test]
    fn splits_stem_and_extension() {
        let cases = [
            ("inputs/a.b.c.mp4", "a.b.c", "mp4"),
            ("inputs/README", "README", ""),
            ("inputs/.hidden", ".hidden", ""),
            ("inputs/.hidden.mp4", ".hidden", "mp4"),
            ("inputs/trailing.", "trailing.", ""),
            ("inputs/My Clip (final).MOV", "My Clip (final)", "MOV"),
            ("inputs/a+b%20c.mp4", "a+b%20c", "mp4"),
            ("inputs/vidéo-été 夏.mkv", "vidéo-été 夏", "mkv"),
        ];
        for (k, stem, ext) in cases {
            let s = key(k);
            assert_eq!((s.stem(), s.extension()), (stem, ext), "{k}");
        }
        assert_eq!(key("inputs/x.MoV").extension_lower(), "mov");
    }

    #[test]
    fn keeps_the_sub_path_in_every_output() {
        let s = key("inputs/team a/2024/talk.mp4");
        assert_eq!(s.dir(), "team a/2024");
        assert_eq!(s.rendition_key("720p"), "audiovideo/team a/2024/talk_720p.mp4");
        assert_eq!(s.rendition_base(), "audiovideo/team a/2024/talk");
        assert_eq!(s.mp3_key(), "audiovideo/team a/2024/talk.mp3");
        assert_eq!(s.metadata_key(), "json/team a/2024/talk.json");
        assert_eq!(s.thumbnail_key(), "thumbnail/team a/2024/talk.jpg");
        assert_eq!(s.original_key(), "original/team a/2024/talk.mp4");
        assert_eq!(s.caption_key(), "closed-caption/team a/2024/talk.vtt");

        let top = key("inputs/intro.mp4");
        assert_eq!(top.dir(), "");
        assert_eq!(top.rendition_key("360p"), "audiovideo/intro_360p.mp4");
        assert_eq!(top.original_key(), "original/intro.mp4");
    }

    #[test]
    fn captions_keep_their_language_tag() {
        let s = key("inputs/course/talk.en.srt");
        assert_eq!(s.caption_key(), "closed-caption/course/talk.en.vtt");
        assert_eq!(s.language(), Some("en"));
        assert_eq!(key("inputs/talk.pt-BR.srt").language(), Some("pt-BR"));
        assert_eq!(key("inputs/talk.zh-Hans.vtt").language(), Some("zh-Hans"));
        assert_eq!(key("inputs/talk.eng.sbv").language(), Some("eng"));
        assert_eq!(key("inputs/talk.srt").language(), None);
        assert_eq!(key("inputs/talk.final.srt").language(), None);
        assert_eq!(key("inputs/talk.e1.srt").language(), None);
    }

    #[test]
    fn refuses_keys_that_escape_or_name_nothing() {
        let refused = [
            ("uploads/x.mp4", "not under inputs/"),
            ("inputs/", "folder"),
            ("inputs/dir/", "folder"),
            ("inputs/../public/x.mp4", "'..'"),
            ("inputs/a/../../x.mp4", "'..'"),
            ("inputs/./x.mp4", "'.'"),
            ("inputs/a//x.mp4", "empty path segment"),
            ("inputs/x\n.mp4", "control"),
            ("inputs/x\u{0}.mp4", "control"),
            ("inputs/x\u{7f}.mp4", "control"),
            ("inputs/x\u{85}.mp4", "control"),
            ("inputs/a/talk.storyboard.mp4", "reserved for storyboards"),
            ("inputs/talk.storyboard.srt", "reserved for storyboards"),
        ];
        for (k, why) in refused {
            let err = SourceKey::parse(k).unwrap_err();
            assert!(err.to_string().contains(why), "{k}: {err}");
            assert_eq!(err.name(), crate::ErrorName::InvalidKey);
        }
        let long = format!("inputs/{}.mp4", "a".repeat(1000));
        assert!(SourceKey::parse(&long).is_err());
        // Names that merely contain dots are fine.
        assert!(SourceKey::parse("inputs/..hidden/...mp4").is_ok());
        // Only the exact suffix is reserved: the sprite of `talk` stays apart from these thumbnails.
        for k in ["inputs/talk.storyboards.mp4", "inputs/storyboard.mp4", "inputs/talk.storyboard-2.mp4"] {
            let thumbnail = SourceKey::parse(k).unwrap().thumbnail_key();
            assert_ne!(thumbnail, key("inputs/talk.mp4").storyboard_image_key(), "{k}");
        }
    }

    #[test]
    fn recognises_chunk_parts() {
        let part = key("inputs/big/movie.mp4.CHUNK12").chunk().unwrap();
        assert_eq!(part.index, 12);
        assert_eq!(part.target_key, "inputs/big/movie.mp4");
        assert_eq!(key("inputs/movie.mp4.chunk0").chunk().unwrap().index, 0);
        assert_eq!(key("inputs/movie.CHUNK").chunk(), None);
        assert_eq!(key("inputs/movie.CHUNKx").chunk(), None);
        assert_eq!(key("inputs/movie.mp4").chunk(), None);
        assert_eq!(key("inputs/CHUNK1").chunk(), None);
    }

    #[test]
    fn knows_its_own_renditions_only() {
        let s = key("inputs/a/talk.mp4");
        assert!(s.is_rendition_key("audiovideo/a/talk_1080p.mp4"));
        assert!(s.is_rendition_key("audiovideo/a/talk_240p.mp4"));
        assert!(!s.is_rendition_key("audiovideo/a/talk-2_720p.mp4"));
        assert!(!s.is_rendition_key("audiovideo/a/talk_x_720p.mp4"));
        assert!(!s.is_rendition_key("audiovideo/a/talk.mp3"));
        assert!(!s.is_rendition_key("audiovideo/a/talk_p.mp4"));
        assert!(!s.is_rendition_key("audiovideo/b/talk_720p.mp4"));
        assert!(!s.is_rendition_key("audiovideo/a/sub/talk_720p.mp4"));
    }

    #[test]
    fn claims_tell_uploads_apart() {
        let a = claim_key("watch", "inputs/a.mp4", "etag1", "seq1");
        assert!(a.starts_with(".mediaflow/claims/") && a.ends_with(".json"));
        assert_eq!(a, claim_key("watch", "inputs/a.mp4", "etag1", "seq1"));
        assert_ne!(a, claim_key("watch", "inputs/a.mp4", "etag1", "seq2"));
        assert_ne!(a, claim_key("watch", "inputs/a.mp4", "etag2", "seq1"));
        assert_ne!(claim_key("ab", "c", "", ""), claim_key("a", "bc", "", ""));
    }

    #[test]
    fn s3_uris_split_into_bucket_and_key() {
        assert_eq!(s3_location("s3://watch/inputs/a b.mp4"), Some(("watch", "inputs/a b.mp4")));
        assert_eq!(s3_location("s3://watch/"), None);
        assert_eq!(s3_location("s3:///key"), None);
        assert_eq!(s3_location("https://watch/key"), None);
    }

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(decode_event_key("inputs/My+Talk%20%28final%29.mp4").as_deref(), Some("inputs/My Talk (final).mp4"));
        assert_eq!(decode_event_key("inputs/vid%C3%A9o.mp4").as_deref(), Some("inputs/vidéo.mp4"));
        assert_eq!(decode_event_key("inputs/100%.mp4"), None);
        assert_eq!(decode_event_key("inputs/%zz.mp4"), None);
        assert_eq!(decode_event_key("inputs/%FF.mp4"), None);
    }

    #[test]
    fn a_re_upload_with_fewer_rungs_leaves_no_stale_rendition() {
        let s = key("inputs/a/talk.mov");
        let existing: Vec<String> =
            ["talk_360p.mp4", "talk_720p.mp4", "talk_1080p.mp4", "talk-2_1080p.mp4", "talk.mp3"]
                .iter()
                .map(|f| format!("audiovideo/a/{f}"))
                .collect();
        let made = vec!["audiovideo/a/talk_360p.mp4".to_string(), "audiovideo/a/talk_720p.mp4".to_string()];
        assert_eq!(s.stale_renditions(&existing, &made), ["audiovideo/a/talk_1080p.mp4"]);
    }
}
