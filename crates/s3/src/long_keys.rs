//! Keys that s3s-fs cannot store as they are. It keeps an object's metadata in a file named
//! after the base64 of the whole key, so from about 130 bytes of key the name passes the file
//! system's 255; and one path segment of more than 255 bytes cannot be a file at all. S3 takes
//! keys up to 1,024 bytes. So a long key is stored under `.long/<sha-256 of the key>` and
//! remembered in `<root>/.long-keys/<bucket>/<sha-256>`, from where listings read it back.

use std::borrow::Cow;
use std::io;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Where long keys are stored in a bucket.
pub(crate) const STORED_PREFIX: &str = ".long/";
/// S3's longest key, in bytes.
pub(crate) const MOST_KEY_BYTES: usize = 1024;

fn is_long(key: &str) -> bool {
    key.len() > 120 || key.split('/').any(|segment| segment.len() > 200)
}

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The key s3s-fs stores `key` under.
pub(crate) fn stored(key: &str) -> Cow<'_, str> {
    if is_long(key) { Cow::Owned(format!("{STORED_PREFIX}{}", digest(key))) } else { Cow::Borrowed(key) }
}

/// The long keys of each bucket, by their digest.
pub(crate) struct LongKeys {
    dir: PathBuf,
}

impl LongKeys {
    pub(crate) fn open(root: &std::path::Path) -> io::Result<LongKeys> {
        let dir = root.join(".long-keys");
        std::fs::create_dir_all(&dir)?;
        Ok(LongKeys { dir })
    }

    /// Remembers `key` of `bucket` if it is long (after a write).
    pub(crate) fn remember(&self, bucket: &str, key: &str) -> io::Result<()> {
        if !is_long(key) {
            return Ok(());
        }
        let folder = self.dir.join(bucket);
        std::fs::create_dir_all(&folder)?;
        mediaflow_endpoint::files::write_whole(&folder.join(digest(key)), key.as_bytes())
    }

    /// Forgets `key` (after a delete).
    pub(crate) fn forget(&self, bucket: &str, key: &str) {
        if is_long(key) {
            let _ = std::fs::remove_file(self.dir.join(bucket).join(digest(key)));
        }
    }

    /// The long keys of `bucket` that start with `prefix`, sorted.
    pub(crate) fn under(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join(bucket)) else { return Vec::new() };
        let mut keys: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_long_keys_are_stored_elsewhere() {
        assert_eq!(stored("inputs/talk.mp4"), "inputs/talk.mp4");
        let long = format!("inputs/{}.mp4", "a".repeat(300));
        let at = stored(&long);
        assert!(at.starts_with(STORED_PREFIX) && at.len() == STORED_PREFIX.len() + 64, "{at}");
        assert_eq!(stored(&long), at, "the same key, the same place");
        let dir = tempfile::tempdir().unwrap();
        let keys = LongKeys::open(dir.path()).unwrap();
        keys.remember("watch", &long).unwrap();
        keys.remember("watch", "inputs/short.mp4").unwrap();
        assert_eq!(keys.under("watch", "inputs/"), [long.as_str()]);
        assert!(keys.under("watch", "original/").is_empty());
        keys.forget("watch", &long);
        assert!(keys.under("watch", "").is_empty());
    }
}
