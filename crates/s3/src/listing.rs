//! ListObjectsV2 as S3 answers it, over s3s-fs: every object with its ETag (s3s-fs leaves it
//! out), and long keys (`long_keys.rs`) under their own names, in key order.

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use crate::long_keys::{STORED_PREFIX, stored};
use crate::store::Store;

/// An internal request to s3s-fs, made like `like`.
fn request<T, U>(like: &S3Request<U>, input: T) -> S3Request<T> {
    S3Request {
        input,
        method: like.method.clone(),
        uri: like.uri.clone(),
        headers: Default::default(),
        extensions: Default::default(),
        credentials: like.credentials.clone(),
        region: None,
        service: None,
        trailing_headers: None,
    }
}

fn internal(e: impl std::fmt::Display) -> s3s::S3Error {
    s3s::s3_error!(InternalError, "{e}")
}

impl Store {
    /// The ETag (and size and time) of `key` as HeadObject gives them.
    async fn head<U>(&self, like: &S3Request<U>, bucket: &str, key: &str) -> Option<HeadObjectOutput> {
        let input = HeadObjectInput::builder().bucket(bucket.to_string()).key(stored(key).into_owned()).build().ok()?;
        self.fs.head_object(request(like, input)).await.ok().map(|r| r.output)
    }

    pub(crate) async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let bucket = req.input.bucket.clone();
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let long = self.long_keys.under(&bucket, &prefix);
        if !long.is_empty() {
            return self.list_with_long_keys(req, long).await;
        }
        let like = request(&req, ());
        let mut response = self.fs.list_objects_v2(req).await?;
        if let Some(contents) = response.output.contents.as_mut() {
            contents.retain(|o| !o.key.as_deref().unwrap_or_default().starts_with(STORED_PREFIX));
            for object in contents.iter_mut().filter(|o| o.e_tag.is_none()) {
                let key = object.key.clone().unwrap_or_default();
                object.e_tag = self.head(&like, &bucket, &key).await.and_then(|h| h.e_tag);
            }
        }
        Ok(response)
    }

    /// The whole listing of the prefix, long keys merged in, paged here (a continuation token is
    /// the last key or common prefix of the page before).
    async fn list_with_long_keys(
        &self,
        req: S3Request<ListObjectsV2Input>,
        long: Vec<String>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input.clone();
        let prefix = input.prefix.clone().unwrap_or_default();
        let like = request(&req, ());
        let mut objects: Vec<Object> = Vec::new();
        let mut token = None;
        loop {
            let page = ListObjectsV2Input::builder()
                .bucket(input.bucket.clone())
                .prefix(Some(prefix.clone()))
                .continuation_token(token.take())
                .max_keys(Some(1000))
                .build()
                .map_err(internal)?;
            let listed = self.fs.list_objects_v2(request(&like, page)).await?.output;
            objects.extend(
                listed
                    .contents
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|o| !o.key.as_deref().unwrap_or_default().starts_with(STORED_PREFIX)),
            );
            match (listed.is_truncated, listed.next_continuation_token) {
                (Some(true), Some(next)) => token = Some(next),
                _ => break,
            }
        }
        for key in long {
            let Some(head) = self.head(&like, &input.bucket, &key).await else { continue };
            objects.push(Object {
                key: Some(key),
                size: head.content_length,
                e_tag: head.e_tag,
                last_modified: head.last_modified,
                ..Default::default()
            });
        }
        for object in objects.iter_mut().filter(|o| o.e_tag.is_none()) {
            let key = object.key.clone().unwrap_or_default();
            object.e_tag = self.head(&like, &input.bucket, &key).await.and_then(|h| h.e_tag);
        }
        objects.sort_by(|a, b| a.key.cmp(&b.key));

        // After the start, grouped by the delimiter, at most max-keys entries.
        let after = input.continuation_token.clone().or(input.start_after.clone()).unwrap_or_default();
        let limit = input.max_keys.unwrap_or(1000).max(0) as usize;
        let (mut contents, mut prefixes, mut count, mut last) = (Vec::new(), Vec::<CommonPrefix>::new(), 0, None);
        let mut truncated = false;
        for object in objects {
            let key = object.key.clone().unwrap_or_default();
            let entry = match input.delimiter.as_deref().filter(|d| !d.is_empty()) {
                Some(d) => key[prefix.len()..].find(d).map(|i| key[..prefix.len() + i + d.len()].to_string()),
                None => None,
            };
            let name = entry.clone().unwrap_or_else(|| key.clone());
            if name.as_str() <= after.as_str()
                || prefixes.last().is_some_and(|p| p.prefix.as_deref() == entry.as_deref())
            {
                continue;
            }
            if count == limit {
                truncated = true;
                break;
            }
            count += 1;
            last = Some(name);
            match entry {
                Some(group) => prefixes.push(CommonPrefix { prefix: Some(group) }),
                None => contents.push(object),
            }
        }
        let output = ListObjectsV2Output {
            name: Some(input.bucket.clone()),
            prefix: input.prefix.clone(),
            delimiter: input.delimiter.clone(),
            max_keys: input.max_keys,
            key_count: Some(count as i32),
            continuation_token: input.continuation_token.clone(),
            start_after: input.start_after.clone(),
            is_truncated: Some(truncated),
            next_continuation_token: if truncated { last } else { None },
            contents: Some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}
