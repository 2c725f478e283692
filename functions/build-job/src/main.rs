use build_job::{Clients, handler};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            destination_bucket: mediaflow_lambda::setting("DESTINATION_BUCKET")?,
            video_template_key: std::env::var("JOB_TEMPLATE_KEY").ok().filter(|k| !k.is_empty()),
            audio_template_key: std::env::var("AUDIO_JOB_TEMPLATE_KEY").ok().filter(|k| !k.is_empty()),
            price_table_key: std::env::var("PRICE_TABLE_KEY").ok().filter(|k| !k.is_empty()),
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
