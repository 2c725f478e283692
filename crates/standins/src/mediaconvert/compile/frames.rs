//! A FRAME_CAPTURE output (`RAW` container, `FRAME_CAPTURE` codec): JPEG stills, the first at
//! t=0 and then one every `framerateDenominator / framerateNumerator` seconds, at most
//! `maxCaptures`, named `<destination><nameModifier>.<n as 7 digits>.jpg` from 0.

use super::{Request, Unsupported};

/// What a frame capture output takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FrameCapture {
    pub width: u64,
    pub height: u64,
    /// Seconds between frames, as the fraction `denominator / numerator`.
    pub numerator: u64,
    pub denominator: u64,
    pub max_captures: Option<u64>,
    /// JPEG quality 1-100.
    pub quality: u64,
}

/// MediaConvert's default `quality` of a frame capture.
const DEFAULT_QUALITY: u64 = 80;

/// Whether the video description at `at` is a frame capture.
pub(super) fn is_frame_capture(r: &Request, at: &str) -> bool {
    r.at(&format!("{at}/codecSettings/codec")).and_then(|v| v.as_str()) == Some("FRAME_CAPTURE")
}

/// Reads the frame capture video description at `at`.
pub(super) fn compile_frames(r: &mut Request, at: &str) -> Result<FrameCapture, Unsupported> {
    let width = r.number(&format!("{at}/width"))?.ok_or_else(|| r.unsupported(&format!("{at}/width")))?;
    let height = r.number(&format!("{at}/height"))?.ok_or_else(|| r.unsupported(&format!("{at}/height")))?;
    r.choice(&format!("{at}/scalingBehavior"), &["DEFAULT", "STRETCH_TO_OUTPUT"])?;
    r.choice(&format!("{at}/codecSettings/codec"), &["FRAME_CAPTURE"])?;
    let settings = format!("{at}/codecSettings/frameCaptureSettings");
    let positive = |r: &mut Request, name: &str, default: Option<u64>| -> Result<u64, Unsupported> {
        let at = format!("{settings}/{name}");
        match r.number(&at)?.or(default) {
            Some(0) | None => Err(r.unsupported(&at)),
            Some(n) => Ok(n),
        }
    };
    // The rate has no default the stand-in could be sure of: a job must say it.
    let numerator = positive(r, "framerateNumerator", None)?;
    let denominator = positive(r, "framerateDenominator", None)?;
    let quality = positive(r, "quality", Some(DEFAULT_QUALITY))?;
    if quality > 100 {
        return Err(r.unsupported(&format!("{settings}/quality")));
    }
    let max_captures = match r.number(&format!("{settings}/maxCaptures"))? {
        Some(0) => return Err(r.unsupported(&format!("{settings}/maxCaptures"))),
        n => n,
    };
    Ok(FrameCapture { width, height, numerator, denominator, max_captures, quality })
}

impl FrameCapture {
    /// The filter chain after the decoded picture (ended by `[label]`): frame k is the first
    /// frame at or after k × interval (`selected_n` counts the frames taken, so the times do
    /// not drift), so a video shorter than one interval still gives its first frame.
    pub(super) fn chain(&self, label: &str) -> String {
        let FrameCapture { width, height, numerator, denominator, .. } = self;
        format!(
            "select='gte(t*{numerator},selected_n*{denominator})',scale={width}:{height}:flags=bicubic,setsar=1[{label}]"
        )
    }

    /// ffmpeg's arguments for the output, before its file name (`pattern`, with `%07d`).
    pub(super) fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v"].map(String::from).into();
        args.push(qscale(self.quality).to_string());
        // One still per selected frame: no frame is repeated to keep a rate.
        args.extend(["-fps_mode", "passthrough"].map(String::from));
        if let Some(max) = self.max_captures {
            args.extend(["-frames:v".into(), max.to_string()]);
        }
        args.extend(["-an", "-f", "image2", "-start_number", "0"].map(String::from));
        args
    }
}

/// JPEG quality 1-100 as ffmpeg's MJPEG `-q:v` (2 best … 31 worst), linearly.
pub(super) fn qscale(quality: u64) -> u64 {
    let quality = quality.clamp(1, 100);
    2 + ((100 - quality) * 29 + 49) / 99
}
