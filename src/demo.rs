//! `mediaflow demo`: a small sample set made with ffmpeg (a landscape clip that speaks, made with
//! espeak-ng, a portrait clip, an MP3 and SubRip captions), run through the whole pipeline with
//! machine captions on, and the outputs it made.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::platform::{Layout, PUBLIC_BUCKET};

#[derive(clap::Args)]
pub struct Args {
    /// The data folder: samples, buckets, executions.
    #[arg(long, default_value = "mediaflow-data")]
    pub data: PathBuf,
}

/// What the landscape clip says, for its machine caption.
const NARRATION: &str = "Welcome to mediaflow. Every upload becomes delivery ready assets: \
renditions, a thumbnail, a storyboard, and captions written by a machine.";

const CAPTIONS: &str = "1\n00:00:01,000 --> 00:00:04,000\nWelcome to <i>mediaflow</i>.\n\n\
2\n00:00:04,500 --> 00:00:08,000\nEvery upload becomes delivery-ready assets.\n";

fn ffmpeg(args: &[&str]) -> Result<()> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .context("running ffmpeg (install it: apt-get install ffmpeg, brew install ffmpeg)")?;
    if !out.status.success() {
        bail!("ffmpeg {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Makes `path` with `make` (given where to write) unless it is there. It is written under
/// another name first, so that an interrupted run leaves no half-made sample behind.
fn once(path: &Path, make: impl FnOnce(&str) -> Result<()>) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let name = path.file_name().context("a file name")?.to_string_lossy();
    let partial = path.with_file_name(format!("partial-{name}"));
    make(partial.to_str().context("a UTF-8 path")?)?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// The sample set, made once, with the key each is uploaded under.
fn samples(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    std::fs::create_dir_all(dir)?;
    let speech = dir.join("narration.wav");
    once(&speech, |out| {
        let spoke = Command::new("espeak-ng")
            .args(["-s", "150", "-w", out, NARRATION])
            .status()
            .context("running espeak-ng, which speaks the demo's narration (scripts/ensure-tools installs it)")?;
        if !spoke.success() {
            bail!("espeak-ng failed: {spoke}");
        }
        Ok(())
    })?;
    let clip = |name: &str, size: &str, seconds: &str, sound: &[&str]| -> Result<PathBuf> {
        let path = dir.join(name);
        let source = format!("testsrc2=size={size}:rate=25");
        once(&path, |out| {
            let mut args = vec!["-f", "lavfi", "-i", &source];
            args.extend(sound);
            args.extend([
                "-t",
                seconds,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-af",
                "apad",
                "-shortest",
                out,
            ]);
            ffmpeg(&args)
        })?;
        Ok(path)
    };
    let narration = ["-i", speech.to_str().context("a UTF-8 path")?];
    let landscape = clip("talk.mp4", "1920x1080", "10", &narration)?;
    let tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];
    let portrait = clip("phone.mp4", "720x1280", "8", &tone)?;
    let mp3 = dir.join("intro.mp3");
    once(&mp3, |out| {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:sample_rate=44100",
            "-t",
            "5",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            out,
        ])
    })?;
    let srt = dir.join("talk.en.srt");
    std::fs::write(&srt, CAPTIONS)?;
    Ok(vec![
        (landscape, "inputs/demo/talk.mp4".into()),
        (portrait, "inputs/demo/phone.mp4".into()),
        (mp3, "inputs/demo/intro.mp3".into()),
        (srt, "inputs/demo/talk.en.srt".into()),
    ])
}

pub fn run(args: &Args) -> Result<bool> {
    eprintln!("making the sample set with ffmpeg in {}…", args.data.join("samples").display());
    let uploads = samples(&args.data.join("samples"))?;
    let runtime = tokio::runtime::Runtime::new()?;
    // The demo shows machine captions: the landscape clip's narration is transcribed.
    let options = crate::platform::Options {
        captions: crate::platform::Captions { enabled: true, ..Default::default() },
        ..Default::default()
    };
    let succeeded = runtime.block_on(crate::process::process(&args.data, &options, &uploads, false))?;
    let public = Layout::of(&args.data).buckets.join(PUBLIC_BUCKET);
    println!("\nthe public bucket ({}):", public.display());
    let mut files = Vec::new();
    list(&public, &public, &mut files)?;
    files.sort();
    for (path, size) in files {
        println!("  {path:<44} {:>9.1} KiB", size as f64 / 1024.0);
    }
    Ok(succeeded)
}

fn list(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            list(root, &path, out)?;
        } else if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            let relative = path.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
            out.push((relative, path.metadata()?.len()));
        }
    }
    Ok(())
}
