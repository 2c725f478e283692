//! The archive-original function.
use copy::{archive_original, clients_from_env};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::AssetInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = clients_from_env().await?;
    run(service_fn(|event: LambdaEvent<AssetInput>| archive_original(event.payload, &clients))).await
}
