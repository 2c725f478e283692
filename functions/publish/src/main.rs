use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::PublishInput;
use publish::handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = copy::clients_from_env().await?;
    run(service_fn(|event: LambdaEvent<PublishInput>| handler(event.payload, &clients))).await
}
