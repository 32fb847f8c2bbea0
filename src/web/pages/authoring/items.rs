//! `/teach/courses/{slug}/items`: the item analysis of a course's quizzes
//! (see `catalog::items`), as cards that fit a phone, and the same figures
//! as a CSV or XLSX file.

use super::*;
use crate::catalog::item_stats::{Flag, ItemStats, MIN_FIRST_ATTEMPTS};
use crate::catalog::items::{self, Analysis, QuizAnalysis};
use crate::courses::{Question, QuizKind};
use crate::spreadsheet::safe_record;

#[derive(Debug, Deserialize)]
pub struct ItemsQuery {
    /// The course version to analyse (default: the published one).
    pub version: Option<i32>,
    /// `csv` (default) or `xlsx`, for the export.
    pub format: Option<String>,
}

/// A share as a whole percent.
fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The page's words for one course, in one language.
struct Words<'a> {
    state: &'a AppContext,
    lang: &'a str,
    course: &'a Course,
}

impl Words<'_> {
    fn tr(&self, key: &str) -> String {
        tr(self.state, self.lang, key)
    }

    fn pick(&self, t: &crate::courses::Text) -> String {
        pick(t, self.lang, self.course)
    }

    /// "课前测", "结业测", or the lesson check's lesson title.
    fn quiz_title(&self, q: &QuizAnalysis) -> String {
        match q.quiz.kind {
            QuizKind::Pre => self.tr("author.quiz.pre"),
            QuizKind::Post => self.tr("author.quiz.post"),
            QuizKind::Lesson => {
                let lesson = self
                    .course
                    .lessons
                    .iter()
                    .find(|l| Some(&l.slug) == q.quiz.lesson_slug.as_ref())
                    .and_then(|l| {
                        l.texts
                            .get(self.lang)
                            .or_else(|| l.texts.get(self.course.default_language()))
                            .or_else(|| l.texts.values().next())
                            .map(|t| format!("{}. {}", l.number, t.title))
                    })
                    .unwrap_or_else(|| q.quiz.slug.clone());
                format!("{} · {lesson}", self.tr("author.quiz.check"))
            }
        }
    }

    fn kind(&self, q: &Question) -> String {
        self.tr(&format!("author.kind.{}", q.kind.name()))
    }

    /// The flags as read, the wrong choices nobody picked in one; whether
    /// each is serious (negative discrimination).
    fn flags(&self, flags: &[Flag]) -> Vec<(String, bool)> {
        let unused: Vec<String> = flags
            .iter()
            .filter_map(|f| match f {
                Flag::UnusedDistractor(c) => Some(c.to_uppercase()),
                _ => None,
            })
            .collect();
        let mut out: Vec<(String, bool)> = flags
            .iter()
            .filter(|f| !matches!(f, Flag::UnusedDistractor(_)))
            .map(|f| (self.tr(f.key()), matches!(f, Flag::NegativeDiscrimination)))
            .collect();
        if !unused.is_empty() {
            let text = self
                .tr("items.flag.unused")
                .replace("{choice}", &unused.join(", "));
            out.push((text, false));
        }
        out
    }

    fn needed(&self, n: usize) -> String {
        self.tr("items.needed").replace("{n}", &n.to_string())
    }

    /// A choice's text: "对"/"错" for true/false.
    fn choice(&self, q: &Question, id: &str) -> String {
        match q.choices.iter().find(|c| c.id == id) {
            Some(c) => self.pick(&c.text),
            None => self.tr(&format!("items.{id}")),
        }
    }

    fn discrimination(&self, s: &ItemStats) -> Option<String> {
        s.discrimination.map(|r| format!("{r:.2}"))
    }
}

/// The question of a quiz with the given id.
fn question<'q>(q: &'q QuizAnalysis, id: &str) -> Option<&'q Question> {
    q.quiz.questions.iter().find(|x| x.id == id)
}

fn quiz_view(w: &Words, q: &QuizAnalysis) -> Value {
    let s = &q.stats;
    let max: u32 = q.quiz.questions.iter().map(|x| x.points).sum();
    let items: Vec<Value> = s
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| {
            let x = question(q, &it.id)?;
            let choices: Vec<Value> = it
                .choices
                .iter()
                .map(|c| {
                    // True/false has no lettered choices: its words say it.
                    let id = if x.choices.is_empty() {
                        String::new()
                    } else {
                        c.id.to_uppercase()
                    };
                    json!({"id": id, "text": w.choice(x, &c.id), "right": c.right,
                        "count": c.count, "share": percent(c.share)})
                })
                .collect();
            let flags: Vec<Value> = w
                .flags(&it.flags)
                .into_iter()
                .map(|(text, serious)| {
                    json!({"text": text, "class": if serious { "err" } else { "warn" }})
                })
                .collect();
            Some(json!({
                "number": i + 1, "id": it.id, "kind": w.kind(x), "competence": x.competence,
                "prompt": w.pick(&x.prompt), "facility": percent(it.facility),
                "discrimination": w.discrimination(it), "choices": choices,
                "no_answer": it.no_answer, "flags": flags,
            }))
        })
        .collect();
    json!({
        "title": w.quiz_title(q), "slug": q.quiz.slug, "n": s.n,
        "hidden": s.needed > 0, "needed": w.needed(s.needed),
        "mean": s.mean_score.map(|m| w.tr("items.mean").replace("{score}", &format!("{m:.1}")).replace("{max}", &max.to_string())),
        "items": items,
    })
}

async fn load(author: &Author, slug: &str, q: &ItemsQuery) -> AppResult<Analysis> {
    items::analyse(&author.state.db, &author.user.actor, slug, q.version).await
}

pub async fn items_page(
    author: Author,
    path: web::Path<String>,
    q: web::Query<ItemsQuery>,
) -> AppResult<HttpResponse> {
    let a = load(&author, &path, &q).await?;
    let (state, lang) = (&author.state, author.locale.0);
    let w = Words {
        state,
        lang,
        course: &a.course,
    };
    let quizzes: Vec<Value> = a.quizzes.iter().map(|q| quiz_view(&w, q)).collect();
    let versions: Vec<Value> = a
        .versions
        .iter()
        .filter(|v| v.version != a.version)
        .map(|v| json!({"version": v.version, "learners": v.learners}))
        .collect();
    let c = &a.course;
    Page::new(state, lang, Some(&author.user), "items.title")
        .set(
            "course",
            json!({"slug": c.slug, "title": pick(&c.title, lang, c), "version": a.version}),
        )
        .set(
            "intro",
            w.tr("items.intro")
                .replace("{v}", &a.version.to_string())
                .replace("{min}", &MIN_FIRST_ATTEMPTS.to_string()),
        )
        .set("quizzes", quizzes)
        .set("versions", versions)
        .render(state, "pages/teach_items")
}

/// One line of the export: a question, or a quiz still hidden.
enum Cell {
    Text(String),
    Count(usize),
    Share(f64),
    Number(f64),
    Empty,
}

fn rows(w: &Words, a: &Analysis) -> Vec<Vec<Cell>> {
    let mut out = Vec::new();
    for q in &a.quizzes {
        let title = w.quiz_title(q);
        if q.stats.needed > 0 {
            let mut row = vec![
                Cell::Text(title),
                Cell::Text(q.quiz.slug.clone()),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Count(q.stats.n),
            ];
            row.extend((0..5).map(|_| Cell::Empty));
            row.push(Cell::Text(w.needed(q.stats.needed)));
            out.push(row);
            continue;
        }
        for it in &q.stats.items {
            let Some(x) = question(q, &it.id) else {
                continue;
            };
            let picks = it
                .choices
                .iter()
                .map(|c| {
                    let mark = if c.right { "✓" } else { "" };
                    let id = if x.choices.is_empty() {
                        w.choice(x, &c.id)
                    } else {
                        c.id.to_uppercase()
                    };
                    format!("{id}{mark}={}", c.count)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let flags = w
                .flags(&it.flags)
                .into_iter()
                .map(|(text, _)| text)
                .collect::<Vec<_>>()
                .join("; ");
            out.push(vec![
                Cell::Text(title.clone()),
                Cell::Text(q.quiz.slug.clone()),
                Cell::Text(it.id.clone()),
                Cell::Text(w.kind(x)),
                Cell::Text(x.competence.clone()),
                Cell::Count(q.stats.n),
                Cell::Share(it.facility),
                it.discrimination.map_or(Cell::Empty, Cell::Number),
                Cell::Text(picks),
                Cell::Count(it.no_answer),
                Cell::Text(flags),
                Cell::Text(w.pick(&x.prompt)),
            ]);
        }
    }
    out
}

const COLUMNS: [&str; 12] = [
    "quiz",
    "quiz_slug",
    "question",
    "kind",
    "competence",
    "n",
    "facility",
    "discrimination",
    "picks",
    "no_answer",
    "flags",
    "prompt",
];

fn csv_file(head: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    w.write_record(safe_record(head).iter().map(|c| c.as_bytes()))?;
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Count(n) => n.to_string(),
                Cell::Share(x) => format!("{x:.3}"),
                Cell::Number(x) => format!("{x:.3}"),
                Cell::Empty => String::new(),
            })
            .collect();
        w.write_record(safe_record(&cells).iter().map(|c| c.as_bytes()))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn xlsx_file(
    title: &str,
    head: &[String],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0%");
    let dec = Format::new().set_num_format("0.00");
    let sheet = book.add_worksheet();
    sheet.set_name("items")?;
    sheet.write_string_with_format(0, 0, title, &bold)?;
    for (x, h) in head.iter().enumerate() {
        sheet.write_string_with_format(1, x as u16, h.as_str(), &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = i as u32 + 2;
        for (x, c) in r.iter().enumerate() {
            let x = x as u16;
            match c {
                Cell::Text(s) => sheet.write_string(y, x, s.as_str()).map(|_| ())?,
                Cell::Count(n) => sheet.write_number(y, x, *n as f64).map(|_| ())?,
                Cell::Share(v) => sheet.write_number_with_format(y, x, *v, &pct).map(|_| ())?,
                Cell::Number(v) => sheet.write_number_with_format(y, x, *v, &dec).map(|_| ())?,
                Cell::Empty => {}
            }
        }
    }
    sheet.set_column_width(0, 24)?;
    book.save_to_buffer()
}

pub async fn items_export(
    author: Author,
    path: web::Path<String>,
    q: web::Query<ItemsQuery>,
) -> AppResult<HttpResponse> {
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" && format != "xlsx" {
        return Err(AppError::field("format", "must be csv or xlsx"));
    }
    let a = load(&author, &path, &q).await?;
    let (state, lang) = (&author.state, author.locale.0);
    let w = Words {
        state,
        lang,
        course: &a.course,
    };
    let head: Vec<String> = COLUMNS
        .iter()
        .map(|c| w.tr(&format!("items.col.{c}")))
        .collect();
    let rows = rows(&w, &a);
    let file = format!("items-{}-v{}.{format}", a.course.slug, a.version);
    let (body, mime) = if format == "csv" {
        (
            csv_file(&head, &rows).map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?,
            "text/csv; charset=utf-8",
        )
    } else {
        let title = format!(
            "{} · {}",
            w.tr("items.title"),
            pick(&a.course.title, lang, &a.course)
        );
        (
            xlsx_file(&title, &head, &rows)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .body(body))
}
