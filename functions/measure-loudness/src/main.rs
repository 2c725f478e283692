use lambda_runtime::Error;
use measure_loudness::{Clients, handler};
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            ffmpeg: std::env::var("FFMPEG_PATH").unwrap_or_else(|_| "ffmpeg".into()).into(),
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
