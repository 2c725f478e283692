//! Every ARN the pipeline and the emulators build or read, in one place (a crate of its own so
//! that the Step Functions engine needs no pipeline crate for them):
//! `arn:<partition>:<service>:<region>:<account>:<resource>`.

/// An ARN, split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// The rest, colons included: `function:name`, `execution:machine:name`, `jobs/id`.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(arn: &'a str) -> Option<Arn<'a>> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }

    /// A Step Functions execution's state machine and name.
    pub fn execution(&self) -> Option<(&'a str, &'a str)> {
        let rest = self.resource.strip_prefix("execution:").filter(|_| self.service == "states")?;
        rest.split_once(':')
    }

    /// A state machine's name.
    pub fn state_machine(&self) -> Option<&'a str> {
        self.resource.strip_prefix("stateMachine:").filter(|_| self.service == "states")
    }

    /// A Lambda function's name, without a version or alias.
    pub fn function(&self) -> Option<&'a str> {
        let rest = self.resource.strip_prefix("function:").filter(|_| self.service == "lambda")?;
        Some(rest.split(':').next().unwrap_or(rest))
    }
}

pub fn state_machine(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

pub fn execution(region: &str, account: &str, machine: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
}

pub fn lambda_function(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

pub fn sns_topic(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

pub fn iam_role(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

pub fn s3_bucket(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

pub fn mediaconvert_job(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:mediaconvert:{region}:{account}:jobs/{id}")
}

pub fn mediaconvert_queue(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:mediaconvert:{region}:{account}:queues/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_built_parses_back() {
        let e = execution("us-east-1", "123456789012", "mediaflow-pipeline", "run-1");
        let parsed = Arn::parse(&e).unwrap();
        assert_eq!((parsed.region, parsed.account), ("us-east-1", "123456789012"));
        assert_eq!(parsed.execution(), Some(("mediaflow-pipeline", "run-1")));
        let m = state_machine("us-east-1", "1", "sm");
        assert_eq!(Arn::parse(&m).unwrap().state_machine(), Some("sm"));
        let f = lambda_function("us-east-1", "1", "mediaflow-classify");
        assert_eq!(Arn::parse(&f).unwrap().function(), Some("mediaflow-classify"));
        assert_eq!(Arn::parse(&format!("{f}:$LATEST")).unwrap().function(), Some("mediaflow-classify"));
        assert_eq!(Arn::parse(&iam_role("1", "r")).unwrap().resource, "role/r");
        assert_eq!(Arn::parse(&s3_bucket("watch")).unwrap().resource, "watch");
        assert_eq!(Arn::parse("mediaflow-classify"), None);
        assert_eq!(Arn::parse(&m).unwrap().execution(), None);
    }
}
