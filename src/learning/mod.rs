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
pub mod ready;
pub mod shuffle;
pub mod tasks;
pub mod writer;
