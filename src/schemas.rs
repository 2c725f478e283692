//! `mediaflow schemas`: the JSON Schema of every contract type, one file each.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The file text of every schema, by file name.
pub fn generated() -> Vec<(String, String)> {
    mediaflow_core::contract::schemas()
        .into_iter()
        .map(|(name, schema)| {
            let text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
            (format!("{name}.json"), text + "\n")
        })
        .collect()
}

fn json_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    Ok(files)
}

pub fn run(out: &Path, check: bool) -> Result<()> {
    let generated = generated();
    if check {
        let mut stale = Vec::new();
        for (file, text) in &generated {
            if std::fs::read_to_string(out.join(file)).ok().as_deref() != Some(text.as_str()) {
                stale.push(file.clone());
            }
        }
        for path in json_files(out)? {
            if !generated.iter().any(|(f, _)| path.file_name().is_some_and(|n| n == f.as_str())) {
                stale.push(format!("{} (no such type)", path.display()));
            }
        }
        if !stale.is_empty() {
            bail!("{} differ from the contract types: {}; run `mediaflow schemas`", out.display(), stale.join(", "));
        }
        println!("{} schemas in {} are current", generated.len(), out.display());
        return Ok(());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for path in json_files(out)? {
        if !generated.iter().any(|(f, _)| path.file_name().is_some_and(|n| n == f.as_str())) {
            std::fs::remove_file(&path).with_context(|| format!("removing the stale {}", path.display()))?;
        }
    }
    for (file, text) in &generated {
        std::fs::write(out.join(file), text).with_context(|| format!("writing {}", out.join(file).display()))?;
    }
    println!("wrote {} schemas to {}", generated.len(), out.display());
    Ok(())
}
