use build_job::{Clients, handler};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            destination_bucket: runtime::setting("DESTINATION_BUCKET")?,
            video_template_key: runtime::optional_setting("JOB_TEMPLATE_KEY"),
            audio_template_key: runtime::optional_setting("AUDIO_JOB_TEMPLATE_KEY"),
            price_table_key: runtime::optional_setting("PRICE_TABLE_KEY"),
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
