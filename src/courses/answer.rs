//! What counts as a right answer to a question of each kind: one rule for
//! grading a learner (`learning::grading`) and for judging a test by a blind
//! guesser (`review::blind`).

use super::QuestionKind;

/// Whether `given` answers a question of `kind` whose key is `key`. Every
/// kind says here what counts as right; a new kind cannot be graded by
/// accident as another.
pub fn is_correct(
    kind: QuestionKind,
    key: &[String],
    given: &[String],
    tolerance: Option<f64>,
) -> bool {
    let given = norm(given);
    match kind {
        // The same choices, in any order, each counted once.
        QuestionKind::Multiple => {
            let mut a = given;
            let mut b = key.to_vec();
            a.sort();
            a.dedup();
            b.sort();
            a == b
        }
        // One number within the tolerance (a decimal comma is accepted).
        QuestionKind::Number => match (
            given
                .first()
                .and_then(|g| g.replace(',', ".").parse::<f64>().ok()),
            key.first().and_then(|k| k.parse::<f64>().ok()),
        ) {
            (Some(g), Some(k)) => (g - k).abs() <= tolerance.unwrap_or(0.0) + 1e-9,
            _ => false,
        },
        // The same ids in the same order.
        QuestionKind::Single | QuestionKind::TrueFalse | QuestionKind::Order => given == key,
    }
}

fn norm(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_and_true_false_need_the_one_answer() {
        for kind in [QuestionKind::Single, QuestionKind::TrueFalse] {
            assert!(is_correct(kind, &v(&["b"]), &v(&[" b "]), None));
            assert!(!is_correct(kind, &v(&["b"]), &v(&["a"]), None));
            assert!(!is_correct(kind, &v(&["b"]), &v(&["b", "a"]), None));
            assert!(!is_correct(kind, &v(&["b"]), &[], None));
        }
    }

    #[test]
    fn multiple_ignores_order_and_repeats() {
        let key = v(&["a", "c"]);
        let k = QuestionKind::Multiple;
        assert!(is_correct(k, &key, &v(&["c", "a"]), None));
        assert!(is_correct(k, &key, &v(&["a", "c", "a"]), None));
        assert!(!is_correct(k, &key, &v(&["a"]), None));
        assert!(!is_correct(k, &key, &v(&["a", "b", "c"]), None));
    }

    #[test]
    fn order_needs_the_same_order() {
        let key = v(&["b", "a", "c"]);
        let k = QuestionKind::Order;
        assert!(is_correct(k, &key, &v(&["b", "a", "c"]), None));
        assert!(!is_correct(k, &key, &v(&["a", "b", "c"]), None));
    }

    #[test]
    fn number_within_tolerance() {
        let key = v(&["2.5"]);
        let k = QuestionKind::Number;
        assert!(is_correct(k, &key, &v(&["2,5"]), None));
        assert!(is_correct(k, &key, &v(&["2.7"]), Some(0.2)));
        assert!(!is_correct(k, &key, &v(&["2.8"]), Some(0.2)));
        assert!(!is_correct(k, &key, &v(&["two"]), Some(1.0)));
    }
}
