//! The archive-original function.
use copy::{archive_original, clients_from_env};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(clients_from_env()).await?;
    runtime::run(|input| archive_original(input, &clients)).await
}
