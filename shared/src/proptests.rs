//! Property tests of the live protocol's messages against hostile input: whatever text
//! reaches a browser, reading it as a [`ServerMsg`] ends in a message or an error, never a
//! panic; and a message that reads is safe to apply and to derive every measure from.

use crate::beds::{headline, sum_pools, BedPool, BedsRecord, OccupancyBand};
use crate::community::{by_locality, CommunityRecord, Service};
use crate::ed::EdRecord;
use crate::escalation::{
    Action, Alert, Declaration, Done, Entity, Explanation, InputStatus, Level, LevelKind,
    ParameterResult, Pending, Unit,
};
use crate::feed::Feed;
use crate::freshness::is_stale;
use crate::live::{Change, LiveState, ServerMsg, SiteState};
use crate::measures::{whole_days, DelayBand, DelayMeasures, HandoverMeasures};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

/// proptest's default of 256 cases (`PROPTEST_CASES` overrides it), no regression files.
fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

fn time(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t)
        .expect("timestamp")
        .with_timezone(&Utc)
}

fn explanation() -> Explanation {
    Explanation {
        policy: "default".into(),
        policy_version: "1".into(),
        level: Some(3),
        score: Some(2.75),
        coverage: 0.9,
        parameters: vec![ParameterResult {
            key: "ga_occupancy".into(),
            label: "G&A occupancy".into(),
            unit: Unit::Share,
            value: Some(0.96),
            status: InputStatus::Ok,
            band: Some(3),
            weight: 2.0,
            contribution: Some(1.2),
            note: Some("3 of 4 pools".into()),
        }],
        pending: Some(Pending {
            level: 4,
            since: time("2026-11-25T08:30:00Z"),
        }),
    }
}

fn alert() -> Alert {
    Alert {
        id: 7,
        entity: Entity::Site("MPH".into()),
        kind: LevelKind::Calculated,
        at: time("2026-11-25T08:31:00Z"),
        from: Some(2),
        to: Some(3),
        actor: Some("site_manager".into()),
        reason: Some("surge".into()),
        actions: vec![Action {
            text: "Open the escalation ward".into(),
            done: Some(Done {
                actor: "site_manager".into(),
                at: time("2026-11-25T08:40:00Z"),
            }),
        }],
    }
}

fn community() -> CommunityRecord {
    CommunityRecord {
        id: "c1".into(),
        site: "SHEP".into(),
        at: "2026-11-25T08:00:00Z".parse().expect("timestamp"),
        team: "CN-MENDIP".into(),
        service: Service::CommunityNursing,
        caseload: 612,
        capacity: 600,
        referrals_waiting: 31,
        visits_planned: Some(410),
        visits_deferred: Some(22),
        unmet_care_hours: Some(12.5),
    }
}

fn ed() -> EdRecord {
    EdRecord {
        id: "e1".into(),
        site: "YDH".into(),
        at: "2026-11-25T08:45:00Z".parse().expect("timestamp"),
        in_department: 62,
        over_4h: 20,
        over_12h: 4,
        awaiting_admission: 11,
        attendances_today: 70,
        within_4h_today: 52,
        majors_resus_spaces: Some(24),
        majors_resus_occupied: Some(26),
        median_minutes_to_treatment: Some(84.5),
        referred_to_service: Some(9),
    }
}

fn beds(pool: BedPool, occupied: u32) -> BedsRecord {
    BedsRecord::fixture("MPH", pool, 500, occupied, "2026-11-25T08:55:00Z")
}

fn handovers() -> HandoverMeasures {
    HandoverMeasures {
        queue_now: 3,
        longest_wait_minutes: Some(48.0),
        handed_over_today: 20,
        over_15: 9,
        over_30: 4,
        over_60: 1,
        mean_minutes_today: Some(22.5),
        hours_lost_today: 3.25,
    }
}

fn delays() -> DelayMeasures {
    let mut m = DelayMeasures {
        delayed_now: 2,
        mean_days_delayed: Some(4.5),
        bed_days_lost_today: Some(1.5),
        bed_days_lost_week: None,
        share_of_occupied_ga: Some(0.004),
        ..DelayMeasures::default()
    };
    m.by_band.insert("4-6".into(), Some(5));
    m.by_band.insert("7-13".into(), None);
    m.by_locality.insert("E07000190".into(), None);
    m
}

/// Every kind of message, with every kind of change and every optional part filled in.
fn seeds() -> Vec<ServerMsg> {
    let mut site = SiteState::default();
    site.beds.insert(
        BedPool::GeneralAcuteAdult,
        beds(BedPool::GeneralAcuteAdult, 450),
    );
    site.beds.insert(
        BedPool::AdultCriticalCare,
        beds(BedPool::AdultCriticalCare, 20),
    );
    site.ed = Some(ed());
    site.handovers = Some(handovers());
    site.delays = Some(delays());
    site.feeds.insert(
        Feed::Beds,
        "2026-11-25T08:55:00Z".parse().expect("timestamp"),
    );
    let mut state = LiveState::default();
    state.sites.insert("MPH".into(), site);
    state.teams.insert("CN-MENDIP".into(), community());
    state.levels.insert(
        Entity::Site("MPH".into()),
        Level {
            calculated: Some(explanation()),
            declared: Some(Declaration {
                level: 4,
                reason: "Critical incident".into(),
                actor: "site_manager".into(),
                at: time("2026-11-25T08:35:00Z"),
            }),
        },
    );
    state.levels.insert(Entity::System, Level::default());
    state.alerts.push(alert());
    let server_time = time("2026-11-25T09:00:00Z");
    let changes = vec![
        Change::Beds {
            record: beds(BedPool::GeneralAcuteAdult, 460),
        },
        Change::Ed { record: ed() },
        Change::Community {
            record: community(),
        },
        Change::Seen {
            site: "MPH".into(),
            feed: Feed::Handovers,
            at: "2026-11-25T08:50:00Z".parse().expect("timestamp"),
        },
        Change::Measures {
            site: "MPH".into(),
            handovers: Some(handovers()),
            delays: Some(delays()),
        },
        Change::Level {
            entity: Entity::Locality("mendip".into()),
            explanation: explanation(),
        },
        Change::Figures {
            entity: Entity::Site("MPH".into()),
            figures: explanation()
                .figures_since(&explanation())
                .expect("the same parameters"),
        },
        Change::Declared {
            entity: Entity::Community,
            declaration: None,
        },
        Change::Alert { alert: alert() },
        Change::Action {
            alert: 7,
            index: 0,
            done: None,
        },
    ];
    vec![
        ServerMsg::Snapshot {
            epoch: "e1".into(),
            seq: 41,
            server_time,
            state,
        },
        ServerMsg::Delta {
            epoch: "e1".into(),
            seq: 42,
            server_time,
            changes,
        },
        ServerMsg::Heartbeat {
            epoch: "e1".into(),
            seq: 42,
            server_time,
            interval_seconds: 5,
        },
    ]
}

/// Does with a message what the dashboard does: applies it and derives every measure.
fn exercise(msg: &ServerMsg) {
    let (_, _, now) = (msg.epoch(), msg.seq(), msg.server_time());
    let mut state = match msg {
        ServerMsg::Snapshot { state, .. } => state.clone(),
        _ => LiveState::default(),
    };
    if let ServerMsg::Delta { changes, .. } = msg {
        // Twice: a replayed delta must be as harmless as a new one.
        for change in changes.iter().chain(changes) {
            state.apply(change);
        }
    }
    for site in state.sites.values() {
        for totals in [
            headline(&site.beds),
            sum_pools(&site.beds, |_| true),
            sum_pools(&site.beds, BedPool::is_general_and_acute),
        ]
        .into_iter()
        .flatten()
        .chain(site.beds.values().map(BedsRecord::totals))
        {
            let _ = (totals.open(), totals.available(), totals.escalation_share());
            if let Some(occupancy) = totals.occupancy() {
                let _ = OccupancyBand::of(occupancy).css_class();
            }
        }
        if let Some(ed) = &site.ed {
            let _ = (
                ed.four_hour_performance(),
                ed.share_over_12h(),
                ed.majors_resus_occupancy(),
                ed.share_referred(),
            );
        }
        if let Some(d) = &site.delays {
            for days in [d.mean_days_delayed, d.bed_days_lost_week]
                .into_iter()
                .flatten()
            {
                let _ = (whole_days(days), DelayBand::of(days).label());
            }
        }
        for at in site.feeds.values() {
            let _ = is_stale(*at, 15, now);
            let _ = is_stale(*at, u32::MAX, now);
        }
    }
    for totals in by_locality(state.teams.values(), |_| Some("all")).values() {
        let _ = totals.load();
    }
    for team in state.teams.values() {
        let _ = (team.load(), is_stale(team.at, 60, now));
    }
    for level in state.levels.values() {
        let _ = (level.shown(), level.calculated_level());
        for p in level.calculated.iter().flat_map(|e| &e.parameters) {
            let _ = p.value.map(|v| p.unit.format(v));
        }
    }
    for alert in &state.alerts {
        let _ = alert.is_escalation();
    }
}

/// Values a hostile or broken server might put anywhere in a message.
fn hostile_value() -> impl Strategy<Value = Value> {
    let edges = vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(0.5),
        json!(-0.0),
        json!(255),
        json!(256),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(-1e308),
        json!(""),
        json!("x"),
        json!("e1"),
        json!("MPH"),
        json!("site:"),
        json!("site:MPH"),
        json!("site: MPH"),
        json!("community:"),
        json!("system"),
        json!("beds"),
        json!("general_acute_adult"),
        json!("2026-11-25T08:00:00Z"),
        json!("0000-01-01T00:00:00+23:59"),
        json!("+262143-12-31T23:59:59Z"),
        json!("-262144-01-01T00:00:00Z"),
        json!("2026-06-30T23:59:60Z"),
        json!("2026-11-25T08:00:00"),
        json!("snapshot"),
        json!("delta"),
        json!("heartbeat"),
        json!("beds"),
        json!("alert"),
        json!("\u{0}"),
        json!([]),
        json!([1, 2, 3]),
        json!({}),
        json!({"type": "delta"}),
    ];
    prop_oneof![
        6 => prop::sample::select(edges),
        2 => any::<i64>().prop_map(|n| json!(n)),
        2 => any::<u64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        2 => "\\PC{0,30}".prop_map(Value::String),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value found by following the path.
    Replace(Vec<usize>, Value),
    /// Remove a key of the object found by following the path.
    Remove(Vec<usize>),
    /// Add a key to the object found by following the path.
    Add(Vec<usize>, String, Value),
}

/// Follows `path` (each step picks a child by index, modulo the count) as far as it goes.
fn walk<'a>(v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    let Some((&step, rest)) = path.split_first() else {
        return v;
    };
    let len = match &*v {
        Value::Object(o) => o.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if len == 0 {
        return v;
    }
    let i = step % len;
    match v {
        Value::Object(o) => match o.values_mut().nth(i) {
            Some(child) => walk(child, rest),
            None => unreachable!("{i} is within the object"),
        },
        Value::Array(a) => walk(&mut a[i], rest),
        other => other,
    }
}

fn mutate(mut v: Value, mutations: &[Mutation]) -> Value {
    for m in mutations {
        match m {
            Mutation::Replace(path, value) => *walk(&mut v, path) = value.clone(),
            Mutation::Remove(path) => {
                if let Value::Object(o) = walk(&mut v, path) {
                    let key = o.keys().nth(path.len() % o.len().max(1)).cloned();
                    if let Some(key) = key {
                        o.remove(&key);
                    }
                }
            }
            Mutation::Add(path, key, value) => {
                if let Value::Object(o) = walk(&mut v, path) {
                    o.insert(key.clone(), value.clone());
                }
            }
        }
    }
    v
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let path = prop::collection::vec(any::<usize>(), 0..8);
    let key = prop_oneof![
        prop::sample::select(vec!["type", "seq", "epoch", "kind", "state", "record", "x"])
            .prop_map(str::to_owned),
        "[a-z_]{1,8}",
    ];
    prop_oneof![
        4 => (path.clone(), hostile_value()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        1 => path.clone().prop_map(Mutation::Remove),
        1 => (path, key, hostile_value()).prop_map(|(p, k, v)| Mutation::Add(p, k, v)),
    ]
}

/// Reads `text` as a browser does; whatever reads is re-read identically and exercised.
fn read(text: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(msg) = serde_json::from_slice::<ServerMsg>(text) {
        let again = serde_json::to_string(&msg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: ServerMsg = serde_json::from_str(&again)
            .map_err(|e| TestCaseError::fail(format!("{e}: {again}")))?;
        // Equal but for floats: serde_json (without its `float_roundtrip` feature) may read
        // a float one unit in the last place away from the one written.
        prop_assert_eq!(
            (back.epoch(), back.seq(), back.server_time()),
            (msg.epoch(), msg.seq(), msg.server_time())
        );
        prop_assert_eq!(std::mem::discriminant(&back), std::mem::discriminant(&msg));
        exercise(&msg);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(text in prop::collection::vec(any::<u8>(), 0..1024)) {
        read(&text)?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        read(text.as_bytes())?;
    }

    /// Real messages with values replaced, keys removed and keys added anywhere in them.
    #[test]
    fn mutated_messages_read_or_fail_cleanly_and_what_reads_is_safe_to_apply(
        seed in prop::sample::select(seeds()),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let value = mutate(serde_json::to_value(&seed).expect("serialises"), &mutations);
        read(&serde_json::to_vec(&value).expect("serialises"))?;
        // And as text cut short anywhere.
        let text = serde_json::to_vec(&value).expect("serialises");
        read(&text[..text.len() / 2])?;
    }
}

#[test]
fn the_seeds_are_valid_messages_and_exercise_cleanly() {
    for msg in seeds() {
        let text = serde_json::to_string(&msg).expect("serialises");
        let back: ServerMsg = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, msg);
        exercise(&msg);
    }
}

#[test]
fn counts_at_their_limits_neither_panic_nor_wrap() {
    let mut site = SiteState::default();
    let mut big = BedsRecord::fixture(
        "MPH",
        BedPool::GeneralAcuteAdult,
        u32::MAX,
        u32::MAX,
        "2026-11-25T08:00:00Z",
    );
    big.escalation_open = u32::MAX;
    big.closed_ipc = u32::MAX;
    site.beds.insert(BedPool::GeneralAcuteAdult, big.clone());
    big.pool = BedPool::GeneralAcutePaediatric;
    site.beds.insert(BedPool::GeneralAcutePaediatric, big);
    let totals = headline(&site.beds).expect("totals");
    assert_eq!(totals.open(), u32::MAX, "saturates rather than wrapping");
    assert_eq!(totals.occupied, u32::MAX);
    assert_eq!(totals.available(), 0);
    let mut team = community();
    team.caseload = u32::MAX;
    team.capacity = u32::MAX;
    let other = CommunityRecord {
        team: "RR-MENDIP".into(),
        ..team.clone()
    };
    let totals = by_locality([&team, &other], |_| Some("mendip"));
    assert_eq!(totals["mendip"].caseload, u32::MAX);
    assert_eq!(totals["mendip"].capacity, u32::MAX);
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let reads = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let depth = 100_000;
            let mut outcomes = Vec::new();
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let nested = format!("{}0{}", open.repeat(depth), close.repeat(depth));
                let in_a_field = format!(
                    "{{\"type\":\"delta\",\"epoch\":{nested},\"seq\":1,\"server_time\":\"2026-11-25T09:00:00Z\",\"changes\":[]}}"
                );
                for text in [nested, in_a_field] {
                    outcomes.push(serde_json::from_str::<ServerMsg>(&text).is_err());
                }
            }
            outcomes
        })
        .expect("a thread")
        .join()
        .expect("no stack overflow");
    assert_eq!(reads, [true; 4]);
}
