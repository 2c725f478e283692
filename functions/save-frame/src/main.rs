use lambda_runtime::Error;
use mediaflow_lambda::runtime;
use save_frame::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(async {
        let frame_seconds = match std::env::var("FRAME_SECONDS") {
            Ok(s) => s.parse().map_err(|_| format!("FRAME_SECONDS={s:?} is not a number of seconds"))?,
            Err(_) => mediaflow_core::thumbnail::DEFAULT_FRAME_SECONDS,
        };
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            destination_bucket: runtime::setting("DESTINATION_BUCKET")?,
            ffmpeg: runtime::tool_path("FFMPEG_PATH", "ffmpeg"),
            frame_seconds,
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
