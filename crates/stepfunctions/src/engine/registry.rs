//! What a Task calls: Lambda functions by ARN and service integrations (SNS) by resource,
//! each an in-process handler. The CLI fills it with the functions of `functions/`; tests with
//! their own.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};

use super::execution::Failure;

pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, Failure>> + Send>>;
pub type Handler = Arc<dyn Fn(Value) -> TaskFuture + Send + Sync>;

/// A handler from an async function or closure.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, Failure>> + Send + 'static,
{
    Arc::new(move |input| Box::pin(f(input)))
}

/// A Lambda function's error as Step Functions reports it: the `errorType` is the error name,
/// the cause is the function's error payload as JSON text.
pub fn lambda_failure(error_type: &str, message: &str) -> Failure {
    Failure {
        error: error_type.to_string(),
        cause: json!({"errorType": error_type, "errorMessage": message}).to_string(),
    }
}

#[derive(Clone, Default)]
pub struct Registry {
    functions: HashMap<String, Handler>,
    services: HashMap<String, Handler>,
}

impl Registry {
    /// A Lambda function, under its ARN (`arn:aws:lambda:<region>:<account>:function:<name>`).
    pub fn function(&mut self, arn: &str, handler: Handler) -> &mut Self {
        self.functions.insert(arn.to_string(), handler);
        self
    }

    /// A service integration, under its resource (e.g. `arn:aws:states:::sns:publish`).
    pub fn service(&mut self, resource: &str, handler: Handler) -> &mut Self {
        self.services.insert(resource.to_string(), handler);
        self
    }

    /// The function a `FunctionName` names: its ARN, its name, or either with a qualifier
    /// (`:$LATEST`, a version or alias), as Lambda accepts them.
    pub fn find_function(&self, name: &str) -> Option<&Handler> {
        if let Some(h) = self.functions.get(name) {
            return Some(h);
        }
        let bare = |arn_or_name: &str| -> String {
            match mediaflow_arn::Arn::parse(arn_or_name) {
                Some(arn) => arn.function().unwrap_or_default().to_string(),
                None => arn_or_name.split(':').next().unwrap_or_default().to_string(),
            }
        };
        let wanted = bare(name);
        self.functions.iter().find(|(arn, _)| bare(arn) == wanted).map(|(_, h)| h)
    }

    pub fn find_service(&self, resource: &str) -> Option<&Handler> {
        self.services.get(resource)
    }
}
