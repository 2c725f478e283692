//! The errors every function can meet besides its own, and how a function's error becomes the
//! Lambda error payload the state machine catches.

use mediaflow_core::{ErrorName, Named};

use crate::copy::CopyError;
use crate::failure::AwsFailure;
use crate::tool::ToolError;

/// What any function may meet besides its own failures: a refusal of core's (a key, a
/// contract, a document), a tool that would not run, a failed AWS call, a copy that does not
/// match its source. A function's error
/// embeds it once (`#[error(transparent)] Shared(#[from] Shared)`) and [`lambda_error!`] lets
/// `?` lift each of the three into it.
#[derive(Debug, thiserror::Error)]
pub enum Shared {
    #[error(transparent)]
    Core(#[from] mediaflow_core::Error),
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    #[error(transparent)]
    Copy(#[from] CopyError),
}

impl Named for Shared {
    fn name(&self) -> ErrorName {
        match self {
            Shared::Core(e) => e.name(),
            Shared::Tool(e) => e.name(),
            Shared::Aws(e) => e.name(),
            Shared::Copy(e) => e.name(),
        }
    }
}

/// Makes a function's error enum (one with a `Shared(#[from] Shared)` variant) the Lambda
/// error payload. Its [`mediaflow_core::Named`] is made from the arms given, one per pattern
/// of its own variants, with `Shared` named by what it holds: `name()` becomes the `errorType`
/// the state machine catches, the message the `errorMessage`. Also lets `?` turn core's
/// errors, [`ToolError`], [`AwsFailure`] and [`CopyError`] into it, through [`Shared`].
///
/// ```ignore
/// mediaflow_lambda::lambda_error!(Error {
///     Error::NotMp3(_) => ErrorName::InvalidInput,
/// });
/// ```
#[macro_export]
macro_rules! lambda_error {
    ($error:ty { $($arm:pat => $name:expr),* $(,)? }) => {
        impl mediaflow_core::Named for $error {
            fn name(&self) -> mediaflow_core::ErrorName {
                match self {
                    Self::Shared(e) => mediaflow_core::Named::name(e),
                    $($arm => $name,)*
                }
            }
        }
        impl From<$error> for lambda_runtime::Diagnostic {
            fn from(e: $error) -> lambda_runtime::Diagnostic {
                $crate::diagnostic(mediaflow_core::Named::name(&e), e.to_string())
            }
        }
        impl From<mediaflow_core::Error> for $error {
            fn from(e: mediaflow_core::Error) -> $error {
                <$error>::from($crate::Shared::from(e))
            }
        }
        impl From<$crate::ToolError> for $error {
            fn from(e: $crate::ToolError) -> $error {
                <$error>::from($crate::Shared::from(e))
            }
        }
        impl From<$crate::AwsFailure> for $error {
            fn from(e: $crate::AwsFailure) -> $error {
                <$error>::from($crate::Shared::from(e))
            }
        }
        impl From<$crate::CopyError> for $error {
            fn from(e: $crate::CopyError) -> $error {
                <$error>::from($crate::Shared::from(e))
            }
        }
    };
}

/// The Lambda error payload of `message` under `name`.
pub fn diagnostic(name: ErrorName, message: impl Into<String>) -> lambda_runtime::Diagnostic {
    lambda_runtime::Diagnostic { error_type: name.as_str().to_string(), error_message: message.into() }
}
