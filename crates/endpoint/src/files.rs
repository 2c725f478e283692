//! Records the platform keeps under its data folder, written whole or not at all.

use std::io;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file renamed into place, so a crash leaves the
/// old record or the new one, never half of one; creates the folder when missing.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(partial, path)
}

/// Every JSON record written with [`write_whole`] in `dir` (none when it does not exist yet). A
/// record that does not read as `T` is an error naming its file: a damaged record is not
/// skipped silently.
pub fn read_all<T: serde::de::DeserializeOwned>(dir: &Path) -> io::Result<Vec<T>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut records = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let record = serde_json::from_slice(&std::fs::read(&path)?)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
            records.push(record);
        }
    }
    Ok(records)
}
