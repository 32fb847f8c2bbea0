//! Chart geometry for server-rendered SVG: horizontal bars (child areas,
//! causes) and a line (the monthly trend). This module only computes
//! coordinates and labels; the markup is a template, which escapes the text.
//! Suppressed values draw no bar and are labelled "<5"; in the line they
//! leave a gap with a hollow mark, never a point at zero.

use serde::Serialize;

use super::suppress::{SMALL, Shown};

/// Width of every chart's coordinate system; the SVG scales to the width of
/// its card (`width="100%"`), so a wider system only makes the text smaller.
pub const WIDTH: f64 = 640.0;
/// Font size of the labels and values, in the chart's units.
pub const FONT: f64 = 16.0;
const ROW_H: f64 = 30.0;
/// Room between a label and the bar, and after a value.
const GAP: f64 = 8.0;
/// The narrowest a bar's track may get.
const MIN_SPAN: f64 = 200.0;

/// How wide `s` is drawn at `px`, generously: a CJK character (or other wide
/// one) takes the full size, anything else about six tenths of it.
pub fn text_width(s: &str, px: f64) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.62 } else { 1.0 })
        .sum::<f64>()
        * px
}

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

/// Bars of rates (0–1), one per `(label, link, value)`. The label column is
/// as wide as the longest label and the value column as wide as the longest
/// value ("100.0%" at the end of a full bar still fits); the chart grows
/// wider rather than cut a label.
pub fn bars(title: &str, rows: &[(String, Option<String>, Shown)]) -> Bars {
    let labels: Vec<String> = rows.iter().map(|(l, _, _)| truncate(l, 12)).collect();
    let texts: Vec<String> = rows.iter().map(|(_, _, v)| v.text()).collect();
    let widest = |v: &[String]| v.iter().map(|s| text_width(s, FONT)).fold(0.0f64, f64::max);
    let label_w = (widest(&labels) + 2.0 * GAP).ceil();
    // A value is at least as wide as "100.0%".
    let value_w = (widest(&texts).max(text_width("100.0%", FONT)) + 2.0 * GAP).ceil();
    let width = WIDTH.max(label_w + value_w + MIN_SPAN);
    let span = width - label_w - value_w;
    let bars: Vec<Bar> = rows
        .iter()
        .zip(labels.into_iter().zip(texts))
        .enumerate()
        .map(|(i, ((_, href, v), (label, text)))| {
            let y = 8.0 + i as f64 * ROW_H;
            let w = v
                .value()
                .map_or(0.0, |v| (v.clamp(0.0, 1.0) * span).max(1.0));
            Bar {
                label,
                href: href.clone(),
                y,
                text_y: y + ROW_H * 0.6,
                width: round1(w),
                value_x: round1(label_w + w + GAP),
                text,
                small: v.is_small(),
            }
        })
        .collect();
    let axis_y = 8.0 + rows.len() as f64 * ROW_H + 4.0;
    Bars {
        title: title.to_string(),
        width,
        height: axis_y + 22.0,
        label_x: label_w - GAP,
        bar_x: label_w,
        bar_h: ROW_H - 8.0,
        bars,
        ticks: [0.0, 0.5, 1.0]
            .iter()
            .map(|f| Tick {
                x: round1(label_w + f * span),
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
    /// Hidden (fewer than five): a hollow mark on the baseline, no value.
    pub small: bool,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub class: String,
    /// One `x,y x,y …` run per stretch of shown months: a hidden month
    /// breaks the line (it is not zero, it is unknown here).
    pub segments: Vec<String>,
    /// Marks of the shown months.
    pub dots: Vec<Point>,
    /// Hollow marks of the hidden months, on the baseline.
    pub hidden: Vec<Point>,
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
    /// A "<5" over each month some series hides.
    pub hidden_labels: Vec<Tick>,
}

/// A line per series over the same months.
pub fn line(title: &str, months: &[String], series: &[(String, String, Vec<Shown>)]) -> Line {
    let (left, right, top, base) = (48.0, WIDTH - 24.0, 12.0, 200.0);
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
    let point = |i: usize, name: &str, v: &Shown| Point {
        x: round1(x(i)),
        y: round1(v.value().map_or(base, y)),
        small: v.value().is_none(),
        title: format!(
            "{} {}: {}",
            months.get(i).cloned().unwrap_or_default(),
            name,
            v.text()
        ),
    };
    let series: Vec<Series> = series
        .iter()
        .map(|(name, class, values)| {
            let mut segments = vec![];
            let mut run: Vec<String> = vec![];
            let (mut dots, mut hidden) = (vec![], vec![]);
            for (i, v) in values.iter().enumerate() {
                let p = point(i, name, v);
                if p.small {
                    if !run.is_empty() {
                        segments.push(run.join(" "));
                        run.clear();
                    }
                    hidden.push(p);
                } else {
                    run.push(format!("{},{}", p.x, p.y));
                    dots.push(p);
                }
            }
            if !run.is_empty() {
                segments.push(run.join(" "));
            }
            Series {
                name: name.clone(),
                class: class.clone(),
                segments,
                dots,
                hidden,
            }
        })
        .collect();
    let mut hidden_months: Vec<usize> = series
        .iter()
        .flat_map(|s| s.hidden.iter().map(|p| p.x))
        .filter_map(|px| (0..n).find(|&i| round1(x(i)) == px))
        .collect();
    hidden_months.sort_unstable();
    hidden_months.dedup();
    let hidden_labels = hidden_months
        .into_iter()
        .map(|i| Tick {
            x: round1(x(i)),
            y: base - 10.0,
            label: SMALL.into(),
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
            y: base + 20.0,
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
        hidden_labels,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_and_full_bars_fit() {
        let rows = vec![
            ("大石头村民委员会".to_string(), None, Shown::rate(10, 10)),
            (
                "Big Stone Village Committee".to_string(),
                None,
                Shown::rate(5, 10),
            ),
            ("小村".to_string(), None, Shown::Small),
        ];
        let b = bars("t", &rows);
        for bar in &b.bars {
            assert!(b.label_x - text_width(&bar.label, FONT) >= 0.0, "{bar:?}");
            assert!(
                bar.value_x + text_width(&bar.text, FONT) <= b.width,
                "{bar:?}"
            );
        }
    }

    #[test]
    fn hidden_months_break_the_line() {
        let months: Vec<String> = ["2026-01", "2026-02", "2026-03"].map(String::from).to_vec();
        let l = line(
            "t",
            &months,
            &[(
                "n".into(),
                "c".into(),
                vec![Shown::count(9), Shown::Small, Shown::count(7)],
            )],
        );
        let s = &l.series[0];
        assert_eq!(s.segments.len(), 2);
        assert_eq!(s.dots.len(), 2);
        assert_eq!(s.hidden.len(), 1);
        assert_eq!(l.hidden_labels.len(), 1);
    }
}
