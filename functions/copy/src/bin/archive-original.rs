//! The archive-original function.
use copy::{Clients, archive_original};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(Clients::from_env()).await?;
    runtime::run(|input| archive_original(input, &clients)).await
}
