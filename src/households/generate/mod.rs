//! Deterministic synthetic households for demos and benchmarks: the same seed
//! gives the same villages, people and identity numbers, on every machine.
//!
//! The distributions are plausible, not statistics: household size 1-7 (mean
//! about 3.5), mostly ordinary poor households that have exited poverty, the
//! commonest causes first, ages and labour that fit together. Identity numbers
//! are valid but made up, and unique within one output.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

mod export;

pub use export::{hashed, import_csv, write_import_csv};

use crate::households::idcard::{IdError, NationalId};
use crate::households::import::{HouseholdRow, Income, MemberRow};
use crate::households::vocab::{
    Cause, Health, HouseholdKind, HouseholdStatus, Labour, MonitorType, Relation, Sex,
};

/// Ages are counted at the end of this year; incomes are for it.
pub const REFERENCE_YEAR: i32 = 2025;

/// A generated village (administrative village, 行政村).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub township_code: String,
}

/// Generated data. Rows are numbered as [`write_import_csv`] writes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Synthetic {
    pub villages: Vec<Village>,
    pub households: Vec<HouseholdRow<NationalId>>,
}

impl Synthetic {
    /// The areas of the generated villages as an areas CSV (`code,name,level,
    /// parent_code`), the whole chain down from the province of `county` (6
    /// digits, as given to [`generate`]), so the file imports into an empty
    /// database; rows already there are left unchanged by the import.
    pub fn areas_csv(&self, county: &str) -> String {
        let county = county.get(..6).unwrap_or(county);
        let province = format!("{:0<12}", county.get(..2).unwrap_or(county));
        let prefecture = format!("{:0<12}", county.get(..4).unwrap_or(county));
        let county_code = format!("{county:0<12}");
        let mut a = String::from("code,name,level,parent_code\n");
        a.push_str(&format!("{province},省{},province,\n", &province[..2]));
        a.push_str(&format!(
            "{prefecture},市{},prefecture,{province}\n",
            &prefecture[..4]
        ));
        a.push_str(&format!("{county_code},县{county},county,{prefecture}\n"));
        let mut townships: Vec<&str> = self
            .villages
            .iter()
            .map(|v| v.township_code.as_str())
            .collect();
        townships.dedup();
        for (i, t) in townships.iter().enumerate() {
            a.push_str(&format!("{t},第{}乡,township,{county_code}\n", i + 1));
        }
        for v in &self.villages {
            a.push_str(&format!(
                "{},{},village,{}\n",
                v.code, v.name, v.township_code
            ));
        }
        a
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("county code {0} must start with 6 digits")]
    County(String),
    #[error("township code {0} must be 12 digits inside the county")]
    Township(String),
    #[error(transparent)]
    Id(#[from] IdError),
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "董", "曹", "袁", "邓", "许",
    "沈", "彭", "苏", "蒋", "蔡", "丁", "魏", "叶", "余", "潘", "杜", "田", "龙", "普", "者", "刀",
    "岩", "施", "段",
];
const MALE_CHARS: &[&str] = &[
    "国", "建", "华", "明", "文", "志", "勇", "军", "强", "伟", "平", "刚", "永", "福", "贵", "发",
    "林", "海", "云", "春", "兴", "德", "成", "忠", "学", "祥", "荣", "光", "俊", "杰", "涛", "斌",
    "宇", "浩",
];
const FEMALE_CHARS: &[&str] = &[
    "秀", "英", "芳", "兰", "玉", "梅", "琼", "丽", "珍", "凤", "艳", "花", "红", "萍", "娟", "敏",
    "燕", "霞", "琴", "莲", "婷", "慧", "静", "雪", "菊", "芬", "娜", "月", "春", "佳", "欣", "雨",
    "思",
];
const PLACE_CHARS: &[&str] = &[
    "大", "小", "新", "河", "山", "坝", "箐", "沟", "田", "水", "松", "石", "龙", "凤", "马", "鹿",
    "竹", "梨", "桃", "白", "黑", "红", "青", "平", "安", "和", "营", "塘", "坡", "哨", "岔", "海",
];
const ETHNICITIES: &[(&str, u32)] = &[
    ("汉族", 55),
    ("彝族", 20),
    ("苗族", 7),
    ("哈尼族", 6),
    ("白族", 4),
    ("傣族", 3),
    ("壮族", 3),
    ("回族", 2),
];
const PRIMARY_CAUSES: &[(&str, u32)] = &[
    ("01", 25),
    ("07", 18),
    ("09", 17),
    ("08", 12),
    ("02", 10),
    ("03", 6),
    ("04", 3),
    ("05", 3),
    ("06", 2),
    ("10", 2),
    ("11", 1),
    ("99", 1),
];
const SIZES: &[(usize, u32)] = &[(1, 10), (2, 16), (3, 22), (4, 25), (5, 16), (6, 7), (7, 4)];

/// Weighted choice; weights need not sum to anything in particular.
fn pick<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if n < *w {
            return *item;
        }
        n -= w;
    }
    items[items.len() - 1].0
}

fn one<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// Generates `households` households in villages of `townships` (12-digit code,
/// name) of the county `county_code`. With no townships, three are made up.
pub fn generate(
    county_code: &str,
    townships: &[(&str, &str)],
    households: usize,
    seed: u64,
) -> Result<Synthetic, GenerateError> {
    let county = county_code
        .get(..6)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()) && !c.starts_with('0'))
        .ok_or_else(|| GenerateError::County(county_code.to_owned()))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let made_up: Vec<(String, String)> = (1..=3)
        .map(|i| (format!("{county}{i:03}000"), format!("第{i}乡")))
        .collect();
    let townships: Vec<(&str, &str)> = if townships.is_empty() {
        made_up
            .iter()
            .map(|(c, n)| (c.as_str(), n.as_str()))
            .collect()
    } else {
        townships.to_vec()
    };
    let mut villages = Vec::new();
    for (code, _) in &townships {
        let prefix = code
            .get(..9)
            .filter(|p| {
                code.len() == 12 && p.starts_with(county) && p.bytes().all(|b| b.is_ascii_digit())
            })
            .ok_or_else(|| GenerateError::Township((*code).to_owned()))?;
        let count = rng.random_range(10..=15);
        let mut names = HashSet::new();
        for i in 0..count {
            let mut name = format!(
                "{}{}村",
                one(&mut rng, PLACE_CHARS),
                one(&mut rng, PLACE_CHARS)
            );
            while !names.insert(name.clone()) {
                name = format!(
                    "{}{}村",
                    one(&mut rng, PLACE_CHARS),
                    one(&mut rng, PLACE_CHARS)
                );
            }
            villages.push(Village {
                // 2xx: villagers' committees (村委会), as in the national codes.
                code: format!("{prefix}{:03}", 201 + i),
                name,
                township_code: (*code).to_owned(),
            });
        }
    }
    let mut state = State {
        rng,
        county: county.to_owned(),
        used_ids: HashSet::new(),
        next_row: 2,
    };
    let mut out = Vec::with_capacity(households);
    for i in 0..households {
        let village = &villages[state.rng.random_range(0..villages.len())];
        out.push(state.household(i, &village.code)?);
    }
    Ok(Synthetic {
        villages,
        households: out,
    })
}

struct State {
    rng: StdRng,
    county: String,
    used_ids: HashSet<NationalId>,
    next_row: usize,
}

/// A member before the identity number is drawn.
struct Person {
    relation: Relation,
    sex: Sex,
    age: i32,
    surname: &'static str,
    ethnicity: &'static str,
}

impl State {
    fn household(
        &mut self,
        i: usize,
        village: &str,
    ) -> Result<HouseholdRow<NationalId>, GenerateError> {
        let rng = &mut self.rng;
        let status = pick(
            rng,
            &[
                (HouseholdStatus::Exited, 84),
                (HouseholdStatus::Monitored, 10),
                (HouseholdStatus::Registered, 6),
            ],
        );
        let monitor_type = (status == HouseholdStatus::Monitored).then(|| {
            pick(
                rng,
                &[
                    (MonitorType::UnstableExited, 50),
                    (MonitorType::Marginal, 35),
                    (MonitorType::SuddenHardship, 15),
                ],
            )
        });
        let newly_monitored = matches!(
            monitor_type,
            Some(MonitorType::Marginal | MonitorType::SuddenHardship)
        );
        let kind = if newly_monitored && rng.random_bool(0.7) {
            HouseholdKind::NotPoor
        } else {
            pick(
                rng,
                &[
                    (HouseholdKind::OrdinaryPoor, 72),
                    (HouseholdKind::Dibao, 12),
                    (HouseholdKind::DibaoPoor, 10),
                    (HouseholdKind::Wubao, 6),
                ],
            )
        };
        let identified_year = if kind == HouseholdKind::NotPoor {
            rng.random_range(2021..=REFERENCE_YEAR)
        } else {
            pick(
                rng,
                &[
                    (2014, 60),
                    (2015, 15),
                    (2016, 10),
                    (2017, 8),
                    (2018, 5),
                    (2019, 2),
                ],
            )
        };
        let exited =
            status == HouseholdStatus::Exited || monitor_type == Some(MonitorType::UnstableExited);
        let exited_year = (exited && identified_year < 2020)
            .then(|| rng.random_range(identified_year + 1..=2020));
        let primary = pick(rng, PRIMARY_CAUSES);
        let mut other_causes: Vec<Cause> = Vec::new();
        let n_others = pick(rng, &[(0, 45), (1, 35), (2, 20)]);
        while other_causes.len() < n_others {
            let c = pick(rng, PRIMARY_CAUSES);
            if c != primary && other_causes.iter().all(|o| o.code != c) {
                other_causes.extend(Cause::by_code(c));
            }
        }
        let low = if status == HouseholdStatus::Monitored {
            600_000
        } else {
            700_000
        };
        let high = if status == HouseholdStatus::Monitored {
            1_100_000
        } else {
            2_000_000
        };
        // The mean of two uniform draws: most incomes sit mid-range.
        let net = (rng.random_range(low..=high) + rng.random_range(low..=high)) / 2;
        let phone = rng.random_bool(0.9).then(|| {
            format!(
                "1{}{:09}",
                one(rng, &["3", "5", "8", "9"]),
                rng.random_range(0..1_000_000_000u32)
            )
        });
        let village_group = rng.random_range(1..=9).to_string();

        let people = self.people(kind, primary);
        let row = self.next_row;
        let mut members = Vec::with_capacity(people.len());
        for p in &people {
            members.push(self.member(p)?);
        }
        self.mark_health(&mut members, primary);
        for m in &mut members {
            let age = REFERENCE_YEAR - m.birth_year;
            m.labour = Some(self.labour(m.sex, age, m.health));
            m.migrant_months = match m.labour {
                Some(Labour::Ordinary | Labour::Skilled)
                    if (18..=50).contains(&age) && self.rng.random_bool(0.45) =>
                {
                    Some(self.rng.random_range(3..=12))
                }
                Some(Labour::Ordinary | Labour::Skilled | Labour::Lost) => Some(0),
                _ => None,
            };
        }
        self.next_row += members.len();
        Ok(HouseholdRow {
            row,
            registry_no: format!("{}{:010}", self.county, i + 1),
            area_code: village.to_owned(),
            village_group: Some(village_group),
            kind,
            status,
            monitor_type,
            identified_year: Some(identified_year),
            exited_year,
            phone,
            primary_cause: Cause::by_code(primary),
            other_causes,
            income: Some(Income {
                year: REFERENCE_YEAR,
                net_per_capita_fen: net,
            }),
            members,
        })
    }

    /// Who lives in the household: a head, often a spouse, children, sometimes
    /// an old parent or a grandchild.
    fn people(&mut self, kind: HouseholdKind, primary: &str) -> Vec<Person> {
        let rng = &mut self.rng;
        let ethnicity = pick(rng, ETHNICITIES);
        let surname = one(rng, SURNAMES);
        let head_male = rng.random_bool(0.85);
        let sex_of = |male: bool| if male { Sex::Male } else { Sex::Female };
        let (size, head_age) = if kind == HouseholdKind::Wubao {
            (1, rng.random_range(60..=90))
        } else {
            let age_low = if primary == "08" { 55 } else { 26 };
            (pick(rng, SIZES), rng.random_range(age_low..=78))
        };
        let mut people = vec![Person {
            relation: Relation::Head,
            sex: sex_of(head_male),
            age: head_age,
            surname,
            ethnicity,
        }];
        if size >= 2 && (size >= 4 || rng.random_bool(0.75)) {
            let same = rng.random_bool(0.85);
            people.push(Person {
                relation: Relation::Spouse,
                sex: sex_of(!head_male),
                age: (head_age + rng.random_range(-6..=4)).max(20),
                surname: one(rng, SURNAMES),
                ethnicity: if same {
                    ethnicity
                } else {
                    pick(rng, ETHNICITIES)
                },
            });
        }
        if size > people.len() && head_age <= 60 && rng.random_bool(0.3) {
            people.push(Person {
                relation: Relation::Parent,
                sex: sex_of(rng.random_bool(0.4)),
                age: (head_age + rng.random_range(22..=32)).min(98),
                surname,
                ethnicity,
            });
        }
        while people.len() < size {
            let (relation, low, high) = if head_age >= 62 && rng.random_bool(0.4) {
                (Relation::Other, 0, 16)
            } else {
                (
                    Relation::Child,
                    (head_age - 42).max(0),
                    (head_age - 20).max(0),
                )
            };
            people.push(Person {
                relation,
                sex: sex_of(rng.random_bool(0.52)),
                age: rng.random_range(low..=high),
                surname,
                ethnicity,
            });
        }
        people
    }

    fn member(&mut self, p: &Person) -> Result<MemberRow<NationalId>, GenerateError> {
        let rng = &mut self.rng;
        let year = REFERENCE_YEAR - p.age;
        let chars = if p.sex == Sex::Male {
            MALE_CHARS
        } else {
            FEMALE_CHARS
        };
        let name = if rng.random_bool(0.6) {
            format!("{}{}{}", p.surname, one(rng, chars), one(rng, chars))
        } else {
            format!("{}{}", p.surname, one(rng, chars))
        };
        let days = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
            366
        } else {
            365
        };
        let mut birth =
            NaiveDate::from_yo_opt(year, rng.random_range(1..=days)).unwrap_or_default();
        let parity = u16::from(p.sex == Sex::Male);
        let mut tries = 0;
        let id = loop {
            let id = NationalId::synthetic(
                &self.county,
                birth,
                rng.random_range(0..500u16) * 2 + parity,
            )?;
            if self.used_ids.insert(id.clone()) {
                break id;
            }
            tries += 1;
            if tries % 20 == 0 {
                // This day is crowded: move to the next one in the same year.
                birth = birth
                    .succ_opt()
                    .filter(|d| d.year() == year)
                    .unwrap_or(birth);
            }
        };
        let (education, school_status) = education(rng, p.age);
        Ok(MemberRow {
            row: 0,
            name,
            sex: p.sex,
            birth_year: year,
            ethnicity: Some(p.ethnicity.to_owned()),
            relation: p.relation,
            education: Some(education.to_owned()),
            school_status: school_status.map(str::to_owned),
            health: Some(health(rng, p.age)),
            labour: None,
            migrant_months: None,
            id,
        })
    }

    /// Numbers the rows and makes illness or disability households show it.
    fn mark_health(&mut self, members: &mut [MemberRow<NationalId>], primary: &str) {
        let start = self.next_row;
        for (k, m) in members.iter_mut().enumerate() {
            m.row = start + k;
        }
        let needed = match primary {
            "01" => Some(if self.rng.random_bool(0.5) {
                Health::Serious
            } else {
                Health::Chronic
            }),
            "02" => Some(Health::Disabled),
            _ => None,
        };
        if let Some(h) = needed
            && !members.iter().any(|m| m.health == Some(h))
        {
            let k = self.rng.random_range(0..members.len());
            members[k].health = Some(h);
        }
    }

    /// Labour force: men 16-60, women 16-55, unless too ill to work.
    fn labour(&mut self, sex: Sex, age: i32, health: Option<Health>) -> Labour {
        let max_age = if sex == Sex::Male { 60 } else { 55 };
        if !(16..=max_age).contains(&age) {
            Labour::NoCapacity
        } else if matches!(health, Some(Health::Serious | Health::Disabled)) {
            Labour::Lost
        } else if self.rng.random_bool(0.15) {
            Labour::Skilled
        } else {
            Labour::Ordinary
        }
    }
}

fn education(rng: &mut StdRng, age: i32) -> (&'static str, Option<&'static str>) {
    const LEVELS: [&str; 5] = ["文盲或半文盲", "小学", "初中", "高中", "大专及以上"];
    match age {
        0..=5 => ("学龄前儿童", None),
        6..=11 => ("小学", Some("在校生")),
        12..=14 => ("初中", Some("在校生")),
        15..=17 => (
            pick(rng, &[("初中", 40), ("高中", 60)]),
            Some(pick(rng, &[("在校生", 90), ("非在校生", 10)])),
        ),
        18..=22 => {
            let level = LEVELS[pick(rng, &[(1, 10), (2, 50), (3, 25), (4, 15)])];
            (
                level,
                Some(if level == "大专及以上" {
                    "在校生"
                } else {
                    "非在校生"
                }),
            )
        }
        23..=39 => (
            LEVELS[pick(rng, &[(0, 3), (1, 17), (2, 50), (3, 20), (4, 10)])],
            Some("非在校生"),
        ),
        40..=59 => (
            LEVELS[pick(rng, &[(0, 15), (1, 40), (2, 35), (3, 8), (4, 2)])],
            Some("非在校生"),
        ),
        _ => (
            LEVELS[pick(rng, &[(0, 45), (1, 40), (2, 13), (3, 2)])],
            Some("非在校生"),
        ),
    }
}

fn health(rng: &mut StdRng, age: i32) -> Health {
    let weights = if age >= 60 {
        [55, 30, 7, 8]
    } else {
        [80, 11, 3, 6]
    };
    pick(
        rng,
        &[
            (Health::Healthy, weights[0]),
            (Health::Chronic, weights[1]),
            (Health::Serious, weights[2]),
            (Health::Disabled, weights[3]),
        ],
    )
}
