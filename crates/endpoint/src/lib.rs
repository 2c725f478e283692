//! What every emulated AWS endpoint on this machine shares: the listener (one accept loop, for
//! s3s's service and axum's routers), its records kept whole on disk, its feed of events, and
//! the one account, region and credentials it answers as.

pub mod feed;
pub mod files;
pub mod listener;

pub use feed::Feed;

/// The one region and account the platform is, in every ARN and event it makes.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The static test credentials the endpoints' clients sign with (S3 checks them).
pub const ACCESS_KEY: &str = "mediaflow";
pub const SECRET_KEY: &str = "mediaflow-local-secret";

/// What a client of the endpoint at `url` is built from, whatever its service: this machine's
/// region and credentials (`aws_sdk_*::Client::new(&sdk_config(url))`).
pub fn sdk_config(url: impl Into<String>) -> aws_types::SdkConfig {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "mediaflow-local");
    aws_types::SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}
