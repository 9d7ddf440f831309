//! Posts every example in `docs/feeds.md`, in order, to a fresh server and checks each
//! answer is the one the page shows, so the documentation cannot drift from the code.

use levels::config::ProducerConfig;
use levels_shared::feed::Feed;
use levels_tests::*;
use std::collections::HashMap;

struct Example {
    line: usize,
    attrs: HashMap<String, String>,
    language: String,
    body: String,
    response: Option<serde_json::Value>,
}

/// The page's examples: a block whose info string holds `example` (with `feed=`,
/// `expect=`, and optionally `token=` and `content-type=`), then its ```json response block.
fn examples(page: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = page.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let language = words.next().unwrap_or("").to_owned();
        let rest: Vec<&str> = words.collect();
        let body: String = lines
            .by_ref()
            .take_while(|(_, l)| !l.starts_with("```"))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        if rest.first() == Some(&"example") {
            let attrs = rest[1..]
                .iter()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            out.push(Example {
                line: n + 1,
                attrs,
                language,
                body,
                response: None,
            });
        } else if rest.first() == Some(&"response") {
            let example = out.last_mut().expect("a response follows an example");
            let value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("docs/feeds.md:{}: {e}", n + 1));
            example.response = Some(value);
        }
    }
    out
}

#[tokio::test]
async fn every_example_in_the_feed_documentation_gets_the_answer_it_shows() {
    let page =
        std::fs::read_to_string(workspace_root().join("docs/feeds.md")).expect("docs/feeds.md");
    let examples = examples(&page);
    assert!(
        examples.len() >= 19,
        "found only {} examples",
        examples.len()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    // Nothing but the examples may move the live sequence numbers the page shows.
    config.live.measures_refresh_seconds = 3600;
    config.producers = vec![
        ProducerConfig {
            name: "docs".into(),
            token: "demo-token-change-me".into(),
            feeds: Feed::ALL.to_vec(),
            sites: vec!["*".into()],
        },
        ProducerConfig {
            name: "docs-mph".into(),
            token: "mph-beds-token".into(),
            feeds: vec![Feed::Beds],
            sites: vec!["MPH".into()],
        },
    ];
    let app = TestApp::spawn(config).await;

    for ex in &examples {
        let feed = &ex.attrs["feed"];
        let expect: u16 = ex.attrs["expect"].parse().expect("expect=STATUS");
        let token = match ex.attrs.get("token").map(String::as_str) {
            Some("none") => None,
            Some(t) => Some(t),
            None => Some("demo-token-change-me"),
        };
        let content_type =
            ex.attrs
                .get("content-type")
                .cloned()
                .unwrap_or_else(|| match ex.language.as_str() {
                    "csv" => "text/csv".into(),
                    _ => "application/json".into(),
                });
        let (status, answer) = app.post(feed, token, &content_type, ex.body.clone()).await;
        assert_eq!(
            status, expect,
            "docs/feeds.md:{}: answered {answer}",
            ex.line
        );
        let shown = ex
            .response
            .as_ref()
            .unwrap_or_else(|| panic!("docs/feeds.md:{}: no response block", ex.line));
        assert_eq!(
            &answer, shown,
            "docs/feeds.md:{}: the page shows a different answer",
            ex.line
        );
    }
    app.stop().await;
}
