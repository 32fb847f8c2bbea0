//! The rules of skills.toml: the competence framework, each competence with
//! its area, DigComp numbers and texts in every language.

use std::collections::HashMap;

use super::{all_languages, is_slug, once, pos, text};
use crate::courses::package::{Competence, Skills};
use crate::courses::problem::Sink;
use crate::courses::raw::RawSkills;

const DIGCOMP: [&str; 21] = [
    "1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3", "3.4",
    "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "5.4",
];

pub fn skills(raw: &RawSkills, source: &str, sink: &mut Sink) -> Skills {
    let langs = all_languages();
    let mut seen = HashMap::new();
    if raw.competence.is_empty() {
        sink.file("no [[competence]] entries");
    }
    let mut competences = Vec::new();
    for c in &raw.competence {
        let c = c.get_ref();
        let code = c.code.get_ref();
        let want_area = match code.split_once('.') {
            Some(("it", rest)) if is_slug(rest) => Some("it"),
            Some(("ec", rest)) if is_slug(rest) => Some("ecommerce"),
            _ => None,
        };
        match want_area {
            None => sink.at(
                pos(&c.code),
                format!("competence code \"{code}\" must look like it.name or ec.name (lowercase)"),
            ),
            Some(area) if area != c.area.get_ref() => sink.at(
                pos(&c.area),
                format!("competence \"{code}\": area must be \"{area}\" for this code"),
            ),
            Some(_) => {}
        }
        once(sink, &mut seen, "competence code", &c.code);
        if c.digcomp.get_ref().is_empty() {
            sink.at(
                pos(&c.digcomp),
                format!("competence \"{code}\": digcomp lists no DigComp number"),
            );
        }
        for d in c.digcomp.get_ref() {
            if !DIGCOMP.contains(&d.get_ref().as_str()) {
                sink.at(
                    pos(d),
                    format!(
                        "competence \"{code}\": digcomp \"{}\" is not a DigComp 2.2 competence (1.1 .. 5.4)",
                        d.get_ref()
                    ),
                );
            }
        }
        let prefix = format!("competence \"{code}\": ");
        competences.push(Competence {
            code: code.clone(),
            area: c.area.get_ref().clone(),
            digcomp: c
                .digcomp
                .get_ref()
                .iter()
                .map(|d| d.get_ref().clone())
                .collect(),
            itu: c.itu.clone(),
            title: text(sink, &format!("{prefix}title"), &c.title, &langs),
            level1: text(sink, &format!("{prefix}level1"), &c.level1, &langs),
            level2: text(sink, &format!("{prefix}level2"), &c.level2, &langs),
        });
    }
    Skills {
        competences,
        source: Some(source.to_string()),
    }
}
