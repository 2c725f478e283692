//! HLS playlists as the pipeline reads them (parsing with `m3u8-rs`, no I/O): the variants a
//! master playlist names and the segments a variant names, and where a job's HLS groups put
//! their master playlists (MediaConvert names it `<destination>.m3u8`).

use serde_json::Value;

/// A variant as a master playlist names it.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedVariant {
    pub uri: String,
    pub bandwidth: u64,
    pub resolution: Option<(u32, u32)>,
}

fn parse_error(what: &str, e: impl std::fmt::Debug) -> crate::Error {
    crate::Error::InvalidMedia(format!("{what} is not an HLS playlist: {e:?}"))
}

/// The variants of a master playlist (I-frame playlists left out).
pub fn variants(master: &[u8]) -> Result<Vec<NamedVariant>, crate::Error> {
    let parsed = m3u8_rs::parse_master_playlist_res(master).map_err(|e| parse_error("the master playlist", e))?;
    Ok(parsed
        .variants
        .into_iter()
        .filter(|v| !v.is_i_frame)
        .map(|v| NamedVariant {
            uri: v.uri,
            bandwidth: v.bandwidth,
            resolution: v.resolution.map(|r| (r.width as u32, r.height as u32)),
        })
        .collect())
}

/// The segments of a variant (media) playlist, with their durations in seconds.
pub fn segments(media: &[u8]) -> Result<Vec<(String, f64)>, crate::Error> {
    let parsed = m3u8_rs::parse_media_playlist_res(media).map_err(|e| parse_error("the variant playlist", e))?;
    Ok(parsed.segments.into_iter().map(|s| (s.uri, f64::from(s.duration))).collect())
}

/// `s3://…/talk.m3u8` for each HLS group of `job` (CreateJob JSON, PascalCase).
pub fn masters(job: &Value) -> Vec<String> {
    let groups = job.pointer("/Settings/OutputGroups").and_then(Value::as_array).into_iter().flatten();
    groups
        .filter_map(|g| g.pointer("/OutputGroupSettings/HlsGroupSettings/Destination")?.as_str())
        .map(|d| format!("{d}.m3u8"))
        .collect()
}

/// The key of `uri` (relative, as playlists name files) beside the playlist at `key`.
pub fn beside(key: &str, uri: &str) -> String {
    match key.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{uri}"),
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_names_its_variants_and_a_variant_its_segments() {
        let master =
            b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360\ntalk_360p.m3u8\n\
#EXT-X-STREAM-INF:BANDWIDTH=2400000,RESOLUTION=1280x720\ntalk_720p.m3u8\n";
        let found = variants(master).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[1],
            NamedVariant { uri: "talk_720p.m3u8".into(), bandwidth: 2_400_000, resolution: Some((1280, 720)) }
        );
        let media = b"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\ntalk_360p_00001.ts\n#EXTINF:1.5,\ntalk_360p_00002.ts\n#EXT-X-ENDLIST\n";
        assert_eq!(segments(media).unwrap(), [("talk_360p_00001.ts".into(), 6.0), ("talk_360p_00002.ts".into(), 1.5)]);
        assert_eq!(beside("audiovideo/d/talk.m3u8", "talk_360p.m3u8"), "audiovideo/d/talk_360p.m3u8");
        assert!(variants(b"not a playlist").is_err());
    }

    #[test]
    fn each_hls_group_has_its_master_at_its_destination() {
        let mut job = crate::templates::video();
        assert!(masters(&job).is_empty());
        job["Settings"]["OutputGroups"][0]["OutputGroupSettings"] = serde_json::json!({"Type": "HLS_GROUP_SETTINGS", "HlsGroupSettings": {"Destination": "s3://w/s/audiovideo/talk"}});
        assert_eq!(masters(&job), ["s3://w/s/audiovideo/talk.m3u8"]);
    }
}
