//! The copy-mp3 function.
use copy::{clients_from_env, copy_mp3};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::AssetInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = clients_from_env().await?;
    run(service_fn(|event: LambdaEvent<AssetInput>| copy_mp3(event.payload, &clients))).await
}
