//! Course packages without a database: the shipped folder checks clean, each
//! kind of mistake gets its exact message and line, lesson Markdown cannot
//! smuggle HTML, the loader survives any bytes, and the canonical writer is stable.

use std::fs;
use std::path::{Path, PathBuf};

use fuzhi::courses::{
    self, Choice, Course, Lesson, LessonText, Question, QuestionKind, Quiz, QuizKind, Task, Text,
};
use proptest::prelude::*;

mod measures;

const FIXTURES: &str = "tests/fixtures/courses";

fn problems(dir: &str) -> Vec<String> {
    courses::check(Path::new(dir))
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn shipped_courses_check_clean() {
    let (skills, loaded, problems) = courses::load_dir(Path::new("courses"));
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown, Vec::<String>::new());
    assert!(skills.is_some_and(|s| s.competences.len() >= 10));
    assert_eq!(loaded.len(), 12);
    for c in &loaded {
        let course = &c.course;
        assert!(!course.lessons.is_empty(), "{}", c.dir);
        assert!(course.quizzes.iter().any(|q| q.kind == QuizKind::Pre));
        assert!(course.quizzes.iter().any(|q| q.kind == QuizKind::Post));
        for lesson in &course.lessons {
            assert!(lesson.texts.contains_key("zh-CN"), "{}", lesson.slug);
        }
    }
}

/// The shipped courses measure well: no two-choice guesses, keys spread over
/// positions, every competence asked about by at least four pre-test and
/// four post-test questions in the courses that claim it, and no test a
/// learner gets through without reading (courses/README.md, "What the
/// checker enforces": no error, and no warning, so every blind score is at
/// least 25 points under its pass mark).
#[test]
fn shipped_courses_carry_no_warnings_and_cover_each_competence() {
    let (skills, loaded, _) = courses::load_dir(Path::new("courses"));
    let review = courses::review(skills.as_ref(), &loaded);
    let errors: Vec<String> = review.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors, Vec::<String>::new());
    let shown: Vec<String> = review.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(shown, Vec::<String>::new());
    for b in &review.blind {
        assert!(
            b.score.margin() >= i64::from(courses::review::quality::BLIND_MARGIN),
            "{b:?}"
        );
    }
    let skills = skills.unwrap();
    assert_eq!(review.coverage.len(), skills.competences.len());
    for c in &review.coverage {
        assert!(!c.courses.is_empty(), "{} is claimed by no course", c.code);
        assert!(
            c.pre >= courses::review::MIN_PER_COMPETENCE
                && c.post >= courses::review::MIN_PER_COMPETENCE,
            "{c:?}"
        );
    }
}

/// The review finds a two-choice question (at its line) and a course whose
/// keys sit mostly in one position; a clean fixture gets no warning.
#[test]
fn the_review_warns_on_two_choices_and_keys_in_one_place() {
    let review_of = |dir: &str| {
        let (skills, loaded, problems) = courses::load_dir(Path::new(dir));
        assert!(problems.is_empty(), "{problems:?}");
        courses::review(skills.as_ref(), &loaded)
    };
    let weak = review_of(&format!("{FIXTURES}/weak-quizzes"));
    let shown: Vec<String> = weak.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "tests/fixtures/courses/weak-quizzes/basics/quizzes/01-first.toml:2: warning: question \"q1\" has only two choices (half can pass by guessing): make it true_false or give at least three plausible choices",
            "tests/fixtures/courses/weak-quizzes/basics/course.toml: warning: the right answer is choice 1 in 5 of 7 single-choice questions (by position: 1: 5, 2: 1, 4: 1); spread the keys over the positions",
        ]
    );
    let valid = review_of(&format!("{FIXTURES}/valid"));
    assert!(valid.warnings.is_empty(), "{:?}", valid.warnings);
    assert_eq!(
        valid.coverage,
        [
            courses::Coverage {
                code: "it.device".into(),
                courses: vec!["basics".into()],
                pre: 8,
                post: 8,
            },
            courses::Coverage {
                code: "it.apps".into(),
                courses: vec![],
                pre: 0,
                post: 0,
            }
        ],
        "a competence no course claims is listed, and not warned about"
    );
    // Too few questions on a competence is a warning too.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&format!("{FIXTURES}/valid")), tmp.path());
    // The file's header and three questions: one short of the minimum.
    let few = courses::review::MIN_PER_COMPETENCE;
    let pre = tmp.path().join("basics/quizzes/pre.toml");
    let text = fs::read_to_string(&pre).unwrap();
    let kept: Vec<&str> = text.split("[[question]]").take(few).collect();
    fs::write(&pre, kept.join("[[question]]")).unwrap();
    let (skills, loaded, _) = courses::load_dir(tmp.path());
    let review = courses::review(skills.as_ref(), &loaded);
    assert_eq!(review.coverage[0].pre, few - 1);
    assert!(
        review.warnings.iter().any(|w| w
            .message
            .contains("competence \"it.device\" has 3 pre-test and 8 post-test questions")),
        "{:?}",
        review.warnings
    );
}

#[test]
fn the_valid_fixture_checks_clean() {
    assert_eq!(problems(&format!("{FIXTURES}/valid")), Vec::<String>::new());
}

/// One fixture package per kind of mistake; each must give exactly these lines.
#[test]
fn each_mistake_gets_its_message_and_line() {
    let cases: &[(&str, &[&str])] = &[
        (
            "bad-answer",
            &[
                "basics/quizzes/post.toml:40: question \"q3\": answer \"e\" is not one of the choices a, b, c, d",
            ],
        ),
        (
            "missing-default-language",
            &[
                "basics/lessons/02-apps.en.md: no zh-CN version, and zh-CN is the course's default language",
            ],
        ),
        (
            "unknown-competence",
            &[
                "basics/course.toml:5: competence \"it.devise\" is not in tests/fixtures/courses/unknown-competence/skills.toml (did you mean \"it.device\"?)",
            ],
        ),
        (
            "duplicate-question-id",
            &["basics/quizzes/pre.toml:44: question id \"q2\" is used twice (also on line 17)"],
        ),
        (
            "duplicate-task-id",
            &["basics/tasks.toml:9: task id \"phone-on\" is used twice (also on line 2)"],
        ),
        (
            "duplicate-lesson-number",
            &["basics/lessons/01-second.zh-CN.md: lesson number 01 is also used by \"first\""],
        ),
        (
            "duplicate-lesson-slug",
            &["basics/lessons/02-first.zh-CN.md: lesson slug \"first\" is also used by lesson 01"],
        ),
        (
            "missing-media",
            &[
                "basics/lessons/01-first.zh-CN.md:13: image \"media/02-missing.svg\": no such file in media/",
            ],
        ),
        (
            "media-too-big",
            &[
                "basics/media/01-dot.svg: image is 51 KB, over the 50 KB limit (simplify the drawing, or use a photo)",
            ],
        ),
        (
            "unused-media",
            &[
                "basics/media/02-unused.svg: not used by any lesson or question (delete it or show it in a lesson)",
            ],
        ),
        (
            "bad-toml",
            &["basics/quizzes/post.toml:41: missing comma between array elements, expected `,`"],
        ),
        (
            "missing-front-matter",
            &[
                "basics/lessons/01-first.en.md:1: no front matter: start the file with a +++ line, then title, minutes and competences, then +++",
            ],
        ),
        (
            "unknown-key",
            &[
                "basics/course.toml:8: unknown field `author`, expected one of `slug`, `category`, `level`, `languages`, `competences`, `pass_mark`, `hours`, `post_test`, `title`, `summary`",
            ],
        ),
        (
            "bad-lesson-name",
            &[
                "basics/lessons/2-Apps.zh-CN.md: file name must look like NN-lesson-slug.LANG.md (e.g. 01-power-and-touch.zh-CN.md)",
            ],
        ),
        (
            "quiz-competence",
            &[
                "basics/quizzes/post.toml:32: question \"q3\": competence \"it.apps\" is not one of the course's competences it.device",
            ],
        ),
        (
            "slug-mismatch",
            &["basics/course.toml:1: slug \"basic\" must equal the folder name \"basics\""],
        ),
        (
            "missing-post",
            &["basics/quizzes/post.toml: missing: every course needs a post-test"],
        ),
        (
            "answer-shape",
            &[
                "basics/quizzes/post.toml:105: question \"q9\": a single question has exactly one answer (found 2)",
                "basics/quizzes/post.toml:113: question \"q10\": answer \"yes\" must be \"true\" or \"false\"",
                "basics/quizzes/post.toml:122: question \"q11\": answer \"twelve\" is not a number",
                "basics/quizzes/post.toml:136: question \"q12\": an order answer lists every choice once (missing c)",
            ],
        ),
        (
            "not-utf8",
            &["basics/lessons/01-first.en.md:12: not UTF-8 text (save the file as UTF-8)"],
        ),
    ];
    for (kind, expected) in cases {
        let dir = format!("{FIXTURES}/{kind}");
        let expected: Vec<String> = expected.iter().map(|e| format!("{dir}/{e}")).collect();
        assert_eq!(problems(&dir), expected, "fixture {kind}");
    }
}

#[test]
fn the_command_prints_problems_or_a_summary() {
    let run = |dir: &str| {
        crate::helpers::binary::command(&["courses", "check", dir])
            .output()
            .unwrap()
    };
    let ok = run(&format!("{FIXTURES}/valid"));
    assert!(ok.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "1 courses, 1 lessons, 18 questions: no problems\n"
    );
    let weak = run(&format!("{FIXTURES}/weak-quizzes"));
    assert_eq!(weak.status.code(), Some(1), "warnings fail the check");
    assert_eq!(String::from_utf8_lossy(&weak.stdout).lines().count(), 2);
    let allowed = crate::helpers::binary::command(&["courses", "check", "--allow-warnings"])
        .arg(format!("{FIXTURES}/weak-quizzes"))
        .output()
        .unwrap();
    assert!(allowed.status.success());
    assert!(
        String::from_utf8_lossy(&allowed.stdout)
            .ends_with("1 courses, 1 lessons, 18 questions: no problems, 2 warnings\n")
    );
    let bad = run(&format!("{FIXTURES}/answer-shape"));
    assert_eq!(bad.status.code(), Some(1));
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.starts_with(
        "tests/fixtures/courses/answer-shape/basics/quizzes/post.toml:105: question \"q9\""
    ));
}

#[test]
fn a_problem_reads_file_line_message() {
    let p = courses::Problem::new("courses/x/course.toml", Some(3), "level must be 1, 2 or 3");
    assert_eq!(
        p.to_string(),
        "courses/x/course.toml:3: level must be 1, 2 or 3"
    );
    let p = courses::Problem::new("courses/x/quizzes/pre.toml", None, "missing");
    assert_eq!(p.to_string(), "courses/x/quizzes/pre.toml: missing");
}

#[test]
fn hostile_markdown_never_reaches_the_page() {
    let md = r#"# Title

<script>alert(1)</script>

Inline <img src=x onerror="alert(2)"> and <iframe src="https://evil.example"></iframe>

[click](javascript:alert(3)) [also](JaVaScRiPt:alert(4)) [data](data:text/html,<b>x</b>)
[proto](//evil.example/x) [fine](https://example.com/a) [rel](other-page)

![ok](media/01-dot.svg) ![web](https://example.com/a.png) ![bad](http://evil.example/x.png)
![js](javascript:alert(5)) ![up](media/../secret.svg)

<a href="https://x" onclick="alert(6)">x</a>

| a | b |
|---|---|
| 1 | 2 |
"#;
    let html = courses::render_markdown(md, "/media/basics/3/", &[]);
    let tags = tags(&html);
    for bad in [
        "script",
        "iframe",
        "onerror=",
        "onclick=",
        "javascript:",
        "data:text",
        "//evil.example",
        "<img src=\"x\"",
        "../secret",
    ] {
        assert!(!tags.contains(bad), "{bad} survived in {html}");
    }
    assert!(
        html.contains(r#"src="/media/basics/3/media/01-dot.svg""#),
        "{html}"
    );
    assert!(
        html.contains(r#"src="https://example.com/a.png""#),
        "{html}"
    );
    assert!(html.contains(r#"loading="lazy""#), "{html}");
    assert!(html.contains(r#"href="https://example.com/a""#), "{html}");
    assert!(html.contains(r#"href="other-page""#), "{html}");
    assert!(html.contains("<table>"), "{html}");
    // Raw HTML is shown as text, not run.
    assert!(html.contains("&lt;script&gt;"), "{html}");
}

/// The real tags of sanitised HTML, lowercased (text cannot hold a raw `<`).
fn tags(html: &str) -> String {
    html.to_ascii_lowercase()
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_checker_flags_raw_html_and_foreign_images() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&format!("{FIXTURES}/valid")), tmp.path());
    let lesson = tmp.path().join("basics/lessons/01-first.en.md");
    let mut text = fs::read_to_string(&lesson).unwrap();
    text.push_str("\n<script>alert(1)</script>\n\n![x](https://example.com/x.png)\n\n[y](javascript:alert(1))\n");
    fs::write(&lesson, text).unwrap();
    let found: Vec<String> = courses::check(tmp.path())
        .into_iter()
        .map(|p| format!("{}: {}", p.line.unwrap_or(0), p.message))
        .collect();
    assert_eq!(
        found,
        [
            "13: raw HTML is not allowed in lessons (write Markdown)",
            "15: image \"https://example.com/x.png\" must be a file in media/ (e.g. media/01-wifi-icon.svg)",
            "17: link \"javascript:alert(1)\" must start with https:// or http://",
        ]
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `dir`, relative path to bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn export_with_sources_reproduces_the_shipped_files() {
    let (_, loaded, _) = courses::load_dir(Path::new("courses"));
    for c in &loaded {
        let tmp = tempfile::tempdir().unwrap();
        courses::write_course(&c.course, tmp.path()).unwrap();
        assert_eq!(files(tmp.path()), files(Path::new(&c.dir)), "{}", c.dir);
    }
}

/// The shipped files are written in the canonical style, so even a course
/// re-authored in the browser exports to the same bytes.
#[test]
fn canonical_emission_matches_the_shipped_files() {
    let (_, loaded, _) = courses::load_dir(Path::new("courses"));
    for c in &loaded {
        let mut course = c.course.clone();
        course.clear_sources();
        let tmp = tempfile::tempdir().unwrap();
        courses::write_course(&course, tmp.path()).unwrap();
        assert_eq!(files(tmp.path()), files(Path::new(&c.dir)), "{}", c.dir);
    }
}

#[test]
fn canonical_files_are_stable_and_load_back_to_the_same_course() {
    let (skills, loaded, _) = courses::load_dir(Path::new("courses"));
    let skills = skills.unwrap();
    for c in &loaded {
        let mut course = c.course.clone();
        course.clear_sources();
        round_trip(course, &skills);
    }
    round_trip(authored_course(), &skills);
}

fn round_trip(course: Course, skills: &courses::Skills) {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("1").join(&course.slug);
    courses::write_course(&course, &first).unwrap();
    let (again, problems) = courses::load_course(&first, Some((skills, "skills.toml")));
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let mut again = again.unwrap_or_else(|| panic!("{shown:?}"));
    again.clear_sources();
    assert_eq!(again, course, "{}: {shown:?}", course.slug);
    let second = tmp.path().join("2").join(&course.slug);
    courses::write_course(&again, &second).unwrap();
    assert_eq!(files(&first), files(&second), "{}", course.slug);
}

fn text(zh: &str, en: &str) -> Text {
    Text::from([("zh-CN".into(), zh.into()), ("en".into(), en.into())])
}

/// A course as the browser editor might build it, with awkward characters.
fn authored_course() -> Course {
    let lesson_text = |title: &str| LessonText {
        title: title.into(),
        minutes: 7,
        competences: vec!["it.connect".into()],
        audio: None,
        tracks: Vec::new(),
        body_md: "# \"Quotes\" \\ back\\slash\n\nLine\twith tab.\n".into(),
        source: None,
    };
    let question = |id: &str, kind: QuestionKind, answer: &[&str], choices: &[&str]| Question {
        id: id.into(),
        kind,
        competence: "it.connect".into(),
        points: if kind == QuestionKind::Number { 3 } else { 1 },
        prompt: text("连上 \"Wi-Fi\"？\n第二行", "Join \"Wi-Fi\"?\nSecond line"),
        audio: Text::new(),
        choices: choices
            .iter()
            .map(|c| Choice {
                id: (*c).into(),
                text: text(&format!("选 {c}"), &format!("Pick {c} \\ {{}}")),
                audio: Text::new(),
            })
            .collect(),
        answer: answer.iter().map(|a| (*a).into()).collect(),
        tolerance: (kind == QuestionKind::Number).then_some(0.25),
        explain: text("因为", "Because"),
    };
    let questions: Vec<Question> = (1..=8)
        .map(|i| match i % 4 {
            0 => question(&format!("q{i}"), QuestionKind::Number, &["12.5"], &[]),
            1 => question(
                &format!("q{i}"),
                QuestionKind::Order,
                &["b", "a"],
                &["a", "b"],
            ),
            2 => question(&format!("q{i}"), QuestionKind::TrueFalse, &["true"], &[]),
            _ => question(
                &format!("q{i}"),
                QuestionKind::Multiple,
                &["a", "c"],
                &["a", "b", "c"],
            ),
        })
        .collect();
    let quiz = |slug: &str, kind, lesson_slug: Option<&str>, questions: Vec<Question>| Quiz {
        slug: slug.into(),
        kind,
        lesson_slug: lesson_slug.map(Into::into),
        title: (kind != QuizKind::Lesson).then(|| text("小测", "Quiz")),
        questions,
        source: None,
    };
    Course {
        slug: "authored-here".into(),
        category: "it".into(),
        level: 2,
        languages: vec!["zh-CN".into(), "en".into()],
        competences: vec!["it.connect".into()],
        pass_mark: 75,
        hours: 1.5,
        post_test: fuzhi::courses::PostTestRule::AnyTime,
        title: text("在浏览器里写的课", "Written in the \"browser\""),
        summary: text("一句话", "One line\nand another"),
        lessons: vec![Lesson {
            number: 1,
            slug: "join-wifi".into(),
            texts: [
                ("zh-CN".to_string(), lesson_text("连网")),
                ("en".to_string(), lesson_text("Get online")),
            ]
            .into(),
        }],
        quizzes: vec![
            quiz("pre", QuizKind::Pre, None, questions.clone()),
            quiz("post", QuizKind::Post, None, questions.clone()),
            quiz(
                "01-join-wifi",
                QuizKind::Lesson,
                Some("join-wifi"),
                questions[..2].to_vec(),
            ),
        ],
        tasks: vec![Task {
            id: "wifi-joined".into(),
            competence: "it.connect".into(),
            required: false,
            title: text("连上 Wi-Fi", "Join Wi-Fi"),
            evidence: text("培训员看到", "Trainer sees it"),
        }],
        media: Vec::new(),
        source: None,
        tasks_source: None,
    }
}

/// Real files of one shipped course, with the place they take in a package.
fn real_files() -> Vec<(&'static str, Vec<u8>)> {
    let c = "courses/smartphone-basics";
    let read = |p: &str| fs::read(p).unwrap();
    let lesson = fs::read_dir(format!("{c}/lessons"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    vec![
        ("skills.toml", read("courses/skills.toml")),
        ("basics/course.toml", read(&format!("{c}/course.toml"))),
        ("basics/tasks.toml", read(&format!("{c}/tasks.toml"))),
        (
            "basics/quizzes/post.toml",
            read(&format!("{c}/quizzes/post.toml")),
        ),
        (
            "basics/lessons/01-first.zh-CN.md",
            fs::read(lesson).unwrap(),
        ),
    ]
}

const TARGETS: [&str; 7] = [
    "skills.toml",
    "basics/course.toml",
    "basics/tasks.toml",
    "basics/quizzes/post.toml",
    "basics/quizzes/01-first.toml",
    "basics/lessons/01-first.zh-CN.md",
    "basics/media/01-dot.svg",
];

/// Writes `bytes` over one file of a copy of the valid fixture and loads it.
fn load_with(target: &str, bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&format!("{FIXTURES}/valid")), tmp.path());
    fs::write(tmp.path().join(target), bytes).unwrap();
    let (_, loaded, problems) = courses::load_dir(tmp.path());
    for p in &problems {
        let _ = p.to_string();
    }
    for c in &loaded {
        for lesson in &c.course.lessons {
            for t in lesson.texts.values() {
                let _ = courses::render_markdown(&t.body_md, "/m", &[]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_never_panic(target in 0..TARGETS.len(), bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        load_with(TARGETS[target], &bytes);
    }

    #[test]
    fn truncated_real_files_never_panic(which in 0..5usize, cut in any::<prop::sample::Index>()) {
        let files = real_files();
        let (target, bytes) = &files[which];
        let end = cut.index(bytes.len() + 1);
        load_with(target, &bytes[..end]);
    }

    #[test]
    fn mutated_real_files_never_panic(which in 0..5usize, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let files = real_files();
        let (target, bytes) = &files[which];
        let mut bytes = bytes.clone();
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        load_with(target, &bytes);
    }

    #[test]
    fn rendered_markdown_never_carries_script(md in "(<script>|<img onerror=x>|\\[a\\]\\(javascript:x\\)|!\\[b\\]\\(|[a-z <>\"'=/()\\[\\]!:\n])*") {
        let tags = tags(&courses::render_markdown(&md, "/m", &[]));
        prop_assert!(!tags.contains("script"));
        prop_assert!(!tags.contains("onerror"));
        prop_assert!(!tags.contains("javascript:"));
    }
}

/// check → import into the database → export reproduces the shipped files byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_courses_survive_a_database_round_trip() {
    let app = crate::helpers::TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let root = crate::helpers::repo_path("courses");
    let report =
        fuzhi::catalog::store::import_dir(app.conn(), &root, fuzhi::catalog::store::Origin::Import)
            .await
            .unwrap();
    assert_eq!(report.courses.len(), 12);
    // A second import changes nothing.
    let again =
        fuzhi::catalog::store::import_dir(app.conn(), &root, fuzhi::catalog::store::Origin::Import)
            .await
            .unwrap();
    assert!(
        again
            .courses
            .iter()
            .all(|(_, o)| matches!(o, fuzhi::catalog::store::Outcome::Unchanged { .. }))
    );
    let out = tempfile::tempdir().unwrap();
    for (slug, _) in &report.courses {
        let dir = out.path().join(slug);
        fuzhi::catalog::export::export(app.conn(), slug, &dir)
            .await
            .unwrap();
        let mut files = Vec::new();
        collect(&root.join(slug), &mut files);
        assert!(!files.is_empty());
        for f in files {
            let rel = f.strip_prefix(root.join(slug)).unwrap();
            let exported = std::fs::read(dir.join(rel))
                .unwrap_or_else(|_| panic!("{slug}/{} not exported", rel.display()));
            assert!(
                exported == std::fs::read(&f).unwrap(),
                "{slug}/{} differs after the round trip",
                rel.display()
            );
        }
    }
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A changed lesson becomes a new published version; progress keyed by slug survives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_course_is_a_new_version_and_progress_survives() {
    let app = crate::helpers::TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let p = app.people().await;
    app.import_course(crate::helpers::COURSE).await;
    let t = app.token(p.learner).await;
    app.enroll(&t, "smartphone-basics").await;
    let (_, r) = app
        .post_json("/api/v1/events", &t, serde_json::json!([{"id": uuid::Uuid::new_v4().to_string(), "kind": "lesson_finished", "course": "smartphone-basics", "lesson": "wifi-and-data", "served": app.served(p.learner, "smartphone-basics", "wifi-and-data")}]))
        .await;
    assert_eq!(r["accepted"], 1);
    let (skills, courses) = crate::helpers::shipped();
    let mut c = courses
        .iter()
        .find(|c| c.course.slug == "smartphone-basics")
        .unwrap()
        .course
        .clone();
    let _ = skills;
    for text in c.lessons[0].texts.values_mut() {
        text.body_md.push_str("\n\n补充一句。\n");
        text.source = None;
    }
    let o = fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        None,
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    assert_eq!(o, fuzhi::catalog::store::Outcome::Published { version: 2 });
    app.state.content.clear();
    let lesson = app
        .get_json(
            "/api/v1/courses/smartphone-basics/lessons/wifi-and-data",
            &t,
        )
        .await
        .1;
    assert!(lesson["html"].as_str().unwrap().contains("补充一句"));
    let (_, prog) = app.get_json("/api/v1/me/progress", &t).await;
    assert_eq!(
        prog["items"][0]["lessons"]["wifi-and-data"], "finished",
        "progress survives the new version"
    );
}

/// Every competence of the framework is tested by some post-test and observed
/// by some practical task.
#[test]
fn every_competence_is_covered_by_a_post_test_and_a_task() {
    let (skills, courses) = crate::helpers::shipped();
    assert!(skills.competences.len() >= 18);
    for c in &skills.competences {
        let in_post = courses.iter().any(|l| {
            l.course
                .quizzes
                .iter()
                .any(|q| q.slug == "post" && q.questions.iter().any(|x| x.competence == c.code))
        });
        let in_task = courses
            .iter()
            .any(|l| l.course.tasks.iter().any(|t| t.competence == c.code));
        assert!(in_post, "{} is in no post-test", c.code);
        assert!(in_task, "{} is in no practical task", c.code);
    }
    assert!(courses.len() >= 8);
    for l in courses {
        let n = l.course.lessons.len();
        assert!((4..=8).contains(&n), "{} has {n} lessons", l.course.slug);
        for lesson in &l.course.lessons {
            assert!(
                lesson.texts.contains_key("zh-CN") && lesson.texts.contains_key("en"),
                "{}/{}",
                l.course.slug,
                lesson.slug
            );
        }
    }
}

/// Export and import keep each language's narration: the English file names
/// the English audio, the Mandarin file the Mandarin one, both files travel,
/// and the exported folder checks clean and imports as the same content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_language_narration_survives_export_and_import() {
    let app = crate::helpers::TestApp::spawn(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    let (skills, _) = crate::helpers::shipped();
    fuzhi::catalog::store::import_skills(app.conn(), skills)
        .await
        .unwrap();
    let c = crate::narration::narrated_course("narrated");
    fuzhi::catalog::store::import_course(
        app.conn(),
        &c,
        None,
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("narrated");
    fuzhi::catalog::export::export(app.conn(), "narrated", &dir)
        .await
        .unwrap();
    let stem = c.lessons[0].stem();
    let en = std::fs::read_to_string(dir.join(format!("lessons/{stem}.en.md"))).unwrap();
    let zh = std::fs::read_to_string(dir.join(format!("lessons/{stem}.zh-CN.md"))).unwrap();
    assert!(
        en.contains(&format!("audio = \"media/{stem}.en.opus\"\n")),
        "{en}"
    );
    assert!(
        zh.contains(&format!("audio = \"media/{stem}.zh-CN.opus\"\n")),
        "{zh}"
    );
    let stem2 = c.lessons[1].stem();
    let zh2 = std::fs::read_to_string(dir.join(format!("lessons/{stem2}.zh-CN.md"))).unwrap();
    assert!(zh2.contains(&format!("audio = \"media/{stem2}.zh-CN.opus\"\n")));
    for m in &c.media {
        assert_eq!(
            std::fs::read(dir.join(&m.path)).unwrap(),
            m.bytes,
            "{}",
            m.path
        );
    }
    let (again, problems) = courses::load_course(&dir, Some((skills, "skills.toml")));
    assert!(problems.is_empty(), "{problems:?}");
    let mut again = again.unwrap();
    again.clear_sources();
    assert_eq!(again, c);
    // Importing the exported folder changes nothing.
    let outcome = fuzhi::catalog::store::import_course(
        app.conn(),
        &again,
        None,
        fuzhi::catalog::store::Origin::Import,
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        fuzhi::catalog::store::Outcome::Unchanged { version: 1 }
    );
}

/// The comments of an Ogg Opus file (`KEY=value`, keys upper-cased).
pub fn opus_comments(bytes: &[u8]) -> Vec<(String, String)> {
    let Some(at) = bytes.windows(8).position(|w| w == b"OpusTags") else {
        return Vec::new();
    };
    let word = |p: usize| -> Option<usize> {
        Some(u32::from_le_bytes(bytes.get(p..p + 4)?.try_into().ok()?) as usize)
    };
    let mut p = at + 8;
    let Some(vendor) = word(p) else {
        return Vec::new();
    };
    p += 4 + vendor;
    let n = word(p).unwrap_or(0);
    p += 4;
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(len) = word(p) else { break };
        let Some(c) = bytes.get(p + 4..p + 4 + len) else {
            break;
        };
        let c = String::from_utf8_lossy(c);
        if let Some((k, v)) = c.split_once('=') {
            out.push((k.to_uppercase(), v.to_string()));
        }
        p += 4 + len;
    }
    out
}

/// No shipped lesson plays a voice that failed the listening check. A
/// Mandarin lesson either has no narration, or a file made by the chosen
/// voice (Kokoro; the espeak-ng narration that read pinyin as English is
/// gone) or recorded by a person; and the README's table, a row per lesson,
/// says which, with the file's CER at most 20 %.
#[test]
fn every_shipped_narration_is_the_chosen_voice_within_the_bar() {
    let readme = std::fs::read_to_string(crate::helpers::repo_path("README.md")).unwrap();
    let rows: std::collections::HashMap<String, Vec<String>> = readme
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains('/'))
        .filter_map(|l| {
            let cells: Vec<String> = l.split('|').map(|c| c.trim().to_string()).collect();
            let key = cells.get(1)?.trim_matches('`').to_string();
            Some((key, cells[2..].to_vec()))
        })
        .collect();
    let (_, loaded) = crate::helpers::shipped();
    let (mut narrated, mut silent) = (0, 0);
    for c in loaded {
        for l in &c.course.lessons {
            let key = format!("{}/{}", c.course.slug, l.stem());
            let row = rows
                .get(&key)
                .unwrap_or_else(|| panic!("README's narration table has no row for {key}"));
            let zh = &l.texts["zh-CN"];
            if let Some(en) = l.texts.get("en") {
                assert_eq!(en.audio, None, "{key}: English borrows no narration");
            }
            let want = format!("media/{}.zh-CN.opus", l.stem());
            let Some(audio) = zh.audio.as_deref() else {
                assert!(row[0].starts_with("none"), "{key}: README says {row:?}");
                assert!(
                    c.course.media.iter().all(|m| m.path != want),
                    "{key}: a narration file without its audio line"
                );
                silent += 1;
                continue;
            };
            let m = c.course.media.iter().find(|m| m.path == audio).unwrap();
            assert!(m.bytes.len() <= fuzhi::courses::audio::AUDIO_LIMIT);
            let tags = opus_comments(&m.bytes);
            let tag = |k: &str| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.as_str());
            if tag("FUZHI_RECORDED") != Some("1") {
                assert_eq!(
                    fuzhi::courses::audio::sniff(&m.bytes),
                    Some("opus"),
                    "{key}"
                );
                assert!(tag("FUZHI_NARRATION").is_some(), "{key}: {tags:?}");
                assert!(
                    tag("ARTIST").is_some_and(|a| a.starts_with("Kokoro-82M")),
                    "{key}: made by {:?}, not the chosen voice",
                    tag("ARTIST")
                );
                assert_eq!(row[0], "Kokoro", "{key}: README says {row:?}");
                let cer: f64 = row[2]
                    .trim_end_matches('%')
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{key}: README gives no CER: {row:?}"));
                assert!(cer <= 20.0, "{key}: CER {cer} % is over the bar");
            }
            narrated += 1;
        }
    }
    assert!(narrated >= 11, "{narrated} narrated lessons");
    assert_eq!(narrated + silent, 74);
}

/// The loader judges audio by its bytes and size, and allows the narrate
/// and listen scripts and the authors' guide (README.md) at the top of a
/// package but no other file.
#[test]
fn the_loader_judges_audio_by_content_and_size() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(Path::new("courses"), root);
    std::fs::write(root.join("notes.txt"), "x").unwrap();
    std::fs::write(root.join("README.md"), "# Courses\n").unwrap();
    let media = root.join("smartphone-basics/media");
    std::fs::write(
        media.join("fake.opus"),
        include_bytes!("../fixtures/narration/not-audio.opus"),
    )
    .unwrap();
    let mut big = include_bytes!("../fixtures/narration/tone.opus").to_vec();
    big.resize(fuzhi::courses::audio::AUDIO_LIMIT + 1, 0);
    std::fs::write(media.join("big.opus"), big).unwrap();
    let shown: Vec<String> = courses::check(root)
        .iter()
        .map(ToString::to_string)
        .collect();
    let text = shown.join("\n");
    assert!(
        text.contains("fake.opus: the content is not opus audio"),
        "{text}"
    );
    assert!(
        text.contains("big.opus: audio is 2049 KB, over the 2 MB limit"),
        "{text}"
    );
    assert!(text.contains("notes.txt: unexpected file"), "{text}");
    assert!(!text.contains("/narrate:"), "{text}");
    assert!(!text.contains("/listen:"), "{text}");
    // The authors' guide sits at the top of the package too.
    assert!(root.join("README.md").is_file());
    assert!(!text.contains("README.md: unexpected"), "{text}");
}

/// Pre- and post-tests whose questions cannot be heard yet: `courses/narrate
/// --questions` reaches them in turn (README, "Question audio").
const TESTS_WITHOUT_AUDIO: &[&str] = &[];

/// Every question of a shipped pre- or post-test can be heard: its prompt
/// and each of its choices (single, multiple, order) name a Mandarin audio
/// file in the package, and each file is Opus a phone plays: its packets
/// parse, it lasts at least half a second with a voice in it, at the
/// narration's bitrate, made by the chosen voice or recorded by a person.
#[test]
fn every_question_of_a_shipped_test_can_be_heard() {
    use fuzhi::courses::QuizKind;
    let (_, loaded) = crate::helpers::shipped();
    let (mut heard, mut files, mut waiting) = (0, 0, Vec::new());
    for c in loaded {
        let course = &c.course;
        for quiz in course
            .quizzes
            .iter()
            .filter(|q| matches!(q.kind, QuizKind::Pre | QuizKind::Post))
        {
            let key = format!("{}/{}", course.slug, quiz.slug);
            if TESTS_WITHOUT_AUDIO.contains(&key.as_str()) {
                let any = quiz.questions.iter().any(|q| {
                    !q.audio.is_empty() || q.choices.iter().any(|ch| !ch.audio.is_empty())
                });
                assert!(!any, "{key} has audio now: take it off TESTS_WITHOUT_AUDIO");
                waiting.push(key);
                continue;
            }
            for q in &quiz.questions {
                let mut named = vec![(format!("{key} {} prompt", q.id), q.audio.get("zh-CN"))];
                for ch in &q.choices {
                    named.push((format!("{key} {} {}", q.id, ch.id), ch.audio.get("zh-CN")));
                }
                for (what, path) in named {
                    let path = path.unwrap_or_else(|| panic!("{what} cannot be heard"));
                    let m = course
                        .media
                        .iter()
                        .find(|m| &m.path == path)
                        .unwrap_or_else(|| panic!("{what}: {path} is not in the package"));
                    let stream = fuzhi::courses::opus::Stream::read_ogg(&m.bytes)
                        .unwrap_or_else(|| panic!("{what}: {path} is not Ogg Opus"));
                    let h = stream
                        .heard()
                        .unwrap_or_else(|| panic!("{what}: {path} has a malformed packet"));
                    assert!(h.seconds >= 0.5, "{what}: {path} lasts {} s", h.seconds);
                    assert!(h.kbps <= 40.0, "{what}: {path} at {} kbit/s", h.kbps);
                    assert!(
                        h.voiced.is_none_or(|v| v >= 0.2),
                        "{what}: {path} has no voice in it ({:?} s)",
                        h.voiced
                    );
                    let tags = opus_comments(&m.bytes);
                    let tag = |k: &str| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.clone());
                    assert!(
                        tag("FUZHI_RECORDED").as_deref() == Some("1")
                            || tag("ARTIST").is_some_and(|a| a.starts_with("Kokoro-82M")),
                        "{what}: {path} made by {:?}",
                        tag("ARTIST")
                    );
                    files += 1;
                }
                heard += 1;
            }
        }
    }
    assert_eq!(waiting.len(), TESTS_WITHOUT_AUDIO.len());
    assert!(heard >= 10, "{heard} questions heard");
    println!("{heard} test questions heard in {files} files; waiting: {waiting:?}");
}

/// A video without captions is warned about; the shipped one has them.
#[test]
fn a_video_without_captions_is_warned_about() {
    let captions_warning = |root: &Path| -> Vec<String> {
        let (skills, loaded, problems) = courses::load_dir(root);
        assert!(problems.is_empty(), "{problems:?}");
        courses::review(skills.as_ref(), &loaded)
            .warnings
            .iter()
            .map(ToString::to_string)
            .filter(|w| w.contains("captions"))
            .collect()
    };
    assert_eq!(captions_warning(Path::new("courses")), Vec::<String>::new());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(Path::new("courses"), root);
    std::fs::remove_file(root.join("product-photos/media/05-shot-list-video.zh-CN.vtt")).unwrap();
    let warned = captions_warning(root);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains("05-shot-list-video.mp4: warning: the video has no zh-CN captions"),
        "{warned:?}"
    );
}
