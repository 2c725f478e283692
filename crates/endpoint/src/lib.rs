//! What every emulated AWS endpoint on this machine shares: the listener (one accept loop, for
//! s3s's service and axum's routers), its records kept whole on disk, its feed of events, the
//! one account and region it answers as, and the check of who calls (SigV4, with credentials
//! made for each data folder or given by the user).

pub mod credentials;
pub mod feed;
pub mod files;
pub mod listener;
pub mod sigv4;

pub use credentials::Credentials;
pub use feed::Feed;

/// The one region and account the platform is, in every ARN and event it makes.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// What a client of the endpoint at `url` is built from, whatever its service: this machine's
/// region and the endpoint's `credentials` (`aws_sdk_*::Client::new(&sdk_config(url, c))`).
pub fn sdk_config(url: impl Into<String>, credentials: &Credentials) -> aws_types::SdkConfig {
    use aws_credential_types::provider::SharedCredentialsProvider;
    let credentials = aws_credential_types::Credentials::from(credentials);
    aws_types::SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}
