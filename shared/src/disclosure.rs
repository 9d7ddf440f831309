//! Disclosure control of counts of patients (docs/security.md, "Small numbers").
//!
//! A count of patients from 1 to 4 in a breakdown could identify someone: "the one patient
//! at Burnham from Sedgemoor, waiting for a care home, 12 days". Every breakdown that
//! reaches someone without a direct-care reason (the live state, `/api/v1/state`, exports
//! for other organisations' sites) goes through [`protect`] first.
//!
//! **The rule** (threshold suppression with complementary suppression by value):
//!
//! 1. A breakdown is the full list of its categories (zeros included, plus "not stated"
//!    where the field is optional), so that its cells add up to a total that stays shown
//!    (patients delayed now).
//! 2. If no cell is from 1 to 4, every cell is shown.
//! 3. Otherwise every cell of at most 4 is hidden, zeros included. If the hidden cells all
//!    hold the same value (a lone small cell, or several equal ones), the next smallest
//!    value is hidden too, every cell holding it, and so on until the hidden cells hold at
//!    least two different values or every cell is hidden.
//!
//! Why this holds against someone who knows the rule and the total: which cells are hidden
//! depends only on the values, not on the categories, so swapping values between hidden
//! cells gives another breakdown that is published identically. With two different values
//! among the hidden cells, every hidden cell could hold either. Where every cell ends up
//! hidden, other breakdowns with the same total hide every cell too. The unit tests below
//! check this exhaustively for every breakdown of up to 7 categories and totals up to 14,
//! and of up to 4 categories and totals up to 24.
//!
//! A hidden cell is `None` (JSON `null`); screens and exports write it as [`HIDDEN`]. It is
//! not written "<5": a cell hidden to protect another may hold 5 or more.

use std::collections::BTreeMap;

/// How a hidden cell is written on screens and in exports.
pub const HIDDEN: &str = "*";

/// The smallest count that is shown on its own.
pub const SMALLEST_SHOWN: u32 = 5;

/// The key of the "not stated" category of a breakdown of an optional field.
pub const NOT_STATED: &str = "not_stated";

/// A breakdown of patients by one field, as published: every category with its count, or
/// `None` where disclosure control hid it.
pub type Breakdown = BTreeMap<String, Option<u32>>;

/// Which of `cells` the rule shows: the cell, or `None` where it is hidden.
pub fn protect(cells: &[u32]) -> Vec<Option<u32>> {
    let small = |n: u32| (1..SMALLEST_SHOWN).contains(&n);
    if !cells.iter().copied().any(small) {
        return cells.iter().copied().map(Some).collect();
    }
    let mut threshold = SMALLEST_SHOWN - 1;
    loop {
        let mut hidden = cells.iter().copied().filter(|&n| n <= threshold);
        let first = hidden.next();
        let varied = hidden.any(|n| Some(n) != first);
        let next = cells.iter().copied().filter(|&n| n > threshold).min();
        match next {
            Some(next) if !varied => threshold = next,
            _ => break,
        }
    }
    cells
        .iter()
        .map(|&n| (n > threshold).then_some(n))
        .collect()
}

/// [`protect`] over a breakdown keyed by category.
pub fn protect_breakdown(counts: &BTreeMap<String, u32>) -> Breakdown {
    let values: Vec<u32> = counts.values().copied().collect();
    counts.keys().cloned().zip(protect(&values)).collect()
}

/// A breakdown with nothing hidden (for those who may see exact figures).
pub fn exact(counts: &BTreeMap<String, u32>) -> Breakdown {
    counts.iter().map(|(k, n)| (k.clone(), Some(*n))).collect()
}

/// A cell as screens and exports write it.
pub fn shown(cell: Option<u32>) -> String {
    cell.map_or_else(|| HIDDEN.to_owned(), |n| n.to_string())
}

/// A figure made up of `patients` patients (their mean delay, their bed days lost), shown
/// only when they are at least [`SMALLEST_SHOWN`]: the mean delay of one patient, or one
/// patient's bed days lost this week, is that patient's delay.
pub fn figure_of(patients: u32, figure: Option<f64>) -> Option<f64> {
    figure.filter(|_| patients >= SMALLEST_SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn breakdowns_without_small_cells_are_shown_whole() {
        assert_eq!(protect(&[0, 5, 17]), [Some(0), Some(5), Some(17)]);
        assert_eq!(protect(&[]), []);
    }

    #[test]
    fn small_cells_and_zeros_are_hidden_once_any_cell_is_small() {
        // The example: 22 delayed at MPH, P1 18, P3 4: P3 is hidden, and so are the
        // zeros, so P3 cannot be worked out as 22 − 18.
        assert_eq!(protect(&[0, 18, 0, 4]), [None, Some(18), None, None]);
        // Bands of 22: 0, 8, 13, 1 (21+): the 1 and the zeros are hidden.
        assert_eq!(
            protect(&[0, 8, 13, 0, 0, 0, 1]),
            [None, Some(8), Some(13), None, None, None, None]
        );
    }

    #[test]
    fn a_lone_small_cell_takes_the_next_smallest_with_it() {
        // No zeros to hide it among: the 5 (the smallest other) is hidden too.
        assert_eq!(protect(&[3, 5, 9]), [None, None, Some(9)]);
        // Equal small cells hide the next value too: two hidden 1s with a total of 2 alone
        // would give both away.
        assert_eq!(protect(&[1, 1, 20, 30]), [None, None, None, Some(30)]);
        // Every cell holding the next value goes, so ties give nothing away.
        assert_eq!(protect(&[2, 7, 7, 9]), [None, None, None, Some(9)]);
        // One patient in all: every cell hidden.
        assert_eq!(protect(&[1, 0, 0, 0]), [None; 4]);
    }

    /// Every breakdown of `n` categories with total `total`.
    fn breakdowns(n: usize, total: u32) -> Vec<Vec<u32>> {
        if n == 1 {
            return vec![vec![total]];
        }
        (0..=total)
            .flat_map(|first| {
                breakdowns(n - 1, total - first)
                    .into_iter()
                    .map(move |mut rest| {
                        rest.insert(0, first);
                        rest
                    })
            })
            .collect()
    }

    /// The attack: someone who knows the rule, the total and every shown cell lists every
    /// breakdown published the same way; a hidden cell is recovered if it holds the same
    /// value in all of them.
    fn recoverable(
        rule: fn(&[u32]) -> Vec<Option<u32>>,
        n: usize,
        total: u32,
    ) -> Vec<(Vec<u32>, usize)> {
        let mut published: HashMap<Vec<Option<u32>>, Vec<Vec<u32>>> = HashMap::new();
        for cells in breakdowns(n, total) {
            published.entry(rule(&cells)).or_default().push(cells);
        }
        let mut found = Vec::new();
        for (pattern, candidates) in &published {
            for (i, cell) in pattern.iter().enumerate() {
                let first = candidates[0][i];
                if cell.is_none() && candidates.iter().all(|c| c[i] == first) {
                    found.push((candidates[0].clone(), i));
                }
            }
        }
        found
    }

    #[test]
    fn no_hidden_cell_can_be_worked_out_from_the_total_and_the_shown_cells() {
        for (most_categories, most_total) in [(7, 14), (4, 24)] {
            for n in 2..=most_categories {
                for total in 0..=most_total {
                    let found = recoverable(protect, n, total);
                    assert!(found.is_empty(), "{n} categories, total {total}: {found:?}");
                }
            }
        }
    }

    #[test]
    fn no_shown_cell_is_from_one_to_four() {
        for n in 1..=5 {
            for total in 0..=16 {
                for cells in breakdowns(n, total) {
                    for cell in protect(&cells).into_iter().flatten() {
                        assert!(!(1..5).contains(&cell), "{cells:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_attack_finds_what_hiding_only_the_small_cells_gives_away() {
        // Hiding only the cells from 1 to 4 lets the total give them away (22 − 18 = 4):
        // the attack above must find that, or passing it would prove nothing.
        fn small_only(cells: &[u32]) -> Vec<Option<u32>> {
            cells
                .iter()
                .map(|&n| (!(1..5).contains(&n)).then_some(n))
                .collect()
        }
        let found = recoverable(small_only, 4, 22);
        assert!(found.contains(&(vec![0, 18, 0, 4], 3)), "{found:?}");
    }

    #[test]
    fn breakdowns_keep_their_keys_and_figures_need_five_patients() {
        let counts: BTreeMap<String, u32> = [("P0", 0), ("P1", 18), ("P2", 0), ("P3", 4)]
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n))
            .collect();
        let b = protect_breakdown(&counts);
        assert_eq!(b["P1"], Some(18));
        assert_eq!(b["P3"], None);
        assert_eq!(shown(b["P3"]), "*");
        assert_eq!(exact(&counts)["P3"], Some(4));
        assert_eq!(figure_of(4, Some(12.0)), None);
        assert_eq!(figure_of(5, Some(12.0)), Some(12.0));
    }
}
