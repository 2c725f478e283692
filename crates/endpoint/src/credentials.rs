//! The credentials every endpoint here checks (SigV4) and every client of one signs with: made
//! for each data folder (random, kept owner-only in an AWS shared-credentials file, so that
//! `AWS_SHARED_CREDENTIALS_FILE=<data>/credentials aws …` works), or given by the user.

use std::io;
use std::path::Path;

/// An access key and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Never the secret, in a log or a panic.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// What the credentials file of a data folder is called.
pub const FILE: &str = "credentials";

impl Credentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Credentials {
        Credentials { access_key_id: access_key_id.into(), secret_access_key: secret_access_key.into() }
    }

    /// New random credentials, from the operating system's random source: an access key ID
    /// shaped as AWS's (20 upper-case letters and digits, here starting `MFLO`) and a 40-character
    /// secret.
    pub fn random() -> Credentials {
        const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        const ANY: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let pick = |alphabet: &[u8], n: usize| -> String {
            let mut bytes = vec![0u8; n];
            getrandom::fill(&mut bytes).expect("the operating system's random source");
            // 256 is not a multiple of 36 or 62: the bias (under 1 in 4 per character) costs a
            // fraction of a bit of the secret's 238, and keeps this one line.
            bytes.iter().map(|b| alphabet[*b as usize % alphabet.len()] as char).collect()
        };
        Credentials::new(format!("MFLO{}", pick(UPPER, 16)), pick(ANY, 40))
    }

    /// The credentials of data folder `data`: read from its credentials file, or made and kept
    /// there (owner-only) the first time.
    pub fn of_folder(data: &Path) -> io::Result<Credentials> {
        let path = data.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Credentials::parse(&text).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: no aws_access_key_id and aws_secret_access_key", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let made = Credentials::random();
                write_owner_only(&path, made.file().as_bytes())?;
                Ok(made)
            }
            Err(e) => Err(e),
        }
    }

    /// As an AWS shared-credentials file, in its default profile.
    pub fn file(&self) -> String {
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.access_key_id, self.secret_access_key
        )
    }

    /// The `[default]` profile's keys in an AWS shared-credentials file, as the aws CLI reads
    /// them; `None` when either is missing or empty.
    fn parse(text: &str) -> Option<Credentials> {
        let mut section = "";
        let mut keys = std::collections::HashMap::new();
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim();
            } else if let Some((key, value)) = line.split_once('=')
                && section == "default"
            {
                keys.insert(key.trim(), value.trim());
            }
        }
        let value = |key: &str| keys.get(key).filter(|v| !v.is_empty()).map(|v| v.to_string());
        Some(Credentials::new(value("aws_access_key_id")?, value("aws_secret_access_key")?))
    }
}

/// The SDKs' form, for a client that signs with them or a check that signs again.
impl From<&Credentials> for aws_credential_types::Credentials {
    fn from(c: &Credentials) -> Self {
        aws_credential_types::Credentials::new(&c.access_key_id, &c.secret_access_key, None, None, "mediaflow")
    }
}

/// Writes `bytes` to a new file at `path` that only its owner can read, whole or not at all.
fn write_owner_only(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_folder_keeps_its_own_random_credentials_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let made = Credentials::of_folder(dir.path()).unwrap();
        assert_eq!(made.access_key_id.len(), 20);
        assert!(made.access_key_id.starts_with("MFLO"));
        assert_eq!(made.secret_access_key.len(), 40);
        let mode = std::fs::metadata(dir.path().join(FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads it");
        assert_eq!(Credentials::of_folder(dir.path()).unwrap(), made, "read back, not made again");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(Credentials::of_folder(other.path()).unwrap(), made, "each folder its own");
        assert!(!format!("{made:?}").contains(&made.secret_access_key), "never the secret in a log");
    }

    #[test]
    fn a_credentials_file_is_read_as_the_aws_cli_reads_it() {
        let file = "[other]\naws_access_key_id = NOT\naws_secret_access_key = this\n\n[default]\n\
                    aws_access_key_id=AKIDEXAMPLE\n  aws_secret_access_key = s3cr3t \n";
        assert_eq!(Credentials::parse(file), Some(Credentials::new("AKIDEXAMPLE", "s3cr3t")));
        assert_eq!(Credentials::parse("[default]\naws_access_key_id = A\naws_secret_access_key =\n"), None);
        assert_eq!(Credentials::parse("aws_access_key_id = A\naws_secret_access_key = B\n"), None, "no profile");
    }
}
