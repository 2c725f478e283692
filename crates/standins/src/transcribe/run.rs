//! One job, run: the media read from S3 through a presigned URL (ffmpeg reads it as it goes:
//! no copy of a source of gigabytes on disk, only its sound, decoded), decoded to 16 kHz mono
//! WAV in chunks ([`super::Settings::chunk_seconds`], ten minutes), each chunk's words timed
//! from the media's start, then the transcript and subtitles written where Transcribe writes
//! them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use mediaflow_captions::{Captions, Cue, TimedWord, Transcript};

use super::job::{Detected, Job, Language, S3Object, SubtitleFormat};
use super::recognizer::{Failure, code_for, language_of};
use super::{Outcome, Service};
use mediaflow_endpoint::ACCOUNT;

/// Transcribe's `FailureReason` for media it cannot take the sound of: unreadable, or without
/// an audio stream.
const INVALID_MEDIA: &str =
    "The data in your input media file isn't valid. Check the media file and try your request again.";

/// Runs job `name` once a slot is free, and records how it ended.
pub(super) async fn run(service: Arc<Service>, name: String) {
    let Ok(_slot) = service.slots.acquire().await else { return };
    let Some(job) = service.job(&name) else { return };
    tracing::info!(job = %name, media = %job.spec.media_file_uri, "transcription started");
    let work = service.settings.work_dir.join(&name);
    let outcome = transcribe(&service, &job, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    match &outcome {
        Ok(done) => {
            tracing::info!(job = %name, language = %done.language_code, words = done.words, "transcription completed")
        }
        Err(reason) => tracing::warn!(job = %name, %reason, "transcription failed"),
    }
    service.finish(&name, outcome);
}

/// What a completed job found.
pub(super) struct Done {
    pub language_code: String,
    pub detected: Detected,
    pub words: usize,
}

async fn transcribe(service: &Service, job: &Job, work: &Path) -> Outcome {
    let settings = &service.settings;
    let spec = &job.spec;
    let presigned = PresigningConfig::expires_in(Duration::from_secs(6 * 3600)).expect("a valid expiry");
    let url = settings
        .s3
        .get_object()
        .bucket(&spec.media.bucket)
        .key(&spec.media.key)
        .presigned(presigned)
        .await
        .map_err(|e| format!("presigning {}: {e}", spec.media_file_uri))?
        .uri()
        .to_string();
    // The presigned URL's signature is a credential: it stays out of reasons and logs.
    let reason = |failure: Unreadable| match failure {
        Unreadable::Tool(why) => why,
        Unreadable::Media(detail) => {
            let detail = detail.replace(&url, &spec.media_file_uri);
            tracing::warn!(job = %spec.name, %detail, "no sound could be read from the media");
            INVALID_MEDIA.to_string()
        }
    };
    let detected = probe(&settings.ffprobe, &url).await.map_err(reason)?;
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let chunks = decode(&settings.ffmpeg, &url, work, settings.chunk_seconds).await.map_err(reason)?;

    let worker = service.recognizer.as_ref().ok_or("RecognizerUnavailable: no recognizer is set up")?;
    let mut language = match &spec.language {
        Language::Code(code) => Some(language_of(code)),
        Language::Identify(_) => None,
    };
    let mut words: Vec<TimedWord> = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        // Generous: tiny.en runs many times faster than real time on two cores.
        let limit = Duration::from_secs_f64(120.0 + 5.0 * (chunk.end - chunk.start));
        let heard =
            worker.recognize(&chunk.path, language.as_deref(), limit).await.map_err(|failure| match failure {
                Failure::Stopped(why) => {
                    format!("RecognizerFailed: chunk {} of {} ({} s on): {why}", n + 1, chunks.len(), chunk.start)
                }
                other => other.to_string(),
            })?;
        tracing::debug!(job = %spec.name, chunk = n + 1, of = chunks.len(), words = heard.words.len(), "chunk recognized");
        // An identified language holds for the chunks after the first.
        language.get_or_insert(heard.language);
        words.extend(heard.words.into_iter().map(|w| TimedWord {
            start: chunk.start + w.start,
            end: chunk.start + w.end.max(w.start),
            text: w.word.trim().to_string(),
        }));
    }
    let language_code = match &spec.language {
        Language::Code(code) => code.clone(),
        Language::Identify(options) => {
            let heard = language.unwrap_or_default();
            code_for(&heard, options).ok_or_else(|| {
                format!("LanguageUnsupported: the recognizer heard {heard:?}, which is not among the LanguageOptions")
            })?
        }
    };

    let transcript = Transcript::from_words(&spec.name, ACCOUNT, &language_code, &words);
    put(service, &spec.transcript, transcript.to_json().into_bytes(), "application/json").await?;
    let cues = mediaflow_captions::layout(&words);
    let start_index = spec.subtitles.as_ref().map_or(0, |s| s.start_index);
    for (format, object) in spec.subtitle_objects() {
        let body = match format {
            SubtitleFormat::Vtt => vtt(&cues, start_index),
            SubtitleFormat::Srt => srt(&cues, start_index),
        };
        put(service, &object, body.into_bytes(), format.content_type()).await?;
    }
    Ok(Done { language_code, detected, words: words.len() })
}

/// Why no sound was had from the media.
enum Unreadable {
    /// ffmpeg or ffprobe could not be run: this machine's fault, told as it is.
    Tool(String),
    /// The media cannot be read, or has no sound: Transcribe's reason, the detail logged.
    Media(String),
}

/// The media's container and its first audio stream's sample rate, as Transcribe reports
/// them.
async fn probe(ffprobe: &Path, url: &str) -> Result<Detected, Unreadable> {
    let out = tokio::process::Command::new(ffprobe)
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate:format=format_name"])
        .args(["-of", "json", url])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Unreadable::Tool(format!("cannot run {}: {e}", ffprobe.display())))?;
    if !out.status.success() {
        return Err(Unreadable::Media(format!("ffprobe: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    let probed: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Unreadable::Tool(format!("ffprobe's answer is not JSON: {e}")))?;
    let Some(stream) = probed["streams"].as_array().and_then(|s| s.first()) else {
        return Err(Unreadable::Media("the media has no audio stream".into()));
    };
    let sample_rate = stream["sample_rate"].as_str().and_then(|r| r.parse().ok());
    // Transcribe's MediaFormat names for what ffprobe calls the container.
    let format_name = probed["format"]["format_name"].as_str().unwrap_or_default();
    let media_format = match format_name {
        f if f.contains("mp4") => Some("mp4"),
        "mp3" => Some("mp3"),
        "wav" => Some("wav"),
        "flac" => Some("flac"),
        "ogg" => Some("ogg"),
        "amr" => Some("amr"),
        f if f.contains("webm") => Some("webm"),
        _ => None,
    };
    Ok(Detected { media_format: media_format.map(str::to_string), sample_rate })
}

/// A stretch of the sound, decoded: its file and where it lies in the media, in seconds.
struct Chunk {
    path: PathBuf,
    start: f64,
    end: f64,
}

/// Decodes the first audio stream at `url` into `work` as 16 kHz mono 16-bit WAV chunks of
/// `seconds`, in one pass: ffmpeg's segment muxer cuts them (where a packet ends, so a chunk may
/// run some milliseconds over) and lists each with its start and end.
async fn decode(ffmpeg: &Path, url: &str, work: &Path, seconds: u32) -> Result<Vec<Chunk>, Unreadable> {
    let segment_time = seconds.max(1).to_string();
    let out = tokio::process::Command::new(ffmpeg)
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", url])
        .args(["-map", "0:a:0", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
        .args(["-f", "segment", "-segment_time", &segment_time, "-segment_format", "wav"])
        .args(["-segment_list", "chunks.csv", "-segment_list_type", "csv", "-reset_timestamps", "1"])
        .arg("chunk%05d.wav")
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Unreadable::Tool(format!("cannot run {}: {e}", ffmpeg.display())))?;
    if !out.status.success() {
        return Err(Unreadable::Media(format!("ffmpeg: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    let list = std::fs::read_to_string(work.join("chunks.csv")).unwrap_or_default();
    list.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.rsplitn(3, ',');
            let (end, start, file) = (fields.next(), fields.next(), fields.next());
            match (file, start.and_then(|s| s.parse().ok()), end.and_then(|e| e.parse().ok())) {
                (Some(file), Some(start), Some(end)) => Ok(Chunk { path: work.join(file), start, end }),
                _ => Err(Unreadable::Tool(format!("ffmpeg's segment list has a line it cannot read: {line:?}"))),
            }
        })
        .collect()
}

/// Transcribe numbers its subtitles from the job's start index, in WebVTT as in SubRip.
fn vtt(cues: &[Cue], start_index: u32) -> String {
    let cues = cues.iter().zip(start_index..).map(|(cue, n)| Cue { id: Some(n.to_string()), ..cue.clone() }).collect();
    Captions { cues, ..Default::default() }.to_vtt()
}

/// The cues as SubRip: their text as it reads (WebVTT's character references undone).
fn srt(cues: &[Cue], start_index: u32) -> String {
    let mut out = String::new();
    for (cue, n) in cues.iter().zip(start_index..) {
        let text = cue.payload.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        let (start, end) = (mediaflow_captions::format_srt(cue.start), mediaflow_captions::format_srt(cue.end));
        out.push_str(&format!("{n}\n{start} --> {end}\n{text}\n\n"));
    }
    out
}

/// Writes `body` to `object`.
async fn put(service: &Service, object: &S3Object, body: Vec<u8>, content_type: &str) -> Result<(), String> {
    let put = service.settings.s3.put_object().bucket(&object.bucket).key(&object.key);
    put.content_type(content_type)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| {
            let detail = aws_sdk_s3::error::DisplayErrorContext(&e);
            format!("the output could not be written to s3://{}/{}: {detail}", object.bucket, object.key)
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start: u64, end: u64, payload: &str) -> Cue {
        Cue { id: None, start, end, settings: String::new(), payload: payload.into() }
    }

    #[test]
    fn subtitles_are_numbered_from_the_start_index() {
        let cues = [cue(0, 1500, "Tom &amp; Jerry"), cue(1500, 3000, "again")];
        let vtt = vtt(&cues, 1);
        assert!(vtt.starts_with("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nTom &amp; Jerry\n\n2\n"), "{vtt}");
        let srt = srt(&cues, 0);
        assert_eq!(srt, "0\n00:00:00,000 --> 00:00:01,500\nTom & Jerry\n\n1\n00:00:01,500 --> 00:00:03,000\nagain\n\n");
    }
}
