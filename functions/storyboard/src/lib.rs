//! Storyboard: the small frames MediaConvert took of a video (`<frames_prefix>.0000000.jpg`, …,
//! in the upload's staging folder) tiled into one sprite, `thumbnail/<dir>/<stem>.storyboard.jpg`,
//! with its WebVTT map, `thumbnail/<dir>/<stem>.storyboard.vtt`, both staged for Publish.
//! The same frames give the same bytes, so a second run writes the same objects.

pub mod map;
pub mod sprite;

use futures::{StreamExt, TryStreamExt};
use image::RgbImage;
use mediaflow_core::ErrorName;
use mediaflow_core::contract::{StagedFile, Storyboard, StoryboardGrid, StoryboardInput};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::storyboard::frame_number;
use mediaflow_lambda::{During, Shared, collect, put_staged};

use crate::sprite::Layout;

/// Frames fetched at once: they are small (a few kB), so a few in flight hide the latency
/// without holding many connections.
pub const FETCH_AT_ONCE: usize = 8;

/// S3 and the public bucket, where Publish puts the storyboard.
pub use mediaflow_lambda::DestinationClients as Clients;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("MediaConvert left no storyboard frames under {prefix}")]
    NoFrames { prefix: String },
    #[error("storyboard frame {number} is missing under {prefix}: the tiles after it would be mistimed")]
    MissingFrame { prefix: String, number: u32 },
    #[error("the storyboard frame {key} does not decode as JPEG: {why}")]
    BadFrame { key: String, why: String },
    #[error("the storyboard sprite does not encode: {0}")]
    Encode(String),
    #[error("the storyboard plan does not fit: {0}")]
    Plan(String),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::NoFrames { .. } | Error::MissingFrame { .. } | Error::BadFrame { .. } | Error::Encode(_) => {
        ErrorName::FrameFailed
    },
    Error::Plan(_) => ErrorName::InvalidInput,
});

/// The frame keys under `prefix` in `bucket`, in frame order, the first `max` frames only (the
/// job takes no more; anything else under the prefix is not a frame). A tile is timed by its
/// place, so the frames must run from 0 without a gap.
pub async fn frame_keys(clients: &Clients, bucket: &str, prefix: &str, max: u32) -> Result<Vec<String>, Error> {
    let mut frames = Vec::new();
    let mut pages = clients.s3.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.during("ListObjectsV2")?;
        for key in page.contents().iter().filter_map(|o| o.key()) {
            if let Some(n) = frame_number(prefix, key).filter(|n| *n < max) {
                frames.push((n, key.to_string()));
            }
        }
    }
    frames.sort();
    if let Some(number) = (0..).zip(&frames).find(|(i, (n, _))| i != n).map(|(i, _)| i) {
        return Err(Error::MissingFrame { prefix: prefix.to_string(), number });
    }
    Ok(frames.into_iter().map(|(_, key)| key).collect())
}

/// One frame, read and decoded.
async fn frame(clients: &Clients, bucket: &str, key: &str) -> Result<RgbImage, Error> {
    let got = clients.s3.get_object().bucket(bucket).key(key).send().await.during("GetObject")?;
    let jpeg = collect("GetObject", got.body).await?;
    sprite::decode(&jpeg).map_err(|e| Error::BadFrame { key: key.to_string(), why: e.to_string() })
}

pub async fn handler(input: StoryboardInput, clients: &Clients) -> Result<Storyboard, Error> {
    let StoryboardInput { source, storyboard: plan, probe } = input;
    let key = SourceKey::parse(&source.key)?;
    let prefix = &plan.frames_prefix;
    let keys = frame_keys(clients, &source.bucket, prefix, plan.max_tiles).await?;
    if keys.is_empty() {
        return Err(Error::NoFrames { prefix: prefix.clone() });
    }
    let tiles = keys.len() as u32;
    let layout = Layout::new(tiles, plan.tile_width, plan.tile_height).ok_or_else(|| {
        Error::Plan(format!("{tiles} tiles of {}x{} make no JPEG", plan.tile_width, plan.tile_height))
    })?;
    // `buffered` keeps the frames in order while a few are in flight.
    // The futures are collected first: a stream over a borrowing closure would make the
    // handler's future fail to be `Send` for every lifetime (rust-lang/rust#64552).
    let fetches: Vec<_> = keys.iter().map(|k| frame(clients, &source.bucket, k)).collect();
    let frames: Vec<RgbImage> = futures::stream::iter(fetches).buffered(FETCH_AT_ONCE).try_collect().await?;
    let resized = frames.iter().filter(|f| f.dimensions() != (layout.tile_width, layout.tile_height)).count();
    let jpeg = sprite::encode(&sprite::tile(&frames, &layout)).map_err(|e| Error::Encode(e.to_string()))?;

    let image_key = key.storyboard_image_key();
    let map_key = key.storyboard_map_key();
    // The map names the sprite relative to itself: they share a folder.
    let sprite_name = image_key.rsplit('/').next().unwrap_or(&image_key);
    let vtt = map::map(sprite_name, &layout, plan.interval_seconds, probe.duration_seconds).into_bytes();

    let (image_size, map_size) = (jpeg.len() as u64, vtt.len() as u64);
    let image_etag = put_staged(&clients.s3, &source, &image_key, "image/jpeg", jpeg).await?;
    let map_etag = put_staged(&clients.s3, &source, &map_key, "text/vtt", vtt).await?;
    let (width, height) = layout.size();
    tracing::info!(
        key = source.key,
        frames_prefix = prefix,
        tiles,
        resized,
        columns = layout.columns,
        rows = layout.rows,
        width,
        height,
        interval_seconds = plan.interval_seconds,
        image = image_key,
        image_bytes = image_size,
        map = map_key,
        "storyboard made"
    );
    Ok(Storyboard {
        bucket: clients.destination_bucket.clone(),
        image: StagedFile { key: image_key, size: image_size, etag: image_etag },
        map: StagedFile { key: map_key, size: map_size, etag: map_etag },
        grid: StoryboardGrid {
            tiles,
            columns: layout.columns,
            rows: layout.rows,
            tile_width: layout.tile_width,
            tile_height: layout.tile_height,
            interval_seconds: plan.interval_seconds,
        },
    })
}
