use convert_caption::{Clients, handler};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::AssetInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let destination_bucket = std::env::var("DESTINATION_BUCKET").map_err(|_| "DESTINATION_BUCKET is not set")?;
    // Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE>; S3 endpoints without
    // per-bucket host names (any S3-compatible store) need S3_FORCE_PATH_STYLE=true.
    let path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true");
    let config = aws_config::load_from_env().await;
    let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).build();
    let clients = Clients { s3: aws_sdk_s3::Client::from_conf(s3), destination_bucket };
    run(service_fn(|event: LambdaEvent<AssetInput>| handler(event.payload, &clients))).await
}
