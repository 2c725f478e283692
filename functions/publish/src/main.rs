use lambda_runtime::Error;
use mediaflow_lambda::runtime;
use publish::handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_logging();
    let clients = runtime::configure(copy::clients_from_env()).await?;
    runtime::run(|input| handler(input, &clients)).await
}
