//! The one-machine Step Functions engine, as it grows. So far: the data flow of a state
//! (paths, `Parameters` with the context object and intrinsic functions, `ResultPath`) and
//! Choice rules, and Retry/Catch decisions.

pub mod choice;
pub mod dataflow;
pub mod errors;
pub mod intrinsics;
