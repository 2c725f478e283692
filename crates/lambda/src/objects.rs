//! S3 work on many objects at once.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::failure::{AwsFailure, aws_failure, key_failure};

/// DeleteObjects takes at most 1,000 keys.
pub const DELETE_BATCH: usize = 1000;

/// Deletes `keys` of `bucket`, [`DELETE_BATCH`] to a request, one request after the other (so
/// that keys given earlier are gone before later ones go). A key that is gone already (a
/// repeated run) is no error; a key S3 could not delete fails the whole, named as its code says.
pub async fn delete_keys(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[String]) -> Result<(), AwsFailure> {
    for batch in keys.chunks(DELETE_BATCH) {
        let objects: Vec<ObjectIdentifier> =
            batch.iter().map(|k| ObjectIdentifier::builder().key(k).build().expect("the key is set")).collect();
        let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().expect("the objects are set");
        let done = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| aws_failure("DeleteObjects", e))?;
        // Each key that failed is told in the (successful) answer.
        if let Some(e) = done.errors().iter().find(|e| e.code() != Some("NoSuchKey")) {
            return Err(key_failure("DeleteObjects", e.key().unwrap_or_default(), e.code(), e.message()));
        }
    }
    Ok(())
}
