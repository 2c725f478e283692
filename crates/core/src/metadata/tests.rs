use super::*;
use crate::Named;
use crate::classify::classify;
use crate::contract::{ExecutionDocument, OutputFile, Renditions, Source, StoredObject, Thumbnail};
use crate::keys::SourceKey;

fn input() -> SaveMetadataInput {
    let key = SourceKey::parse("inputs/team/talk.mp4").unwrap();
    let mut head = vec![0, 0, 0, 0x20];
    head.extend_from_slice(b"ftypisom");
    SaveMetadataInput {
        document: ExecutionDocument {
            source: Source {
                bucket: "watch".into(),
                key: key.key().into(),
                size: 1234,
                etag: "abc".into(),
                sequencer: Some("0062E99A88DC407460".into()),
                version_id: None,
            },
            asset: classify(&key, &head),
            assembly: None,
            original: Some(StoredObject {
                bucket: "public".into(),
                key: key.original_key(),
                size: 1234,
                etag: "abc".into(),
            }),
            probe: None,
            plan: None,
            storyboard: None,
            loudness: None,
            renditions: Some(Renditions {
                bucket: "public".into(),
                job_id: Some("1671476818694-phptj0".into()),
                outputs: vec![OutputFile {
                    key: key.rendition_key("720p"),
                    label: Some("720p".into()),
                    width: Some(1280),
                    height: Some(720),
                    duration_ms: Some(3000),
                }],
                streams: Vec::new(),
            }),
            thumbnail: Some(Thumbnail {
                bucket: "public".into(),
                key: key.thumbnail_key(),
                width: 1280,
                height: 720,
                at_seconds: 1.5,
                size: 20_000,
                etag: "t".into(),
            }),
            caption: None,
            transcription: None,
            auto_caption: None,
            metadata: None,
            publish: None,
            lost_event: None,
        },
        execution_id: "arn:aws:states:us-east-1:111122223333:execution:mediaflow:run-1".into(),
        started_at: "2026-11-25T10:00:00.000Z".into(),
    }
}

fn finished() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:00:42.500Z").unwrap().with_timezone(&Utc)
}

#[test]
fn every_output_with_size_and_etag_as_read_back() {
    let input = input();
    assert_eq!(keys_to_read_back(&input), ["audiovideo/team/talk_720p.mp4"]);
    let stats = BTreeMap::from([(
        "audiovideo/team/talk_720p.mp4".to_string(),
        ObjectStat { size: 99_000, etag: "e720".into() },
    )]);
    let doc = build(&input, &stats, finished()).unwrap();
    assert_eq!(doc.source.key, "inputs/team/talk.mp4");
    assert_eq!(doc.source.name, "talk.mp4");
    assert_eq!(doc.kind, AssetKind::Video);
    assert_eq!(doc.outputs.len(), 1);
    assert_eq!((doc.outputs[0].size, doc.outputs[0].etag.as_str()), (99_000, "e720"));
    assert_eq!(doc.outputs[0].label.as_deref(), Some("720p"));
    assert_eq!(doc.original.as_ref().unwrap().key, "original/team/talk.mp4");
    assert_eq!(doc.thumbnail.as_ref().unwrap().at_seconds, Some(1.5));
    assert_eq!(doc.timings.duration_seconds, 42.5);
    assert_eq!(doc.timings.finished_at, "2026-11-25T10:00:42.500Z");
    assert_eq!(doc.pipeline.version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn a_missing_output_or_a_bad_time_is_a_named_error() {
    let err = build(&input(), &BTreeMap::new(), finished()).unwrap_err();
    assert_eq!(err.name(), crate::ErrorName::OutputMismatch);
    assert!(err.to_string().contains("s3://public/audiovideo/team/talk_720p.mp4"), "{err}");

    let mut bad_time = input();
    bad_time.started_at = "yesterday".into();
    bad_time.document.renditions = None;
    let err = build(&bad_time, &BTreeMap::new(), finished()).unwrap_err();
    assert_eq!(err.name(), crate::ErrorName::InvalidInput);
}
