//! Every function of `functions/` as an in-process Lambda, configured as infra configures it.

use std::future::Future;
use std::sync::Arc;

use lambda_runtime::Diagnostic;
use mediaflow_core::transcription::{CaptionSettings, TranscribePrices};
use mediaflow_endpoint::ACCOUNT;
use mediaflow_s3::EmbeddedS3;
use mediaflow_standins::mediaconvert::MediaConvertEndpoint;
use mediaflow_standins::transcribe::TranscribeEndpoint;
use mediaflow_stepfunctions::engine::{Failure, Handler, Registry, handler, lambda_failure};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{APPLICATION, PUBLIC_BUCKET, WATCH_BUCKET};
use crate::topic::{Notification, Topic};

/// A function's handler as a Lambda: the payload read as its input type, its error's
/// `errorType` and message as the Lambda runtime reports them; with `concurrency`, at most that
/// many invocations at once (Lambda's reserved concurrency), the others waiting their turn
/// (where Lambda would throttle them and Step Functions retry).
fn lambda<I, O, E, Fut>(concurrency: Option<usize>, f: impl Fn(I) -> Fut + Send + Sync + 'static) -> Handler
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize,
    E: Into<Diagnostic>,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
{
    let f = Arc::new(f);
    let slots = concurrency.map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
    handler(move |payload: Value| {
        let (f, slots) = (f.clone(), slots.clone());
        async move {
            let _slot = match &slots {
                Some(s) => Some(s.acquire().await.expect("never closed")),
                None => None,
            };
            // Parsed, run and logged as the functions' own runtime does on Lambda.
            mediaflow_lambda::runtime::invoke(&*f, payload)
                .await
                .map_err(|d| lambda_failure(&d.error_type, &d.error_message))
        }
    })
}

pub(super) fn await_clients(
    s3: &EmbeddedS3,
    sfn: &aws_sdk_sfn::Client,
    mediaconvert: &MediaConvertEndpoint,
) -> await_mediaconvert::Clients {
    await_mediaconvert::Clients {
        s3: s3.client(),
        mediaconvert: mediaconvert.client(),
        sfn: sfn.clone(),
        watch_bucket: WATCH_BUCKET.into(),
        destination_bucket: PUBLIC_BUCKET.into(),
        role_arn: mediaflow_core::arn::iam_role(ACCOUNT, &format!("{APPLICATION}-mediaconvert")),
        application: APPLICATION.into(),
    }
}

/// The services that stand in for AWS's on this machine.
pub(super) struct StandIns<'a> {
    pub mediaconvert: &'a MediaConvertEndpoint,
    pub transcribe: &'a TranscribeEndpoint,
}

/// Every function of `functions/`, configured as infra configures them, under its ARN, and the
/// service integrations the definition uses.
#[allow(clippy::too_many_arguments)]
pub(super) fn functions(
    arns: &std::collections::BTreeMap<String, String>,
    s3: &EmbeddedS3,
    sfn: &aws_sdk_sfn::Client,
    stand_ins: StandIns,
    video_template_key: Option<String>,
    topic: Topic,
    tool_concurrency: usize,
    captions: CaptionSettings,
) -> Registry {
    let StandIns { mediaconvert, transcribe } = stand_ins;
    let arn = |placeholder: &str| arns[placeholder].clone();
    let mut r = Registry::default();

    // Each function with its clients, built once as its main.rs builds them on Lambda; those
    // that run ffmpeg or ffprobe with their reserved concurrency, as infra sets it.
    macro_rules! function {
        ($placeholder:literal, $clients:expr, $handler:path) => {
            function!($placeholder, $clients, $handler, None)
        };
        ($placeholder:literal, $clients:expr, $handler:path, $concurrency:expr) => {{
            let clients = Arc::new($clients);
            r.function(
                &arn($placeholder),
                lambda($concurrency, move |input| {
                    let clients = clients.clone();
                    async move { $handler(input, &clients).await }
                }),
            );
        }};
    }
    let copy_clients = || copy::Clients {
        s3: s3.client(),
        destination_bucket: PUBLIC_BUCKET.into(),
        single_copy_limit: mediaflow_lambda::SINGLE_COPY_LIMIT,
        part_bytes: mediaflow_lambda::PART_BYTES,
    };
    function!("ClassifyFunctionArn", classify::Clients { s3: s3.client() }, classify::handler);
    function!("AssembleCheckFunctionArn", assemble_check::Clients { s3: s3.client() }, assemble_check::handler);
    function!("ArchiveOriginalFunctionArn", copy_clients(), copy::archive_original);
    function!("CopyMp3FunctionArn", copy_clients(), copy::copy_mp3);
    let tools = Some(tool_concurrency);
    function!("ProbeFunctionArn", probe::Clients { s3: s3.client(), ffprobe: "ffprobe".into() }, probe::handler, tools);
    let build_job = build_job::Clients {
        s3: s3.client(),
        destination_bucket: PUBLIC_BUCKET.into(),
        video_template_key,
        audio_template_key: None,
        price_table_key: None,
    };
    function!("BuildJobFunctionArn", build_job, build_job::handler);
    function!("AwaitMediaConvertFunctionArn", await_clients(s3, sfn, mediaconvert), await_mediaconvert::handler);
    let save_frame = save_frame::Clients {
        s3: s3.client(),
        destination_bucket: PUBLIC_BUCKET.into(),
        ffmpeg: "ffmpeg".into(),
        frame_seconds: mediaflow_core::thumbnail::DEFAULT_FRAME_SECONDS,
    };
    function!("SaveFrameFunctionArn", save_frame, save_frame::handler, tools);
    let storyboard = storyboard::Clients { s3: s3.client(), destination_bucket: PUBLIC_BUCKET.into() };
    function!("StoryboardFunctionArn", storyboard, storyboard::handler);
    let measure_loudness = measure_loudness::Clients { s3: s3.client(), ffmpeg: "ffmpeg".into() };
    function!("MeasureLoudnessFunctionArn", measure_loudness, measure_loudness::handler, tools);
    let save_metadata = save_metadata::Clients { s3: s3.client(), destination_bucket: PUBLIC_BUCKET.into() };
    function!("SaveMetadataFunctionArn", save_metadata, save_metadata::handler);
    function!("PublishFunctionArn", copy_clients(), publish::handler);
    let convert_caption = convert_caption::Clients { s3: s3.client(), destination_bucket: PUBLIC_BUCKET.into() };
    function!("ConvertCaptionFunctionArn", convert_caption, convert_caption::handler);
    let auto_captions = auto_captions::Clients {
        s3: s3.client(),
        transcribe: transcribe.client(),
        settings: captions,
        prices: TranscribePrices::shipped(),
    };
    function!("AutoCaptionsFunctionArn", auto_captions, auto_captions::handler);

    // The state machine starts Transcribe's jobs itself (`aws-sdk:transcribe:startTranscriptionJob`):
    // the stand-in's operation, its errors named as Step Functions names an SDK integration's.
    let operations = transcribe.operations();
    r.service(
        "arn:aws:states:::aws-sdk:transcribe:startTranscriptionJob",
        handler(move |parameters: Value| {
            let operations = operations.clone();
            async move {
                operations
                    .start_transcription_job(parameters)
                    .await
                    .map_err(|e| Failure { error: format!("Transcribe.{}", <&str>::from(e.kind)), cause: e.message })
            }
        }),
    );

    r.service(
        mediaflow_stepfunctions::engine::definition::SNS_PUBLISH,
        handler(move |parameters: Value| {
            let topic = topic.clone();
            async move {
                let message = parameters["Message"]
                    .as_str()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or_else(|| parameters["Message"].clone());
                let attribute = |name: &str| {
                    parameters["MessageAttributes"][name]["StringValue"].as_str().unwrap_or_default().to_string()
                };
                topic.publish(Notification {
                    subject: parameters["Subject"].as_str().map(String::from),
                    status: attribute("status"),
                    execution: attribute("execution"),
                    message,
                });
                Ok(serde_json::json!({"MessageId": uuid::Uuid::new_v4().to_string()}))
            }
        }),
    );
    r
}
