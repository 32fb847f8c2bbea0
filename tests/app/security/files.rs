//! Security: files.
