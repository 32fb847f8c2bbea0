//! The checker's problems, placed where a trainer who never sees files can
//! find them (which lesson, which test), in the trainer's language.

use super::*;

/// Where in the course a checker problem sits, for a trainer who never sees files.
pub(super) fn problems_view(
    state: &AppContext,
    lang: &str,
    c: &Course,
    problems: &[Problem],
    titles: &HashMap<String, String>,
) -> Vec<Value> {
    let base = format!("/teach/courses/{}", c.slug);
    problems
        .iter()
        .map(|p| {
            let file = p.file.as_str();
            let (part, link) = if let Some(name) = file.strip_prefix("lessons/") {
                let stem = name.split('.').next().unwrap_or(name);
                let slug = stem.split_once('-').map_or(stem, |(_, s)| s);
                let lang_of = name.split('.').nth(1).unwrap_or("");
                let title = super::stem_title(c, stem, lang).unwrap_or_else(|| stem.to_string());
                let lang_name = tr(state, lang, &format!("lang.{lang_of}"));
                (
                    format!(
                        "{} · {title} ({lang_name})",
                        tr(state, lang, "author.part.lesson")
                    ),
                    format!("{base}/lessons/{slug}"),
                )
            } else if let Some(name) = file.strip_prefix("quizzes/") {
                let stem = name.trim_end_matches(".toml");
                let part = match stem {
                    "pre" => tr(state, lang, "author.quiz.pre"),
                    "post" => tr(state, lang, "author.quiz.post"),
                    _ => format!(
                        "{} · {}",
                        tr(state, lang, "author.quiz.check"),
                        super::stem_title(c, stem, lang).unwrap_or_else(|| stem.to_string())
                    ),
                };
                (part, format!("{base}/quizzes/{stem}"))
            } else if file.starts_with("media/") {
                (
                    format!("{} {file}", tr(state, lang, "author.part.media")),
                    base.clone(),
                )
            } else if file == "tasks.toml" {
                (tr(state, lang, "author.tasks"), format!("{base}/tasks"))
            } else if file == "quizzes" {
                (tr(state, lang, "author.quiz.checks"), base.clone())
            } else if file == "lessons" {
                (tr(state, lang, "author.lessons"), base.clone())
            } else {
                (tr(state, lang, "author.part.course"), base.clone())
            };
            json!({"part": part, "link": link, "message": localize(state, lang, &p.message, titles)})
        })
        .collect()
}

/// The checker speaks English (its messages are also `fuzhi courses check`
/// output); the problems a browser author meets most are said again in the
/// page's language. Anything else is shown as the checker wrote it.
fn localize(
    state: &AppContext,
    lang: &str,
    message: &str,
    titles: &HashMap<String, String>,
) -> String {
    if lang == "en" {
        return name_competences(message, titles, ("\"", "\""));
    }
    let say = |key: &str, name: &str, value: &str| {
        tr(state, lang, key).replace(&format!("{{{name}}}"), value)
    };
    let quoted = |m: &str| m.split('"').nth(1).unwrap_or_default().to_string();
    let found = |m: &str| {
        m.rsplit("(found ")
            .next()
            .unwrap_or_default()
            .trim_end_matches(')')
            .to_string()
    };
    let test = |m: &str| {
        if m.starts_with("the pre-test") {
            tr(state, lang, "author.quiz.pre")
        } else {
            tr(state, lang, "author.quiz.post")
        }
    };
    match message {
        "no lessons" => tr(state, lang, "author.check.no_lessons"),
        "raw HTML is not allowed in lessons (write Markdown)" => {
            tr(state, lang, "author.check.raw_html")
        }
        "not used by any lesson or question (delete it or show it in a lesson)" => {
            tr(state, lang, "author.check.unused")
        }
        "minutes must be from 5 to 10 (split longer lessons)" => {
            tr(state, lang, "author.err.minutes")
        }
        "title is empty" => tr(state, lang, "author.check.title_empty"),
        m if m.starts_with("link \"") && m.ends_with("must start with https:// or http://") => {
            say("author.check.link", "link", &quoted(m))
        }
        m if m.starts_with("image \"") && m.contains("must be a file in media/") => {
            say("author.check.image", "image", &quoted(m))
        }
        m if m.contains("questions, 2 for each of the course's") => {
            let min = between(m, "needs at least ", " questions");
            let k = between(m, "course's ", " competences");
            say("author.check.min_questions", "n", &found(m))
                .replace("{test}", &test(m))
                .replace("{min}", &min)
                .replace("{k}", &k)
        }
        m if m.contains("has no question on competence") => {
            let code = quoted(m);
            let title = titles.get(&code).cloned().unwrap_or(code);
            say("author.check.cover", "competence", &title).replace("{test}", &test(m))
        }
        m if m.starts_with("a lesson check has 2 to 4 questions") => {
            say("author.check.check_size", "n", &found(m))
        }
        m => measures(state, lang, m).unwrap_or_else(|| name_competences(m, titles, ("“", "”"))),
    }
}

/// The text of `m` between `a` and the next `b` ("" when absent).
fn between(m: &str, a: &str, b: &str) -> String {
    m.split_once(a)
        .and_then(|(_, rest)| rest.split_once(b))
        .map(|(x, _)| x.to_string())
        .unwrap_or_default()
}

/// The errors of `courses::review::quality` (a test that does not measure),
/// in the page's language (the test they are about is the problem's place);
/// `None` for any other message.
fn measures(state: &AppContext, lang: &str, m: &str) -> Option<String> {
    let t = |key: &str| tr(state, lang, key);
    let fill = |key: &str, vars: &[(&str, String)]| {
        vars.iter()
            .fold(t(key), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
    };
    if m.contains("a learner who does not read it scores") {
        let n = between(m, "scores ", "%");
        let pass = between(m, "pass mark is ", "%");
        return Some(fill("author.check.blind", &[("n", n), ("pass", pass)]));
    }
    if m.contains("the right answer is the longest choice") {
        let rest = m.split_once(") in ").map_or("", |(_, r)| r);
        let k = rest.split(' ').next().unwrap_or_default().to_string();
        let n = between(rest, " of ", " single-choice");
        let list = between(rest, "questions (", ");");
        return Some(fill(
            "author.check.longest",
            &[("k", k), ("n", n), ("list", list)],
        ));
    }
    if m.contains(" true/false questions are \"") {
        let rest = m.split_once(": ").map_or("", |(_, r)| r);
        let k = rest.split(' ').next().unwrap_or_default().to_string();
        let n = between(rest, " of ", " true/false");
        let answer = match between(rest, "are \"", "\"").as_str() {
            "true" => t("author.true"),
            _ => t("author.false"),
        };
        let list = between(rest, "\" (", ");");
        return Some(fill(
            "author.check.true_false",
            &[("k", k), ("n", n), ("answer", answer), ("list", list)],
        ));
    }
    if m.contains("\" nearly repeats question \"") {
        let id = between(m, "question \"", "\"");
        let other_id = between(m, "nearly repeats question \"", "\"");
        let pct = m
            .split("% alike")
            .next()
            .and_then(|x| x.rsplit(' ').next())
            .unwrap_or_default()
            .to_string();
        let other = if m.contains("of the same ") {
            fill("author.check.repeat_same", &[("q", other_id)])
        } else if let Some(slug) = m
            .split_once("of the lesson check quizzes/")
            .and_then(|(_, r)| r.split_once(".toml"))
            .map(|(s, _)| s.to_string())
        {
            fill(
                "author.check.repeat_check",
                &[("q", other_id), ("check", slug)],
            )
        } else {
            let quiz = if m.contains("of the pre-test") {
                t("author.quiz.pre")
            } else {
                t("author.quiz.post")
            };
            fill(
                "author.check.repeat_test",
                &[("q", other_id), ("test", quiz)],
            )
        };
        return Some(fill(
            "author.check.repeat",
            &[("id", id), ("other", other), ("pct", pct)],
        ));
    }
    None
}

/// The message with each quoted competence code said by its title (codes
/// such as `ec.listing` mean nothing to a trainer).
fn name_competences(m: &str, titles: &HashMap<String, String>, quotes: (&str, &str)) -> String {
    let mut out = m.to_string();
    if !m.contains("competence") {
        return out;
    }
    for code in m.split('"').skip(1).step_by(2) {
        if let Some(title) = titles.get(code) {
            out = out.replace(
                &format!("\"{code}\""),
                &format!("{}{title}{}", quotes.0, quotes.1),
            );
        }
    }
    out
}
