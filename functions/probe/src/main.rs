use lambda_runtime::Error;
use mediaflow_lambda::runtime;
use probe::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            ffprobe: runtime::tool_path("FFPROBE_PATH", "ffprobe"),
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
