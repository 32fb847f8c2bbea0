//! Parsers for single cells. Each returns the value or a short message; the
//! caller adds the row and the column.

/// A whole number within `range`, e.g. a year or a count of months.
pub(super) fn int_in(s: &str, min: i32, max: i32, what: &str) -> Result<i32, String> {
    let n: i32 = s
        .strip_suffix(".0")
        .unwrap_or(s)
        .parse()
        .map_err(|_| format!("{s} is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("{what} {n} is not between {min} and {max}"));
    }
    Ok(n)
}

/// Decimal yuan ("8650.5", "-120", "1,200.00") to fen, at most two decimals.
pub(super) fn yuan_to_fen(s: &str) -> Result<i64, String> {
    let bad = || format!("{s} is not an amount in yuan");
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    let whole_digits = whole.bytes().filter(|b| *b != b',');
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    let mut yuan: i64 = 0;
    for b in whole_digits {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        yuan = yuan
            .checked_mul(10)
            .and_then(|y| y.checked_add(i64::from(b - b'0')))
            .filter(|y| *y <= 1_000_000_000)
            .ok_or_else(|| format!("{s} yuan is too large"))?;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            if frac.len() > 2 && frac.bytes().all(|b| b.is_ascii_digit()) {
                format!("{s} has more than two decimal places")
            } else {
                bad()
            },
        );
    }
    let mut fen = 0i64;
    for (i, b) in frac.bytes().enumerate() {
        fen += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    let total = yuan * 100 + fen;
    Ok(if negative { -total } else { total })
}

/// Free text of at most `max` characters.
pub(super) fn text(s: &str, max: usize) -> Result<&str, String> {
    let n = s.chars().count();
    if n > max {
        return Err(format!("too long: {n} characters, at most {max}"));
    }
    Ok(s)
}

/// Digits with an optional leading +, spaces and hyphens; 5 to 20 digits.
pub(super) fn phone(s: &str) -> Result<&str, String> {
    let ok_chars = s
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if !ok_chars || !(5..=20).contains(&digits) {
        return Err(format!("{s} is not a phone number"));
    }
    Ok(s)
}

/// Splits "缺技术、缺资金" on any of , ， ; ； 、 and drops empty parts.
pub(super) fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', '，', ';', '；', '、'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_yuan_to_fen() {
        assert_eq!(yuan_to_fen("8650.5"), Ok(865_050));
        assert_eq!(yuan_to_fen("8650.05"), Ok(865_005));
        assert_eq!(yuan_to_fen("12000"), Ok(1_200_000));
        assert_eq!(yuan_to_fen("1,200.00"), Ok(120_000));
        assert_eq!(yuan_to_fen("-35.1"), Ok(-3_510));
        assert_eq!(yuan_to_fen(".5"), Ok(50));
        assert!(yuan_to_fen("12.345").unwrap_err().contains("two decimal"));
        assert!(yuan_to_fen("abc").is_err());
        assert!(yuan_to_fen("1e5").is_err());
        assert!(yuan_to_fen(".").is_err());
        assert!(yuan_to_fen("-").is_err());
        assert!(yuan_to_fen("99999999999999999999").is_err());
    }

    #[test]
    fn parses_numbers_and_text() {
        assert_eq!(int_in("2019", 2000, 2025, "year"), Ok(2019));
        assert_eq!(int_in("6.0", 0, 12, "months"), Ok(6));
        assert!(int_in("13", 0, 12, "months").is_err());
        assert!(int_in("six", 0, 12, "months").is_err());
        assert!(text("张三", 2).is_ok());
        assert!(text("张三丰", 2).is_err());
        assert!(phone("+86 138-0000-0000").is_ok());
        assert!(phone("call me").is_err());
        let parts: Vec<&str> = split_list("缺技术、 缺资金,,因病；其它").collect();
        assert_eq!(parts, ["缺技术", "缺资金", "因病", "其它"]);
    }
}
