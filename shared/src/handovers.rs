//! The `handovers` feed: one ambulance conveyance at an emergency department (DESIGN §4.2).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Ambulance Response Programme category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    C1,
    C2,
    C3,
    C4,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::C1, Category::C2, Category::C3, Category::C4];

    pub fn code(self) -> &'static str {
        match self {
            Category::C1 => "C1",
            Category::C2 => "C2",
            Category::C3 => "C3",
            Category::C4 => "C4",
        }
    }

    pub fn parse(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// An accepted `handovers` record: the state of one conveyance, observed at `at`.
/// Later records for the same conveyance at the same site update it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverRecord {
    pub id: String,
    pub site: String,
    pub at: DateTime<FixedOffset>,
    pub conveyance: String,
    pub arrived_at: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_over_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}
