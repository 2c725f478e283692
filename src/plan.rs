//! `mediaflow plan FILE`: what the pipeline would do with a local file.

use mediaflow_core::Named;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use mediaflow_core::classify::{SNIFF_BYTES, classify};
use mediaflow_core::contract::AssetKind;
use mediaflow_core::cost::{CostEstimate, PriceTable};
use mediaflow_core::keys::{INPUTS_PREFIX, SourceKey};
use mediaflow_core::plan::{PlanConfig, UploadPlan, needs_probe, plan_upload};
use mediaflow_core::probe::{FFPROBE_ARGS, Probe, parse_ffprobe};
use mediaflow_core::thumbnail::DEFAULT_FRAME_SECONDS;
use serde_json::Value;

#[derive(clap::Args)]
pub struct Args {
    /// The file, as it would be uploaded; a relative path keeps its folders under inputs/.
    file: PathBuf,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// A MediaConvert job template to use instead of the shipped infra/job.json (or job-audio.json).
    #[arg(long)]
    template: Option<PathBuf>,
    /// A price table to estimate the cost with instead of the shipped infra/mediaconvert-prices.json.
    #[arg(long)]
    prices: Option<PathBuf>,
    #[arg(long, env = "WATCH_BUCKET", default_value = "mediaflow-watch")]
    watch_bucket: String,
    #[arg(long, env = "DESTINATION_BUCKET", default_value = "mediaflow-public")]
    public_bucket: String,
    /// Seconds into the media of the thumbnail frame.
    #[arg(long, env = "FRAME_SECONDS", default_value_t = DEFAULT_FRAME_SECONDS)]
    frame_seconds: f64,
    /// The ffprobe to run.
    #[arg(long, env = "FFPROBE_PATH", default_value = "ffprobe")]
    ffprobe: PathBuf,
    #[command(flatten)]
    captions: crate::platform::Captions,
}

pub fn run(args: &Args) -> Result<()> {
    let head = read_head(&args.file)?;
    let key = SourceKey::parse(&input_key(&args.file)).map_err(|e| anyhow::anyhow!("{} ({})", e, e.name()))?;
    let asset = classify(&key, &head);
    let probe = if needs_probe(&asset) { Some(probe(&args.ffprobe, &args.file)?) } else { None };
    let template = match &args.template {
        Some(path) => Some(read_template(path)?),
        None => None,
    };
    let prices = match &args.prices {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            PriceTable::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e} ({})", path.display(), e.name()))?
        }
        None => PriceTable::shipped(),
    };
    let captions = match args.captions.enabled {
        true => Some(args.captions.settings().map_err(|e| anyhow::anyhow!("{e} ({})", e.name()))?),
        false => None,
    };
    let config = PlanConfig {
        frame_seconds: args.frame_seconds,
        prices,
        captions,
        ..PlanConfig::new(&args.watch_bucket, &args.public_bucket)
    };
    let template_name = args.template.as_ref().map(|p| p.display().to_string());
    let template_ref = template.as_ref().zip(template_name.as_deref()).map(|(t, n)| (n, t));
    let plan =
        plan_upload(&key, asset, probe, template_ref, &config).map_err(|e| anyhow::anyhow!("{} ({})", e, e.name()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", describe(&args.file, &plan));
    }
    Ok(())
}

/// The key a file gets under `inputs/`: its relative path, or its name when the path is
/// absolute or climbs out (`..`).
pub fn input_key(file: &Path) -> String {
    let plain = file.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let relative: PathBuf = if plain {
        file.components().filter(|c| matches!(c, Component::Normal(_))).collect()
    } else {
        file.file_name().map(PathBuf::from).unwrap_or_default()
    };
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    format!("{INPUTS_PREFIX}{}", parts.join("/"))
}

fn read_head(file: &Path) -> Result<Vec<u8>> {
    let mut f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    if f.metadata()?.is_dir() {
        bail!("{} is a folder; give a file", file.display());
    }
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    f.by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", file.display()))?;
    Ok(head)
}

fn probe(ffprobe: &Path, file: &Path) -> Result<Probe> {
    let output = Command::new(ffprobe).args(FFPROBE_ARGS).arg(file).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "{} was not found. Install ffmpeg, which brings ffprobe: `sudo apt-get install ffmpeg` \
                 (Debian/Ubuntu), `brew install ffmpeg` (macOS); or set FFPROBE_PATH",
                ffprobe.display()
            )
        } else {
            anyhow::anyhow!("running {}: {e}", ffprobe.display())
        }
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().last().unwrap_or("ffprobe failed").trim();
        bail!("{} cannot be read as media (MediaFlow.InvalidMedia): {why}", file.display());
    }
    parse_ffprobe(&output.stdout).map_err(|e| anyhow::anyhow!("{}: {} ({})", file.display(), e, e.name()))
}

fn read_template(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the template {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("the template {} is not JSON (MediaFlow.InvalidTemplate)", path.display()))
}

/// The plan as a person reads it.
fn describe(file: &Path, plan: &UploadPlan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let a = &plan.asset;
    let _ = writeln!(s, "{} → {}", file.display(), plan.key);
    let container = a.container.map(|c| format!(" ({} container)", c.describe())).unwrap_or_default();
    let _ = writeln!(s, "kind:       {}{container}", serde_json::to_value(a.kind).unwrap().as_str().unwrap_or("?"));
    match a.kind {
        AssetKind::Unsupported => {
            let _ = writeln!(s, "skipped:    {}", a.reason.as_deref().unwrap_or(""));
            let _ = writeln!(s, "            the pipeline ends this upload's run without an error and deletes nothing");
        }
        AssetKind::Chunk => {
            let c = a.chunk.as_ref().expect("a chunk has its part");
            let _ = writeln!(s, "part:       {} of {}; assembled once every part is uploaded", c.index, c.target_key);
        }
        _ => {}
    }
    if let Some(p) = &plan.probe {
        let duration = p.duration_seconds.map(|d| format!("{d:.2} s")).unwrap_or_else(|| "unknown length".into());
        let _ = writeln!(s, "probe:      {}, {duration}", p.container);
        if let Some(v) = &p.video {
            let fps = v.frame_rate.map(|f| format!(", {f} fps")).unwrap_or_default();
            let rotated = if v.rotation != 0 { format!(", rotated {}°", v.rotation) } else { String::new() };
            let _ = writeln!(
                s,
                "  video:    {} {}×{} (shown {}×{}{rotated}){fps}{}",
                v.codec,
                v.width,
                v.height,
                v.display_width,
                v.display_height,
                if v.hdr { ", HDR" } else { "" }
            );
        }
        for a in &p.audio {
            let lang = a.language.as_deref().map(|l| format!(" [{l}]")).unwrap_or_default();
            let _ = writeln!(s, "  audio:    {} {} ch {} Hz{lang}", a.codec, a.channels, a.sample_rate);
        }
    }
    if let Some(job) = &plan.job {
        let rungs: Vec<String> =
            job.renditions.iter().map(|r| format!("{} {}×{}", r.label, r.width, r.height)).collect();
        if !rungs.is_empty() {
            let _ = writeln!(s, "renditions: {}", rungs.join(", "));
        }
    }
    if let Some(t) = &plan.thumbnail {
        let _ = writeln!(s, "thumbnail:  {}×{} at {} s", t.width, t.height, t.at_seconds);
    }
    if let Some(cost) = plan.job.as_ref().and_then(|j| j.cost.as_ref()) {
        s.push_str(&describe_cost(cost));
    }
    if let Some(captions) = &plan.captions {
        match (&captions.skipped, &captions.cost) {
            (Some(reason), _) => {
                let _ = writeln!(s, "captions:   no machine caption: {reason}");
            }
            (None, Some(c)) => {
                let _ = writeln!(
                    s,
                    "captions:   machine, by Transcribe: about {:.4} {} for {} s ({} prices of {})",
                    c.cost, c.currency, c.billed_seconds, c.region, c.prices_as_of
                );
            }
            (None, None) => {}
        }
    }
    if !plan.outputs.is_empty() {
        let _ = writeln!(s, "outputs:");
        for o in &plan.outputs {
            let _ = writeln!(s, "  {o}");
        }
    }
    if let Some(job) = &plan.job {
        let _ = writeln!(s, "MediaConvert job (from {}):", job.template);
        let _ = writeln!(s, "{}", serde_json::to_string_pretty(&job.job).unwrap_or_default());
    }
    s
}

/// The estimate, per output, with a warning when a setting makes the job Professional.
fn describe_cost(cost: &CostEstimate) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let tier = serde_json::to_value(cost.tier).unwrap_or_default();
    let _ = writeln!(
        s,
        "cost:       about {:.4} {} on AWS, {} tier ({} prices of {}; an estimate, see README)",
        cost.total,
        cost.currency,
        tier.as_str().unwrap_or("?"),
        cost.region,
        cost.prices_as_of
    );
    for o in &cost.outputs {
        let class = serde_json::to_value(o.class).unwrap_or_default();
        let fast = if o.high_frame_rate { ", above 30 fps" } else { "" };
        let frames = if o.frame_capture { ", frame capture" } else { "" };
        let _ = writeln!(
            s,
            "  {:<24} {:<5} {} s × {}/min{fast}{frames} = {:.4}",
            o.output,
            class.as_str().unwrap_or("?"),
            o.billed_seconds,
            o.rate_per_minute,
            o.cost
        );
    }
    for unpriced in &cost.unpriced {
        let _ = writeln!(s, "not priced: {unpriced} (left out of the total)");
    }
    for feature in &cost.professional_features {
        let _ = writeln!(s, "warning:    {feature} makes the whole job bill at the Professional tier");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::input_key;
    use std::path::Path;

    #[test]
    fn relative_paths_keep_their_folders() {
        assert_eq!(input_key(Path::new("talk.mp4")), "inputs/talk.mp4");
        assert_eq!(input_key(Path::new("course/talk.mp4")), "inputs/course/talk.mp4");
        assert_eq!(input_key(Path::new("./team/talk.mp4")), "inputs/team/talk.mp4");
        assert_eq!(input_key(Path::new("/tmp/x/talk.mp4")), "inputs/talk.mp4");
        assert_eq!(input_key(Path::new("../up/talk.mp4")), "inputs/talk.mp4");
    }
}
