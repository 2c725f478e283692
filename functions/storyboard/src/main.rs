use lambda_runtime::Error;
use mediaflow_lambda::runtime;
use storyboard::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(async {
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            destination_bucket: mediaflow_lambda::setting("DESTINATION_BUCKET")?,
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
