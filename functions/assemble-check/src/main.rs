use assemble_check::{Clients, handler};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::AssetInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = Clients { s3: mediaflow_lambda::s3_from_env().await };
    run(service_fn(|event: LambdaEvent<AssetInput>| handler(event.payload, &clients))).await
}
