//! The S3 behind the embedded endpoint: `s3s-fs` over a folder, with what it lacks added.
//!
//! - Writes to one key are serialised, so a conditional write (`If-None-Match: *`) checks and
//!   writes atomically: s3s-fs alone lets concurrent conditional writers all "succeed".
//! - Every successful write (PutObject, CopyObject, CompleteMultipartUpload) emits an
//!   `Object Created` event shaped as EventBridge delivers S3's.
//! - The bytes each GET actually streams are counted per object.
//! - Keys up to S3's 1,024 bytes, long ones stored apart (`long_keys.rs`); listings with ETags
//!   and long keys under their names (`listing.rs`).
//! - `Content-Encoding: aws-chunked` is a transfer detail of SigV4 streaming uploads, not the
//!   object's encoding; s3s-fs would store it, so it is dropped on the way in.
//!
//! Known gaps of s3s-fs, left as they are: conditional GETs (`If-None-Match`, `If-Modified-Since`)
//! are ignored; a key `x` cannot exist beside `x/y` (a file cannot also be a folder); a
//! multipart object's ETag is the MD5 of its bytes, not S3's `<md5 of part md5s>-<parts>`; no
//! versioning. The pipeline relies on none of these: it compares ETags only with what the same
//! endpoint reports.

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use mediaflow_core::contract::{BucketName, CreatedObject, ObjectCreatedDetail, ObjectCreatedEvent};
use mediaflow_core::cors::CorsRule;
use s3s::dto::*;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{S3, S3Request, S3Response, S3Result, StdError};
use s3s_fs::FileSystem;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::cors::BucketCors;
use crate::long_keys::{LongKeys, MOST_KEY_BYTES, stored};
use mediaflow_endpoint::Feed;
use mediaflow_endpoint::{ACCOUNT, REGION};

/// One lock per object being written, by (bucket, key).
type KeyLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

pub(crate) struct Store {
    pub(crate) fs: FileSystem,
    root: PathBuf,
    key_locks: Mutex<KeyLocks>,
    events: Feed<ObjectCreatedEvent>,
    served: Mutex<HashMap<(String, String), Arc<AtomicU64>>>,
    sequencer: AtomicU64,
    pub(crate) cors: Arc<BucketCors>,
    pub(crate) long_keys: LongKeys,
}

impl Store {
    pub(crate) fn new(root: PathBuf) -> std::io::Result<Store> {
        let fs = FileSystem::new(&root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        Ok(Store {
            fs,
            key_locks: Mutex::default(),
            events: Feed::default(),
            served: Mutex::default(),
            sequencer: AtomicU64::new(0),
            long_keys: LongKeys::open(&root)?,
            cors: Arc::new(BucketCors::open(&root)?),
            root,
        })
    }

    pub(crate) fn events(&self) -> UnboundedReceiver<ObjectCreatedEvent> {
        self.events.subscribe()
    }

    pub(crate) fn bytes_served(&self, bucket: &str, key: &str) -> u64 {
        let served = self.served.lock().expect("not poisoned");
        served.get(&(bucket.to_string(), key.to_string())).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn key_lock(&self, bucket: &str, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.key_locks.lock().expect("not poisoned");
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry((bucket.to_string(), key.to_string())).or_default().clone()
    }

    /// S3's `sequencer` orders the writes of a key, across restarts too: nanoseconds of the
    /// wall clock, one more than the last when the clock has not moved on.
    fn next_sequence(&self) -> u64 {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default().max(0) as u64;
        let previous = self.sequencer.fetch_max(now, Ordering::SeqCst);
        if previous < now { now } else { self.sequencer.fetch_add(1, Ordering::SeqCst) + 1 }
    }

    fn emit(&self, bucket: &str, key: &str, etag: Option<&ETag>, reason: &str) {
        let size = std::fs::metadata(self.root.join(bucket).join(&*stored(key))).map_or(0, |m| m.len());
        let sequence = self.next_sequence();
        let mut event = ObjectCreatedEvent::default();
        event.version = Some("0".into());
        event.id = Some(format!("mediaflow-local-{sequence:016x}"));
        event.detail_type = "Object Created".into();
        event.source = "aws.s3".into();
        event.account = Some(ACCOUNT.into());
        event.time = Some(chrono::Utc::now());
        event.region = Some(REGION.into());
        event.resources = Some(vec![mediaflow_core::arn::s3_bucket(bucket)]);
        event.detail = ObjectCreatedDetail {
            version: Some("0".into()),
            bucket: BucketName { name: bucket.to_string() },
            object: CreatedObject {
                key: key.to_string(),
                size,
                etag: etag.map(|e| e.value().to_string()).unwrap_or_default(),
                version_id: None,
                sequencer: Some(format!("{sequence:016X}")),
            },
            request_id: Some(format!("{sequence:016X}")),
            requester: Some(ACCOUNT.into()),
            source_ip_address: Some("127.0.0.1".into()),
            reason: Some(reason.to_string()),
        };
        self.events.send(&event);
    }
}

/// Drops `aws-chunked` from a Content-Encoding, keeping any real encoding.
fn real_encoding(encoding: Option<ContentEncoding>) -> Option<ContentEncoding> {
    let kept: Vec<&str> = encoding
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && *e != "aws-chunked")
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// A GET body that counts the bytes it hands to the connection.
struct Counted {
    inner: StreamingBlob,
    count: Arc<AtomicU64>,
}

impl Stream for Counted {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(bytes))) = &polled {
            self.count.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ByteStream for Counted {
    fn remaining_length(&self) -> RemainingLength {
        self.inner.remaining_length()
    }
}

/// The S3 operations the endpoint answers: most as s3s-fs does, the writes and GET through
/// the [`Store`] methods above.
pub(crate) struct Service(pub(crate) Arc<Store>);

macro_rules! operations {
    (fs: { $($fs_op:ident: $fs_in:ty => $fs_out:ty;)* } store: { $($op:ident: $in:ty => $out:ty;)* }) => {
        #[async_trait::async_trait]
        impl S3 for Service {
            $(
                async fn $fs_op(&self, req: S3Request<$fs_in>) -> S3Result<S3Response<$fs_out>> {
                    self.0.fs.$fs_op(req).await
                }
            )*
            $(
                async fn $op(&self, req: S3Request<$in>) -> S3Result<S3Response<$out>> {
                    self.0.$op(req).await
                }
            )*
        }
    };
}

operations! {
    fs: {
        create_bucket: CreateBucketInput => CreateBucketOutput;
        delete_bucket: DeleteBucketInput => DeleteBucketOutput;
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
        head_bucket: HeadBucketInput => HeadBucketOutput;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        list_objects: ListObjectsInput => ListObjectsOutput;
    }
    store: {
        delete_object: DeleteObjectInput => DeleteObjectOutput;
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        upload_part: UploadPartInput => UploadPartOutput;
        upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput;
        list_parts: ListPartsInput => ListPartsOutput;
        abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
        get_object: GetObjectInput => GetObjectOutput;
        put_object: PutObjectInput => PutObjectOutput;
        copy_object: CopyObjectInput => CopyObjectOutput;
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
        complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        put_bucket_cors: PutBucketCorsInput => PutBucketCorsOutput;
        get_bucket_cors: GetBucketCorsInput => GetBucketCorsOutput;
        delete_bucket_cors: DeleteBucketCorsInput => DeleteBucketCorsOutput;
    }
}

impl Store {
    async fn get_object(&self, mut req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let id = (req.input.bucket.clone(), req.input.key.clone());
        to_stored(&mut req.input.key);
        let mut response = self.fs.get_object(req).await?;
        if let Some(body) = response.output.body.take() {
            let count = self.served.lock().expect("not poisoned").entry(id).or_default().clone();
            response.output.body = Some(StreamingBlob::new(Counted { inner: body, count }));
        }
        Ok(response)
    }

    async fn put_object(&self, mut req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        req.input.content_encoding = real_encoding(req.input.content_encoding.take());
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        refuse_too_long(&key)?;
        to_stored(&mut req.input.key);
        let lock = self.key_lock(&bucket, &key);
        let _writing = lock.lock().await;
        let response = self.fs.put_object(req).await?;
        self.remember(&bucket, &key)?;
        if !key.ends_with('/') {
            self.emit(&bucket, &key, response.output.e_tag.as_ref(), "PutObject");
        }
        Ok(response)
    }

    async fn copy_object(&self, mut req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        refuse_too_long(&key)?;
        to_stored(&mut req.input.key);
        source_to_stored(&mut req.input.copy_source);
        let lock = self.key_lock(&bucket, &key);
        let _writing = lock.lock().await;
        let response = self.fs.copy_object(req).await?;
        self.remember(&bucket, &key)?;
        let etag = response.output.copy_object_result.as_ref().and_then(|r| r.e_tag.clone());
        self.emit(&bucket, &key, etag.as_ref(), "CopyObject");
        Ok(response)
    }

    async fn create_multipart_upload(
        &self,
        mut req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        req.input.content_encoding = real_encoding(req.input.content_encoding.take());
        let key = req.input.key.clone();
        refuse_too_long(&key)?;
        to_stored(&mut req.input.key);
        let mut response = self.fs.create_multipart_upload(req).await?;
        response.output.key = Some(key);
        Ok(response)
    }

    async fn complete_multipart_upload(
        &self,
        mut req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        to_stored(&mut req.input.key);
        let lock = self.key_lock(&bucket, &key);
        let _writing = lock.lock().await;
        let mut response = self.fs.complete_multipart_upload(req).await?;
        // s3s-fs answers through a deferred output (S3's keep-alive style); the object is
        // already whole, so resolve it here and report its ETag.
        if let Some(deferred) = response.output.future.take() {
            response.output = deferred.await?;
        }
        response.output.key = Some(key.clone());
        self.remember(&bucket, &key)?;
        self.emit(&bucket, &key, response.output.e_tag.as_ref(), "CompleteMultipartUpload");
        Ok(response)
    }

    fn remember(&self, bucket: &str, key: &str) -> S3Result<()> {
        self.long_keys.remember(bucket, key).map_err(|e| s3s::s3_error!(e, InternalError))
    }

    async fn head_object(&self, mut req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        to_stored(&mut req.input.key);
        self.fs.head_object(req).await
    }

    async fn delete_object(&self, mut req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        to_stored(&mut req.input.key);
        let response = self.fs.delete_object(req).await?;
        self.long_keys.forget(&bucket, &key);
        Ok(response)
    }

    async fn delete_objects(
        &self,
        mut req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = req.input.bucket.clone();
        let mut originals = HashMap::new();
        for object in &mut req.input.delete.objects {
            let key = object.key.clone();
            to_stored(&mut object.key);
            originals.insert(object.key.clone(), key);
        }
        let mut response = self.fs.delete_objects(req).await?;
        for deleted in response.output.deleted.iter_mut().flatten() {
            if let Some(key) = deleted.key.as_mut().and_then(|k| originals.get(k).map(|o| (k, o))) {
                *key.0 = key.1.clone();
                self.long_keys.forget(&bucket, key.1);
            }
        }
        Ok(response)
    }

    async fn upload_part(&self, mut req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        to_stored(&mut req.input.key);
        self.fs.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        mut req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        to_stored(&mut req.input.key);
        source_to_stored(&mut req.input.copy_source);
        self.fs.upload_part_copy(req).await
    }

    async fn list_parts(&self, mut req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let key = req.input.key.clone();
        to_stored(&mut req.input.key);
        let mut response = self.fs.list_parts(req).await?;
        response.output.key = Some(key);
        Ok(response)
    }

    async fn abort_multipart_upload(
        &self,
        mut req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        to_stored(&mut req.input.key);
        self.fs.abort_multipart_upload(req).await
    }

    fn bucket_exists(&self, bucket: &str) -> S3Result<()> {
        match self.root.join(bucket).is_dir() {
            true => Ok(()),
            false => Err(s3s::s3_error!(NoSuchBucket)),
        }
    }

    async fn put_bucket_cors(&self, req: S3Request<PutBucketCorsInput>) -> S3Result<S3Response<PutBucketCorsOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        let rules = req.input.cors_configuration.cors_rules.into_iter().map(|r| CorsRule {
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: r.allowed_headers.unwrap_or_default(),
            expose_headers: r.expose_headers.unwrap_or_default(),
            max_age_seconds: r.max_age_seconds,
        });
        self.cors.put(&req.input.bucket, rules.collect()).map_err(|e| s3s::s3_error!(e, InternalError))?;
        Ok(S3Response::new(PutBucketCorsOutput {}))
    }

    async fn get_bucket_cors(&self, req: S3Request<GetBucketCorsInput>) -> S3Result<S3Response<GetBucketCorsOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        let rules = self.cors.get(&req.input.bucket).ok_or_else(|| s3s::s3_error!(NoSuchCORSConfiguration))?;
        let rules = rules.into_iter().map(|r| CORSRule {
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: Some(r.allowed_headers).filter(|h| !h.is_empty()),
            expose_headers: Some(r.expose_headers).filter(|h| !h.is_empty()),
            max_age_seconds: r.max_age_seconds,
            id: None,
        });
        Ok(S3Response::new(GetBucketCorsOutput { cors_rules: Some(rules.collect()) }))
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        self.cors.delete(&req.input.bucket).map_err(|e| s3s::s3_error!(e, InternalError))?;
        Ok(S3Response::new(DeleteBucketCorsOutput {}))
    }
}

/// Where s3s-fs keeps `key` (`long_keys.rs`).
fn to_stored(key: &mut String) {
    if let std::borrow::Cow::Owned(at) = stored(key) {
        *key = at;
    }
}

fn source_to_stored(source: &mut CopySource) {
    if let CopySource::Bucket { key, .. } = source
        && let std::borrow::Cow::Owned(at) = stored(key)
    {
        *key = at.into_boxed_str();
    }
}

/// S3 refuses keys over 1,024 bytes, and so does this endpoint, with S3's error.
fn refuse_too_long(key: &str) -> S3Result<()> {
    match key.len() > MOST_KEY_BYTES {
        true => Err(s3s::s3_error!(KeyTooLongError, "Your key is too long")),
        false => Ok(()),
    }
}
