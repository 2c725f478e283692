//! Newest upload wins: every output of an upload is written first under a staging prefix of
//! its own in the watch bucket, outside the public folders, and one Publish step moves the
//! whole set to its public keys only if this upload is still the newest of its name, under a
//! per-name guard, removing what an earlier upload published that this one does not replace.
//!
//! This module is the pure part: where things are staged, which upload is newer, and what a
//! publish must do given the record of what is published now.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::contract::{AssetKind, ExecutionDocument, Source};
use crate::keys::SourceKey;

/// Where staged outputs live in the watch bucket.
pub const STAGING_PREFIX: &str = ".mediaflow/staging/";
/// Where the record of each name's published set lives in the watch bucket.
pub const PUBLISHED_PREFIX: &str = ".mediaflow/published/";
/// Hex digits of an upload's staging folder: 128 bits.
const STAGING_ID_LEN: usize = 32;
/// What the staging folder adds to an output's key: the prefix, the id and its slash.
pub const STAGING_KEY_BYTES: usize = STAGING_PREFIX.len() + STAGING_ID_LEN + 1;
/// How long a publish may hold its name's guard before another may take it over: a publish
/// that crashed leaves it behind. Longer than Publish may run (its Lambda timeout, 900 s, with a
/// minute to spare), so that no live publish is ever taken over while it copies.
pub const GUARD_LEASE_SECONDS: i64 = 960;

/// The SHA-256 of `parts`, each length-prefixed so that no two lists hash alike, in hex.
pub fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// The staging folder of one upload: one per upload (bucket, key, ETag, sequencer), which the
/// duplicate claim makes one per execution, and which a redrive or a resumed run finds again.
pub fn staging_prefix(source: &Source) -> String {
    let id = digest(&[&source.bucket, &source.key, &source.etag, source.sequencer.as_deref().unwrap_or_default()]);
    format!("{STAGING_PREFIX}{}/", &id[..STAGING_ID_LEN])
}

/// Where the output that will be public at `key` is staged, in the watch bucket.
pub fn staged_key(source: &Source, key: &str) -> String {
    format!("{}{key}", staging_prefix(source))
}

/// The public key of a staged key: what follows `.mediaflow/staging/<id>/`.
pub fn unstaged(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(STAGING_PREFIX)?;
    let (id, key) = rest.split_once('/')?;
    (id.len() == STAGING_ID_LEN && id.bytes().all(|b| b.is_ascii_hexdigit()) && !key.is_empty()).then_some(key)
}

/// Where the listing of an HLS ladder's segments is staged, beside the ladder whose master
/// playlist is staged at `staged_master`: `.mediaflow/staging/<id>/listings/<public key>.json`.
/// A ladder names a segment every few seconds of every variant, thousands for a long video, so
/// they stay in S3 and the state carries this key and their count (Step Functions' 256 KiB).
pub fn listing_key(staged_master: &str) -> Option<String> {
    let public = unstaged(staged_master)?;
    let prefix = &staged_master[..staged_master.len() - public.len()];
    Some(format!("{prefix}{LISTINGS_FOLDER}/{public}.json"))
}

/// The folder of a staging prefix that holds segment listings: not a public folder, so nothing
/// staged for publishing is ever named alike.
pub const LISTINGS_FOLDER: &str = "listings";

/// The segment keys of one HLS ladder (public keys, in the order they are published), as its
/// listing object holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentListing {
    pub master: String,
    pub segments: Vec<String>,
}

/// Uploads whose outputs replace each other: media by dir and stem (`talk.mov` replaces
/// `talk.mp4`), captions by dir and stem with their language (`talk.en.srt`), apart from media
/// so that `talk.srt` never removes `talk.mp4`'s renditions.
pub fn guard_key(key: &SourceKey, kind: AssetKind) -> String {
    let family = if kind == AssetKind::Caption { "caption" } else { "media" };
    format!("{PUBLISHED_PREFIX}{}.json", digest(&[family, key.dir(), key.stem()]))
}

/// One upload as the publish step orders it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upload {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    /// The event's time (EventBridge's `time`).
    pub uploaded_at: DateTime<Utc>,
    pub execution_id: String,
}

impl Upload {
    /// Whether this upload came after `other`. Uploads of one key are ordered by S3's
    /// `sequencer`, a hexadecimal value: the greater one is the later upload (compared as
    /// numbers, so the shorter is padded with leading zeros). Sequencers of different keys
    /// are not comparable (S3 orders them per key), so there the event times decide, and a
    /// tie goes to the one asking now.
    pub fn is_newer_than(&self, other: &Upload) -> bool {
        if self.key == other.key
            && let (Some(a), Some(b)) = (&self.sequencer, &other.sequencer)
        {
            let width = a.len().max(b.len());
            let (a, b) =
                (format!("{:0>width$}", a.to_ascii_uppercase()), format!("{:0>width$}", b.to_ascii_uppercase()));
            return a > b;
        }
        self.uploaded_at >= other.uploaded_at
    }
}

/// What `.mediaflow/published/<hash>.json` holds for one name: the set that is public now, and
/// the publish that holds the guard, if one does.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishRecord {
    pub published: Option<PublishedSet>,
    pub guard: Option<Guard>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishedSet {
    pub upload: Upload,
    /// Every public key of the set but its HLS segments.
    pub keys: Vec<String>,
    /// The set's HLS segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
}

impl PublishedSet {
    pub fn all_keys(&self) -> impl Iterator<Item = &String> {
        self.keys.iter().chain(&self.segments)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Guard {
    pub execution_id: String,
    pub since: DateTime<Utc>,
}

/// What a publish does, given the record as it is now.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Another publish of the name holds the guard: try again later.
    Busy { holder: String },
    /// A newer upload of the name is published: publish nothing.
    Superseded { by: Upload },
    /// This upload's set is published already (a repeated or resumed publish).
    Done,
    /// Publish, then remove what the published set has that this one does not ([`stale`]).
    Publish,
}

/// What the publish of `mine` must do, at `now`, given `record`.
pub fn decide(record: &PublishRecord, mine: &Upload, now: DateTime<Utc>) -> Decision {
    if let Some(guard) = &record.guard
        && guard.execution_id != mine.execution_id
        && (now - guard.since).num_seconds() < GUARD_LEASE_SECONDS
    {
        return Decision::Busy { holder: guard.execution_id.clone() };
    }
    match &record.published {
        Some(set) if set.upload.execution_id == mine.execution_id => Decision::Done,
        Some(set) if !mine.is_newer_than(&set.upload) => Decision::Superseded { by: set.upload.clone() },
        _ => Decision::Publish,
    }
}

/// What the published set of `record` has that a set of `keys` does not, in the order to remove
/// it: the set's files backwards (master playlists before the variants they name, variants
/// before their files), then its segments. An empty list when nothing is published.
pub fn stale(record: &PublishRecord, keys: &[String]) -> Vec<String> {
    let Some(set) = &record.published else { return Vec::new() };
    let mine: std::collections::HashSet<&String> = keys.iter().collect();
    let files = set.keys.iter().rev().filter(|k| !mine.contains(k));
    files.chain(set.segments.iter().filter(|k| !mine.contains(k))).cloned().collect()
}

/// The public keys of an upload's outputs in the order they become public, in waves: the keys
/// of one wave may be copied at once, and a wave starts when the one before it is done. The
/// files and HLS segments first, then the variant playlists that name the segments (and the
/// storyboard's map, which names its sprite), then the
/// master playlists that name the variants, and the metadata document last, so that nothing
/// public names what is not public yet. `listings` holds the segments of each ladder.
pub fn publish_waves(
    document: &ExecutionDocument,
    listings: &[SegmentListing],
) -> Result<[Vec<String>; 4], crate::Error> {
    let streams: Vec<&crate::contract::Stream> = document.renditions.iter().flat_map(|r| &r.streams).collect();
    let mut files: Vec<String> = Vec::new();
    files.extend(document.original.iter().map(|o| o.key.clone()));
    files.extend(document.renditions.iter().flat_map(|r| r.outputs.iter().map(|o| o.key.clone())));
    for stream in &streams {
        let listing = listings.iter().find(|l| l.master == stream.master).ok_or_else(|| {
            crate::Error::InvalidInput(format!("no segment listing for the ladder {}", stream.master))
        })?;
        files.extend(listing.segments.iter().cloned());
    }
    files.extend(document.thumbnail.iter().map(|t| t.key.clone()));
    files.extend(document.storyboard.iter().map(|b| b.image.key.clone()));
    files.extend(document.caption.iter().map(|c| c.key.clone()));
    files.extend(document.auto_caption.iter().filter_map(|c| c.key.clone()));
    let mut variants: Vec<String> =
        streams.iter().flat_map(|s| s.variants.iter().map(|v| v.playlist.clone())).collect();
    // The storyboard's map names its sprite.
    variants.extend(document.storyboard.iter().map(|b| b.map.key.clone()));
    let masters = streams.iter().map(|s| s.master.clone()).collect();
    let metadata = document.metadata.iter().map(|m| m.key.clone()).collect();
    Ok([files, variants, masters, metadata])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(key: &str, sequencer: Option<&str>, second: u32, execution: &str) -> Upload {
        Upload {
            key: key.into(),
            sequencer: sequencer.map(String::from),
            uploaded_at: format!("2026-12-01T10:00:{second:02}Z").parse().unwrap(),
            execution_id: execution.into(),
        }
    }

    #[test]
    fn sequencers_order_uploads_of_one_key_as_hex_numbers() {
        let a = upload("inputs/r.mp4", Some("0055AED6DCD90281E5"), 9, "a");
        let b = upload("inputs/r.mp4", Some("0055AED6DCD90281E6"), 1, "b");
        assert!(b.is_newer_than(&a), "the sequencer decides, not the clock");
        assert!(!a.is_newer_than(&b));
        // Of different lengths: compared as numbers.
        let short = upload("inputs/r.mp4", Some("FF"), 0, "c");
        let long = upload("inputs/r.mp4", Some("100"), 0, "d");
        assert!(long.is_newer_than(&short));
        // Different keys (talk.mov after talk.mp4): the event times decide.
        let mov = upload("inputs/talk.mov", Some("01"), 5, "e");
        let mp4 = upload("inputs/talk.mp4", Some("FF"), 4, "f");
        assert!(mov.is_newer_than(&mp4));
    }

    #[test]
    fn a_publish_waits_for_the_guard_yields_to_newer_and_removes_what_it_replaces() {
        let now: DateTime<Utc> = "2026-12-01T10:01:00Z".parse().unwrap();
        let old = upload("inputs/r.mp4", Some("01"), 0, "old");
        let new = upload("inputs/r.mp4", Some("02"), 1, "new");
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let published = |u: &Upload, k: &[&str]| PublishRecord {
            published: Some(PublishedSet { upload: u.clone(), keys: keys(k), segments: vec![] }),
            guard: None,
        };
        assert_eq!(decide(&PublishRecord::default(), &old, now), Decision::Publish);
        assert!(stale(&PublishRecord::default(), &[]).is_empty());
        let record = published(&old, &["audiovideo/r_1080p.mp4", "audiovideo/r_360p.mp4"]);
        assert_eq!(decide(&record, &new, now), Decision::Publish);
        assert_eq!(stale(&record, &keys(&["audiovideo/r_360p.mp4"])), keys(&["audiovideo/r_1080p.mp4"]));
        // An earlier ladder goes too: its master before its variants, those before its files,
        // and its segments last.
        let mut ladder = published(&old, &["audiovideo/r_360p.mp4", "audiovideo/r_360p.m3u8", "audiovideo/r.m3u8"]);
        ladder.published.as_mut().unwrap().segments = keys(&["audiovideo/r_360p_00001.ts"]);
        assert_eq!(
            stale(&ladder, &keys(&["audiovideo/r_720p.mp4"])),
            keys(&[
                "audiovideo/r.m3u8",
                "audiovideo/r_360p.m3u8",
                "audiovideo/r_360p.mp4",
                "audiovideo/r_360p_00001.ts"
            ])
        );
        assert_eq!(decide(&published(&new, &[]), &old, now), Decision::Superseded { by: new.clone() });
        assert_eq!(decide(&published(&new, &[]), &new, now), Decision::Done);
        let guarded = |holder: &str, seconds_ago: i64| PublishRecord {
            published: None,
            guard: Some(Guard { execution_id: holder.into(), since: now - chrono::TimeDelta::seconds(seconds_ago) }),
        };
        assert_eq!(decide(&guarded("old", 5), &new, now), Decision::Busy { holder: "old".into() });
        assert_eq!(decide(&guarded("old", 900), &new, now), Decision::Busy { holder: "old".into() }, "still running");
        assert_eq!(decide(&guarded("new", 5), &new, now), Decision::Publish, "its own guard");
        assert_eq!(decide(&guarded("old", 3600), &new, now), Decision::Publish, "a stale guard");
    }

    #[test]
    fn staged_keys_are_per_upload_and_map_back() {
        let mut source = Source::new("watch", "inputs/race/r.mp4", 10, "e1");
        source.sequencer = Some("01".into());
        let a = staged_key(&source, "audiovideo/race/r_720p.mp4");
        source.sequencer = Some("02".into());
        let b = staged_key(&source, "audiovideo/race/r_720p.mp4");
        assert_ne!(a, b, "a re-upload of the key stages apart");
        assert!(a.starts_with(STAGING_PREFIX) && a.len() == STAGING_KEY_BYTES + "audiovideo/race/r_720p.mp4".len());
        assert_eq!(unstaged(&a), Some("audiovideo/race/r_720p.mp4"));
        assert_eq!(unstaged("audiovideo/race/r_720p.mp4"), None);
        assert_eq!(unstaged(".mediaflow/staging/xyz/a.mp4"), None);
        let master = staged_key(&source, "audiovideo/race/r.m3u8");
        let listing = listing_key(&master).unwrap();
        assert_eq!(listing, format!("{}listings/audiovideo/race/r.m3u8.json", staging_prefix(&source)));
        assert_eq!(unstaged(&listing), Some("listings/audiovideo/race/r.m3u8.json"), "inside the upload's staging");
        assert_eq!(listing_key("audiovideo/race/r.m3u8"), None, "only a staged master has a listing");
    }

    #[test]
    fn a_ladder_becomes_public_from_its_segments_up_and_the_document_last() {
        use crate::contract::{MetadataResult, OutputFile, Renditions, Stream, StreamVariant};
        let key = SourceKey::parse("inputs/a/talk.mp4").unwrap();
        let mut document: ExecutionDocument = serde_json::from_value(serde_json::json!({
            "source": Source::new("watch", key.key(), 10, "e"),
            "asset": crate::classify::classify(&key, b"\0\0\0\x20ftypisom"),
        }))
        .unwrap();
        let variant = StreamVariant {
            playlist: "audiovideo/a/talk_360p.m3u8".into(),
            label: None,
            width: None,
            height: None,
            bandwidth: 1,
            segments: 1,
        };
        let stream = Stream { master: "audiovideo/a/talk.m3u8".into(), listing: "l".into(), variants: vec![variant] };
        let file = OutputFile {
            key: "audiovideo/a/talk_360p.mp4".into(),
            label: None,
            width: None,
            height: None,
            duration_ms: None,
        };
        document.renditions =
            Some(Renditions { bucket: "p".into(), job_id: None, outputs: vec![file], streams: vec![stream] });
        document.metadata =
            Some(MetadataResult { bucket: "p".into(), key: "json/a/talk.json".into(), size: 1, etag: "e".into() });
        let listing = SegmentListing {
            master: "audiovideo/a/talk.m3u8".into(),
            segments: vec!["audiovideo/a/talk_360p_00001.ts".into()],
        };
        let waves = publish_waves(&document, &[listing]).unwrap();
        assert_eq!(
            waves,
            [
                vec!["audiovideo/a/talk_360p.mp4".to_string(), "audiovideo/a/talk_360p_00001.ts".into()],
                vec!["audiovideo/a/talk_360p.m3u8".to_string()],
                vec!["audiovideo/a/talk.m3u8".to_string()],
                vec!["json/a/talk.json".to_string()],
            ]
        );
        assert!(publish_waves(&document, &[]).is_err(), "a ladder without its listing");
    }

    #[test]
    fn captions_and_media_of_one_stem_are_guarded_apart() {
        let key = SourceKey::parse("inputs/a/talk.srt").unwrap();
        let media = SourceKey::parse("inputs/a/talk.mp4").unwrap();
        assert_ne!(guard_key(&key, AssetKind::Caption), guard_key(&media, AssetKind::Video));
        assert_eq!(
            guard_key(&media, AssetKind::Video),
            guard_key(&SourceKey::parse("inputs/a/talk.mov").unwrap(), AssetKind::Mp3)
        );
    }
}
