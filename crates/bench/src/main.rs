//! Bytes read and peak memory of Probe and SaveFrame on a large 1080p upload, against the
//! baseline of downloading the whole file and running ffprobe / ffmpeg on the local copy.
//! Bytes read come from the handlers themselves (the endpoint counts what each GET streamed);
//! peak memory is that of the ffprobe / ffmpeg command each handler runs, measured with GNU
//! time on the same command lines. Usage: measure-functions [MEGABYTES] (default 200).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_s3::presigning::PresigningConfig;
use mediaflow_core::contract::{MediaInput, ProbeInput, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::probe::FFPROBE_ARGS;
use mediaflow_s3::EmbeddedS3;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// Runs a command under GNU time; returns its peak resident memory in MiB.
fn peak_mib(program: &str, args: &[&str]) -> Result<f64> {
    let report = tempfile::NamedTempFile::new()?;
    let status = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .arg(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running /usr/bin/time (apt-get install time)")?;
    anyhow::ensure!(status.success(), "{program} failed");
    let kib: f64 = std::fs::read_to_string(report.path())?.trim().lines().last().unwrap_or("0").parse()?;
    Ok(kib / 1024.0)
}

const FRAME_ARGS: [&str; 8] = ["-frames:v", "1", "-vf", "scale=1920:1080", "-q:v", "2", "-f", "mjpeg"];

#[tokio::main]
async fn main() -> Result<()> {
    let megabytes: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("big.mp4");
    mediaflow_testkit::large_video(&file, megabytes);
    let size = std::fs::metadata(&file)?.len();
    let s3 = EmbeddedS3::start(&dir.path().join("data"), &["watch", "public"], "127.0.0.1:0".parse()?).await?;
    let key = "inputs/big.mp4";
    let body = aws_sdk_s3::primitives::ByteStream::from_path(&file).await?;
    s3.client().put_object().bucket("watch").key(key).body(body).send().await?;
    let source = Source {
        bucket: "watch".into(),
        key: key.into(),
        size,
        etag: String::new(),
        sequencer: None,
        version_id: None,
    };
    println!("upload: {:.1} MiB of 1080p H.264 at 8 Mb/s, index at the end", mib(size));

    let probe_clients = probe::Clients { s3: s3.client(), ffprobe: "ffprobe".into() };
    let start = Instant::now();
    let probe = probe::handler(ProbeInput { source: source.clone() }, &probe_clients).await.context("probe")?;
    let probe_time = start.elapsed().as_secs_f64();
    let probe_read = s3.bytes_served("watch", key);

    let frame_clients = save_frame::Clients {
        s3: s3.client(),
        destination_bucket: "public".into(),
        ffmpeg: "ffmpeg".into(),
        frame_seconds: mediaflow_core::thumbnail::DEFAULT_FRAME_SECONDS,
    };
    let asset = mediaflow_core::classify::classify(&SourceKey::parse(key)?, b"\0\0\0\x20ftypisom");
    let start = Instant::now();
    let frame_source = source.clone();
    save_frame::handler(MediaInput { source, asset, probe }, &frame_clients).await.context("save-frame")?;
    let frame_time = start.elapsed().as_secs_f64();
    let frame_read = s3.bytes_served("watch", key) - probe_read;

    // The fallback: the same picture as an MPEG-TS whose timestamps start at 1,000 s, where the
    // input seek finds nothing and SaveFrame decodes from the start up to the frame.
    let late = dir.path().join("late.ts");
    let big = file.to_str().context("UTF-8 path")?;
    mediaflow_testkit::ffmpeg(&[
        "-i",
        big,
        "-c",
        "copy",
        "-output_ts_offset",
        "1000",
        "-f",
        "mpegts",
        late.to_str().unwrap(),
    ]);
    let late_key = "inputs/late.ts";
    let body = aws_sdk_s3::primitives::ByteStream::from_path(&late).await?;
    s3.client().put_object().bucket("watch").key(late_key).body(body).send().await?;
    let late_size = std::fs::metadata(&late)?.len();
    let late_source = Source { key: late_key.into(), size: late_size, ..frame_source.clone() };
    let late_probe =
        probe::handler(ProbeInput { source: late_source.clone() }, &probe_clients).await.context("probe")?;
    let late_asset = mediaflow_core::classify::classify(&SourceKey::parse(late_key)?, &[0x47; 1]);
    let before_late = s3.bytes_served("watch", late_key);
    let start = Instant::now();
    let late_input = MediaInput { source: late_source, asset: late_asset, probe: late_probe };
    save_frame::handler(late_input, &frame_clients).await.context("save-frame of the late MPEG-TS")?;
    let late_time = start.elapsed().as_secs_f64();
    let late_read = s3.bytes_served("watch", late_key) - before_late;

    // The same command lines, under GNU time, for their peak memory.
    let url = s3
        .client()
        .get_object()
        .bucket("watch")
        .key(key)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600))?)
        .await?
        .uri()
        .to_string();
    let probe_args: Vec<&str> = FFPROBE_ARGS.iter().copied().chain([url.as_str()]).collect();
    let probe_peak = peak_mib("ffprobe", &probe_args)?;
    let frame_args: Vec<&str> = ["-v", "error", "-nostdin", "-ss", "7", "-i", url.as_str()]
        .into_iter()
        .chain(FRAME_ARGS)
        .chain(["-"])
        .collect();
    let frame_peak = peak_mib("ffmpeg", &frame_args)?;

    // Baseline: download, then the same tools on the local copy.
    let before = s3.bytes_served("watch", key);
    let start = Instant::now();
    let local = dir.path().join("downloaded.mp4");
    let got = s3.client().get_object().bucket("watch").key(key).send().await?;
    std::fs::write(&local, got.body.collect().await?.into_bytes())?;
    let download_time = start.elapsed().as_secs_f64();
    let downloaded = s3.bytes_served("watch", key) - before;
    let local_path = local.to_str().context("UTF-8 path")?;
    let local_probe: Vec<&str> = FFPROBE_ARGS.iter().copied().chain([local_path]).collect();
    let local_probe_peak = peak_mib("ffprobe", &local_probe)?;
    let local_frame: Vec<&str> =
        ["-v", "error", "-nostdin", "-ss", "7", "-i", local_path].into_iter().chain(FRAME_ARGS).chain(["-"]).collect();
    let local_frame_peak = peak_mib("ffmpeg", &local_frame)?;

    println!("| step | read | peak memory of the tool | time |");
    println!("|---|---|---|---|");
    println!(
        "| Probe: ffprobe over a presigned URL | {:.2} MiB | {probe_peak:.1} MiB | {probe_time:.2} s |",
        mib(probe_read)
    );
    println!(
        "| SaveFrame: ffmpeg -ss 7 over the URL | {:.2} MiB | {frame_peak:.1} MiB | {frame_time:.2} s |",
        mib(frame_read)
    );
    println!(
        "| SaveFrame, fallback: a decoding seek into an MPEG-TS starting at 1,000 s ({:.0} MiB) | {:.2} MiB | | {late_time:.2} s |",
        mib(late_size),
        mib(late_read)
    );
    println!("| baseline: download the upload | {:.2} MiB | | {download_time:.2} s |", mib(downloaded));
    println!("| baseline: ffprobe on the local copy | | {local_probe_peak:.1} MiB | |");
    println!("| baseline: ffmpeg -ss 7 on the local copy | | {local_frame_peak:.1} MiB | |");
    println!(
        "bytes read against the download: probe {:.4}, frame {:.4}, frame by the fallback {:.4}; peak memory against the local run: probe {:.2}, frame {:.2}",
        probe_read as f64 / downloaded as f64,
        frame_read as f64 / downloaded as f64,
        late_read as f64 / late_size as f64,
        probe_peak / local_probe_peak,
        frame_peak / local_frame_peak
    );
    let _ = Path::new(&local);
    Ok(())
}
