//! The closed vocabularies of the household form: each value has an English code
//! (what the database stores, the column typed by the enum itself) and the
//! Chinese labels officials write in spreadsheets.

use std::fmt;

use sea_orm::entity::prelude::StringLen;

/// Declares a vocabulary enum: `code` is stored; the first label is the Chinese
/// display name; every label (and the code) is accepted by `parse`,
/// ASCII case-insensitively.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal [$($label:literal),+ $(,)?]),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
        pub enum $name { $(#[sea_orm(string_value = $code)] $variant),+ }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl Vocabulary for $name {
            fn code(self) -> &'static str { $name::code(self) }
            fn zh(self) -> &'static str { $name::zh(self) }
            fn parse(s: &str) -> Option<Self> { $name::parse(s) }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The English code stored in the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label used on the national form.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => first(&[$($label),+])),+ }
            }

            /// Accepts the code or any Chinese label, trimmed, ASCII case-insensitive.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $(
                    if s.eq_ignore_ascii_case($code) $(|| s.eq_ignore_ascii_case($label))+ {
                        return Some($name::$variant);
                    }
                )+
                None
            }

            /// What the error message lists as accepted values.
            pub fn expected() -> String {
                let all: Vec<String> = Self::ALL.iter().map(|v| format!("{}/{}", v.zh(), v.code())).collect();
                all.join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

/// A closed vocabulary of the household form. Its codes are only unique
/// within it ("ordinary" is both a household status, 一般户, and a kind of
/// labour, 普通劳动力), so a stored code is labelled by the vocabulary of
/// its column, never by searching them all.
pub trait Vocabulary: Sized + Copy {
    fn code(self) -> &'static str;
    fn zh(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
}

const fn first(labels: &[&'static str]) -> &'static str {
    labels[0]
}

vocabulary! {
    /// 户类型: the household's kind of support.
    HouseholdKind {
        OrdinaryPoor = "ordinary_poor" ["一般贫困户", "一般户贫困户"],
        Dibao = "dibao" ["低保户"],
        Wubao = "wubao" ["五保户", "特困供养户"],
        DibaoPoor = "dibao_poor" ["低保贫困户"],
        NotPoor = "not_poor" ["非贫困户"],
    }
}

vocabulary! {
    /// 户状态: where the household stands in the registry.
    HouseholdStatus {
        Registered = "registered" ["在册", "未脱贫", "贫困户"],
        Exited = "exited" ["已脱贫", "脱贫户"],
        Monitored = "monitored" ["监测户", "监测对象"],
        Ordinary = "ordinary" ["一般户"],
    }
}

vocabulary! {
    /// 监测类型 (防止返贫监测, since 2021).
    MonitorType {
        UnstableExited = "unstable_exited" ["脱贫不稳定户"],
        Marginal = "marginal" ["边缘易致贫户"],
        SuddenHardship = "sudden_hardship" ["突发严重困难户"],
    }
}

vocabulary! {
    /// 性别
    Sex {
        Male = "male" ["男", "m"],
        Female = "female" ["女", "f"],
    }
}

vocabulary! {
    /// 与户主关系
    Relation {
        Head = "head" ["户主", "本人"],
        Spouse = "spouse" ["配偶", "妻", "夫"],
        Child = "child" ["子女", "之子", "之女", "儿子", "女儿"],
        Parent = "parent" ["父母", "之父", "之母", "父亲", "母亲"],
        Other = "other" ["其他", "其它"],
    }
}

vocabulary! {
    /// 健康状况 (sensitive personal data).
    Health {
        Healthy = "healthy" ["健康"],
        Chronic = "chronic" ["长期慢性病"],
        Serious = "serious" ["大病", "患大病"],
        Disabled = "disabled" ["残疾"],
    }
}

vocabulary! {
    /// 劳动技能
    Labour {
        Ordinary = "ordinary" ["普通劳动力"],
        Skilled = "skilled" ["技能劳动力"],
        Lost = "lost" ["丧失劳动力"],
        NoCapacity = "none" ["无劳动力"],
    }
}

/// A poverty cause (致贫原因) of the national household form; `Cause::ALL` is
/// the table. A household has one primary cause (none only when not poor) and
/// at most two others (`rules::other_causes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cause {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl Cause {
    /// The table in form order. The database table `poverty_cause` may hold
    /// provincial additions; an import accepts only these.
    pub const ALL: &'static [Cause] = &[
        Cause::new("01", "因病", "illness"),
        Cause::new("02", "因残", "disability"),
        Cause::new("03", "因学", "schooling costs"),
        Cause::new("04", "因灾", "disaster"),
        Cause::new("05", "缺土地", "lack of land"),
        Cause::new("06", "缺水", "lack of water"),
        Cause::new("07", "缺技术", "lack of skills"),
        Cause::new("08", "缺劳力", "lack of labour"),
        Cause::new("09", "缺资金", "lack of funds"),
        Cause::new("10", "交通条件落后", "poor transport"),
        Cause::new("11", "自身发展动力不足", "lack of drive"),
        Cause::new("99", "其它", "other"),
    ];

    const fn new(code: &'static str, zh: &'static str, en: &'static str) -> Cause {
        Cause { code, zh, en }
    }

    /// Accepts the 2-digit code (`7` is read as `07`), the Chinese or the English name.
    pub fn parse(s: &str) -> Option<Cause> {
        let s = s.trim();
        let padded;
        let code = if s.len() == 1 && s.as_bytes()[0].is_ascii_digit() {
            padded = [b'0', s.as_bytes()[0]];
            std::str::from_utf8(&padded).unwrap_or(s)
        } else {
            s
        };
        Cause::ALL.iter().copied().find(|c| {
            c.code == code
                || c.zh == s
                || c.en.eq_ignore_ascii_case(s)
                || (c.code == "99" && s == "其他")
        })
    }

    /// Looks a cause up by its stored code.
    pub fn by_code(code: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.code == code)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_labels() {
        assert_eq!(HouseholdKind::parse("低保户"), Some(HouseholdKind::Dibao));
        assert_eq!(
            HouseholdKind::parse(" Dibao_Poor "),
            Some(HouseholdKind::DibaoPoor)
        );
        assert_eq!(
            HouseholdStatus::parse("已脱贫"),
            Some(HouseholdStatus::Exited)
        );
        assert_eq!(Sex::parse("女"), Some(Sex::Female));
        assert_eq!(Relation::parse("HEAD"), Some(Relation::Head));
        assert_eq!(Labour::parse("无劳动力"), Some(Labour::NoCapacity));
        assert_eq!(Health::parse("unknown"), None);
        assert_eq!(HouseholdKind::Wubao.zh(), "五保户");
    }

    #[test]
    fn parses_causes() {
        assert_eq!(Cause::parse("07").map(|c| c.en), Some("lack of skills"));
        assert_eq!(Cause::parse("7").map(|c| c.code), Some("07"));
        assert_eq!(Cause::parse("因病").map(|c| c.code), Some("01"));
        assert_eq!(Cause::parse("Illness").map(|c| c.code), Some("01"));
        assert_eq!(Cause::parse("其他").map(|c| c.code), Some("99"));
        assert_eq!(Cause::parse("12"), None);
        assert_eq!(Cause::parse("因穷"), None);
    }
}
