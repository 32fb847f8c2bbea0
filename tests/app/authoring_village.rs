//! Course authoring as a village trainer does it on a phone: no short names
//! asked for lessons or tasks, several questions in one form with every bad
//! field named at its top, publishing rules that fit a short course (and the
//! tests' validity rules, in Chinese), a confirmation before publishing, a
//! preview as a learner, and every lesson field written in the browser on
//! the learner's page.

use crate::engine_test;
use crate::helpers::{COURSE, NO_FORM, TestApp, between};

mod phone;

/// Well-made single-choice items (prompt, three choices of one length, the
/// right one): each test asks with items of its own, and a learner who
/// does not read scores a third.
type Item = (&'static str, [&'static str; 3], usize);

const PRE: [Item; 8] = [
    (
        "手机连不上村里的无线网，先看哪里？",
        ["无线开关", "电池电量", "屏幕亮度"],
        0,
    ),
    (
        "每个月的流量快用完了，怎样能省一点？",
        ["调高音量", "关闭更新", "换手机壳"],
        1,
    ),
    (
        "在镇上连公共无线网，哪样做更稳妥？",
        ["随便扫码", "告诉密码", "不输密码"],
        2,
    ),
    (
        "无线网的名字在手机哪个地方能找到？",
        ["设置里面", "相册里面", "通话记录"],
        0,
    ),
    (
        "家里路由器的灯全灭了，应该怎么办？",
        ["重新拍照", "检查电源", "删除微信"],
        1,
    ),
    (
        "手机显示已连接却打不开网页，可能是什么原因？",
        ["屏幕太暗", "铃声太小", "宽带欠费"],
        2,
    ),
    (
        "移动数据的开关通常在什么地方？",
        ["下拉菜单", "计算器里", "闹钟里面"],
        0,
    ),
    (
        "想让邻居用你家无线网，最好怎么做？",
        ["关掉手机", "告诉密码", "卸载软件"],
        1,
    ),
];

const POST: [Item; 8] = [
    (
        "出门在外没有无线网，要上网该打开什么？",
        ["移动数据", "手电筒灯", "录音功能"],
        0,
    ),
    (
        "视频通话很卡，换成哪种网络通常更好？",
        ["飞行模式", "更强信号", "关掉网络"],
        1,
    ),
    (
        "陌生人发来的免费无线网链接，应该怎样对待？",
        ["马上点开", "转发群里", "不去点开"],
        2,
    ),
    (
        "想知道这个月用了多少流量，去哪里查？",
        ["流量统计", "天气预报", "手机相册"],
        0,
    ),
    (
        "路由器密码太简单，会有什么坏处？",
        ["屏幕变暗", "别人蹭网", "声音变小"],
        1,
    ),
    (
        "手机一直搜不到任何无线网，先试试什么？",
        ["换手机壳", "清理相册", "重启手机"],
        2,
    ),
    (
        "在哪里可以忘记一个连错的无线网？",
        ["无线设置", "短信页面", "拨号页面"],
        0,
    ),
    (
        "公共场所的无线网，适合用来做什么？",
        ["网上转账", "看看新闻", "输入密码"],
        1,
    ),
];

const CHECKS: [Item; 6] = [
    (
        "打开无线网开关后，下一步做什么？",
        ["选择网络", "关机重启", "打开相机"],
        0,
    ),
    (
        "输入无线网密码时要注意什么？",
        ["随便输入", "大小写对", "越快越好"],
        1,
    ),
    (
        "连上无线网后，屏幕上方会出现什么？",
        ["闹钟图标", "电话图标", "扇形图标"],
        2,
    ),
    (
        "流量用超了会怎样？",
        ["手机变轻", "多扣话费", "屏幕变大"],
        1,
    ),
    (
        "哪个图标表示正在用移动数据？",
        ["4G字样", "相机图标", "闹钟图标"],
        0,
    ),
    (
        "关掉移动数据的好处是什么？",
        ["屏幕更亮", "声音更大", "不耗流量"],
        2,
    ),
];

/// The items for a quiz: `pre`, `post`, else the lesson checks'.
pub(crate) fn bank(quiz: &str) -> &'static [Item] {
    match quiz {
        "pre" => &PRE,
        "post" => &POST,
        _ => &CHECKS,
    }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The several-questions form's fields for `items`, as blocks 1, 2, …
fn batch(items: &[Item]) -> Vec<(String, String)> {
    let mut f = Vec::new();
    for (i, (prompt, choices, key)) in items.iter().enumerate() {
        let n = i + 1;
        let mut add = |k: &str, v: &str| f.push((format!("q{n}.{k}"), v.to_string()));
        add("kind", "single");
        add("competence", "it.connect");
        add("prompt.zh-CN", prompt);
        for (id, text) in ["a", "b", "c"].iter().zip(choices) {
            add(&format!("choice.{id}.zh-CN"), text);
        }
        add("correct", ["a", "b", "c"][*key]);
        add("explain.zh-CN", "照课文里讲的做。");
    }
    f
}

/// A new course on one skill (zh-CN), made by `token`.
async fn course(app: &TestApp, token: &str, slug: &str) {
    let (s, _, body) = app
        .post_form(
            token,
            "/teach/courses",
            &form(&[
                ("slug", slug),
                ("category", "it"),
                ("level", "1"),
                ("pass_mark", "80"),
                ("hours", "1"),
                ("competence", "it.connect"),
                ("title.zh-CN", "连上无线网"),
                ("summary.zh-CN", "用手机连上村里的无线网。"),
            ]),
        )
        .await;
    assert_eq!(s, 303, "{body}");
}

/// Adds a lesson by its title alone and writes its text; its slug.
async fn lesson(app: &TestApp, token: &str, slug: &str, title: &str, body: &str) -> String {
    let (s, to, page) = app
        .post_form(
            token,
            &format!("/teach/courses/{slug}/lessons"),
            &form(&[("lesson_title", title)]),
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let lesson = to.rsplit('/').next().unwrap().to_string();
    let (s, _, page) = app
        .post_form(
            token,
            &to,
            &form(&[
                ("action", "save"),
                ("minutes", "7"),
                ("competence", "it.connect"),
                ("title.zh-CN", title),
                ("body.zh-CN", body),
            ]),
        )
        .await;
    assert_eq!(s, 303, "{page}");
    lesson
}

/// A course of two lessons, each with a check of three questions, and a
/// pre-test and post-test of four (the least a one-skill course needs).
async fn small_course(app: &TestApp, token: &str, slug: &str) -> [String; 2] {
    course(app, token, slug).await;
    let one = lesson(
        app,
        token,
        slug,
        "打开无线网",
        "在**设置**里打开无线网开关。",
    )
    .await;
    let two = lesson(app, token, slug, "省着用流量", "不用的时候关掉移动数据。").await;
    for (check, items) in [
        (format!("01-{one}"), &CHECKS[..3]),
        (format!("02-{two}"), &CHECKS[3..]),
    ] {
        let (s, _, page) = app
            .post_form(
                token,
                &format!("/teach/courses/{slug}/quizzes/{check}/batch"),
                &batch(items),
            )
            .await;
        assert_eq!(s, 303, "{page}");
    }
    for (quiz, items) in [("pre", &PRE[..4]), ("post", &POST[..4])] {
        let (s, _, page) = app
            .post_form(
                token,
                &format!("/teach/courses/{slug}/quizzes/{quiz}/batch"),
                &batch(items),
            )
            .await;
        assert_eq!(s, 303, "{page}");
    }
    [one, two]
}

/// Publishes with the confirmation; where it leads.
async fn publish(app: &TestApp, token: &str, slug: &str) -> (u16, String, String) {
    app.post_form(
        token,
        &format!("/teach/courses/{slug}/publish"),
        &form(&[("confirm", "yes")]),
    )
    .await
}

/// The lesson and task forms ask for no short name: it sits under "更多",
/// and one is made from the title (pinyin), unique in the course.
async fn lesson_and_task_forms_ask_no_slug(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    course(&app, &t, "slugless").await;
    let (_, page) = app.page(&t, "/teach/courses/slugless?lang=zh-CN").await;
    let add = between(&page, "id=\"add-lesson\"", "</form>").unwrap();
    let before_more = add.split("<details").next().unwrap();
    assert!(!before_more.contains("lesson_slug\""), "{add}");
    let more = between(&add, "<details class=\"more\">", "</details>").unwrap();
    assert!(more.contains("<summary>更多</summary>"), "{more}");
    assert!(more.contains("name=\"lesson_slug\""), "{more}");

    let a = lesson(&app, &t, "slugless", "连 Wi-Fi", "正文。").await;
    let b = lesson(&app, &t, "slugless", "连 Wi-Fi", "正文。").await;
    let c = lesson(&app, &t, "slugless", "！？", "正文。").await;
    assert_eq!([a, b, c], ["lian-wi-fi", "lian-wi-fi-2", "lesson-3"]);

    let (_, page) = app
        .page(&t, "/teach/courses/slugless/tasks?lang=zh-CN")
        .await;
    let new = between(&page, "id=\"new-task\"", "</form>").unwrap();
    let before_more = new.split("<details").next().unwrap();
    assert!(!before_more.contains("name=\"id\""), "{new}");
    assert!(
        between(&new, "<details class=\"more\">", "</details>")
            .unwrap()
            .contains("name=\"id\""),
        "{new}"
    );
    let (s, _, body) = app
        .post_form(
            &t,
            "/teach/courses/slugless/tasks",
            &form(&[
                ("new", "1"),
                ("competence", "it.connect"),
                ("required", "1"),
                ("title.zh-CN", "连上村委会的无线网"),
                ("evidence.zh-CN", "培训员看到手机已连接"),
            ]),
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, page) = app
        .page(&t, "/teach/courses/slugless/tasks?lang=zh-CN")
        .await;
    assert!(
        page.contains("value=\"lian-shang-cun-wei-hui-de-wu-xian-wang\""),
        "{page}"
    );
    assert!(page.contains("<h3>连上村委会的无线网</h3>"), "{page}");
}
engine_test!(lesson_and_task_forms_ask_no_slug);

/// Several questions in one form: all or none; every bad field named by
/// question and field in a summary at the top of the form, each a link to
/// its field; what was typed stays.
async fn several_questions_in_one_form_with_errors_at_the_top(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    course(&app, &t, "many").await;
    let quiz = "/teach/courses/many/quizzes/pre";
    let (_, page) = app.page(&t, &format!("{quiz}?lang=zh-CN")).await;
    for n in 1..=5 {
        assert!(page.contains(&format!("name=\"q{n}.prompt.zh-CN\"")), "{n}");
    }
    // Question 1 is fine, question 2 has no explanation and no right answer,
    // question 3 no prompt; 4 and 5 are left empty.
    let mut f = batch(&PRE[..3]);
    f.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "q2.explain.zh-CN" | "q2.correct" | "q3.prompt.zh-CN"
        )
    });
    let (s, _, body) = app
        .post_form(&t, &format!("{quiz}/batch?lang=zh-CN"), &f)
        .await;
    assert_eq!(s, 422);
    let form = between(&body, "id=\"add-questions\"", "</form>").unwrap();
    let summary = between(&form, "role=\"alert\"", "</div>").expect("a summary");
    // The summary comes before the first question of the form.
    assert!(form.find("role=\"alert\"").unwrap() < form.find("id=\"q1\"").unwrap());
    for line in [
        "<a href=\"#q2-explain-zh-CN\">第 2 题 · 解析（中文）：请填写此项。</a>",
        "<a href=\"#q2-choices\">第 2 题 · 正确答案：请只勾选一个正确答案。</a>",
        "<a href=\"#q3-prompt-zh-CN\">第 3 题 · 题目（中文）：请填写此项。</a>",
    ] {
        assert!(summary.contains(line), "{line} not in {summary}");
    }
    assert!(summary.contains("有 3 处需要改正"), "{summary}");
    assert!(!summary.contains("第 1 题"), "{summary}");
    // Each link leads to its field; the typed values are kept.
    for id in ["q2-explain-zh-CN", "q2-choices", "q3-prompt-zh-CN"] {
        assert!(form.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(
        form.contains(PRE[0].0) && form.contains(PRE[2].1[2]),
        "{form}"
    );
    // Nothing was saved.
    assert!(body.contains("现在有 0 道"), "{body}");

    // Put right, the three are saved together.
    let (s, _, body) = app
        .post_form(&t, &format!("{quiz}/batch"), &batch(&PRE[..3]))
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, page) = app.page(&t, &format!("{quiz}?lang=zh-CN")).await;
    assert!(page.contains("现在有 3 道"), "{page}");
    // An empty form saves nothing and says so.
    let (s, _, body) = app
        .post_form(&t, &format!("{quiz}/batch?lang=zh-CN"), NO_FORM)
        .await;
    assert_eq!(s, 422);
    assert!(body.contains("请至少填写一道题。"), "{body}");
}
engine_test!(several_questions_in_one_form_with_errors_at_the_top);

/// Publishing asks first ("确认发布？" with what learners will see and a
/// cancel); only the confirmation publishes.
async fn publishing_asks_for_confirmation(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    let learner = app.token(p.learner).await;
    small_course(&app, &t, "confirm-me").await;
    let (_, page) = app.page(&t, "/teach/courses/confirm-me?lang=zh-CN").await;
    assert!(
        !page.contains("action=\"/teach/courses/confirm-me/publish\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"/teach/courses/confirm-me/publish\""),
        "{page}"
    );
    // Without the confirmation the post only leads to the question.
    let (s, to, _) = app
        .post_form(&t, "/teach/courses/confirm-me/publish", NO_FORM)
        .await;
    assert_eq!((s, to.as_str()), (303, "/teach/courses/confirm-me/publish"));
    assert_eq!(app.page(&learner, "/courses/confirm-me").await.0, 404);
    let (s, page) = app
        .page(&t, "/teach/courses/confirm-me/publish?lang=zh-CN")
        .await;
    assert_eq!(s, 200);
    let confirm = between(&page, "id=\"confirm\"", "</form>").unwrap();
    for shown in [
        "确认发布？",
        "打开无线网",
        "省着用流量",
        "课后小测 3 道题",
        "课前测 4 道题，结业测 4 道题。",
        "name=\"confirm\" value=\"yes\"",
        "href=\"/teach/courses/confirm-me\">取消</a>",
    ] {
        assert!(page.contains(shown), "{shown} not in {confirm}");
    }
    let (s, to, body) = publish(&app, &t, "confirm-me").await;
    assert_eq!(s, 303, "{body}");
    assert!(to.ends_with("?published=1"), "{to}");
    assert_eq!(app.page(&learner, "/courses/confirm-me").await.0, 200);
}
engine_test!(publishing_asks_for_confirmation);

/// "以学员身份预览": the whole draft as a learner will read it, every lesson
/// titled, with its check and the tasks; for the course's authors only.
async fn preview_shows_every_lesson_as_a_learner_sees_it(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    small_course(&app, &t, "look").await;
    let (s, page) = app.page(&t, "/teach/courses/look/preview?lang=zh-CN").await;
    assert_eq!(s, 200);
    let first = page.find("<h1>打开无线网</h1>").expect("lesson 1 titled");
    let second = page.find("<h1>省着用流量</h1>").expect("lesson 2 titled");
    assert!(first < second, "lessons in order");
    assert!(page.contains("<strong>设置</strong>"), "the body rendered");
    assert!(
        page.contains("第 1 课，共 2 课") && page.contains("7 分钟"),
        "{page}"
    );
    for (prompt, _, _) in &CHECKS {
        assert!(page.contains(prompt), "{prompt}");
    }
    // Read-only: the questions cannot be sent, and keys are not shown.
    assert!(page.contains("disabled"), "{page}");
    assert!(!page.contains("/quiz/"), "{page}");
    // Nobody else sees the draft this way.
    let other = app.user("trainer2", "trainer", Some("530627103000")).await;
    let other = app.token(other).await;
    assert_eq!(app.page(&other, "/teach/courses/look/preview").await.0, 404);
    let learner = app.token(p.learner).await;
    assert_eq!(
        app.page(&learner, "/teach/courses/look/preview").await.0,
        403
    );
}
engine_test!(preview_shows_every_lesson_as_a_learner_sees_it);

/// A short course publishes: two lessons, checks of three questions, and
/// tests of four for its one skill; a test of three is refused, in Chinese.
async fn a_small_course_publishes(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    small_course(&app, &t, "small").await;
    // One question fewer in the post-test is one too few.
    let (_, page) = app
        .page(&t, "/teach/courses/small/quizzes/post?lang=zh-CN")
        .await;
    assert!(page.contains("至少需要 4 道题"), "{page}");
    let (s, _, _) = app
        .post_form(
            &t,
            "/teach/courses/small/quizzes/post",
            &form(&[("id", "q4"), ("action", "delete")]),
        )
        .await;
    assert_eq!(s, 303);
    let (s, _, body) = publish(&app, &t, "small").await;
    assert_eq!(s, 422);
    assert!(
        body.contains("结业测至少需要 4 道题：课程的 1 项技能每项 2 道，最少 4 道（现有 3 道）"),
        "{body}"
    );
    let (s, _, body) = app
        .post_form(
            &t,
            "/teach/courses/small/quizzes/post/batch",
            &batch(&POST[3..4]),
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (s, to, body) = publish(&app, &t, "small").await;
    assert_eq!(s, 303, "{body}");
    assert!(to.ends_with("?published=1"), "{to}");
}
engine_test!(a_small_course_publishes);

/// The rules that keep a test measuring hold for what is published in the
/// browser, said in Chinese: a pre-test whose right answer is the longest
/// choice in half its questions is refused.
async fn test_validity_rules_hold_in_the_browser(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    small_course(&app, &t, "giveaway").await;
    let long: Vec<Item> = PRE[4..8]
        .iter()
        .map(|(q, _, _)| (*q, ["对了，这就是正确的做法", "不对", "也不对"], 0))
        .collect();
    let (s, _, body) = app
        .post_form(
            &t,
            "/teach/courses/giveaway/quizzes/pre/batch",
            &batch(&long),
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (s, _, body) = publish(&app, &t, "giveaway").await;
    assert_eq!(s, 422);
    let problems = between(&body, "id=\"problems\"", "</div>").unwrap();
    assert!(
        problems.contains("课前测</a>：8 道单选题里有 4 道的正确答案恰好是最长的选项（q5, q6, q7, q8），最多只能占 40%"),
        "{problems}"
    );
    assert!(!problems.contains("the right answer is"), "{problems}");
}
engine_test!(test_validity_rules_hold_in_the_browser);

/// A lesson written in the browser reaches the learner with every field:
/// its title (the page's heading), its minutes and its text.
async fn a_browser_written_lesson_shows_its_title_to_learners(app: TestApp) {
    let p = app.people().await;
    app.import_course(COURSE).await;
    let t = app.token(p.trainer).await;
    let [one, _] = small_course(&app, &t, "titled").await;
    let (s, _, body) = publish(&app, &t, "titled").await;
    assert_eq!(s, 303, "{body}");
    let learner = app.token(p.learner).await;
    app.enroll(&learner, "titled").await;
    let (s, page) = app
        .page(
            &learner,
            &format!("/courses/titled/lessons/{one}?lang=zh-CN"),
        )
        .await;
    assert_eq!(s, 200);
    let article = between(&page, "<article class=\"lesson\">", "</article>").unwrap();
    assert!(article.starts_with("<h1>打开无线网</h1>"), "{article}");
    assert!(article.contains("<strong>设置</strong>"), "{article}");
    assert!(page.contains("7 分钟"), "{page}");
    // The API's lesson carries it too.
    let (_, v) = app
        .get_json(&format!("/api/v1/courses/titled/lessons/{one}"), &learner)
        .await;
    assert!(
        v["html"]
            .as_str()
            .unwrap_or_default()
            .starts_with("<h1>打开无线网</h1>"),
        "{v}"
    );
}
engine_test!(a_browser_written_lesson_shows_its_title_to_learners);
