//! A problem found in a package: file (as given), optional line, message.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The path as given, e.g. `courses/smartphone-basics/quizzes/post.toml`.
    pub file: String,
    /// 1-based line, when the problem sits on one.
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The 1-based line of a byte offset (offsets past the end count as the end).
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// Collects problems for one file, turning byte offsets into lines.
pub struct Sink<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// Lines before `text` in the real file (front matter starts on line 2).
    pub line_offset: usize,
    pub problems: &'a mut Vec<Problem>,
}

impl Sink<'_> {
    pub fn at(&mut self, offset: usize, message: impl Into<String>) {
        let line = line_of(self.text, offset) + self.line_offset;
        self.problems
            .push(Problem::new(self.file, Some(line), message));
    }

    pub fn file(&mut self, message: impl Into<String>) {
        self.problems.push(Problem::new(self.file, None, message));
    }
}

/// ` (did you mean "x"?)` when a known name is close to `wrong`, else "".
pub fn did_you_mean<'a>(wrong: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let best = known
        .into_iter()
        .map(|k| (distance(wrong, k), k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 2.max(wrong.chars().count() / 4) => {
            format!(" (did you mean \"{k}\"?)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.last().copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// `a, b, c` for messages.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("it.devise", ["it.device", "it.apps"]),
            " (did you mean \"it.device\"?)"
        );
        assert_eq!(did_you_mean("ec.zzzzzz", ["it.device"]), "");
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a", 99), 1);
    }
}
