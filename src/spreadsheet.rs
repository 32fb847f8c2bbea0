//! What every CSV the product writes goes through: cells a spreadsheet
//! program would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return
//! first, as OWASP lists them) get a leading `'`, so a member named
//! `=HYPERLINK(…)` opens as text. A plain number such as `-12.50` stays as is:
//! it is no formula, and the figure must stay a figure.

use std::borrow::Cow;

/// The cell as it is safe to write into a CSV file.
pub fn safe_cell(cell: &str) -> Cow<'_, str> {
    let risky = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Every cell of a record made safe ([`safe_cell`]).
pub fn safe_record<'a, I, S>(cells: I) -> Vec<Cow<'a, str>>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + ?Sized + 'a,
{
    cells.into_iter().map(|c| safe_cell(c.as_ref())).collect()
}

/// `-12`, `+3.5`, `-0.25`: a sign, digits, at most one point.
fn is_plain_number(s: &str) -> bool {
    let body = &s[1..];
    let mut points = 0;
    !body.is_empty()
        && body.chars().any(|c| c.is_ascii_digit())
        && body.chars().all(|c| {
            if c == '.' {
                points += 1;
                points == 1
            } else {
                c.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("\t=1"), "'\t=1");
        assert_eq!(safe_cell("\r=1"), "'\r=1");
        assert_eq!(safe_cell("-12.50"), "-12.50");
        assert_eq!(safe_cell("-"), "'-");
        assert_eq!(safe_cell("李秀英"), "李秀英");
        assert_eq!(safe_cell(""), "");
    }
}
