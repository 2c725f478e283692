//! The embedded S3 endpoint: HTTP on 127.0.0.1 over a data folder, one folder per bucket
//! (s3s's protocol over s3s-fs's files), emitting S3's `Object Created` events as EventBridge
//! delivers them.

mod cors;
mod listing;
mod long_keys;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::config::RequestChecksumCalculation;
use mediaflow_core::contract::ObjectCreatedEvent;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::cors::WithCors;
use crate::store::{Service, Store};

pub use mediaflow_endpoint::Credentials;

/// Each connection's socket send buffer.
const SEND_BUFFER_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("data folder {path}")]
    DataFolder { path: PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// A running endpoint. Dropping it stops the server.
pub struct EmbeddedS3 {
    addr: SocketAddr,
    data: PathBuf,
    credentials: Credentials,
    store: Arc<Store>,
    _stop: oneshot::Sender<()>,
}

impl EmbeddedS3 {
    /// Serves `data` (created if missing, with a folder for each of `buckets`) on `addr`
    /// (port 0 picks a free one), to requests signed with credentials of its own (random):
    /// [`EmbeddedS3::client`] signs with them.
    pub async fn start(data: &Path, buckets: &[&str], addr: SocketAddr) -> Result<EmbeddedS3, Error> {
        EmbeddedS3::start_with(data, buckets, addr, Credentials::random()).await
    }

    /// [`EmbeddedS3::start`], to requests signed with `credentials`.
    pub async fn start_with(
        data: &Path,
        buckets: &[&str],
        addr: SocketAddr,
        credentials: Credentials,
    ) -> Result<EmbeddedS3, Error> {
        let folder_error = |source| Error::DataFolder { path: data.to_path_buf(), source };
        for bucket in buckets {
            std::fs::create_dir_all(data.join(bucket)).map_err(folder_error)?;
        }
        let data = data.canonicalize().map_err(folder_error)?;
        let store = Arc::new(Store::new(data.clone()).map_err(folder_error)?);
        let service = {
            let mut builder = S3ServiceBuilder::new(Service(store.clone()));
            builder.set_auth(SimpleAuth::from_single(&*credentials.access_key_id, &*credentials.secret_access_key));
            WithCors { s3: builder.build(), cors: store.cors.clone() }
        };
        let listener = TcpListener::bind(addr).await.map_err(|source| Error::Listen { addr, source })?;
        let addr = listener.local_addr().map_err(|source| Error::Listen { addr, source })?;
        // A small send buffer keeps what a GET has streamed close to what its reader took: a
        // reader that stops early (ffprobe seeking) leaves little in flight.
        let stop = mediaflow_endpoint::listener::serve(listener, service, |socket| {
            let _ = socket2::SockRef::from(socket).set_send_buffer_size(SEND_BUFFER_BYTES);
        });
        Ok(EmbeddedS3 { addr, data, credentials, store, _stop: stop })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_S3` and any S3 client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What requests must be signed with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Where the object `bucket`/`key` lies on disk.
    pub fn path_of(&self, bucket: &str, key: &str) -> PathBuf {
        self.data.join(bucket).join(&*crate::long_keys::stored(key))
    }

    /// Sets `bucket`'s CORS rules, as `PutBucketCors` does.
    pub fn set_cors(&self, bucket: &str, rules: Vec<mediaflow_core::cors::CorsRule>) -> std::io::Result<()> {
        self.store.cors.put(bucket, rules)
    }

    /// Every `Object Created` event from now on.
    pub fn events(&self) -> mpsc::UnboundedReceiver<ObjectCreatedEvent> {
        self.store.events()
    }

    /// Bytes GETs of `bucket`/`key` have streamed so far.
    pub fn bytes_served(&self, bucket: &str, key: &str) -> u64 {
        self.store.bytes_served(bucket, key)
    }

    /// An S3 client for this endpoint. Checksums are sent only when S3 requires them: with the
    /// SDK's default, uploads are `aws-chunked` with a trailing checksum.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config =
            aws_sdk_s3::config::Builder::from(&mediaflow_endpoint::sdk_config(self.endpoint(), &self.credentials))
                .force_path_style(true)
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}
