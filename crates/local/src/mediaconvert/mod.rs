//! The MediaConvert stand-in: CreateJob requests made into one ffmpeg run each.

pub mod compile;
