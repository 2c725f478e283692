//! The HLS ladders a finished job wrote, read from their playlists: MediaConvert's events name
//! only each group's master playlist (and GetJob not even that), so the variants and segments
//! a Publish must copy come from the master and variant playlists themselves.

use mediaflow_core::contract::{Stream, StreamVariant};
use mediaflow_core::hls;
use mediaflow_core::keys::s3_location;
use mediaflow_core::mediaconvert::{label_of, public_key};
use mediaflow_lambda::{aws_failure, collect};

use crate::{Clients, Error};

async fn read(clients: &Clients, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
    let got = clients.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| aws_failure("GetObject", e))?;
    Ok(collect("GetObject", got.body).await?.to_vec())
}

/// The ladder under each master playlist of `masters` (`s3://…/talk.m3u8`), job `job_id`'s.
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
        let named = hls::variants(&read(clients, bucket, key).await?).map_err(|e| broken(format!("{master}: {e}")))?;
        let mut variants = Vec::new();
        for variant in named {
            let playlist = hls::beside(key, &variant.uri);
            let segments = hls::segments(&read(clients, bucket, &playlist).await?)
                .map_err(|e| broken(format!("s3://{bucket}/{playlist}: {e}")))?;
            let segments: Result<Vec<String>, Error> =
                segments.iter().map(|(uri, _)| public(&hls::beside(&playlist, uri))).collect();
            let playlist = public(&playlist)?;
            variants.push(StreamVariant {
                label: label_of(&playlist),
                playlist,
                width: variant.resolution.map(|(w, _)| w),
                height: variant.resolution.map(|(_, h)| h),
                bandwidth: variant.bandwidth,
                segments: segments?,
            });
        }
        streams.push(Stream { master: public(key)?, variants });
    }
    Ok(streams)
}
