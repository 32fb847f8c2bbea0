//! Course packages as plain files (see courses/README.md): the typed model, the strict
//! loader and validator (every problem with file and line), Markdown rendering
//! that lets no raw HTML through, and the canonical writer used by export.
//! Everything here is pure file and text work: it must never touch the database
//! and never panic on what a trainer writes.

pub mod answer;
pub mod audio;
pub mod edit;
pub mod edit_audio;
mod load;
mod markdown;
pub mod media;
pub mod mp4;
pub mod opus;
mod package;
pub mod picture;
mod problem;
mod raw;
pub mod recording;
pub mod review;
mod rules;
pub mod svg;
pub mod video;
mod voice;
mod webm;
mod write;

pub use load::{LoadedCourse, check, load_course, load_dir, load_skills};
pub use markdown::render_markdown;
pub use package::{
    Choice, Competence, Course, Lesson, LessonText, Media, PostTestRule, Question, QuestionKind,
    Quiz, QuizKind, Skills, Task, Text, Track,
};
pub use problem::Problem;
pub use review::{Coverage, Review, review};
pub use rules::{Slug, is_slug, test_minimum};
pub use write::{emit_course_toml, emit_lesson, emit_quiz, emit_skills, emit_tasks, write_course};
