use super::*;

fn item(id: &str, kind: QuestionKind, choices: &[&str], key: &[&str]) -> Item {
    Item {
        id: id.into(),
        kind,
        points: 1,
        choices: choices.iter().map(|c| c.to_string()).collect(),
        key: key.iter().map(|c| c.to_string()).collect(),
    }
}

fn answer(correct: bool, given: &[&str]) -> Answer {
    Answer {
        correct,
        points: i32::from(correct),
        given: given.iter().map(|c| c.to_string()).collect(),
    }
}

/// Six learners, three one-point questions:
///
/// | learner | q1 single (key a) | q2 true/false (key true) | q3 multiple (key a+c) | total |
/// |---|---|---|---|---|
/// | L1 | a ✓ | true ✓  | a c ✓   | 3 |
/// | L2 | a ✓ | true ✓  | a ✗     | 2 |
/// | L3 | a ✓ | true ✓  | a b ✗   | 2 |
/// | L4 | a ✓ | false ✗ | b ✗     | 1 |
/// | L5 | b ✗ | false ✗ | c a ✓   | 1 |
/// | L6 | b ✗ | —  ✗    | —  ✗    | 0 |
fn fixture() -> (Vec<Item>, Vec<Attempt>) {
    use QuestionKind::*;
    let items = vec![
        item("q1", Single, &["a", "b", "c"], &["a"]),
        item("q2", TrueFalse, &["true", "false"], &["true"]),
        item("q3", Multiple, &["a", "b", "c", "d"], &["a", "c"]),
    ];
    let rows: [[(bool, &[&str]); 3]; 6] = [
        [(true, &["a"]), (true, &["true"]), (true, &["a", "c"])],
        [(true, &["a"]), (true, &["true"]), (false, &["a"])],
        [(true, &["a"]), (true, &["true"]), (false, &["a", "b"])],
        [(true, &["a"]), (false, &["false"]), (false, &["b"])],
        [(false, &["b"]), (false, &["false"]), (true, &["c", "a"])],
        [(false, &["b"]), (false, &[]), (false, &[])],
    ];
    let attempts = rows
        .iter()
        .map(|r| {
            ["q1", "q2", "q3"]
                .iter()
                .zip(r)
                .map(|(q, (ok, given))| (q.to_string(), answer(*ok, given)))
                .collect()
        })
        .collect();
    (items, attempts)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn facility_and_corrected_point_biserial_by_hand() {
    let (items, attempts) = fixture();
    let s = analyse(&items, &attempts, 6);
    assert_eq!((s.n, s.needed), (6, 0));
    // Mean score (3 + 2 + 2 + 1 + 1 + 0) ÷ 6 = 1.5.
    assert!(close(s.mean_score.unwrap(), 1.5));

    // q1: right 1 1 1 1 0 0, p = 4/6 = 2/3. Rest (total − q1) = 2 1 1 0 1 0,
    // mean 5/6. M₁ = (2+1+1+0)/4 = 1, M₀ = (1+0)/2 = 0.5.
    // Deviations 7/6 1/6 1/6 −5/6 1/6 −5/6, squares sum 102/36,
    // variance 102/216 = 17/36, s = √17/6.
    // r = 0.5 ÷ (√17/6) × √(2/3 × 1/3) = 0.5 × 6/√17 × √2/3 = √(2/17) ≈ 0.3430.
    let q1 = &s.items[0];
    assert!(close(q1.facility, 2.0 / 3.0));
    assert!(close(q1.discrimination.unwrap(), (2.0f64 / 17.0).sqrt()));

    // q2: right 1 1 1 0 0 0, p = 1/2. Rest = 2 1 1 1 1 0, mean 1.
    // M₁ = (2+1+1)/3 = 4/3, M₀ = (1+1+0)/3 = 2/3. Deviations 1 0 0 0 0 −1,
    // variance 2/6 = 1/3, s = 1/√3.
    // r = (2/3) × √3 × √(1/4) = √3/3 = 1/√3 ≈ 0.5774.
    let q2 = &s.items[1];
    assert!(close(q2.facility, 0.5));
    assert!(close(q2.discrimination.unwrap(), 1.0 / 3f64.sqrt()));

    // q3: right 1 0 0 0 1 0, p = 1/3. Rest = 2 2 2 1 0 0, mean 7/6.
    // M₁ = (2+0)/2 = 1, M₀ = (2+2+1+0)/4 = 5/4. Deviations 5/6 5/6 5/6 −1/6
    // −7/6 −7/6, squares sum 174/36, variance 29/36, s = √29/6.
    // r = −1/4 × 6/√29 × √(2/9) = −(√2/2)/√29 = −√(1/58) ≈ −0.1313:
    // the learners who got it right did worse on the rest of the test.
    let q3 = &s.items[2];
    assert!(close(q3.facility, 1.0 / 3.0));
    assert!(close(q3.discrimination.unwrap(), -(1.0f64 / 58.0).sqrt()));
}

#[test]
fn choices_no_answers_and_flags() {
    let (items, attempts) = fixture();
    let s = analyse(&items, &attempts, 6);
    let picks = |i: usize| -> Vec<(String, bool, usize)> {
        s.items[i]
            .choices
            .iter()
            .map(|c| (c.id.clone(), c.right, c.count))
            .collect()
    };
    let v = |x: &[(&str, bool, usize)]| -> Vec<(String, bool, usize)> {
        x.iter().map(|(a, b, c)| (a.to_string(), *b, *c)).collect()
    };
    // q1: a by four, b by two, c by no one.
    assert_eq!(
        picks(0),
        v(&[("a", true, 4), ("b", false, 2), ("c", false, 0)])
    );
    assert!(close(s.items[0].choices[1].share, 2.0 / 6.0));
    assert_eq!(s.items[0].no_answer, 0);
    assert_eq!(s.items[0].flags, vec![Flag::UnusedDistractor("c".into())]);
    // q2: L6 gave no answer.
    assert_eq!(picks(1), v(&[("true", true, 3), ("false", false, 2)]));
    assert_eq!(s.items[1].no_answer, 1);
    assert!(s.items[1].flags.is_empty());
    // q3: a multiple question counts every choice ticked.
    assert_eq!(
        picks(2),
        v(&[
            ("a", true, 4),
            ("b", false, 2),
            ("c", true, 2),
            ("d", false, 0)
        ])
    );
    assert_eq!(s.items[2].no_answer, 1);
    assert_eq!(
        s.items[2].flags,
        vec![
            Flag::NegativeDiscrimination,
            Flag::UnusedDistractor("d".into())
        ]
    );
}

#[test]
fn hidden_below_the_minimum_with_what_is_missing() {
    let (items, attempts) = fixture();
    let s = analyse(&items, &attempts, MIN_FIRST_ATTEMPTS);
    assert_eq!((s.n, s.needed), (6, 14));
    assert!(s.items.is_empty() && s.mean_score.is_none());
    let s = analyse(&items, &[], MIN_FIRST_ATTEMPTS);
    assert_eq!((s.n, s.needed), (0, 20));
    // Even with no minimum, nothing is worked out from no attempt.
    assert_eq!(analyse(&items, &[], 0).needed, 1);
}

#[test]
fn flag_thresholds() {
    assert_eq!(flags(0.95, Some(0.3), &[]), vec![Flag::TooEasy]);
    assert!(flags(0.9, Some(0.3), &[]).is_empty());
    assert_eq!(flags(0.1, Some(0.3), &[]), vec![Flag::TooHard]);
    assert!(flags(0.2, Some(0.2), &[]).is_empty());
    assert_eq!(flags(0.5, Some(0.19), &[]), vec![Flag::WeakDiscrimination]);
    assert_eq!(flags(0.5, Some(0.0), &[]), vec![Flag::WeakDiscrimination]);
    assert_eq!(
        flags(0.5, Some(-0.01), &[]),
        vec![Flag::NegativeDiscrimination]
    );
    // Everyone right: too easy, and no discrimination to judge.
    assert_eq!(flags(1.0, None, &[]), vec![Flag::TooEasy]);
}

#[test]
fn point_biserial_needs_both_columns_to_vary() {
    assert_eq!(point_biserial(&[true, true], &[1.0, 2.0]), None);
    assert_eq!(point_biserial(&[true, false], &[1.0, 1.0]), None);
    assert_eq!(point_biserial(&[], &[]), None);
    // Two learners: the one right has the higher rest score, r = 1.
    assert!(close(
        point_biserial(&[true, false], &[3.0, 1.0]).unwrap(),
        1.0
    ));
}

#[test]
fn rest_score_counts_points_not_questions() {
    // A two-point q1 and a one-point q2: the rest of q2 is q1's points.
    let items = vec![
        Item {
            points: 2,
            ..item("q1", QuestionKind::Number, &[], &["3"])
        },
        item("q2", QuestionKind::Order, &["a", "b"], &["a", "b"]),
    ];
    let a = |p1: i32, ok2: bool| -> Attempt {
        [
            (
                "q1".to_string(),
                Answer {
                    correct: p1 > 0,
                    points: p1,
                    given: vec!["3".into()],
                },
            ),
            ("q2".to_string(), answer(ok2, &["a", "b"])),
        ]
        .into_iter()
        .collect()
    };
    let s = analyse(&items, &[a(2, true), a(0, false), a(2, false)], 1);
    assert!(close(s.mean_score.unwrap(), 5.0 / 3.0));
    // Number and order questions list no picks.
    assert!(s.items.iter().all(|i| i.choices.is_empty()));
    // q2: right 1 0 0, rest 2 0 2; M₁ = 2, M₀ = 1; mean 4/3, variance
    // (4/9 + 16/9 + 4/9)/3 = 8/9, s = 2√2/3; r = 1 × 3/(2√2) × √(2/9) = 0.5.
    assert!(close(s.items[1].discrimination.unwrap(), 0.5));
}
