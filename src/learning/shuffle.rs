//! The order in which a learner sees a question's choices: shuffled for her and
//! for one attempt, and the same every time from the attempt's seed, so that a
//! review of the attempt shows what she saw. Keys and answers stay by choice
//! id; only the order on the screen changes. The generator is written out here
//! (not taken from a crate) so that a stored seed means the same order forever.

use uuid::Uuid;

use crate::courses::QuestionKind;

/// The seed of one learner's attempt: a function of who she is and the
/// attempt's id, so a page and a submission agree without a round trip.
pub fn seed_of(user_id: i64, attempt: Uuid) -> i64 {
    let mut h = Fnv::new();
    h.write(&user_id.to_le_bytes());
    h.write(attempt.as_bytes());
    mix(h.0) as i64
}

/// Whether a question of `kind` has its choices shuffled: true/false and
/// number questions have no choices to order.
pub fn shuffles(kind: QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::Single | QuestionKind::Multiple | QuestionKind::Order
    )
}

/// The positions (into the file's order) of `n` choices of question
/// `question`, in the order shown for `seed`. Each question of an attempt gets
/// its own order.
pub fn order(seed: i64, question: &str, n: usize) -> Vec<usize> {
    let mut h = Fnv::new();
    h.write(question.as_bytes());
    let mut state = (seed as u64) ^ h.0;
    let mut idx: Vec<usize> = (0..n).collect();
    // Fisher–Yates, from the end.
    for i in (1..n).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let j = (mix(state) % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    idx
}

/// `items` (a question's choices in the file's order) in the order shown for
/// `seed`; unchanged when there is no seed or the kind is not shuffled.
pub fn arrange<T>(items: Vec<T>, seed: Option<i64>, question: &str, kind: QuestionKind) -> Vec<T> {
    let Some(seed) = seed.filter(|_| shuffles(kind)) else {
        return items;
    };
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order(seed, question, slots.len())
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect()
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The splitmix64 finaliser: every input bit moves every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_a_permutation_and_stable_for_its_seed() {
        for n in 0..8 {
            let mut o = order(42, "q1", n);
            assert_eq!(o, order(42, "q1", n), "same seed, same order");
            o.sort();
            assert_eq!(o, (0..n).collect::<Vec<_>>());
        }
        // Fixed forever: a stored seed must give the order the learner saw.
        assert_eq!(order(7, "q1", 4), order(7, "q1", 4));
        assert_eq!(seed_of(1, Uuid::nil()), seed_of(1, Uuid::nil()));
        assert_ne!(seed_of(1, Uuid::nil()), seed_of(2, Uuid::nil()));
    }

    #[test]
    fn seeds_and_questions_spread_the_right_choice_over_positions() {
        // Over many attempts the first choice of the file lands in every
        // position, about as often in each.
        let mut seen = [0usize; 4];
        for a in 0..4000u128 {
            let seed = seed_of(5, Uuid::from_u128(a));
            let pos = order(seed, "q1", 4).iter().position(|&i| i == 0).unwrap();
            seen[pos] += 1;
        }
        for n in seen {
            assert!((800..1200).contains(&n), "{seen:?}");
        }
        // Two questions of one attempt are not ordered alike every time.
        let differ = (0..50u128)
            .filter(|a| {
                let s = seed_of(5, Uuid::from_u128(*a));
                order(s, "q1", 4) != order(s, "q2", 4)
            })
            .count();
        assert!(differ > 25, "{differ}");
    }

    #[test]
    fn only_choice_questions_are_arranged() {
        let items = vec!["a", "b", "c", "d", "e"];
        let s = (0..100)
            .map(|k| seed_of(k, Uuid::nil()))
            .find(|s| order(*s, "q", 5) != vec![0, 1, 2, 3, 4])
            .unwrap();
        let shown = arrange(items.clone(), Some(s), "q", QuestionKind::Single);
        assert_ne!(shown, items);
        let mut sorted = shown.clone();
        sorted.sort();
        assert_eq!(sorted, items);
        assert_eq!(
            arrange(items.clone(), Some(s), "q", QuestionKind::TrueFalse),
            items
        );
        assert_eq!(
            arrange(items.clone(), None, "q", QuestionKind::Single),
            items
        );
    }
}
