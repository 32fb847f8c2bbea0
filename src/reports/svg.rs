//! Chart geometry for server-rendered SVG: horizontal bars (child areas,
//! causes) and a line (the monthly trend). This module only computes
//! coordinates and labels; the markup is a template, which escapes the text.
//! Suppressed values draw no bar and are labelled "<5".

use serde::Serialize;

use super::suppress::{SMALL, Shown};

/// Width of every chart's coordinate system; the SVG scales to its box.
pub const WIDTH: f64 = 440.0;
const LABEL_W: f64 = 130.0;
const VALUE_W: f64 = 60.0;
const ROW_H: f64 = 30.0;

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub label: String,
    pub href: Option<String>,
    pub y: f64,
    pub text_y: f64,
    pub width: f64,
    pub value_x: f64,
    pub text: String,
    pub small: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bars {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub bar_x: f64,
    pub bar_h: f64,
    pub bars: Vec<Bar>,
    /// The 0%, 50% and 100% marks.
    pub ticks: Vec<Tick>,
    pub axis_y: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// Bars of rates (0–1), one per `(label, link, value)`.
pub fn bars(title: &str, rows: &[(String, Option<String>, Shown)]) -> Bars {
    let span = WIDTH - LABEL_W - VALUE_W;
    let bars: Vec<Bar> = rows
        .iter()
        .enumerate()
        .map(|(i, (label, href, v))| {
            let y = 8.0 + i as f64 * ROW_H;
            let w = v
                .value()
                .map_or(0.0, |v| (v.clamp(0.0, 1.0) * span).max(1.0));
            Bar {
                label: truncate(label, 9),
                href: href.clone(),
                y,
                text_y: y + ROW_H * 0.6,
                width: round1(w),
                value_x: round1(LABEL_W + w + 6.0),
                text: if v.is_small() { SMALL.into() } else { v.text() },
                small: v.is_small(),
            }
        })
        .collect();
    let axis_y = 8.0 + rows.len() as f64 * ROW_H + 4.0;
    Bars {
        title: title.to_string(),
        width: WIDTH,
        height: axis_y + 22.0,
        label_x: LABEL_W - 6.0,
        bar_x: LABEL_W,
        bar_h: ROW_H - 8.0,
        bars,
        ticks: [0.0, 0.5, 1.0]
            .iter()
            .map(|f| Tick {
                x: round1(LABEL_W + f * span),
                y: axis_y + 18.0,
                label: format!("{}%", (f * 100.0) as i32),
            })
            .collect(),
        axis_y,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub small: bool,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub class: String,
    /// `x,y x,y …` of the shown values (suppressed months break nothing:
    /// they are drawn at the baseline as hollow marks, without a number).
    pub points: String,
    pub dots: Vec<Point>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub base_y: f64,
    pub series: Vec<Series>,
    pub x_labels: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

/// A line per series over the same months.
pub fn line(title: &str, months: &[String], series: &[(String, String, Vec<Shown>)]) -> Line {
    let (left, right, top, base) = (40.0, WIDTH - 24.0, 12.0, 170.0);
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().filter_map(Shown::value))
        .fold(0.0f64, f64::max)
        .max(5.0);
    let max = nice(max);
    let n = months.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| base - (base - top) * v / max;
    let series = series
        .iter()
        .map(|(name, class, values)| {
            let dots: Vec<Point> = values
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    x: round1(x(i)),
                    y: round1(v.value().map_or(base, y)),
                    small: v.is_small(),
                    title: format!(
                        "{} {}: {}",
                        months.get(i).cloned().unwrap_or_default(),
                        name,
                        v.text()
                    ),
                })
                .collect();
            Series {
                name: name.clone(),
                class: class.clone(),
                points: dots
                    .iter()
                    .map(|p| format!("{},{}", p.x, p.y))
                    .collect::<Vec<_>>()
                    .join(" "),
                dots,
            }
        })
        .collect();
    // At most about five month labels (they must fit a phone).
    let step = n.div_ceil(5).max(1);
    let x_labels = months
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, m)| Tick {
            x: round1(x(i)),
            y: base + 18.0,
            label: m.clone(),
        })
        .collect();
    let y_ticks = [0.0, 0.5, 1.0]
        .iter()
        .map(|f| Tick {
            x: left - 6.0,
            y: round1(y(max * f) + 4.0),
            label: format!("{}", (max * f).round() as i64),
        })
        .collect();
    Line {
        title: title.to_string(),
        width: WIDTH,
        height: base + 30.0,
        left,
        right,
        base_y: base,
        series,
        x_labels,
        y_ticks,
    }
}

fn nice(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
