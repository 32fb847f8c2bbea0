//! Text measures the review uses: how long a choice looks on the screen, the
//! normalised form two items are compared in, how alike two texts are, and
//! the words a choice shares with its question.

use std::collections::BTreeSet;

use super::super::package::{Question, QuestionKind, Text};

/// Two items at least this alike (0 to 1, see [`similarity`]) are one item to
/// a learner who remembers the first. Edits that keep the item (a word
/// swapped, punctuation, a shorter or longer tail) stay above it; two items
/// written in parallel on another platform or product stay under it (see the
/// tests).
pub const NEAR: f64 = 0.75;

/// A text in `lang`, else in the course's default language `def` (as pages
/// show it), else in any language it has.
pub fn pick<'a>(text: &'a Text, lang: &str, def: &str) -> &'a str {
    text.get(lang)
        .or_else(|| text.get(def))
        .or_else(|| text.values().next())
        .map_or("", String::as_str)
}

/// How long a text looks: its characters without spaces (a Chinese character
/// and a Latin letter count one each).
pub fn length(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Letters, digits and Chinese characters only, in lower case: what is left of
/// a text once punctuation, spaces and case no longer tell two apart.
pub fn normalise(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How alike two normalised texts are: twice their longest common
/// subsequence over their lengths together (the characters both keep in the
/// same order). 1 is the same text, 0 shares nothing; two empty texts are
/// the same. Unlike an edit distance it forgives words left out or added,
/// as a learner who remembers an item does.
pub fn similarity(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    for ca in a {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(0);
        for (j, cb) in b.iter().enumerate() {
            let next = if ca == cb {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
            cur.push(next);
        }
        prev = cur;
    }
    (2 * prev[b.len()]) as f64 / total as f64
}

/// The text of a question's right answer in `lang`: the right choices in the
/// key's order, or the number. A true/false question's statement is the whole
/// item: its answer, one of two words every such item shares, adds nothing.
pub fn key_text(q: &Question, lang: &str, def: &str) -> String {
    match q.kind {
        QuestionKind::TrueFalse => return String::new(),
        QuestionKind::Number => return q.answer.join(" "),
        _ => {}
    }
    q.answer
        .iter()
        .filter_map(|a| q.choices.iter().find(|c| &c.id == a))
        .map(|c| pick(&c.text, lang, def))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Characters that carry no meaning of their own in Chinese (particles,
/// pronouns, the commonest verbs): sharing one of them is sharing no word.
const ZH_STOP: &str =
    "的了是在不我你他她它们和与或也就都吗呢吧啊一个有这那要会能把被让给对还很吧么什";

/// English words that carry no meaning of their own.
const EN_STOP: [&str; 24] = [
    "the", "and", "for", "you", "your", "are", "not", "with", "this", "that", "what", "which",
    "does", "from", "all", "any", "can", "its", "was", "has", "have", "will", "how", "who",
];

/// The words of a text that carry meaning: each Chinese character but the
/// particles, and each Latin word of three letters or more but the commonest.
pub fn words(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut latin = String::new();
    let flush = |latin: &mut String, out: &mut BTreeSet<String>| {
        if latin.chars().count() >= 3 && !EN_STOP.contains(&latin.as_str()) {
            out.insert(latin.clone());
        }
        latin.clear();
    };
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            latin.push(c);
            continue;
        }
        flush(&mut latin, &mut out);
        if c.is_alphanumeric() && !ZH_STOP.contains(c) {
            out.insert(c.to_string());
        }
    }
    flush(&mut latin, &mut out);
    out
}

/// Whether a question asks with choices that can be longer or shorter.
pub fn has_options(kind: QuestionKind) -> bool {
    matches!(kind, QuestionKind::Single | QuestionKind::Multiple)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alike(a: &str, b: &str) -> f64 {
        similarity(&normalise(a), &normalise(b))
    }

    #[test]
    fn length_counts_characters_without_spaces() {
        assert_eq!(length("关掉 Wi-Fi 再打开"), 10);
        assert_eq!(length("  "), 0);
    }

    #[test]
    fn normalising_drops_punctuation_spaces_and_case() {
        assert_eq!(
            normalise("在抖店发布第一件商品，先点哪里？"),
            normalise("在抖店 发布第一件商品先点哪里")
        );
        assert_eq!(normalise("Wi-Fi, OK?"), normalise("wifi ok"));
    }

    /// The threshold on examples: what a learner would take for the same
    /// item is at or over it, parallel items are under it.
    #[test]
    fn the_near_threshold_parts_repeats_from_parallel_items() {
        let near = [
            // Punctuation and spaces only.
            ("把开店的步骤排好顺序。", "把开店的步骤，排好顺序"),
            // One word swapped.
            (
                "一个手电筒软件弹出来，要读你的短信。你怎么选？",
                "一个手电筒软件弹出来，要看你的短信。你怎么办？",
            ),
            // A tail added.
            (
                "收到 96110 打来的电话，怎么办？",
                "收到 96110 打来的电话，你该怎么办？",
            ),
            // Words left out.
            (
                "淘宝买家付了钱，钱什么时候到你的账上？",
                "淘宝买家付钱后，钱什么时候到账？",
            ),
            (
                "一个手电筒软件弹出来，要读你的短信。你怎么选？",
                "手电筒软件要读短信，怎么选？",
            ),
            (
                "What is the best payment password?",
                "Which is the best payment password?",
            ),
        ];
        for (a, b) in near {
            assert!(alike(a, b) >= NEAR, "{a} / {b}: {}", alike(a, b));
        }
        let apart = [
            // The same task on two platforms.
            (
                "在千牛里发第一件商品，点哪里？",
                "在抖店发布第一件商品，先点哪里？",
            ),
            ("开播按顺序排一排：", "讲一样货，按顺序排一排："),
            (
                "这个星期卖菌子收了 120 元和 80 元，买袋子和付快递一共花了 30 元。利润是多少元？",
                "这个星期的记账本：收入有 150 元、90 元、60 元；花费有 40 元、25 元。利润是多少元？",
            ),
            (
                "把打包一瓶蜂蜜的步骤排好顺序。",
                "把处理一个订单的步骤排好顺序。",
            ),
            (
                "手机提示“存储空间不足”，相册里有几百段视频。先做什么最管用？",
                "手机提示“存储空间不足”，拍不了照。先删什么最有用？",
            ),
            (
                "抖店的保证金要交多少，哪里看最准？",
                "快手小店的保证金要交多少？",
            ),
            ("锁屏密码怎么设最好？", "注册一个新软件，密码怎么设最好？"),
        ];
        for (a, b) in apart {
            assert!(alike(a, b) < NEAR, "{a} / {b}: {}", alike(a, b));
        }
        assert_eq!(alike("", ""), 1.0);
        assert_eq!(alike("abc", "abc"), 1.0);
        assert_eq!(alike("abc", "xyz"), 0.0);
    }

    #[test]
    fn words_skip_particles_and_short_english_words() {
        let w = words("支付密码设成什么最好？");
        assert!(w.contains("密") && !w.contains("么"));
        assert!(words("生日").is_disjoint(&w));
        let en = words("What is the best payment password?");
        assert!(en.contains("payment") && !en.contains("the") && !en.contains("is"));
    }
}
