use lambda_runtime::Error;
use mediaflow_lambda::runtime;
use probe::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            ffprobe: std::env::var("FFPROBE_PATH").unwrap_or_else(|_| "ffprobe".into()).into(),
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
