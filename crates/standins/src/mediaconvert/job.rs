//! One job, run: PROGRESSING, one ffmpeg process over a presigned URL of the input (progress
//! read as it goes from ffmpeg's stats lines, with ffmpeg-sidecar's parser), the outputs
//! uploaded through the embedded S3, then COMPLETE, or ERROR with a code and message as
//! MediaConvert gives them. The process is tokio's, not ffmpeg-sidecar's: a job's ffmpeg must
//! die with its task (a stopped platform leaves none behind), and sidecar's child is a blocking
//! std one.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use ffmpeg_sidecar::log_parser::{parse_time_str, try_parse_duration, try_parse_progress};
use futures::{StreamExt, TryStreamExt};
use mediaflow_core::contract::{OutputDetail, OutputGroupDetail, VideoDetails};
use mediaflow_core::keys::s3_location;
use mediaflow_core::storyboard::frame_key;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::compile::{Output, compile};
use super::hls;
use super::{Job, Service};

/// MediaConvert's codes for what went wrong: the input could not be read or decoded (1010),
/// a setting the stand-in cannot honour (1030, MediaConvert's "unsupported" family), the
/// outputs could not be written (1999).
const INPUT_FAILED: i64 = 1010;
const UNSUPPORTED: i64 = 1030;
const OUTPUT_FAILED: i64 = 1999;

type JobError = (i64, String);

/// Runs job `id` once a slot of the queue is free. The slot is held while ffmpeg runs and the
/// outputs are read, and freed before they are uploaded, so the next job's encode overlaps
/// this one's uploads and no more tools run than there are slots.
pub(super) async fn run(service: &Service, id: &str) {
    let Ok(slot) = service.slots.acquire().await else { return };
    let Some(job) = service.update(id, |j| j.status = "PROGRESSING".into()) else { return };
    keep(&service.settings, &job);
    service.announce(&job, "PROGRESSING");
    let work = service.settings.work_dir.join(id);
    let result = transcode(service, id, &job.request, &work, slot).await;
    let _ = std::fs::remove_dir_all(&work);
    let ended = match result {
        Ok(groups) => service.update(id, |j| {
            j.status = "COMPLETE".into();
            j.percent = 100;
            j.output_groups = groups;
        }),
        Err(error) => service.update(id, |j| {
            j.status = "ERROR".into();
            j.error = Some(error);
        }),
    };
    if let Some(job) = ended {
        keep(&service.settings, &job);
        service.announce(&job, &job.status);
    }
}

/// Keeps `job` as it is now, whole or not at all.
pub(super) fn keep(settings: &super::Settings, job: &Job) {
    let Some(dir) = &settings.jobs_dir else { return };
    let path = dir.join(format!("{}.json", job.id));
    if let Err(e) = mediaflow_endpoint::files::write_whole(&path, &serde_json::to_vec(job).expect("jobs serialise")) {
        eprintln!("mediaflow: could not keep MediaConvert job {}: {e}", job.id);
    }
}

/// Every job kept in `dir`, by id.
pub(super) fn load_all(dir: &Path) -> std::io::Result<std::collections::BTreeMap<String, Job>> {
    let jobs: Vec<Job> = mediaflow_endpoint::files::read_all(dir)?;
    Ok(jobs.into_iter().map(|job| (job.id.clone(), job)).collect())
}

async fn transcode(
    service: &Service,
    id: &str,
    request: &serde_json::Value,
    work: &Path,
    slot: tokio::sync::SemaphorePermit<'_>,
) -> Result<Vec<OutputGroupDetail>, JobError> {
    let settings = &service.settings;
    let input = request.pointer("/settings/inputs/0/fileInput").and_then(|v| v.as_str()).unwrap_or_default();
    let (bucket, key) =
        s3_location(input).ok_or_else(|| (INPUT_FAILED, format!("fileInput {input:?} is not s3://bucket/key")))?;
    let file_name = key.rsplit('/').next().unwrap_or(key);
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    let mut compiled = compile(request, stem).map_err(|e| (UNSUPPORTED, e.to_string()))?;

    let presigned = PresigningConfig::expires_in(Duration::from_secs(6 * 3600)).expect("a valid expiry");
    let url = settings
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(presigned)
        .await
        .map_err(|e| (INPUT_FAILED, format!("presigning {input}: {e}")))?
        .uri()
        .to_string();
    super::loudness::normalize(&settings.ffmpeg, &url, input, &mut compiled)
        .await
        .map_err(|e| (INPUT_FAILED, e.to_string()))?;
    std::fs::create_dir_all(work).map_err(|e| (OUTPUT_FAILED, format!("{}: {e}", work.display())))?;
    for output in &compiled.outputs {
        if let Some(folder) = work.join(&output.file).parent() {
            std::fs::create_dir_all(folder).map_err(|e| (OUTPUT_FAILED, format!("{}: {e}", folder.display())))?;
        }
    }

    // ffmpeg's log (`level+info`: each line level-prefixed, `[error] …`) gives the input's
    // duration and the errors; its stats lines (`-stats`, each ended by `\r`) the progress,
    // both read with ffmpeg-sidecar's parser.
    let mut child = tokio::process::Command::new(&settings.ffmpeg)
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "level+info", "-stats", "-i", &url])
        .args(&compiled.args)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| (INPUT_FAILED, format!("cannot run {}: {e}", settings.ffmpeg.display())))?;
    let interval = status_interval(request);
    let mut last_update = Instant::now();
    let mut last_error = None;
    let mut segments = BufReader::new(child.stderr.take().expect("piped")).split(b'\r');
    // The input's duration, for the percentage, is the one ffmpeg prints as it opens it.
    let mut duration = None;
    while let Ok(Some(segment)) = segments.next_segment().await {
        for line in String::from_utf8_lossy(&segment).split('\n') {
            if let Some(message) = line.strip_prefix("[error] ").or_else(|| line.strip_prefix("[fatal] ")) {
                last_error = Some(message.trim().to_string());
                continue;
            }
            if duration.is_none() {
                duration = try_parse_duration(line).filter(|s| *s > 0.0);
            }
            let Some(at) = try_parse_progress(line).and_then(|p| parse_time_str(&p.time)) else { continue };
            let Some(total) = duration else { continue };
            let percent = ((at / total) * 100.0).clamp(0.0, 99.0) as u32;
            if let Some(job) = service.update(id, |j| j.percent = percent)
                && last_update.elapsed() >= interval
            {
                last_update = Instant::now();
                service.announce(&job, "STATUS_UPDATE");
            }
        }
    }
    let status = child.wait().await.map_err(|e| (INPUT_FAILED, e.to_string()))?;
    if !status.success() {
        let last = last_error.unwrap_or_else(|| "ffmpeg failed".into());
        // The presigned URL's signature is a credential: keep it out of the message.
        let last = last.replace(&url, input);
        return Err((INPUT_FAILED, format!("the input could not be transcoded: {last}")));
    }

    // What each output holds: its duration, and for an HLS variant its segments (read once,
    // for the upload and the master) and what its master says of it. The outputs are read a
    // few at a time (the encode has ended, so its cores are free).
    let probes: Vec<_> = compiled.outputs.iter().map(|output| facts_of(&settings.ffprobe, work, output)).collect();
    let facts: Vec<Facts> = futures::stream::iter(probes).buffered(AT_ONCE).try_collect().await?;
    drop(slot);
    let mut groups: Vec<OutputGroupDetail> = compiled
        .groups
        .iter()
        .map(|g| OutputGroupDetail {
            output_details: vec![],
            group_type: g.kind.into(),
            playlist_file_paths: g.master.clone().map(|m| vec![m]),
        })
        .collect();
    // The outputs go up a few at a time, and their details are kept in output order.
    let uploads: Vec<_> = compiled
        .outputs
        .iter()
        .zip(&facts)
        // A frame capture lasts what the input does, as MediaConvert reports it.
        .map(|(output, (seconds, segments, _))| {
            upload(service, work, output, if output.frames { duration } else { *seconds }, segments)
        })
        .collect();
    let details: Vec<OutputDetail> = futures::stream::iter(uploads).buffered(AT_ONCE).try_collect().await?;
    let mut variants: Vec<Vec<(hls::Variant, (u64, u64))>> = vec![Vec::new(); groups.len()];
    for ((output, (_, _, variant)), detail) in compiled.outputs.iter().zip(facts).zip(details) {
        groups[output.group].output_details.push(detail);
        variants[output.group].extend(variant);
    }
    // A group's master playlist last, once every variant it names is in place.
    for (group, variants) in compiled.groups.iter().zip(&variants) {
        if let Some(master) = &group.master {
            put(service, ByteStream::from(hls::master(variants)), master, "application/vnd.apple.mpegurl").await?;
        }
    }
    Ok(groups)
}

/// How many outputs of a job are read, or uploaded, at once.
const AT_ONCE: usize = 4;

/// What an output holds, as [`upload`] and the master playlist need it: its duration, and for
/// an HLS variant its segments and what its master says of it.
type Facts = (Option<f64>, Vec<(String, f64)>, Option<(hls::Variant, (u64, u64))>);

async fn facts_of(ffprobe: &Path, work: &Path, output: &Output) -> Result<Facts, JobError> {
    if output.frames {
        return Ok((None, Vec::new(), None));
    }
    let path = work.join(&output.file);
    let duration = match mp4_seconds(&path).await {
        Some(seconds) => Some(seconds),
        None => seconds_of(ffprobe, &path.to_string_lossy()).await,
    };
    if !output.hls {
        return Ok((duration, Vec::new(), None));
    }
    let segments = segments_of(work, output)?;
    let variant = variant_of(ffprobe, work, output, &segments).await?;
    Ok((duration, segments, Some(variant)))
}

/// The segments an HLS variant's playlist names, with their durations.
fn segments_of(work: &Path, output: &Output) -> Result<Vec<(String, f64)>, JobError> {
    let playlist = work.join(&output.file);
    let text = std::fs::read(&playlist).map_err(|e| (OUTPUT_FAILED, format!("{}: {e}", playlist.display())))?;
    hls::segments(&text).map_err(|e| (OUTPUT_FAILED, format!("{}: {e}", output.file)))
}

/// An HLS variant as the master playlist names it: bandwidth measured over its `segments`,
/// codecs, size and frame rate as ffprobe reads its first segment.
async fn variant_of(
    ffprobe: &Path,
    work: &Path,
    output: &Output,
    segments: &[(String, f64)],
) -> Result<(hls::Variant, (u64, u64)), JobError> {
    let playlist = work.join(&output.file);
    let folder = playlist.parent().unwrap_or(work);
    let bandwidth = hls::bandwidth(folder, segments).map_err(|e| (OUTPUT_FAILED, format!("{}: {e}", output.file)))?;
    let first = segments.first().map(|(uri, _)| folder.join(uri));
    let streams = match &first {
        Some(path) => streams_of(ffprobe, path).await,
        None => Vec::new(),
    };
    let video = streams.iter().find(|s| s["codec_type"] == "video");
    let audio = streams.iter().any(|s| s["codec_type"] == "audio");
    let codecs = video.and_then(|v| {
        let level = u32::try_from(v["level"].as_i64()?).ok()?;
        hls::codecs(v["profile"].as_str()?, level, audio)
    });
    let frame_rate = video.and_then(|v| {
        let (n, d) = v["avg_frame_rate"].as_str()?.split_once('/')?;
        let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
        (d > 0.0).then(|| (n / d * 1000.0).round() / 1000.0)
    });
    let (width, height) = output.video.unwrap_or_default();
    let uri = output.file.rsplit('/').next().unwrap_or_default().to_string();
    Ok((hls::Variant { uri, width, height, frame_rate, codecs }, bandwidth))
}

/// The streams of a media file as ffprobe lists them.
async fn streams_of(ffprobe: &Path, path: &Path) -> Vec<serde_json::Value> {
    let entries = "stream=codec_type,profile,level,avg_frame_rate";
    let out = tokio::process::Command::new(ffprobe)
        .args(["-v", "error", "-show_entries", entries, "-of", "json"])
        .arg(path)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    let parsed: Option<serde_json::Value> = out.ok().and_then(|o| serde_json::from_slice(&o.stdout).ok());
    parsed.and_then(|p| p["streams"].as_array().cloned()).unwrap_or_default()
}

/// Writes `body` at `destination` (`s3://bucket/key`).
async fn put(service: &Service, body: ByteStream, destination: &str, content_type: &str) -> Result<(), JobError> {
    let (bucket, key) = s3_location(destination)
        .ok_or_else(|| (OUTPUT_FAILED, format!("destination {destination:?} is not s3://bucket/key")))?;
    let put = service.settings.s3.put_object().bucket(bucket).key(key).content_type(content_type).body(body);
    put.send().await.map_err(|e| (OUTPUT_FAILED, format!("writing {destination}: {e}")))?;
    Ok(())
}

async fn put_file(service: &Service, path: &Path, destination: &str, content_type: &str) -> Result<(), JobError> {
    let body = ByteStream::from_path(path).await.map_err(|e| (OUTPUT_FAILED, format!("{}: {e}", path.display())))?;
    put(service, body, destination, content_type).await
}

/// Writes `output` (of `duration` seconds) to its destination: an HLS
/// variant's `segments` first, then its playlist.
async fn upload(
    service: &Service,
    work: &Path,
    output: &Output,
    duration: Option<f64>,
    segments: &[(String, f64)],
) -> Result<OutputDetail, JobError> {
    let path = work.join(&output.file);
    if output.frames {
        return upload_frames(service, work, output, duration).await;
    }
    if output.hls {
        let folder = output.destination.rsplit_once('/').map_or("", |(folder, _)| folder);
        for (uri, _) in segments {
            put_file(service, &path.with_file_name(uri), &format!("{folder}/{uri}"), "video/mp2t").await?;
        }
        put_file(service, &path, &output.destination, "application/vnd.apple.mpegurl").await?;
    } else {
        let content_type = if output.file.ends_with(".mp3") { "audio/mpeg" } else { "video/mp4" };
        put_file(service, &path, &output.destination, content_type).await?;
    }
    Ok(OutputDetail {
        output_file_paths: vec![output.destination.clone()],
        duration_in_ms: duration.map(|s| (s * 1000.0).round() as u64),
        video_details: output.video.map(|(w, h)| VideoDetails {
            width_in_px: w as u32,
            height_in_px: h as u32,
            average_bitrate: None,
        }),
    })
}

/// An MP4 file's duration in seconds, as its movie header gives it (what ffprobe reports for
/// one); `None` for a file that is not an MP4 the `mp4` crate can read.
async fn mp4_seconds(path: &Path) -> Option<f64> {
    if path.extension().is_none_or(|e| e != "mp4") {
        return None;
    }
    let path = path.to_path_buf();
    let read = move || {
        let file = std::fs::File::open(&path).ok()?;
        let size = file.metadata().ok()?.len();
        let mp4 = mp4::Mp4Reader::read_header(std::io::BufReader::new(file), size).ok()?;
        Some(mp4.duration().as_secs_f64()).filter(|s| *s > 0.0)
    };
    tokio::task::spawn_blocking(read).await.ok().flatten()
}

/// A media file's duration in seconds, as ffprobe reads it. Like the job's ffmpeg, the probe
/// dies with its task.
async fn seconds_of(ffprobe: &Path, target: &str) -> Option<f64> {
    let out = tokio::process::Command::new(ffprobe)
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", target])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok().filter(|s: &f64| *s > 0.0)
}

/// `statusUpdateInterval` (`SECONDS_60`, MediaConvert's default).
fn status_interval(request: &serde_json::Value) -> Duration {
    let seconds = request["statusUpdateInterval"]
        .as_str()
        .and_then(|s| s.strip_prefix("SECONDS_"))
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(seconds)
}

/// Writes a frame capture's JPEGs, `<destination>.0000000.jpg` on, in order. Its detail names
/// the last, as MediaConvert's does ("the final captured image": its number says how many).
async fn upload_frames(
    service: &Service,
    work: &Path,
    output: &Output,
    duration: Option<f64>,
) -> Result<OutputDetail, JobError> {
    let pattern = work.join(&output.file);
    let folder = pattern.parent().unwrap_or(work);
    let name = pattern.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".%07d.jpg")).unwrap_or("");
    let mut last = None;
    for n in 0.. {
        let file = folder.join(frame_key(name, n));
        if !file.exists() {
            break;
        }
        let destination = frame_key(&output.destination, n);
        put_file(service, &file, &destination, "image/jpeg").await?;
        last = Some(destination);
    }
    let last = last.ok_or_else(|| (OUTPUT_FAILED, format!("{}: no frame was captured", output.destination)))?;
    Ok(OutputDetail {
        output_file_paths: vec![last],
        duration_in_ms: duration.map(|s| (s * 1000.0).round() as u64),
        video_details: output.video.map(|(w, h)| VideoDetails {
            width_in_px: w as u32,
            height_in_px: h as u32,
            average_bitrate: None,
        }),
    })
}
