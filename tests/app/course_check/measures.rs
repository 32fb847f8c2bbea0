//! How well a course's tests measure: each kind of weak test, written into a
//! temporary package, gets its exact error (or warning) with file, line and
//! question; a well-made package gets none; `courses check` fails on the
//! errors and prints each test's blind score against its pass mark.

use std::fs;
use std::path::Path;

use fuzhi::courses;

use super::{FIXTURES, copy_dir};
use crate::engine_test;
use crate::helpers::{PASSWORD, TOWNSHIP_A, TestApp};

/// One question as a quiz file says it. Every choice reads `Choice x` in
/// English (all equally long), so only the Chinese lengths tell.
fn item(id: &str, kind: &str, prompt: &str, choices: &[&str], answer: &[&str]) -> String {
    let mut s = format!(
        "[[question]]\nid = \"{id}\"\nkind = \"{kind}\"\ncompetence = \"it.device\"\nprompt = {{ zh-CN = \"{prompt}\", en = \"Question {id}\" }}\n"
    );
    if !choices.is_empty() {
        s.push_str("choices = [\n");
        for (i, text) in choices.iter().enumerate() {
            let c = char::from(b'a' + i as u8);
            s.push_str(&format!(
                "  {{ id = \"{c}\", text = {{ zh-CN = \"{text}\", en = \"Choice {c}\" }} }},\n"
            ));
        }
        s.push_str("]\n");
    }
    let answer: Vec<String> = answer.iter().map(|a| format!("\"{a}\"")).collect();
    s.push_str(&format!(
        "answer = [{}]\nexplain = {{ zh-CN = \"因为。\", en = \"Because.\" }}\n\n",
        answer.join(", ")
    ));
    s
}

fn single(id: &str, prompt: &str, choices: [&str; 3], key: &str) -> String {
    item(id, "single", prompt, &choices, &[key])
}

fn tf(id: &str, prompt: &str, answer: &str) -> String {
    item(id, "true_false", prompt, &[], &[answer])
}

/// The same question with another key.
fn rekey(item: &str, key: &str) -> String {
    item.lines()
        .map(|l| {
            if l.starts_with("answer = ") {
                format!("answer = [\"{key}\"]\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

fn quiz(title: &str, items: &[String]) -> String {
    format!(
        "title = {{ zh-CN = \"{title}\", en = \"{title}\" }}\n\n{}",
        items.concat()
    )
}

/// A pre-test that measures: each key is the middle length of its choices
/// (5 characters among 4 and 6), true and false alike. Question ids sit on
/// lines 4, 17, 30, 43, 56, 69, 82, 90, 98.
fn pre() -> Vec<String> {
    vec![
        single(
            "q1",
            "手机没电了，先做什么？",
            ["插上充电器", "换个新手机吧", "摇一摇它"],
            "a",
        ),
        single(
            "q2",
            "屏幕太暗看不清，怎么办？",
            ["重启手机", "把亮度调高", "去店里换屏幕"],
            "b",
        ),
        single(
            "q3",
            "声音太小听不见，按哪里？",
            ["按开机键两下", "按返回键", "按音量加键"],
            "c",
        ),
        single(
            "q4",
            "想给家里人发照片，用哪个？",
            ["用聊天软件", "用计算器", "用手机的闹钟"],
            "a",
        ),
        single(
            "q5",
            "下载软件应该去哪里？",
            ["短信里的链接", "朋友发的", "官方商店里"],
            "c",
        ),
        item(
            "q6",
            "multiple",
            "哪些是手机上的软件？",
            &["计算器", "手机充电线", "相册"],
            &["a", "c"],
        ),
        tf("q7", "关机以后闹钟还会响。", "true"),
        tf("q8", "手机可以泡在水里洗。", "false"),
        item(
            "q9",
            "number",
            "电池充满要 2 个小时，充一半要几个小时？",
            &[],
            &["1"],
        ),
    ]
}

/// The post-test: other items on the same skills, built the same way.
fn post() -> Vec<String> {
    vec![
        single(
            "q1",
            "想拍照，先打开哪里？",
            ["打开设置", "点相机图标", "打开计算器吧"],
            "b",
        ),
        single(
            "q2",
            "想连家里的无线网，去哪里找？",
            ["在相册里", "在通讯录里找", "在设置里找"],
            "c",
        ),
        single(
            "q3",
            "来电铃声在哪里改？",
            ["设置的声音", "相机里面", "日历的设置里"],
            "a",
        ),
        single(
            "q4",
            "手机发烫时先做什么？",
            ["放进冰箱里去", "停下来歇会", "接着用它"],
            "b",
        ),
        single(
            "q5",
            "别人发来陌生链接，怎么办？",
            ["点开看看", "转给家里人看", "不点，删掉"],
            "c",
        ),
        item(
            "q6",
            "multiple",
            "哪些做法能让手机更省电？",
            &["调暗屏幕", "一直开着定位", "关蓝牙"],
            &["a", "c"],
        ),
        tf("q7", "飞行模式下不能打电话。", "true"),
        tf("q8", "发烫的手机可以接着充电。", "false"),
        item(
            "q9",
            "number",
            "一个月流量 30 GB，用了 12 GB，还剩多少 GB？",
            &[],
            &["18"],
        ),
    ]
}

/// The lesson check of the one lesson.
fn check() -> Vec<String> {
    vec![
        single(
            "q1",
            "开机键一般在手机哪一边？",
            ["屏幕正面", "手机的侧面", "手机背面中间"],
            "b",
        ),
        tf("q2", "长按开机键可以关机。", "true"),
    ]
}

/// A package in a temporary folder: the valid fixture with these quizzes.
fn package(pre: &[String], post: &[String], check: &[String]) -> tempfile::TempDir {
    with_checks(pre, post, &[check.to_vec()])
}

/// The same with one lesson per lesson check (`01-first`, `02-second`, …;
/// the lessons after the first say what it says).
fn with_checks(pre: &[String], post: &[String], checks: &[Vec<String>]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&format!("{FIXTURES}/valid")), tmp.path());
    let course = tmp.path().join("basics");
    let quizzes = course.join("quizzes");
    fs::write(quizzes.join("pre.toml"), quiz("课前小测", pre)).unwrap();
    fs::write(quizzes.join("post.toml"), quiz("课后测试", post)).unwrap();
    for (i, check) in checks.iter().enumerate() {
        let stem = ["01-first", "02-second", "03-third"][i];
        for lang in ["zh-CN", "en"].into_iter().filter(|_| i > 0) {
            let lessons = course.join("lessons");
            let first = lessons.join(format!("01-first.{lang}.md"));
            fs::copy(first, lessons.join(format!("{stem}.{lang}.md"))).unwrap();
        }
        fs::write(quizzes.join(format!("{stem}.toml")), quiz("练习", check)).unwrap();
    }
    tmp
}

/// The errors and warnings of a package, paths from the package's folder.
fn judged(dir: &tempfile::TempDir) -> (Vec<String>, Vec<String>, courses::Review) {
    let (skills, loaded, problems) = courses::load_dir(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    let review = courses::review(skills.as_ref(), &loaded);
    let root = format!("{}/", dir.path().display());
    let shown = |ps: &[courses::Problem]| -> Vec<String> {
        ps.iter()
            .map(|p| p.to_string().replace(&root, ""))
            .collect()
    };
    (shown(&review.errors), shown(&review.warnings), review)
}

#[test]
fn a_well_made_package_has_no_error_and_no_warning() {
    let dir = package(&pre(), &post(), &check());
    let (errors, warnings, review) = judged(&dir);
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(warnings, Vec::<String>::new());
    // In Chinese no length rule earns a point; the English choices are all
    // as long, so a guess among them earns a third of each choice question.
    let scores: Vec<(String, u32, u32, String)> = review
        .blind
        .iter()
        .map(|b| {
            let s = &b.score;
            (
                s.quiz.clone(),
                s.pass_mark,
                s.blind.percent,
                s.blind.describe(),
            )
        })
        .collect();
    let rules = "always the longest choice (en), tick the longest choices, as many as are right (en), always \"true\"";
    assert_eq!(
        scores,
        [
            ("pre".into(), 80, 33, rules.into()),
            ("post".into(), 80, 33, rules.into())
        ]
    );
}

/// The post-test with the shortest choices as keys, every choice of the
/// multiple-choice question right and both statements true.
fn blind_post() -> Vec<String> {
    let mut post = post();
    for (i, key) in ["a", "a", "b", "c", "a"].into_iter().enumerate() {
        post[i] = rekey(&post[i], key);
    }
    post[5] = item(
        "q6",
        "multiple",
        "哪些做法能让手机更省电？",
        &["调暗屏幕", "关掉定位", "关蓝牙"],
        &["a", "b", "c"],
    );
    post[7] = tf("q8", "发烫的手机最好先放凉再充电。", "true");
    post
}

/// The keys are the shortest choices, the multiple-choice key is every
/// choice and both statements are true: 8 of 9 points without reading.
#[test]
fn a_test_passed_without_reading_is_an_error() {
    let post = blind_post();
    let dir = package(&pre(), &post, &check());
    let (errors, warnings, _) = judged(&dir);
    assert_eq!(
        errors,
        [
            "basics/quizzes/post.toml: post-test: a learner who does not read it scores 88% (always the shortest choice (zh-CN), tick every choice, always \"true\"), and the pass mark is 80%: make wrong choices as long and as specific as the right one, and balance true and false"
        ]
    );
    assert_eq!(warnings, Vec::<String>::new());
}

/// 55% without reading is 25 points under the pass mark: no warning; 66% is
/// a warning.
#[test]
fn a_blind_score_near_the_pass_mark_is_a_warning() {
    let shortest_key = |n: usize| {
        let mut pre = pre();
        for (i, key) in ["c", "a", "b", "b", "b"].into_iter().enumerate().take(n) {
            pre[i] = rekey(&pre[i], key);
        }
        pre
    };
    // The lesson check's key moves to "a", or "b" would hold most keys.
    let check = [
        single(
            "q1",
            "开机键一般在手机哪一边？",
            ["手机的侧面", "屏幕正面", "手机背面中间"],
            "a",
        ),
        check()[1].clone(),
    ];
    let dir = package(&shortest_key(4), &post(), &check);
    let (errors, warnings, review) = judged(&dir);
    assert_eq!((errors.len(), warnings.len()), (0, 0), "{warnings:?}");
    assert_eq!(review.blind[0].score.blind.percent, 55);
    assert_eq!(review.blind[0].score.margin(), 25);
    let dir = package(&shortest_key(5), &post(), &check);
    let (errors, warnings, _) = judged(&dir);
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(
        warnings,
        [
            "basics/quizzes/pre.toml: warning: pre-test: a learner who does not read it scores 66% (always the shortest choice (zh-CN), always \"true\"), 14 points under the pass mark 80%; keep it at least 25 points under (at most 55%)"
        ]
    );
}

/// The key is the longest choice in 3 of 5 single-choice questions (2 of 5
/// is still fine); in the lesson checks, counted together, in all of them.
#[test]
fn a_key_that_is_the_longest_choice_too_often_is_an_error() {
    let longest = |n: usize| {
        let mut pre = pre();
        for (i, key) in ["b", "c", "a"].into_iter().enumerate().take(n) {
            pre[i] = rekey(&pre[i], key);
        }
        pre
    };
    let (errors, warnings, _) = judged(&package(&longest(2), &post(), &check()));
    assert_eq!((errors, warnings), (vec![], vec![]));
    let (errors, warnings, _) = judged(&package(&longest(3), &post(), &check()));
    assert_eq!(
        errors,
        [
            "basics/quizzes/pre.toml: pre-test: the right answer is the longest choice (zh-CN) in 3 of 5 single-choice questions (q1, q2, q3); at most 40%: write wrong choices as long and as specific as the right one"
        ]
    );
    assert_eq!(warnings, Vec::<String>::new());
    // Lesson checks: judged as one set, never by the pass mark.
    let long = |id: &str, prompt: &str| {
        single(
            id,
            prompt,
            ["短的一个", "长一点的那个", "最长最长的那一个"],
            "c",
        )
    };
    let checks = [
        vec![
            long("q1", "开机键一般在手机哪一边？"),
            long("q2", "屏幕上的小喇叭是什么意思？"),
            long("q3", "电量图标变红说明什么？"),
        ],
        vec![
            long("q1", "锁屏以后怎么打开手机？"),
            long("q2", "手机上的返回键有什么用？"),
        ],
    ];
    let (errors, _, review) = judged(&with_checks(&pre(), &post(), &checks));
    assert_eq!(
        errors,
        [
            "basics/quizzes: lesson checks: the right answer is the longest choice (zh-CN) in 5 of 5 single-choice questions (01-first q1, 01-first q2, 01-first q3, 02-second q1, 02-second q2); at most 40%: write wrong choices as long and as specific as the right one"
        ]
    );
    assert!(review.blind.iter().all(|b| b.score.quiz != "01-first"));
}

/// Six true/false questions: three each way is fine; four "false" is over
/// 65% and an error.
#[test]
fn true_false_answers_that_lean_one_way_are_an_error() {
    let with = |falses: usize| {
        let mut post: Vec<String> = post().into_iter().take(5).collect();
        let statements = [
            "飞行模式下不能打电话。",
            "发烫的手机可以接着充电。",
            "手机越充越满对电池没有影响。",
            "陌生人发的验证码可以告诉他。",
            "关掉蓝牙能省一点电。",
            "清理相册能多出存储空间。",
        ];
        for (i, s) in statements.iter().enumerate() {
            let answer = if i < falses { "false" } else { "true" };
            post.push(tf(&format!("q{}", i + 6), s, answer));
        }
        post
    };
    let (errors, warnings, _) = judged(&package(&pre(), &with(3), &check()));
    assert_eq!((errors, warnings), (vec![], vec![]));
    let (errors, warnings, _) = judged(&package(&pre(), &with(4), &check()));
    assert_eq!(
        errors,
        [
            "basics/quizzes/post.toml: post-test: 4 of 6 true/false questions are \"false\" (q6, q7, q8, q9); at most 65% may have the same answer, or always answering \"false\" pays"
        ]
    );
    assert_eq!(warnings, Vec::<String>::new());
}

/// A post-test item nearly the same as the lesson check's (one character
/// added).
#[test]
fn a_test_item_from_a_lesson_check_is_an_error() {
    let mut post = post();
    post[2] = single(
        "q3",
        "开机键一般在手机的哪一边？",
        ["设置的声音", "相机里面", "日历的设置里"],
        "a",
    );
    let (errors, warnings, _) = judged(&package(&pre(), &post, &check()));
    assert_eq!(
        errors,
        [
            "basics/quizzes/post.toml:30: question \"q3\" nearly repeats question \"q1\" of the lesson check quizzes/01-first.toml (prompts 95% alike): a learner has seen its answer there; ask the post-test with items of its own"
        ]
    );
    assert_eq!(warnings, Vec::<String>::new());
}

/// A post-test item nearly the same as a pre-test item.
#[test]
fn a_post_test_item_from_the_pre_test_is_an_error() {
    let mut post = post();
    post[1] = single(
        "q2",
        "想给家里人发照片，该用哪个？",
        ["在相册里", "在通讯录里找", "在设置里找"],
        "c",
    );
    let (errors, warnings, _) = judged(&package(&pre(), &post, &check()));
    assert_eq!(
        errors,
        [
            "basics/quizzes/post.toml:17: question \"q2\" nearly repeats question \"q4\" of the pre-test (quizzes/pre.toml) (prompts 95% alike): the pre-test and post-test ask the same skills with different items"
        ]
    );
    assert_eq!(warnings, Vec::<String>::new());
}

/// Two items of one test that are nearly the same: the later one is named.
#[test]
fn a_near_duplicate_inside_a_test_is_an_error() {
    let mut pre = pre();
    pre[4] = single(
        "q5",
        "手机没电了，第一步做什么？",
        ["短信里的链接", "朋友发的", "官方商店里"],
        "c",
    );
    let (errors, warnings, _) = judged(&package(&pre, &post(), &check()));
    assert_eq!(
        errors,
        [
            "basics/quizzes/pre.toml:56: question \"q5\" nearly repeats question \"q1\" of the same pre-test (prompts 80% alike): ask each thing once, or ask something else"
        ]
    );
    assert_eq!(warnings, Vec::<String>::new());
}

/// One wrong choice far shorter than the others and sharing no word with
/// the question is a warning; a short one that shares a word is not.
#[test]
fn a_silly_choice_is_a_warning() {
    let mut pre = pre();
    pre[1] = single(
        "q2",
        "屏幕太暗看不清，怎么办？",
        ["盐", "把亮度调高", "去店里换屏幕"],
        "b",
    );
    pre[2] = single(
        "q3",
        "声音太小听不见，按哪里？",
        ["按开机键两下", "小声", "按音量加键"],
        "c",
    );
    let (errors, warnings, _) = judged(&package(&pre, &post(), &check()));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(
        warnings,
        [
            "basics/quizzes/pre.toml:17: warning: question \"q2\": choice \"a\" (盐) is far shorter than the others and shares no word with the question, so it is easy to rule out without knowing the subject: make it a mistake a villager really makes"
        ]
    );
}

/// The command fails on an error, and `--blind` prints each test's pass mark,
/// blind score and margin.
#[test]
fn the_command_fails_on_a_weak_test_and_prints_the_blind_scores() {
    let run = |dir: &Path, blind: bool| {
        let mut cmd = crate::helpers::binary::command(&["courses", "check"]);
        if blind {
            cmd.arg("--blind");
        }
        let out = cmd.arg(dir).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let good = package(&pre(), &post(), &check());
    let rules = "always the longest choice (en), tick the longest choices, as many as are right (en), always \"true\"";
    assert_eq!(
        run(good.path(), true),
        (
            Some(0),
            format!(
                "course\ttest\tpass mark\tblind\tmargin\trules\nbasics\tpre\t80%\t33%\t47\t{rules}\nbasics\tpost\t80%\t33%\t47\t{rules}\n1 courses, 1 lessons, 20 questions: no problems\n"
            )
        )
    );
    let mut post = post();
    for (i, key) in [(0, "c"), (3, "a"), (4, "b")] {
        post[i] = rekey(&post[i], key);
    }
    let weak = package(&pre(), &post, &check());
    let (code, out) = run(weak.path(), false);
    assert_eq!(code, Some(1), "{out}");
    let root = format!("{}/", weak.path().display());
    assert_eq!(
        out.replace(&root, ""),
        "basics/quizzes/post.toml: post-test: the right answer is the longest choice (zh-CN) in 3 of 5 single-choice questions (q1, q4, q5); at most 40%: write wrong choices as long and as specific as the right one\n"
    );
}

/// A version of `basics` from a package folder, imported and published.
async fn publish(app: &TestApp, dir: &tempfile::TempDir) {
    let (skills, loaded, problems) = courses::load_dir(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    let conn = app.conn();
    fuzhi::catalog::store::import_skills(conn, &skills.unwrap())
        .await
        .unwrap();
    let origin = fuzhi::catalog::store::Origin::Import;
    fuzhi::catalog::store::import_course(conn, &loaded[0].course, None, origin)
        .await
        .unwrap();
}

/// The dashboard's mark of courses whose tests need review, if any.
async fn mark(app: &TestApp, lang: &str) -> Option<String> {
    let res = app
        .get(&format!("/office/dashboard?area={TOWNSHIP_A}&lang={lang}"))
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    crate::helpers::between(&html, "<div class=\"note tests-review\">", "</div>")
}

/// The officials' dashboard marks a published course whose post-test is
/// passed without reading, judged on the questions in the database, and
/// stops marking it once a version with good tests is published.
async fn the_dashboard_marks_a_course_whose_tests_need_review(app: TestApp) {
    app.seed_areas().await;
    app.user("gov1", "official", Some(TOWNSHIP_A)).await;
    assert_eq!(app.login_form("gov1", PASSWORD).await.status(), 303);
    publish(&app, &package(&pre(), &blind_post(), &check())).await;
    let zh = mark(&app, "zh-CN").await.expect("a mark");
    assert!(zh.contains("<b>测试待改进</b>"), "{zh}");
    assert!(
        zh.contains("<li>基础：课后测不看题也能得 88 分（及格线 80 分）</li>"),
        "{zh}"
    );
    let en = mark(&app, "en").await.expect("a mark");
    assert!(
        en.contains("<li>Basics: post-test: 88% without reading (pass mark 80%)</li>"),
        "{en}"
    );
    publish(&app, &package(&pre(), &post(), &check())).await;
    app.state.content.clear();
    assert_eq!(mark(&app, "en").await, None);
}
engine_test!(the_dashboard_marks_a_course_whose_tests_need_review);
