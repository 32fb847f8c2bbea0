//! The columns of the household spreadsheet and how a header row maps onto them.

use super::RowError;

/// One column of the import file. Order is the template's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    RegistryNo,
    AreaCode,
    VillageGroup,
    Kind,
    Status,
    MonitorType,
    IdentifiedYear,
    ExitedYear,
    Phone,
    PrimaryCause,
    OtherCauses,
    Name,
    Sex,
    IdNumber,
    BirthYear,
    Ethnicity,
    Relation,
    Education,
    SchoolStatus,
    Health,
    Labour,
    MigrantMonths,
    NetPerCapitaYuan,
    IncomeYear,
}

impl Column {
    pub const COUNT: usize = 24;

    pub const ALL: [Column; Column::COUNT] = [
        Column::RegistryNo,
        Column::AreaCode,
        Column::VillageGroup,
        Column::Kind,
        Column::Status,
        Column::MonitorType,
        Column::IdentifiedYear,
        Column::ExitedYear,
        Column::Phone,
        Column::PrimaryCause,
        Column::OtherCauses,
        Column::Name,
        Column::Sex,
        Column::IdNumber,
        Column::BirthYear,
        Column::Ethnicity,
        Column::Relation,
        Column::Education,
        Column::SchoolStatus,
        Column::Health,
        Column::Labour,
        Column::MigrantMonths,
        Column::NetPerCapitaYuan,
        Column::IncomeYear,
    ];

    /// (Chinese header, English header).
    pub fn headers(self) -> (&'static str, &'static str) {
        match self {
            Column::RegistryNo => ("户编号", "registry_no"),
            Column::AreaCode => ("行政区划代码", "area_code"),
            Column::VillageGroup => ("村民小组", "village_group"),
            Column::Kind => ("户类型", "kind"),
            Column::Status => ("户状态", "status"),
            Column::MonitorType => ("监测类型", "monitor_type"),
            Column::IdentifiedYear => ("识别年度", "identified_year"),
            Column::ExitedYear => ("脱贫年度", "exited_year"),
            Column::Phone => ("联系电话", "phone"),
            Column::PrimaryCause => ("主要致贫原因", "primary_cause"),
            Column::OtherCauses => ("其他致贫原因", "other_causes"),
            Column::Name => ("姓名", "name"),
            Column::Sex => ("性别", "sex"),
            Column::IdNumber => ("身份证号", "id_number"),
            Column::BirthYear => ("出生年份", "birth_year"),
            Column::Ethnicity => ("民族", "ethnicity"),
            Column::Relation => ("与户主关系", "relation"),
            Column::Education => ("文化程度", "education"),
            Column::SchoolStatus => ("在校状况", "school_status"),
            Column::Health => ("健康状况", "health"),
            Column::Labour => ("劳动技能", "labour"),
            Column::MigrantMonths => ("务工月数", "migrant_months"),
            Column::NetPerCapitaYuan => ("年人均纯收入(元)", "net_per_capita_yuan"),
            Column::IncomeYear => ("收入年度", "income_year"),
        }
    }

    pub fn zh(self) -> &'static str {
        self.headers().0
    }

    /// Without these a row cannot be a member of a household.
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::RegistryNo
                | Column::AreaCode
                | Column::Name
                | Column::Relation
                | Column::IdNumber
        )
    }

    /// Household-level: every row of a household must agree on it.
    pub fn household_level(self) -> bool {
        (self as usize) <= (Column::OtherCauses as usize)
            || matches!(self, Column::NetPerCapitaYuan | Column::IncomeYear)
    }

    /// The column a header names, if any.
    pub fn of_header(header: &str) -> Option<Column> {
        let normalized = normalize(header);
        Column::ALL.into_iter().find(|c| c.matches(&normalized))
    }

    fn matches(self, normalized: &str) -> bool {
        let (zh, en) = self.headers();
        normalized == normalize(zh)
            || normalized == en
            || (self == Column::NetPerCapitaYuan && normalized == "年人均纯收入")
    }
}

/// Trimmed, ASCII-lowercased, full-width parentheses folded, spaces and a
/// "required" star dropped: `* 年人均纯收入（元）` → `年人均纯收入(元)`.
fn normalize(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Where each column sits in the file, and its header as written there.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    index: [Option<usize>; Column::COUNT],
    names: [String; Column::COUNT],
}

impl ColumnMap {
    /// Maps a header row (spreadsheet row `row`). Unknown headers are ignored;
    /// a missing required column or a column given twice is an error.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = &'a str>,
        row: usize,
    ) -> Result<ColumnMap, Vec<RowError>> {
        let mut map = ColumnMap {
            index: [None; Column::COUNT],
            names: Column::ALL.map(|c| c.zh().to_owned()),
        };
        let mut errors = Vec::new();
        for (i, raw) in headers.into_iter().enumerate() {
            let normalized = normalize(raw);
            let Some(col) = Column::ALL.into_iter().find(|c| c.matches(&normalized)) else {
                continue;
            };
            let text = raw.trim().trim_start_matches('\u{feff}').to_owned();
            if map.index[col as usize].is_some() {
                errors.push(RowError::new(
                    row,
                    text,
                    crate::households::messages::Msg::new("hh.err.column_twice").english(),
                ));
                continue;
            }
            map.index[col as usize] = Some(i);
            map.names[col as usize] = text;
        }
        for col in Column::ALL {
            if col.required() && map.index[col as usize].is_none() {
                let (zh, en) = col.headers();
                errors.push(RowError::new(
                    row,
                    zh,
                    crate::households::messages::Msg::new("hh.err.missing_column")
                        .with("zh", zh)
                        .with("en", en)
                        .english(),
                ));
            }
        }
        if errors.is_empty() {
            Ok(map)
        } else {
            Err(errors)
        }
    }

    pub fn index(&self, col: Column) -> Option<usize> {
        self.index[col as usize]
    }

    /// The column's header as the file spells it (the Chinese header if absent).
    pub fn name(&self, col: Column) -> &str {
        &self.names[col as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_chinese_and_english_headers() {
        let map = ColumnMap::from_headers(
            [
                "\u{feff}户编号",
                " AREA_CODE ",
                "姓名",
                "notes",
                "Relation",
                "身份证号",
                "年人均纯收入（元）",
            ],
            1,
        )
        .unwrap();
        assert_eq!(map.index(Column::RegistryNo), Some(0));
        assert_eq!(map.index(Column::AreaCode), Some(1));
        assert_eq!(map.name(Column::AreaCode), "AREA_CODE");
        assert_eq!(map.index(Column::Relation), Some(4));
        assert_eq!(map.index(Column::NetPerCapitaYuan), Some(6));
        assert_eq!(map.index(Column::Kind), None);
    }

    #[test]
    fn reports_missing_and_repeated_columns() {
        let errs = ColumnMap::from_headers(["户编号", "registry_no", "姓名"], 1).unwrap_err();
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| format!("{}|{}", e.field, e.message))
            .collect();
        assert!(msgs.contains(&"registry_no|this column appears twice".to_owned()));
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("行政区划代码|missing column"))
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("身份证号|missing column"))
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("与户主关系|missing column"))
        );
    }

    #[test]
    fn all_is_in_declaration_order() {
        for (i, c) in Column::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }
}
