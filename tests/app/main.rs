//! One test binary: each file is a feature.

mod helpers;

mod foundation;
mod households_core;
