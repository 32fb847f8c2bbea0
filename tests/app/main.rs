//! One test binary: each file is a feature.

mod helpers;

mod course_check;
mod foundation;
