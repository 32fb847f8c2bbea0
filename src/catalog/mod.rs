//! Courses in the database: import of packages (idempotent by content hash; a
//! changed course becomes a new published version), drafts and publishing,
//! reading a version back into the package model for export, and the views a
//! learner is shown of a course (`view`, built once for the API and the pages),
//! and the item analysis of its quizzes for its authors (`items`, the
//! arithmetic in `item_stats`).
//! Learner data is keyed by slugs, so nothing here touches progress. Owns
//! `competence`, `course`, `lesson`, `lesson_text`, `course_media`, `quiz`,
//! `question`, `task`.

pub mod authoring;
pub mod export;
pub mod files;
pub mod item_stats;
pub mod items;
pub mod store;
pub mod videos;
pub mod view;
pub mod voice;
