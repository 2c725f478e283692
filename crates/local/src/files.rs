//! Records the platform keeps under its data folder, written whole or not at all.

use std::io;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file renamed into place, so a crash leaves the
/// old record or the new one, never half of one; creates the folder when missing.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(partial, path)
}
