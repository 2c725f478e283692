//! A MediaConvert CreateJob request (wire format, camelCase) made into one ffmpeg run that
//! decodes the input once and encodes every output. Every setting of the request is either
//! honoured or refused by its path: a stand-in that approximated silently would let a job pass
//! here that AWS would run differently.

use std::collections::BTreeSet;

use serde_json::Value;

mod frames;
mod loudness;

pub use loudness::{LoudnessFix, Loudnorm, Measured};

/// What one ffmpeg run makes.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    /// ffmpeg's arguments after the input (`-i <input>` comes first, from the caller).
    pub args: Vec<String>,
    pub outputs: Vec<Output>,
    pub groups: Vec<Group>,
    /// The outputs whose audio is normalized, whose filter waits for the source's measurement.
    pub loudness: Vec<LoudnessFix>,
}

/// An output group: its type as MediaConvert's events name it, and for HLS where its master
/// playlist goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub kind: &'static str,
    pub master: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The output group it belongs to.
    pub group: usize,
    /// The file ffmpeg writes, relative to its working folder.
    pub file: String,
    /// Where the file goes: `s3://bucket/key`.
    pub destination: String,
    /// Width and height, for outputs with video.
    pub video: Option<(u64, u64)>,
    /// An HLS variant: `file` is its playlist, beside its segments in their own folder.
    pub hls: bool,
    /// A frame capture: `file` is a pattern (`%07d`) of JPEGs in their own folder, and
    /// `destination` the prefix of their keys (`<prefix>.0000000.jpg`, …).
    pub frames: bool,
}

/// A setting the stand-in cannot honour, by its path in the request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the local MediaConvert stand-in cannot honour {setting} = {value}")]
pub struct Unsupported {
    pub setting: String,
    pub value: String,
}

/// The request, and which of its leaves the compiler has honoured.
struct Request<'a> {
    root: &'a Value,
    honoured: BTreeSet<String>,
}

impl<'a> Request<'a> {
    fn at(&self, pointer: &str) -> Option<&'a Value> {
        self.root.pointer(pointer)
    }

    fn unsupported(&self, pointer: &str) -> Unsupported {
        let value = self.at(pointer).map_or("(missing)".to_string(), Value::to_string);
        Unsupported { setting: dotted(pointer), value }
    }

    /// Marks every leaf under `pointer` honoured without looking: fields with no effect on
    /// what the outputs contain (role, queue, user metadata, names).
    fn accept_any(&mut self, pointer: &str) {
        if let Some(v) = self.at(pointer) {
            let mut leaves = Vec::new();
            leaves_of(v, pointer, &mut leaves);
            self.honoured.extend(leaves);
        }
    }

    /// A string that must be one of `allowed`, if present.
    fn choice(&mut self, pointer: &str, allowed: &[&str]) -> Result<Option<&'a str>, Unsupported> {
        match self.at(pointer) {
            None => Ok(None),
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => {
                self.honoured.insert(pointer.to_string());
                Ok(Some(s.as_str()))
            }
            Some(_) => Err(self.unsupported(pointer)),
        }
    }

    /// A non-negative integer, if present.
    fn number(&mut self, pointer: &str) -> Result<Option<u64>, Unsupported> {
        match self.at(pointer) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) => {
                    self.honoured.insert(pointer.to_string());
                    Ok(Some(n))
                }
                None => Err(self.unsupported(pointer)),
            },
        }
    }

    /// A number that must equal `expected` (a setting whose only honoured value is neutral).
    fn fixed(&mut self, pointer: &str, expected: u64) -> Result<(), Unsupported> {
        match self.number(pointer)? {
            Some(n) if n != expected => Err(self.unsupported(pointer)),
            _ => Ok(()),
        }
    }

    /// A number (integer or not), if present.
    fn float(&mut self, pointer: &str) -> Result<Option<f64>, Unsupported> {
        match self.at(pointer) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) => {
                    self.honoured.insert(pointer.to_string());
                    Ok(Some(n))
                }
                None => Err(self.unsupported(pointer)),
            },
        }
    }

    fn text(&mut self, pointer: &str) -> Result<Option<&'a str>, Unsupported> {
        match self.at(pointer) {
            None => Ok(None),
            Some(Value::String(s)) => {
                self.honoured.insert(pointer.to_string());
                Ok(Some(s.as_str()))
            }
            Some(_) => Err(self.unsupported(pointer)),
        }
    }

    /// An object that, if present, must be empty: settings with nothing set.
    fn empty(&mut self, pointer: &str) -> Result<(), Unsupported> {
        match self.at(pointer) {
            None => Ok(()),
            Some(Value::Object(m)) if m.is_empty() => {
                self.honoured.insert(pointer.to_string());
                Ok(())
            }
            Some(_) => Err(self.unsupported(pointer)),
        }
    }

    fn len(&self, pointer: &str) -> usize {
        self.at(pointer).and_then(Value::as_array).map_or(0, Vec::len)
    }
}

fn leaves_of(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                leaves_of(v, &format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves_of(v, &format!("{pointer}/{i}"), out);
            }
        }
        _ => out.push(pointer.to_string()),
    }
}

/// `/settings/outputGroups/0/name` → `settings.outputGroups[0].name`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

/// QVBR quality 1–10 as an x264 constant rate factor: 7 (MediaConvert's broadcast quality) is
/// x264's default 23; each level is 2 CRF steps.
fn crf(quality: u64) -> u64 {
    37u64.saturating_sub(2 * quality.min(10))
}

/// Compiles `request` (CreateJob's body). `input_name` names the input file, for destinations
/// that end in `/` (MediaConvert then names outputs after the input).
pub fn compile(request: &Value, input_name: &str) -> Result<Compiled, Unsupported> {
    let mut r = Request { root: request, honoured: BTreeSet::new() };
    for neutral in ["/role", "/clientRequestToken", "/queue", "/userMetadata", "/jobTemplate"] {
        r.accept_any(neutral);
    }
    r.number("/priority")?;
    r.choice(
        "/statusUpdateInterval",
        &[
            "SECONDS_10",
            "SECONDS_12",
            "SECONDS_15",
            "SECONDS_20",
            "SECONDS_30",
            "SECONDS_60",
            "SECONDS_120",
            "SECONDS_180",
            "SECONDS_240",
            "SECONDS_300",
            "SECONDS_360",
            "SECONDS_420",
            "SECONDS_480",
            "SECONDS_540",
            "SECONDS_600",
        ],
    )?;
    r.choice("/accelerationSettings/mode", &["DISABLED"])?;
    r.choice("/settings/timecodeConfig/source", &["ZEROBASED"])?;

    if r.len("/settings/inputs") != 1 {
        return Err(r.unsupported("/settings/inputs"));
    }
    r.text("/settings/inputs/0/fileInput")?.ok_or_else(|| r.unsupported("/settings/inputs/0/fileInput"))?;
    r.choice("/settings/inputs/0/timecodeSource", &["ZEROBASED"])?;
    r.choice("/settings/inputs/0/videoSelector/rotate", &["AUTO"])?;
    let selectors: Vec<String> = r
        .at("/settings/inputs/0/audioSelectors")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if selectors.len() > 1 {
        return Err(r.unsupported("/settings/inputs/0/audioSelectors"));
    }
    for name in &selectors {
        r.choice(&format!("/settings/inputs/0/audioSelectors/{name}/defaultSelection"), &["DEFAULT"])?;
    }

    let mut args: Vec<String> = Vec::new();
    let mut outputs = Vec::new();
    let mut groups = Vec::new();
    let mut scales = Vec::new();
    let mut normalized = Vec::new();
    for g in 0..r.len("/settings/outputGroups") {
        let group = format!("/settings/outputGroups/{g}");
        r.accept_any(&format!("{group}/name"));
        let kind = r
            .choice(&format!("{group}/outputGroupSettings/type"), &["FILE_GROUP_SETTINGS", "HLS_GROUP_SETTINGS"])?
            .ok_or_else(|| r.unsupported(&format!("{group}/outputGroupSettings/type")))?;
        let (settings, hls) = match kind {
            "HLS_GROUP_SETTINGS" => {
                let at = format!("{group}/outputGroupSettings/hlsGroupSettings");
                let segments = hls_group(&mut r, &at)?;
                (at, Some(segments))
            }
            _ => (format!("{group}/outputGroupSettings/fileGroupSettings"), None),
        };
        let destination_at = format!("{settings}/destination");
        let destination = r.text(&destination_at)?.ok_or_else(|| r.unsupported(&destination_at))?;
        let base =
            if destination.ends_with('/') { format!("{destination}{input_name}") } else { destination.to_string() };
        groups.push(Group {
            kind: if hls.is_some() { "HLS_GROUP" } else { "FILE_GROUP" },
            master: hls.as_ref().map(|_| format!("{base}.m3u8")),
        });
        for o in 0..r.len(&format!("{group}/outputs")) {
            let out = format!("{group}/outputs/{o}");
            let modifier = r.text(&format!("{out}/nameModifier"))?.unwrap_or_default();
            let containers: &[&str] = if hls.is_some() { &["M3U8"] } else { &["MP4", "RAW"] };
            let container =
                r.choice(&format!("{out}/containerSettings/container"), containers)?.unwrap_or(containers[0]);
            if hls.is_some() {
                r.empty(&format!("{out}/containerSettings/m3u8Settings"))?;
                r.empty(&format!("{out}/outputSettings/hlsSettings"))?;
            }
            let mut video = None;
            let described = format!("{out}/videoDescription");
            if container == "RAW" && hls.is_none() && frames::is_frame_capture(&r, &described) {
                if r.len(&format!("{out}/audioDescriptions")) > 0 {
                    return Err(r.unsupported(&format!("{out}/audioDescriptions")));
                }
                let capture = frames::compile_frames(&mut r, &described)?;
                let label = format!("v{}", scales.len());
                scales.push(capture.chain(&label));
                args.extend(["-map".into(), format!("[{label}]")]);
                args.extend(capture.args());
                let name = format!("{}{modifier}", base.rsplit('/').next().unwrap_or_default());
                let file = format!("frames-{}/{name}.%07d.jpg", outputs.len());
                args.push(file.clone());
                let destination = format!("{base}{modifier}");
                let video = Some((capture.width, capture.height));
                outputs.push(Output { group: g, file, destination, video, hls: false, frames: true });
                continue;
            }
            if r.at(&described).is_some() {
                if container != "MP4" && container != "M3U8" {
                    return Err(r.unsupported(&format!("{out}/containerSettings/container")));
                }
                let (width, height, video_args) = compile_video(&mut r, &format!("{out}/videoDescription"))?;
                let label = format!("v{}", scales.len());
                scales.push(format!("scale={width}:{height}:flags=bicubic,setsar=1[{label}]"));
                args.extend(["-map".into(), format!("[{label}]")]);
                args.extend(video_args);
                video = Some((width, height));
            } else if hls.is_some() {
                // An audio-only rendition of an HLS group is an EXT-X-MEDIA rendition group.
                return Err(r.unsupported(&format!("{out}/containerSettings/container")));
            } else {
                args.push("-vn".into());
            }
            let audio_count = r.len(&format!("{out}/audioDescriptions"));
            if audio_count > 1 {
                return Err(r.unsupported(&format!("{out}/audioDescriptions")));
            }
            let mut codec = None;
            if audio_count == 1 {
                let described = format!("{out}/audioDescriptions/0");
                let (audio_codec, audio_args, sample_rate) = compile_audio(&mut r, &described, &selectors)?;
                // A source without sound: MediaConvert would fail the job; the pipeline removes
                // the audio descriptions for such sources, so `?` only keeps ffmpeg quiet.
                args.extend(["-map".into(), "0:a:0?".into()]);
                args.extend(audio_args);
                if let Some(target) = loudness::compile_normalization(&mut r, &described)? {
                    args.extend(["-af".into(), Loudnorm::of(&target).one_pass()]);
                    normalized.push(LoudnessFix { arg: args.len() - 1, target, sample_rate });
                }
                codec = Some(audio_codec);
            } else {
                args.push("-an".into());
            }
            if let Some(segment_seconds) = &hls {
                // `<stem><NameModifier>.m3u8` and its `_00001.ts` segments, in a folder of its own.
                let name = format!("{}{modifier}", base.rsplit('/').next().unwrap_or_default());
                let folder = format!("hls-{}", outputs.len());
                args.extend(["-f", "hls", "-hls_playlist_type", "vod", "-start_number", "1"].map(String::from));
                args.extend(["-hls_time".into(), segment_seconds.seconds.to_string()]);
                args.extend(["-hls_flags".into(), segment_seconds.flags.clone()]);
                args.extend(["-hls_segment_filename".into(), format!("{folder}/{name}_%05d.ts")]);
                let file = format!("{folder}/{name}.m3u8");
                args.push(file.clone());
                outputs.push(Output {
                    group: g,
                    file,
                    destination: format!("{base}{modifier}.m3u8"),
                    video,
                    hls: true,
                    frames: false,
                });
                continue;
            }
            let ext = match container {
                "MP4" => {
                    let moov = r.choice(
                        &format!("{out}/containerSettings/mp4Settings/moovPlacement"),
                        &["PROGRESSIVE_DOWNLOAD", "NORMAL"],
                    )?;
                    r.choice(
                        &format!("{out}/containerSettings/mp4Settings/audioDuration"),
                        &["DEFAULT_CODEC_DURATION"],
                    )?;
                    if moov != Some("NORMAL") {
                        args.extend(["-movflags".into(), "+faststart".into()]);
                    }
                    args.extend(["-f".into(), "mp4".into()]);
                    "mp4"
                }
                // RAW holds one elementary audio stream: the only one honoured is MP3.
                _ if video.is_none() && codec == Some("MP3") => {
                    args.extend(["-f".into(), "mp3".into()]);
                    "mp3"
                }
                _ => return Err(r.unsupported(&format!("{out}/containerSettings/container"))),
            };
            let file = format!("output-{}.{ext}", outputs.len());
            args.push(file.clone());
            let destination = format!("{base}{modifier}.{ext}");
            outputs.push(Output { group: g, file, destination, video, hls: false, frames: false });
        }
    }
    if outputs.is_empty() {
        return Err(r.unsupported("/settings/outputGroups"));
    }
    if !scales.is_empty() {
        let split = match scales.len() {
            1 => format!("[0:v:0]{}", scales[0]),
            n => {
                let labels: String = (0..n).map(|i| format!("[s{i}]")).collect();
                let chains: Vec<String> = scales.iter().enumerate().map(|(i, s)| format!("[s{i}]{s}")).collect();
                format!("[0:v:0]split={n}{labels};{}", chains.join(";"))
            }
        };
        args.splice(0..0, ["-filter_complex".to_string(), split]);
        for fix in &mut normalized {
            fix.arg += 2;
        }
    }

    let mut leaves = Vec::new();
    leaves_of(request, "", &mut leaves);
    if let Some(left) = leaves.iter().find(|l| !r.honoured.contains(*l)) {
        return Err(r.unsupported(left));
    }
    Ok(Compiled { args, outputs, groups, loudness: normalized })
}

/// What an HLS group's settings make of its segments.
struct Segmenting {
    seconds: u64,
    /// ffmpeg's `-hls_flags`.
    flags: String,
}

/// An HLS group's settings: segments of `segmentLength` seconds (MediaConvert's default 10),
/// cut at the first keyframe at or after it, as MediaConvert's `GOP_MULTIPLE` does; the rest
/// only where its one honoured value is what ffmpeg writes anyway.
fn hls_group(r: &mut Request, at: &str) -> Result<Segmenting, Unsupported> {
    let seconds = r.number(&format!("{at}/segmentLength"))?.unwrap_or(10);
    if seconds == 0 {
        return Err(r.unsupported(&format!("{at}/segmentLength")));
    }
    r.fixed(&format!("{at}/minSegmentLength"), 0)?;
    r.choice(&format!("{at}/segmentLengthControl"), &["GOP_MULTIPLE"])?;
    r.choice(&format!("{at}/segmentControl"), &["SEGMENTED_FILES"])?;
    r.choice(&format!("{at}/directoryStructure"), &["SINGLE_DIRECTORY"])?;
    r.choice(&format!("{at}/outputSelection"), &["MANIFESTS_AND_SEGMENTS"])?;
    r.choice(&format!("{at}/programDateTime"), &["EXCLUDE"])?;
    r.choice(&format!("{at}/codecSpecification"), &["RFC_4281"])?;
    r.choice(&format!("{at}/streamInfResolution"), &["INCLUDE"])?;
    r.choice(&format!("{at}/clientCache"), &["ENABLED"])?;
    r.choice(&format!("{at}/manifestCompression"), &["NONE"])?;
    let mut flags = "independent_segments".to_string();
    if r.choice(&format!("{at}/manifestDurationFormat"), &["FLOATING_POINT", "INTEGER"])? == Some("INTEGER") {
        flags.push_str("+round_durations");
    }
    Ok(Segmenting { seconds, flags })
}

fn compile_video(r: &mut Request, at: &str) -> Result<(u64, u64, Vec<String>), Unsupported> {
    let width = r.number(&format!("{at}/width"))?.ok_or_else(|| r.unsupported(&format!("{at}/width")))?;
    let height = r.number(&format!("{at}/height"))?.ok_or_else(|| r.unsupported(&format!("{at}/height")))?;
    // The job builder sets both sides with the source's aspect ratio, so fitting and stretching
    // give the same picture.
    r.choice(&format!("{at}/scalingBehavior"), &["DEFAULT", "STRETCH_TO_OUTPUT"])?;
    r.choice(&format!("{at}/timecodeInsertion"), &["DISABLED"])?;
    r.fixed(&format!("{at}/sharpness"), 50)?;
    r.choice(&format!("{at}/codecSettings/codec"), &["H_264"])?;
    let h = format!("{at}/codecSettings/h264Settings");
    let mut args: Vec<String> = vec!["-c:v".into(), "libx264".into(), "-pix_fmt".into(), "yuv420p".into()];
    let preset = match r.choice(&format!("{h}/qualityTuningLevel"), &["SINGLE_PASS", "SINGLE_PASS_HQ"])? {
        Some("SINGLE_PASS_HQ") => "medium",
        _ => "veryfast",
    };
    args.extend(["-preset".into(), preset.into()]);
    if let Some(profile) = r.choice(&format!("{h}/codecProfile"), &["BASELINE", "MAIN", "HIGH"])? {
        args.extend(["-profile:v".into(), profile.to_ascii_lowercase()]);
    }
    r.choice(&format!("{h}/codecLevel"), &["AUTO"])?;
    let max = r.number(&format!("{h}/maxBitrate"))?;
    let bitrate = r.number(&format!("{h}/bitrate"))?;
    match r.choice(&format!("{h}/rateControlMode"), &["QVBR", "CBR", "VBR"])? {
        Some("QVBR") => {
            let quality = r.number(&format!("{h}/qvbrSettings/qvbrQualityLevel"))?.unwrap_or(7);
            let max = max.ok_or_else(|| r.unsupported(&format!("{h}/maxBitrate")))?;
            args.extend(["-crf".into(), crf(quality).to_string(), "-maxrate".into(), max.to_string()]);
            args.extend(["-bufsize".into(), (2 * max).to_string()]);
        }
        Some("CBR") => {
            let b = bitrate.ok_or_else(|| r.unsupported(&format!("{h}/bitrate")))?;
            for flag in ["-b:v", "-minrate", "-maxrate"] {
                args.extend([flag.into(), b.to_string()]);
            }
            args.extend(["-bufsize".into(), b.to_string()]);
        }
        Some(_) => {
            let b = bitrate.ok_or_else(|| r.unsupported(&format!("{h}/bitrate")))?;
            args.extend(["-b:v".into(), b.to_string()]);
            if let Some(m) = max {
                args.extend(["-maxrate".into(), m.to_string(), "-bufsize".into(), (2 * m).to_string()]);
            }
        }
        None => return Err(r.unsupported(&format!("{h}/rateControlMode"))),
    }
    if let Some(gop) = r.number(&format!("{h}/gopSize"))? {
        match r.choice(&format!("{h}/gopSizeUnits"), &["SECONDS", "FRAMES"])? {
            Some("FRAMES") => args.extend(["-g".into(), gop.to_string()]),
            _ => args.extend(["-force_key_frames".into(), format!("expr:gte(t,n_forced*{gop})")]),
        }
    }
    if let Some(b) = r.number(&format!("{h}/numberBFramesBetweenReferenceFrames"))? {
        args.extend(["-bf".into(), b.to_string()]);
    }
    if r.choice(&format!("{h}/sceneChangeDetect"), &["ENABLED", "TRANSITION_DETECTION", "DISABLED"])?
        == Some("DISABLED")
    {
        args.extend(["-sc_threshold".into(), "0".into()]);
    }
    // Frame rate and pixel aspect from the source: ffmpeg's own default.
    r.choice(&format!("{h}/framerateControl"), &["INITIALIZE_FROM_SOURCE"])?;
    r.choice(&format!("{h}/parControl"), &["INITIALIZE_FROM_SOURCE"])?;
    Ok((width, height, args))
}

/// An audio description: its codec, ffmpeg's arguments and the sample rate it sets.
type Audio = (&'static str, Vec<String>, Option<u64>);

fn compile_audio(r: &mut Request, at: &str, selectors: &[String]) -> Result<Audio, Unsupported> {
    if let Some(name) = r.text(&format!("{at}/audioSourceName"))?
        && !selectors.iter().any(|s| s == name)
    {
        return Err(r.unsupported(&format!("{at}/audioSourceName")));
    }
    let (codec, settings, encoder) = match r.choice(&format!("{at}/codecSettings/codec"), &["AAC", "MP3"])? {
        Some("MP3") => ("MP3", format!("{at}/codecSettings/mp3Settings"), "libmp3lame"),
        Some(_) => ("AAC", format!("{at}/codecSettings/aacSettings"), "aac"),
        None => return Err(r.unsupported(&format!("{at}/codecSettings/codec"))),
    };
    let mut args: Vec<String> = vec!["-c:a".into(), encoder.into()];
    if let Some(b) = r.number(&format!("{settings}/bitrate"))? {
        args.extend(["-b:a".into(), b.to_string()]);
    }
    let sample_rate = r.number(&format!("{settings}/sampleRate"))?;
    if let Some(rate) = sample_rate {
        args.extend(["-ar".into(), rate.to_string()]);
    }
    let channels = match codec {
        "MP3" => {
            r.choice(&format!("{settings}/rateControlMode"), &["CBR"])?;
            r.number(&format!("{settings}/channels"))?.unwrap_or(2)
        }
        _ => match r.choice(&format!("{settings}/codingMode"), &["CODING_MODE_1_0", "CODING_MODE_2_0"])? {
            Some("CODING_MODE_1_0") => 1,
            _ => 2,
        },
    };
    if !(1..=2).contains(&channels) {
        return Err(r.unsupported(&format!("{settings}/channels")));
    }
    args.extend(["-ac".into(), channels.to_string()]);
    Ok((codec, args, sample_rate))
}

#[cfg(test)]
mod tests;
