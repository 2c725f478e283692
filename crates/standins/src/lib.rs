//! Stand-ins for the AWS services that cannot run on this machine, each an endpoint with its
//! service's API shape, durable and bounded: MediaConvert (jobs run by ffmpeg) and Transcribe
//! (jobs heard by a local recognizer).

pub mod mediaconvert;
pub mod transcribe;
