//! AssembleCheck against the embedded S3 endpoint: parts of every size, in any order, twice.

use std::collections::HashMap;
use std::time::Duration;

use assemble_check::{Clients, handler};
use mediaflow_core::classify::classify;
use mediaflow_core::contract::{AssemblyStatus, AssetInput, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_s3::EmbeddedS3;

const MIB: usize = 1024 * 1024;

async fn put_part(s3: &EmbeddedS3, key: &str, bytes: &[u8], chunks: Option<usize>) -> AssetInput {
    let mut put = s3.client().put_object().bucket("watch").key(key).body(bytes.to_vec().into());
    if let Some(n) = chunks {
        put = put.set_metadata(Some(HashMap::from([("chunks".to_string(), n.to_string())])));
    }
    let out = put.send().await.unwrap();
    AssetInput::classified(Source::new("watch", key, bytes.len() as u64, out.e_tag().unwrap()), bytes).unwrap()
}

fn sizes() -> Vec<usize> {
    vec![MIB, MIB + 17, 7 * MIB, 2 * MIB, 6 * MIB, 300]
}

fn part_bytes(index: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| ((i * 31 + index * 7) % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_for_every_part_then_assembles_once_and_tidies_up() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut events = s3.events();
    let clients = Clients { s3: s3.client() };
    let sizes = sizes();
    let mut whole = Vec::new();
    // Parts arrive out of order; the last to arrive completes the set.
    let order = [2, 0, 5, 1, 4, 3];
    let mut results = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        let bytes = part_bytes(i, sizes[i]);
        let input = put_part(&s3, &format!("inputs/team/movie.mp4.CHUNK{i}"), &bytes, Some(sizes.len())).await;
        let result = handler(input, &clients).await.unwrap();
        assert_eq!(result.target_key, "inputs/team/movie.mp4");
        assert_eq!(result.parts_expected, Some(6));
        if n + 1 < order.len() {
            assert_eq!(result.status, AssemblyStatus::Waiting, "after {} parts", n + 1);
            assert_eq!(result.parts_present, n as u32 + 1);
        }
        results.push(result);
    }
    assert_eq!(results.last().unwrap().status, AssemblyStatus::Assembled);
    for (i, size) in sizes.iter().enumerate() {
        whole.extend(part_bytes(i, *size));
    }
    let got = s3.client().get_object().bucket("watch").key("inputs/team/movie.mp4").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), whole.as_slice());
    let left = s3.client().list_objects_v2().bucket("watch").prefix("inputs/team/").send().await.unwrap();
    assert_eq!(left.contents().iter().map(|o| o.key().unwrap()).collect::<Vec<_>>(), ["inputs/team/movie.mp4"]);
    // The assembled upload starts its own execution.
    let mut assembled = false;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), events.recv()).await {
        assembled |= e.detail.object.key == "inputs/team/movie.mp4"
            && e.detail.reason.as_deref() == Some("CompleteMultipartUpload");
    }
    assert!(assembled);

    // A late, repeated event for a part already assembled and deleted is still a success.
    let late = put_part(&s3, "inputs/other.mp4.CHUNK0", b"x", Some(2)).await;
    let mut late_for_movie = late.clone();
    late_for_movie.source.key = "inputs/team/movie.mp4.CHUNK3".into();
    late_for_movie.asset = classify(&SourceKey::parse("inputs/team/movie.mp4.CHUNK3").unwrap(), b"");
    let result = handler(late_for_movie, &clients).await.unwrap();
    assert_eq!(result.status, AssemblyStatus::Waiting);
    assert_eq!(result.parts_expected, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_runs_assemble_once() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let sizes = [6 * MIB, 2 * MIB, 123];
    let mut inputs = Vec::new();
    let mut whole: Vec<u8> = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let bytes = part_bytes(i, *size);
        whole.extend(&bytes);
        inputs.push(put_part(&s3, &format!("inputs/race.mov.CHUNK{i}"), &bytes, Some(3)).await);
    }
    let runs: Vec<_> = inputs
        .into_iter()
        .map(|input| {
            let clients = Clients { s3: s3.client() };
            tokio::spawn(async move { handler(input, &clients).await.unwrap().status })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in runs {
        statuses.push(r.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == AssemblyStatus::Assembled).count(), 1, "{statuses:?}");
    let got = s3.client().get_object().bucket("watch").key("inputs/race.mov").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().len(), whole.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_part_count_it_waits() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client() };
    let input = put_part(&s3, "inputs/a.mp4.CHUNK0", b"only", None).await;
    let result = handler(input, &clients).await.unwrap();
    assert_eq!((result.status, result.parts_present, result.parts_expected), (AssemblyStatus::Waiting, 1, None));
}
