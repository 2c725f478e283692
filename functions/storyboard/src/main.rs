use lambda_runtime::Error;
use mediaflow_lambda::runtime;
use storyboard::{Clients, handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let clients = runtime::configure(Clients::from_env()).await?;
    runtime::run(|input| handler(input, &clients)).await
}
