use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mediaflow_core::contract::SaveMetadataInput;
use save_metadata::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let clients = Clients {
        s3: mediaflow_lambda::s3_from_env().await,
        destination_bucket: mediaflow_lambda::setting("DESTINATION_BUCKET")?,
    };
    run(service_fn(|event: LambdaEvent<SaveMetadataInput>| handler(event.payload, &clients))).await
}
