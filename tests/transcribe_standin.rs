//! The Transcribe stand-in, driven by `aws-sdk-transcribe` over HTTP: media in the embedded S3,
//! speech spoken by espeak-ng, the real recognizer (faster-whisper with Whisper tiny.en, which
//! `scripts/ensure-tools` installs into .tools/recognizer) and ffmpeg. The transcript and the
//! subtitles are read back from where Transcribe writes them.

use std::path::Path;
use std::time::Duration;

use mediaflow_captions::Transcript;
use mediaflow_s3::EmbeddedS3;
use mediaflow_standins::transcribe::sdk::error::ProvideErrorMetadata;
use mediaflow_standins::transcribe::sdk::types::{LanguageCode, Media, SubtitleFormat, Subtitles, TranscriptionJob};
use mediaflow_standins::transcribe::{
    ErrorKind, JobStateChangeEvent, JobStatus, Recognizer, Settings, TranscribeEndpoint, sdk,
};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

/// What espeak-ng says in the speech clips.
const SENTENCE: &str = "Welcome to the course. Today we learn how rivers carry water from the mountains to the sea.";

/// Transcribe's reason for media whose sound cannot be read.
const INVALID_MEDIA: &str =
    "The data in your input media file isn't valid. Check the media file and try your request again.";

fn recognizer() -> Recognizer {
    let recognizer = Recognizer::in_repository(&mediaflow_testkit::repo());
    let missing = recognizer.missing();
    assert!(
        missing.is_empty(),
        "the recognizer is not installed ({missing:?} missing): run scripts/ensure-tools --test-tools (scripts/test does)"
    );
    recognizer
}

struct World {
    s3: EmbeddedS3,
    transcribe: TranscribeEndpoint,
    client: sdk::Client,
}

async fn endpoint(dir: &Path, s3: &EmbeddedS3) -> TranscribeEndpoint {
    let settings = Settings {
        jobs_dir: Some(dir.join("jobs")),
        ..Settings::new(s3.client(), dir.join("work"), Some(recognizer()))
    };
    TranscribeEndpoint::start(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn embedded_s3(dir: &Path) -> EmbeddedS3 {
    EmbeddedS3::start(&dir.join("data"), &["media", "captions"], "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn world(dir: &Path) -> World {
    let s3 = embedded_s3(dir).await;
    let transcribe = endpoint(dir, &s3).await;
    World::of(s3, transcribe)
}

impl World {
    fn of(s3: EmbeddedS3, transcribe: TranscribeEndpoint) -> World {
        World { client: transcribe.client(), s3, transcribe }
    }
}

/// A few seconds of test picture with `SENTENCE` spoken over it, as an MP4 (H.264/AAC).
fn speech_video(path: &Path) {
    mediaflow_testkit::speaking_video(path, SENTENCE, None);
}

async fn upload(w: &World, file: &Path, key: &str) -> String {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await.unwrap();
    w.s3.client().put_object().bucket("media").key(key).body(body).send().await.unwrap();
    format!("s3://media/{key}")
}

/// StartTranscriptionJob as the pipeline sends it: English, a VTT beside the transcript.
fn start(
    client: &sdk::Client,
    name: &str,
    media: &str,
    output_key: &str,
) -> sdk::operation::start_transcription_job::builders::StartTranscriptionJobFluentBuilder {
    client
        .start_transcription_job()
        .transcription_job_name(name)
        .media(Media::builder().media_file_uri(media).build())
        .output_bucket_name("captions")
        .output_key(output_key)
        .language_code(LanguageCode::EnUs)
        .subtitles(Subtitles::builder().formats(SubtitleFormat::Vtt).build())
}

/// The events of job `name` until it ends, and the job as GetTranscriptionJob then shows it.
async fn until_ended(
    w: &World,
    events: &mut UnboundedReceiver<JobStateChangeEvent>,
    name: &str,
) -> (JobStateChangeEvent, TranscriptionJob) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(180), events.recv()).await.unwrap().unwrap();
        if event.detail.transcription_job_name == name {
            let got = w.client.get_transcription_job().transcription_job_name(name).send().await.unwrap();
            return (event, got.transcription_job.unwrap());
        }
    }
}

fn words_of(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn speech_becomes_a_transcript_and_subtitles_where_transcribe_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut events = w.transcribe.events();
    let clip = dir.path().join("talk.mp4");
    speech_video(&clip);
    let media = upload(&w, &clip, "inputs/course/talk.mp4").await;

    let started = start(&w.client, "talk-1", &media, "machine/talk.json").send().await.unwrap();
    let job = started.transcription_job.unwrap();
    assert_eq!(job.transcription_job_status, Some(sdk::types::TranscriptionJobStatus::InProgress));
    assert_eq!(job.language_code, Some(LanguageCode::EnUs));
    assert_eq!(job.media.unwrap().media_file_uri.as_deref(), Some(media.as_str()));
    assert!(job.creation_time.is_some() && job.start_time.is_some());

    // A second start of the name, as Transcribe answers it.
    let again = start(&w.client, "talk-1", &media, "machine/talk.json").send().await.unwrap_err();
    let again = again.into_service_error();
    assert!(again.is_conflict_exception(), "{again:?}");
    assert_eq!(again.message(), Some("The requested job name already exists. Use a different job name."));

    let (event, job) = until_ended(&w, &mut events, "talk-1").await;
    assert_eq!(event.source, "aws.transcribe");
    assert_eq!(event.detail_type, "Transcribe Job State Change");
    assert_eq!(event.detail.transcription_job_status, JobStatus::Completed, "{:?}", job.failure_reason);
    assert_eq!(event.detail.failure_reason, None);
    assert_eq!(job.transcription_job_status, Some(sdk::types::TranscriptionJobStatus::Completed));
    assert!(job.completion_time.is_some());
    assert_eq!(job.media_format, Some(sdk::types::MediaFormat::Mp4));
    assert_eq!(
        job.transcript.unwrap().transcript_file_uri.as_deref(),
        Some("https://s3.us-east-1.amazonaws.com/captions/machine/talk.json")
    );
    let subtitles = job.subtitles.unwrap();
    assert_eq!(subtitles.subtitle_file_uris(), ["https://s3.us-east-1.amazonaws.com/captions/machine/talk.vtt"]);
    assert_eq!(subtitles.output_start_index, Some(0));

    let document = std::fs::read(w.s3.path_of("captions", "machine/talk.json")).unwrap();
    let transcript = Transcript::from_json(&document).unwrap();
    assert_eq!(transcript.job_name, "talk-1");
    assert_eq!(transcript.results.language_code.as_deref(), Some("en-US"));
    let heard = words_of(transcript.text());
    let spoken = words_of(SENTENCE);
    let found = spoken.iter().filter(|w| heard.contains(w)).count();
    assert!(found * 10 >= spoken.len() * 7, "heard {heard:?} for {spoken:?}");
    let words = transcript.words();
    assert!(words.windows(2).all(|p| p[0].start <= p[1].start) && words.iter().all(|w| w.end >= w.start));
    assert!(words.last().unwrap().end <= 10.0, "{words:?}");

    let vtt_path = w.s3.path_of("captions", "machine/talk.vtt");
    let vtt = std::fs::read_to_string(&vtt_path).unwrap();
    assert!(vtt.starts_with("WEBVTT\n\n0\n00:00:0"), "{vtt}");
    mediaflow_testkit::assert_w3c_webvtt(&[vtt_path]);

    let missing = w.client.get_transcription_job().transcription_job_name("nobody").send().await.unwrap_err();
    let missing = missing.into_service_error();
    assert!(missing.is_bad_request_exception(), "{missing:?}");
    assert_eq!(
        missing.message(),
        Some("The requested job couldn't be found. Check the job name and try your request again.")
    );
    let listed = w.client.list_transcription_jobs().send().await.unwrap();
    let names: Vec<_> =
        listed.transcription_job_summaries().iter().filter_map(|s| s.transcription_job_name()).collect();
    assert_eq!(names, ["talk-1"]);

    // In-process, as the state machine's SDK integration calls it: the same answers.
    let operations = w.transcribe.operations();
    let got = operations.get_transcription_job(json!({"TranscriptionJobName": "talk-1"})).await.unwrap();
    assert_eq!(got["TranscriptionJob"]["TranscriptionJobStatus"], "COMPLETED");
    let refused = operations.get_transcription_job(json!({"TranscriptionJobName": "nobody"})).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::BadRequestException);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_language_the_recognizer_lacks_is_refused_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let clip = dir.path().join("talk.mp4");
    mediaflow_testkit::video(&clip, 320, 240, 1.0, true);
    let media = upload(&w, &clip, "inputs/talk.mp4").await;

    let french = start(&w.client, "talk-fr", &media, "machine/").language_code(LanguageCode::FrFr);
    let refused = french.send().await.unwrap_err().into_service_error();
    assert!(refused.is_bad_request_exception(), "{refused:?}");
    let message = refused.message().unwrap();
    assert!(message.starts_with("LanguageUnsupported:"), "{message}");
    assert!(message.contains("fr-FR") && message.contains("tiny.en"), "{message}");

    let identify = w
        .client
        .start_transcription_job()
        .transcription_job_name("talk-auto")
        .media(Media::builder().media_file_uri(&media).build())
        .output_bucket_name("captions")
        .identify_language(true)
        .send()
        .await;
    let refused = identify.unwrap_err().into_service_error();
    let message = refused.message().unwrap();
    assert!(refused.is_bad_request_exception() && message.starts_with("LanguageUnsupported:"), "{message}");
    assert!(message.contains("tiny.en"), "{message}");

    let listed = w.client.list_transcription_jobs().send().await.unwrap();
    assert!(listed.transcription_job_summaries().is_empty(), "a refused start makes no job");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_video_without_sound_fails_and_silence_completes_with_no_words() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut events = w.transcribe.events();
    let mute = dir.path().join("mute.mp4");
    mediaflow_testkit::video(&mute, 320, 240, 2.0, false);
    let silent = dir.path().join("silent.mp4");
    mediaflow_testkit::silent_sound_video(&silent, 3);
    let mute = upload(&w, &mute, "inputs/mute.mp4").await;
    let silent = upload(&w, &silent, "inputs/silent.mp4").await;

    start(&w.client, "mute", &mute, "machine/mute.json").send().await.unwrap();
    start(&w.client, "silent", &silent, "machine/silent.json").send().await.unwrap();

    let (event, job) = until_ended(&w, &mut events, "mute").await;
    assert_eq!(event.detail.transcription_job_status, JobStatus::Failed);
    assert_eq!(event.detail.failure_reason.as_deref(), Some(INVALID_MEDIA));
    assert_eq!(job.transcription_job_status, Some(sdk::types::TranscriptionJobStatus::Failed));
    assert_eq!(job.failure_reason.as_deref(), Some(INVALID_MEDIA));
    assert!(job.transcript.unwrap().transcript_file_uri.is_none());
    assert!(!w.s3.path_of("captions", "machine/mute.json").exists());

    let (event, job) = until_ended(&w, &mut events, "silent").await;
    assert_eq!(event.detail.transcription_job_status, JobStatus::Completed, "{:?}", job.failure_reason);
    let document = std::fs::read(w.s3.path_of("captions", "machine/silent.json")).unwrap();
    let transcript = Transcript::from_json(&document).unwrap();
    assert_eq!(transcript.text(), "");
    assert!(transcript.results.items.is_empty(), "{:?}", transcript.results.items);
    let vtt = std::fs::read_to_string(w.s3.path_of("captions", "machine/silent.vtt")).unwrap();
    assert_eq!(vtt, "WEBVTT\n\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_under_way_when_the_endpoint_stops_completes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let clip = dir.path().join("talk.mp4");
    speech_video(&clip);
    let media = upload(&w, &clip, "inputs/talk.mp4").await;
    start(&w.client, "restarted", &media, "machine/talk.json").send().await.unwrap();

    // The process ends with the job under way: its record says so, and it writes nothing after.
    let World { s3, transcribe, .. } = w;
    drop(transcribe);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!s3.path_of("captions", "machine/talk.json").exists(), "the stopped job went on");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("jobs/restarted.json")).unwrap()).unwrap();
    assert_eq!(kept["status"], "IN_PROGRESS");

    let transcribe = endpoint(dir.path(), &s3).await;
    let w = World::of(s3, transcribe);
    let mut events = w.transcribe.events();
    assert_eq!(w.transcribe.resume(), ["restarted"]);
    let (event, job) = until_ended(&w, &mut events, "restarted").await;
    assert_eq!(event.detail.transcription_job_status, JobStatus::Completed, "{:?}", job.failure_reason);
    let document = std::fs::read(w.s3.path_of("captions", "machine/talk.json")).unwrap();
    let heard = words_of(Transcript::from_json(&document).unwrap().text());
    assert!(heard.contains(&"rivers".to_string()), "{heard:?}");
    assert!(w.s3.path_of("captions", "machine/talk.vtt").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn long_media_is_heard_in_chunks_timed_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = embedded_s3(dir.path()).await;
    // Chunks of 2 s in place of 10 min: the sentence (about 6 s) is heard in several.
    let settings =
        Settings { chunk_seconds: 2, ..Settings::new(s3.client(), dir.path().join("work"), Some(recognizer())) };
    let transcribe = TranscribeEndpoint::start(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let w = World::of(s3, transcribe);
    let mut events = w.transcribe.events();
    let clip = dir.path().join("talk.mp4");
    speech_video(&clip);
    let media = upload(&w, &clip, "inputs/talk.mp4").await;
    start(&w.client, "chunked", &media, "machine/").send().await.unwrap();

    let (event, job) = until_ended(&w, &mut events, "chunked").await;
    assert_eq!(event.detail.transcription_job_status, JobStatus::Completed, "{:?}", job.failure_reason);
    let document = std::fs::read(w.s3.path_of("captions", "machine/chunked.json")).unwrap();
    let words = Transcript::from_json(&document).unwrap().words();
    assert!(words.windows(2).all(|p| p[0].start <= p[1].start), "{words:?}");
    assert!(words.iter().any(|w| w.start >= 4.0), "no word timed in the third chunk: {words:?}");
    let heard: Vec<String> = words.iter().flat_map(|w| words_of(&w.text)).collect();
    let spoken = words_of(SENTENCE);
    let found = spoken.iter().filter(|w| heard.contains(w)).count();
    // A word cut at a chunk's end may be lost or misheard.
    assert!(found * 2 >= spoken.len(), "heard {heard:?} for {spoken:?}");
    assert!(w.s3.path_of("captions", "machine/chunked.vtt").exists());
}

/// A recognizer that says it is ready, then dies at its first request.
const CRASHING_WORKER: &str = r#"
import sys
print('{"ready": true, "model": "tiny.en", "languages": ["en"]}', flush=True)
sys.stdin.readline()
print("simulated crash", file=sys.stderr, flush=True)
sys.exit(3)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_recognizer_that_dies_fails_the_job_and_is_started_again_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = embedded_s3(dir.path()).await;
    let crashing = dir.path().join("crashing_worker.py");
    std::fs::write(&crashing, CRASHING_WORKER).unwrap();
    let recognizer = Recognizer { worker: crashing, ..recognizer() };
    let settings = Settings::new(s3.client(), dir.path().join("work"), Some(recognizer));
    let transcribe = TranscribeEndpoint::start(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let w = World::of(s3, transcribe);
    let mut events = w.transcribe.events();
    let clip = dir.path().join("talk.mp4");
    mediaflow_testkit::video(&clip, 320, 240, 1.0, true);
    let media = upload(&w, &clip, "inputs/talk.mp4").await;

    for name in ["first", "second"] {
        start(&w.client, name, &media, "machine/").send().await.unwrap();
        let (event, job) = until_ended(&w, &mut events, name).await;
        assert_eq!(event.detail.transcription_job_status, JobStatus::Failed);
        let reason = job.failure_reason.unwrap();
        assert!(reason.starts_with("RecognizerFailed: chunk 1 of 1"), "{reason}");
        assert!(reason.contains("exit status: 3") && reason.ends_with(": simulated crash"), "{reason}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recognizer_not_installed_is_named_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = embedded_s3(dir.path()).await;
    let clip = dir.path().join("talk.mp4");
    mediaflow_testkit::video(&clip, 320, 240, 1.0, true);
    let body = aws_sdk_s3::primitives::ByteStream::from_path(&clip).await.unwrap();
    s3.client().put_object().bucket("media").key("talk.mp4").body(body).send().await.unwrap();
    let no_model = Recognizer { model: dir.path().join("no-model"), ..recognizer() };
    for (recognizer, named) in [(None, ".tools/recognizer"), (Some(no_model), "no-model missing")] {
        let settings = Settings::new(s3.client(), dir.path().join("work"), recognizer);
        let transcribe = TranscribeEndpoint::start(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let refused = start(&transcribe.client(), "talk", "s3://media/talk.mp4", "machine/").send().await.unwrap_err();
        let refused = refused.into_service_error();
        let message = refused.message().unwrap();
        assert!(refused.is_bad_request_exception() && message.starts_with("RecognizerUnavailable:"), "{message}");
        assert!(message.contains(named), "{message}");
    }
}
