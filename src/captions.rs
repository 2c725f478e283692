//! `mediaflow captions FILE`: a caption file to WebVTT, as the pipeline converts it; with
//! `--check`, whether its cues keep the reading rules machine captions are laid out by.

use mediaflow_core::Named;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use mediaflow_captions::convert;
use mediaflow_core::classify::caption_format_for;

#[derive(clap::Args)]
pub struct Args {
    /// The caption file: .srt, .sbv, .ttml, .dfxp, .xml or .vtt.
    file: PathBuf,
    /// Where to write the WebVTT; `-` for standard output. Default: the file with `.vtt`.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Write nothing: check that every cue keeps the rules machine captions are laid out by (at
    /// most two lines of 42 characters, 1-7 s on screen, in order); exit 1 naming the first
    /// cue that breaks one.
    #[arg(long)]
    check: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let ext = args.file.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let format = caption_format_for(&ext).ok_or_else(|| {
        anyhow!("{} is not a caption file: use .srt, .sbv, .ttml, .dfxp, .xml or .vtt", args.file.display())
    })?;
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let conversion = convert(&bytes, format).map_err(|e| anyhow!("{}: {e} ({})", args.file.display(), e.name()))?;
    if args.check {
        let captions = mediaflow_captions::read(&conversion.vtt, mediaflow_captions::CaptionFormat::Vtt)
            .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
        mediaflow_captions::check(&captions.cues).map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
        println!("{}: {} cues keep the rules", args.file.display(), captions.cues.len());
        return Ok(());
    }
    let output = args.output.clone().unwrap_or_else(|| args.file.with_extension("vtt"));
    if output.as_os_str() == "-" {
        print!("{}", conversion.vtt);
    } else {
        if output == args.file && !conversion.unchanged {
            return Err(anyhow!("{} would overwrite the input; name another --output", output.display()));
        }
        std::fs::write(&output, &conversion.vtt).with_context(|| format!("writing {}", output.display()))?;
    }
    for repair in &conversion.repairs {
        eprintln!("repaired: {repair}");
    }
    eprintln!(
        "{} cues, read as {}{} → {}",
        conversion.cues,
        conversion.encoding,
        if conversion.unchanged { ", valid WebVTT kept as it is" } else { "" },
        output.display()
    );
    Ok(())
}
