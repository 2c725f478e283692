use convert_caption::{Clients, handler};
use lambda_runtime::Error;
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(Clients::from_env()).await?;
    runtime::run(|input| handler(input, &clients)).await
}
