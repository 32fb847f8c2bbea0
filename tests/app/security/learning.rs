//! Security: learning.
