//! Stand-ins for the AWS services that cannot run on this machine, each an endpoint with its
//! service's API shape, durable and bounded: MediaConvert (jobs run by ffmpeg) and Transcribe
//! (jobs heard by a local recognizer); and EventBridge's delivery of events to the targets of the
//! rules that match them (`eventbridge`), which the platform's bus and `mediaflow mediaconvert`
//! both use.

pub mod eventbridge;
pub mod mediaconvert;
pub mod transcribe;
