//! What learners do and what trainers record about it: enrollment, the
//! append-only event log, quiz grading, practical-task sign-offs, classes,
//! completion and certificates. Every derived row (lesson progress, enrollment
//! state, skill evidence, certificates) is written in the same transaction as
//! the event that causes it. Never serves an answer key before submission.

pub mod certificates;
pub mod classes;
pub mod completion;
pub mod content;
pub mod enroll;
pub mod events;
pub mod gate;
pub mod grading;
pub mod limits;
pub mod offline;
pub mod progress;
pub mod shuffle;
pub mod tasks;
pub mod writer;

/// A database error that a retry of the whole transaction may cure: a
/// unique-key race between two writers, SQLite's single writer being busy, or
/// a conflict `db::is_retryable` knows (a deadlock, a serialization failure, a
/// Galera certification failure).
pub fn is_retryable(e: &sea_orm::DbErr) -> bool {
    if crate::db::is_retryable(e) {
        return true;
    }
    let s = e.to_string().to_ascii_lowercase();
    s.contains("unique")
        || s.contains("duplicate")
        || s.contains("database is locked")
        || s.contains("busy")
        || s.contains("deadlock")
        || s.contains("could not serialize")
}
