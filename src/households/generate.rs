//! Synthetic households (placeholder).
