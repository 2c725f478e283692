//! The copy-mp3 function.
use copy::{clients_from_env, copy_mp3};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(clients_from_env()).await?;
    runtime::run(|input| copy_mp3(input, &clients)).await
}
