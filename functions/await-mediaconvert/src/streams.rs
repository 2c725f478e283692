//! The HLS ladders a finished job wrote, read from their playlists: MediaConvert's events name
//! only each group's master playlist (and GetJob not even that), so the variants and segments
//! a Publish must copy come from the master and variant playlists themselves. The segments'
//! keys grow with the video's length, so they are kept in a listing object beside the staged
//! ladder, and the state carries its key and the counts.

use aws_sdk_s3::primitives::ByteStream;
use mediaflow_core::contract::{Stream, StreamVariant};
use mediaflow_core::hls;
use mediaflow_core::keys::s3_location;
use mediaflow_core::mediaconvert::{label_of, public_key};
use mediaflow_core::publish::{SegmentListing, listing_key};
use mediaflow_lambda::{During, collect};

use crate::{Clients, Error};

async fn read(clients: &Clients, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
    let got = clients.s3.get_object().bucket(bucket).key(key).send().await.during("GetObject")?;
    Ok(collect("GetObject", got.body).await?.to_vec())
}

/// The ladder under each master playlist of `masters` (`s3://…/talk.m3u8`), job `job_id`'s,
/// with its segments' listing written beside it (again, the same, on a repeated answer).
pub async fn streams(clients: &Clients, job_id: &str, masters: &[String]) -> Result<Vec<Stream>, Error> {
    let broken = |what: String| Error::TranscodeFailed { job: job_id.to_string(), reason: what };
    let mut streams = Vec::new();
    for master in masters {
        let (bucket, key) = s3_location(master).ok_or_else(|| broken(format!("{master} is not s3://bucket/key")))?;
        let public = |key: &str| {
            public_key(&format!("s3://{bucket}/{key}"), &clients.destination_bucket)
                .map(str::to_string)
                .ok_or_else(|| broken(format!("s3://{bucket}/{key} is neither public nor staged")))
        };
        let listing = listing_key(key).ok_or_else(|| broken(format!("{master} is not in a staging folder")))?;
        let named = hls::variants(&read(clients, bucket, key).await?).map_err(|e| broken(format!("{master}: {e}")))?;
        let mut variants = Vec::new();
        let mut segments = Vec::new();
        for variant in named {
            let playlist = hls::beside(key, &variant.uri);
            let named = hls::segments(&read(clients, bucket, &playlist).await?)
                .map_err(|e| broken(format!("s3://{bucket}/{playlist}: {e}")))?;
            for (uri, _) in &named {
                segments.push(public(&hls::beside(&playlist, uri))?);
            }
            let playlist = public(&playlist)?;
            variants.push(StreamVariant {
                label: label_of(&playlist),
                playlist,
                width: variant.resolution.map(|(w, _)| w),
                height: variant.resolution.map(|(_, h)| h),
                bandwidth: variant.bandwidth,
                segments: named.len() as u32,
            });
        }
        let master = public(key)?;
        let body = serde_json::to_vec(&SegmentListing { master: master.clone(), segments }).expect("serialises");
        clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(&listing)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .during("PutObject")?;
        streams.push(Stream { master, listing, variants });
    }
    Ok(streams)
}
