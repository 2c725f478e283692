use lambda_runtime::Error;
use measure_loudness::{Clients, handler};
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(async {
        Ok(Clients { s3: mediaflow_lambda::s3_from_env().await, ffmpeg: runtime::tool_path("FFMPEG_PATH", "ffmpeg") })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
