//! One test binary: each file is a feature.

mod helpers;

mod access_matrix;
mod accounts;
mod authoring;
mod browser;
mod course_check;
mod crash;
mod dashboard;
mod delivery;
mod faults;
mod foundation;
mod galera;
mod hardening;
mod households;
mod households_core;
mod items;
mod learner_walk;
mod learning;
mod mail;
mod narration;
mod official_exports;
mod offline;
mod openapi;
mod scale;
mod security;
mod sessions;
mod support;
mod teach_ux;
mod ux;
mod voice;
mod voice_authoring;
mod voice_browser;
mod zh_pages;
