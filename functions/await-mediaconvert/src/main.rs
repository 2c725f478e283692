use await_mediaconvert::{Clients, handler};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = aws_config::load_from_env().await;
    let clients = Clients {
        s3: mediaflow_lambda::s3_from_env().await,
        mediaconvert: aws_sdk_mediaconvert::Client::new(&config),
        sfn: aws_sdk_sfn::Client::new(&config),
        watch_bucket: mediaflow_lambda::setting("WATCH_BUCKET")?,
        destination_bucket: mediaflow_lambda::setting("DESTINATION_BUCKET")?,
        role_arn: mediaflow_lambda::setting("MEDIACONVERT_ROLE_ARN")?,
        application: mediaflow_lambda::setting("APPLICATION_NAME")?,
    };
    run(service_fn(|event: LambdaEvent<Value>| handler(event.payload, &clients))).await
}
