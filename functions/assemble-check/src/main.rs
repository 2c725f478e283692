use assemble_check::{Clients, handler};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(async { Ok(Clients { s3: mediaflow_lambda::s3_from_env().await }) }).await?;
    runtime::run(|input| handler(input, &clients)).await
}
