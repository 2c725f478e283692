use build_job::{Clients, handler};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::MediaInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = Clients {
        s3: mediaflow_lambda::s3_from_env().await,
        destination_bucket: mediaflow_lambda::setting("DESTINATION_BUCKET")?,
        video_template_key: std::env::var("JOB_TEMPLATE_KEY").ok().filter(|k| !k.is_empty()),
        audio_template_key: std::env::var("AUDIO_JOB_TEMPLATE_KEY").ok().filter(|k| !k.is_empty()),
        price_table_key: std::env::var("PRICE_TABLE_KEY").ok().filter(|k| !k.is_empty()),
    };
    run(service_fn(|event: LambdaEvent<MediaInput>| handler(event.payload, &clients))).await
}
