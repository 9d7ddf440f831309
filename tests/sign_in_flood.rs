//! A flood of sign-ins against the real binary: every password check holds Argon2id's
//! 19 MiB, so the server must bound how many run at once and give the memory back, or a
//! burst of sign-ins exhausts it. Its resident memory (VmRSS) is read from /proc while 500
//! sign-ins arrive at once from 50 loopback addresses.

use levels_tests::process::{get_json, levels_binary, sign_in, start};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DEMO_PASSWORD: &str = "demo password of the flood test";
/// Password checks the server runs at once (`sessions.password_checks`), fixed here so the
/// bound below does not depend on the machine's cores.
const CHECKS: u64 = 2;
const MIB: u64 = 1024 * 1024;
/// Argon2id's memory for one check (the `argon2` crate's default: 19 MiB).
const ARGON2_MEMORY: u64 = 19 * MIB;
/// Past this the server is stopped at once, so a regression cannot take the machine's
/// memory from everything else on it (unbounded, 500 checks reach 9.5 GiB).
const CEILING: u64 = 3 * 1024 * MIB;

fn write_config(dir: &Path) -> PathBuf {
    let more = format!(
        r#"[demo]
users = true
password = "{DEMO_PASSWORD}"

[sessions]
password_checks = {CHECKS}
"#
    );
    levels_tests::process::write_config(dir, &more)
}

/// The resident memory of process `pid`, in bytes; `None` once it has exited.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    Some(kib * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_sign_ins_at_once_keep_the_server_s_memory_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let mut server = start(&levels_binary(), &config, &dir.path().join("levels.log")).await;
    let pid = server.child.id().expect("the server runs");
    // One sign-in first, so what start-up and a first check leave behind is in the baseline.
    let admin = sign_in(&server.base, "admin", DEMO_PASSWORD).await;
    let baseline = rss(pid).expect("the server runs");

    // Sample resident memory until the burst is over; stop the server past the ceiling.
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let Some(now) = rss(pid) else { return };
                peak.fetch_max(now, Ordering::Relaxed);
                if now > CEILING {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    // 50 addresses (127.0.0.2 to 127.0.0.51), ten sign-ins from each: one with a demo
    // account's right password, nine with a wrong one for a name that does not exist.
    let clients: Vec<reqwest::Client> = (2..52u8)
        .map(|last| {
            reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
                // Long enough for any honest answer; a hang fails the test.
                .timeout(Duration::from_secs(120))
                .build()
                .expect("a client")
        })
        .collect();
    let demo = [
        "display",
        "site-manager",
        "coordinator",
        "system-leader",
        "admin",
    ];
    let requests = (0..500usize).map(|i| {
        let client = clients[i % 50].clone();
        let url = format!("{}/api/v1/login", server.base);
        let (name, password) = if i % 10 == 0 {
            (demo[(i / 10) % 5].to_owned(), DEMO_PASSWORD.to_owned())
        } else {
            (format!("nobody-{i}"), "not the password at all".to_owned())
        };
        async move {
            let res = client
                .post(url)
                .json(&serde_json::json!({"name": name, "password": password}))
                .send()
                .await;
            match res {
                Ok(res) => {
                    let retry_after = res.headers().contains_key("retry-after");
                    Ok((res.status().as_u16(), retry_after))
                }
                Err(e) => Err(e.to_string()),
            }
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("the sampler ends");
    let peak = peak.load(Ordering::Relaxed);
    let mib = |b: u64| b / MIB;
    let Some(after) = rss(pid) else {
        panic!(
            "the server stopped during the burst (past the {} MiB ceiling?): {} MiB at peak, from {} MiB",
            mib(CEILING),
            mib(peak),
            mib(baseline)
        );
    };

    let mut counts = std::collections::BTreeMap::new();
    for answer in &answers {
        *counts.entry(answer.clone()).or_insert(0usize) += 1;
    }
    eprintln!(
        "resident memory: {} MiB before, {} MiB at peak, {} MiB after the burst; answers: {counts:?}",
        mib(baseline),
        mib(peak),
        mib(after)
    );
    assert!(
        peak <= CEILING,
        "the server passed {} MiB and was stopped",
        mib(CEILING)
    );
    // The bound: what the server held before, the Argon2 memory of the checks allowed at
    // once, and 64 MiB for 500 connections, their requests and answers (each a few KiB),
    // the limiter and the allocator's slack. Unbounded, each waiting check adds 19 MiB.
    let bound = baseline + CHECKS * ARGON2_MEMORY + 64 * MIB;
    assert!(
        peak <= bound,
        "peak {} MiB over the bound {} MiB",
        mib(peak),
        mib(bound)
    );
    // After the burst the checks' memory is not kept beyond the buffers of those allowed.
    let kept = baseline + CHECKS * ARGON2_MEMORY + 32 * MIB;
    assert!(
        after <= kept,
        "{} MiB kept after the burst, over {} MiB",
        mib(after),
        mib(kept)
    );
    for answer in &answers {
        match answer {
            Ok((200 | 401 | 429, _)) | Ok((503, true)) => {}
            other => {
                panic!("an answer other than 200, 401, 429 or 503 with Retry-After: {other:?}")
            }
        }
    }
    assert!(
        answers.iter().any(|a| matches!(a, Ok((200, _)))),
        "some sign-ins get through: {counts:?}"
    );
    // Each sign-in turned away for want of a check is audited as refused.
    let busy = answers.iter().filter(|a| matches!(a, Ok((503, _)))).count();
    let audit = get_json(&server.base, "/api/v1/audit", &admin).await;
    let refused = audit
        .as_array()
        .expect("the audit log")
        .iter()
        .filter(|e| e["action"] == "login_refused" && e["detail"]["busy"] == true)
        .count();
    assert!(
        busy > 0,
        "two checks cannot take 500 sign-ins within a second's wait"
    );
    assert_eq!(refused, busy, "every 503 is audited");
    let _ = server.child.kill().await;
}
