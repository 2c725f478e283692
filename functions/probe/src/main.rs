use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::ProbeInput;
use probe::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = Clients {
        s3: mediaflow_lambda::s3_from_env().await,
        ffprobe: std::env::var("FFPROBE_PATH").unwrap_or_else(|_| "ffprobe".into()).into(),
    };
    run(service_fn(|event: LambdaEvent<ProbeInput>| handler(event.payload, &clients))).await
}
