//! What every function shares. Functions never know where they run: endpoints come from the
//! SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables.

mod copy;
mod error;
mod failure;
mod redact;
pub mod runtime;
mod s3;
mod tool;

pub use copy::{CopyClients, CopyError, PART_BYTES, SINGLE_COPY_LIMIT, copy_object};
pub use error::{Shared, diagnostic};
pub use failure::{AwsFailure, During, aws_failure};
pub use redact::redact;
pub use runtime::setting;
pub use s3::{
    DELETE_BATCH, DestinationClients, collect, copy_source, delete_keys, presigned_get, put, put_staged, s3_from_env,
};
pub use tool::{STDERR_TAIL_LINES, ToolError, ToolRun, run_tool};
