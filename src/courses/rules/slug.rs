//! The names of courses, lessons and tasks: what a slug is, and a slug
//! proposed from a title.

/// Lowercase letters, digits and single dashes inside: `power-and-touch`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A slug checked at the edge (course, lesson and task names typed in a
/// form): a slug of at most 60 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 60;

    pub fn parse(s: &str) -> Option<Slug> {
        (is_slug(s) && s.len() <= Slug::MAX_LEN).then(|| Slug(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A slug proposed from a title: Chinese characters as toneless pinyin
    /// (ü as v), Latin letters and digits kept in lowercase, one hyphen
    /// between words, at most `MAX_LEN` characters cut at a word's end.
    /// `None` when the title has nothing to spell.
    pub fn from_title(title: &str) -> Option<Slug> {
        use pinyin::ToPinyin;
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        for ch in title.chars() {
            if ch.is_ascii_alphanumeric() {
                word.push(ch.to_ascii_lowercase());
                continue;
            }
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if let Some(p) = ch.to_pinyin() {
                let spelled: String = p
                    .plain()
                    .chars()
                    .map(|c| if c == 'ü' { 'v' } else { c })
                    .filter(|c| c.is_ascii_lowercase())
                    .collect();
                if !spelled.is_empty() {
                    words.push(spelled);
                }
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        let mut out = String::new();
        for w in words {
            let w = &w[..w.len().min(Slug::MAX_LEN)];
            let extra = if out.is_empty() { w.len() } else { w.len() + 1 };
            if out.len() + extra > Slug::MAX_LEN {
                break;
            }
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(w);
        }
        Slug::parse(&out)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(Slug::parse("power-and-touch").is_some());
        assert!(Slug::parse("a1").is_some());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "课"] {
            assert!(Slug::parse(bad).is_none(), "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(60)).is_some());
        assert!(Slug::parse(&"a".repeat(61)).is_none());
    }

    #[test]
    fn a_slug_is_proposed_from_a_title() {
        let from = |t: &str| Slug::from_title(t).map(String::from);
        assert_eq!(from("网店拍照").as_deref(), Some("wang-dian-pai-zhao"));
        // Latin words and digits kept, punctuation and spaces are one hyphen.
        assert_eq!(
            from("  用 WeChat 卖茶（第2课）！ ").as_deref(),
            Some("yong-wechat-mai-cha-di-2-ke")
        );
        assert_eq!(from("绿茶").as_deref(), Some("lv-cha"));
        assert_eq!(from("Sell Tea Online").as_deref(), Some("sell-tea-online"));
        // Cut at a word's end, never longer than a slug may be.
        let long = from(&"网店拍照".repeat(10)).unwrap();
        assert!(
            long.len() <= Slug::MAX_LEN && !long.ends_with('-'),
            "{long}"
        );
        assert!(long.starts_with("wang-dian-pai-zhao-wang-"));
        assert!(Slug::parse(&long).is_some());
        assert_eq!(from(&"a".repeat(80)).map(|s| s.len()), Some(60));
        for nothing in ["", "  ", "！？", "😀"] {
            assert_eq!(from(nothing), None, "{nothing}");
        }
    }
}
