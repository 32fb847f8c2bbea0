//! What a single cell needs beyond the registry's rules (`households::rules`):
//! lists of causes written in one cell.

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
    fn splits_lists() {
        let parts: Vec<&str> = split_list("缺技术、 缺资金,,因病；其它").collect();
        assert_eq!(parts, ["缺技术", "缺资金", "因病", "其它"]);
    }
}
