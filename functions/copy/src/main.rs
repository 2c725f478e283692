//! The copy-mp3 function.
use copy::{Clients, copy_mp3};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(Clients::from_env()).await?;
    runtime::run(|input| copy_mp3(input, &clients)).await
}
