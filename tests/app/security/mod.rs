//! The `security` group: one regression test (or more) per finding of the
//! second hardening round, each named after the class of attack it closes.
//! Run alone with `.ci/test security::`.

mod accounts;
mod files;
mod learning;
