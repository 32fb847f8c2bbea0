//! Messages the domain writes in English, shown in the page's language.
//!
//! Services answer in English (the API's words): `Msg::english` fills a
//! template of `templates/locales/en.toml`, and other refusals use the English
//! text of a locale key word for word. A page in another language finds the
//! key whose English template the message fits, reads its placeholders back,
//! and fills the same key's text in its own language. An error message with
//! no key keeps its Chinese half when it is written "English / 中文" or
//! "English (中文)".

use std::collections::HashMap;

/// The language every text exists in, and the fallback of every other.
pub const DEFAULT_LOCALE: &str = "zh-CN";

/// Every locale's messages: language → key → text.
pub type Catalog = HashMap<String, HashMap<String, String>>;

#[derive(Debug)]
enum Seg<'a> {
    Lit(&'a str),
    Var(&'a str),
}

/// `{name}` placeholders and the literal text between them.
fn segments(template: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            out.push(Seg::Lit(&rest[..open + close + 1]));
        } else {
            if open > 0 {
                out.push(Seg::Lit(&rest[..open]));
            }
            out.push(Seg::Var(name));
        }
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Seg::Lit(rest));
    }
    out
}

/// Whether `s` is the template `segs` filled; the values found go to `out`.
fn fits<'a>(segs: &[Seg<'_>], s: &'a str, out: &mut Vec<(String, &'a str)>) -> bool {
    match segs.split_first() {
        None => s.is_empty(),
        Some((Seg::Lit(l), rest)) => s.strip_prefix(l).is_some_and(|t| fits(rest, t, out)),
        Some((Seg::Var(name), rest)) => {
            let ends = s
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain(std::iter::once(s.len()));
            for end in ends {
                out.push(((*name).to_string(), &s[..end]));
                if fits(rest, &s[end..], out) {
                    return true;
                }
                out.pop();
            }
            false
        }
    }
}

fn is_cjk(c: char) -> bool {
    ('\u{3400}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

/// The keys of messages: refusals and errors (`….err.…`, `err.…`).
fn is_message_key(key: &str) -> bool {
    key.contains(".err.") || key.starts_with("err.")
}

/// `message`, written in English, in `lang` (see the module's note).
pub fn localize(catalog: &Catalog, lang: &str, message: &str) -> String {
    if lang == "en" || message.is_empty() {
        return message.to_string();
    }
    let Some(en) = catalog.get("en") else {
        return message.to_string();
    };
    // The fitting key with the most literal text, and the values it read.
    type Fit<'k, 'm> = (usize, &'k str, Vec<(String, &'m str)>);
    let mut best: Option<Fit> = None;
    for (key, template) in en.iter().filter(|(k, _)| is_message_key(k)) {
        let segs = segments(template);
        let literal: usize = segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => l.len(),
                Seg::Var(_) => 0,
            })
            .sum();
        if literal == 0
            || best
                .as_ref()
                .is_some_and(|(n, k, _)| (*n, *k) >= (literal, key))
        {
            continue;
        }
        let mut args = Vec::new();
        if fits(&segs, message, &mut args) {
            best = Some((literal, key, args));
        }
    }
    if let Some((_, key, args)) = best {
        let text = catalog
            .get(lang)
            .or_else(|| catalog.get(DEFAULT_LOCALE))
            .and_then(|m| m.get(key));
        if let Some(text) = text {
            return args.iter().fold(text.clone(), |t, (name, value)| {
                t.replace(&format!("{{{name}}}"), &names_only(value))
            });
        }
    }
    chinese_half(message).unwrap_or_else(|| message.to_string())
}

/// A list of choices written "一般贫困户/ordinary_poor, 低保户/dibao" as
/// "一般贫困户、低保户" (the names people use); any other value unchanged.
fn names_only(value: &str) -> String {
    let names: Option<Vec<&str>> = value
        .split(", ")
        .map(|item| {
            let (name, code) = item.split_once('/')?;
            (name.chars().any(is_cjk)
                && !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
            .then_some(name)
        })
        .collect();
    names.map_or_else(|| value.to_string(), |n| n.join("、"))
}

/// The Chinese of "English / 中文" or "English (中文)".
fn chinese_half(message: &str) -> Option<String> {
    if let Some((_, zh)) = message.rsplit_once(" / ")
        && zh.chars().any(is_cjk)
    {
        return Some(zh.trim().to_string());
    }
    let open = message.rfind(['(', '（'])?;
    let inner = message[open..]
        .trim_start_matches(['(', '（'])
        .trim_end_matches([')', '）']);
    inner.chars().any(is_cjk).then(|| inner.trim().to_string())
}

/// A form field's name (`pin`, `login`) as a person reads it: the locale's
/// `field.<name>`, else the name itself.
pub fn field_label(catalog: &Catalog, lang: &str, name: &str) -> String {
    // A member's field of a household form: `members[0].name`.
    if let Some((_, rest)) = name.split_once('[')
        && let Some((n, field)) = rest.split_once("].")
        && let Ok(i) = n.parse::<usize>()
    {
        let who = catalog
            .get(lang)
            .and_then(|m| m.get("field.member_n"))
            .map_or_else(
                || format!("member {}: ", i + 1),
                |t| t.replace("{n}", &(i + 1).to_string()),
            );
        return format!("{who}{}", field_label(catalog, lang, field));
    }
    catalog
        .get(lang)
        .and_then(|m| m.get(&format!("field.{name}")))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

/// Fields and their messages as one line: "手机号：……；PIN：……".
pub fn fields_line(
    catalog: &Catalog,
    lang: &str,
    fields: &std::collections::BTreeMap<String, String>,
) -> String {
    let (colon, sep) = if lang == "en" {
        (": ", "; ")
    } else {
        ("：", "；")
    };
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}{colon}{}",
                field_label(catalog, lang, k),
                localize(catalog, lang, v)
            )
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// One message: a locale key and the values of its `{name}` placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Msg {
    pub fn new(key: &'static str) -> Msg {
        Msg { key, args: vec![] }
    }

    /// Sets the placeholder `{name}`.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Msg {
        self.args.push((name, value.to_string()));
        self
    }

    /// `text` (the translation of `key`) with the placeholders filled.
    pub fn fill(&self, text: &str) -> String {
        self.args.iter().fold(text.to_owned(), |t, (name, value)| {
            t.replace(&format!("{{{name}}}"), value)
        })
    }

    /// The English text, from the catalog the pages use.
    pub fn english(&self) -> String {
        self.fill(ENGLISH.get(self.key).map_or(self.key, String::as_str))
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

/// The English catalog, compiled into the binary.
pub(crate) static ENGLISH: std::sync::LazyLock<HashMap<String, String>> =
    std::sync::LazyLock::new(|| {
        toml::from_str(include_str!("../templates/locales/en.toml")).unwrap_or_default()
    });

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn catalog() -> Catalog {
        let mut c: Catalog = HashMap::new();
        c.insert(
            "en".into(),
            HashMap::from([
                (
                    "hh.err.id_check_digit".into(),
                    "check digit should be {expected}, not {found}".into(),
                ),
                ("hh.err.required".into(), "required".into()),
                ("hh.err.area".into(), "{reason}".into()),
                ("dash.title".into(), "required".into()),
            ]),
        );
        c.insert(
            "zh-CN".into(),
            HashMap::from([
                (
                    "hh.err.id_check_digit".into(),
                    "校验码应为 {expected}，而不是 {found}".into(),
                ),
                ("hh.err.required".into(), "必填".into()),
                ("hh.err.area".into(), "{reason}".into()),
            ]),
        );
        c
    }

    #[test]
    fn reads_the_placeholders_back_and_fills_the_translation() {
        let c = catalog();
        assert_eq!(
            localize(&c, "zh-CN", "check digit should be X, not 0"),
            "校验码应为 X，而不是 0"
        );
        assert_eq!(localize(&c, "zh-CN", "required"), "必填");
        assert_eq!(localize(&c, "en", "required"), "required");
        assert_eq!(
            localize(&c, "zh-CN", "only XLSX or CSV / 只接受 XLSX 或 CSV"),
            "只接受 XLSX 或 CSV"
        );
        assert_eq!(
            localize(&c, "zh-CN", "a learner needs her village (学员需要所在村)"),
            "学员需要所在村"
        );
        assert_eq!(localize(&c, "zh-CN", "something else"), "something else");
        assert_eq!(
            names_only("一般贫困户/ordinary_poor, 低保户/dibao"),
            "一般贫困户、低保户"
        );
        assert_eq!(names_only("2, 3, 4"), "2, 3, 4");
    }
}
