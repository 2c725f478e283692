use await_mediaconvert::{Clients, handler};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_from_env().await;
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            mediaconvert: aws_sdk_mediaconvert::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            watch_bucket: runtime::setting("WATCH_BUCKET")?,
            destination_bucket: runtime::setting("DESTINATION_BUCKET")?,
            role_arn: runtime::setting("MEDIACONVERT_ROLE_ARN")?,
            application: runtime::setting("APPLICATION_NAME")?,
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
