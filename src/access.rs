//! Who may call the endpoints: every request must be signed (SigV4) with the credentials the
//! user gave, or else with those made for the data folder (`<data>/credentials`, owner-only).
//! An address other than loopback is served only with credentials the user gave: the data
//! folder's are readable by whoever can read the folder, and the user should choose who else
//! knows the key.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::builder::NonEmptyStringValueParser;
use mediaflow_endpoint::Credentials;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct CredentialArgs {
    /// The access key ID every request must be signed with; default: the one made for the
    /// data folder (<data>/credentials). Needed to listen on an address other than loopback.
    #[arg(long, env = "MEDIAFLOW_ACCESS_KEY_ID", requires = "secret_access_key", value_parser = NonEmptyStringValueParser::new())]
    pub access_key_id: Option<String>,
    /// Its secret access key (better in the environment than on a command line others can see).
    #[arg(
        long,
        env = "MEDIAFLOW_SECRET_ACCESS_KEY",
        requires = "access_key_id",
        hide_env_values = true,
        value_parser = NonEmptyStringValueParser::new()
    )]
    pub secret_access_key: Option<String>,
}

impl CredentialArgs {
    /// The credentials given, if any.
    pub fn given(&self) -> Option<Credentials> {
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(id), Some(secret)) => Some(Credentials::new(id, secret)),
            _ => None,
        }
    }

    /// Where the credentials in use came from, for the line that says which they are.
    pub fn whose(&self, data: &Path) -> String {
        match self.given() {
            Some(_) => "as given".into(),
            None => format!(
                "made for this data folder, kept owner-only in {}",
                data.join(mediaflow_endpoint::credentials::FILE).display()
            ),
        }
    }
}

/// What requests to endpoints listening on `addrs` must be signed with: the `given`
/// credentials, or data folder `data`'s when every address is loopback.
pub fn credentials(given: Option<Credentials>, data: &Path, addrs: &[SocketAddr]) -> Result<Credentials> {
    if let Some(given) = given {
        return Ok(given);
    }
    if let Some(open) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        bail!(
            "{open} is not a loopback address: give the credentials its callers must sign with \
             (--access-key-id and --secret-access-key, or MEDIAFLOW_ACCESS_KEY_ID and MEDIAFLOW_SECRET_ACCESS_KEY)"
        );
    }
    Credentials::of_folder(data).with_context(|| format!("the credentials of {}", data.display()))
}
