//! Security: accounts.
