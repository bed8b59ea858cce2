//! Work-order connector over real loopback HTTP: a receiver that fails twice then succeeds gets
//! the same signed body and Idempotency-Key on every attempt; one that always fails ends in the
//! dead-letter list shown to admins.

mod open311_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use balade_sync::open311::connector::{RetryPolicy, set_connector, signature};
use open311_support::{json, start};

#[derive(Default)]
struct Seen {
    attempts: Vec<(String, String, String)>, // (signature, idempotency key, body)
}

/// A receiver that answers 503 to the first `fail_first` calls, then 200.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let shared = shared.clone();
            async move {
                let mut seen = shared.lock().unwrap();
                let h = |n: &str| {
                    headers
                        .get(n)
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default()
                };
                seen.attempts
                    .push((h("x-balade-signature"), h("idempotency-key"), body));
                if seen.attempts.len() <= fail_first {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(40),
        poll: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    }
}

async fn post_request(s: &open311_support::Server, service: &str, sub: &str) -> String {
    let key = s.key.clone();
    let (status, _, body) = s
        .post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", service),
                ("lat", "46.16"),
                ("long", "-1.15"),
                ("attribute[subcategory]", sub),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    json(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    // Bounded by the test harness, not a timed assertion: we only wait for the state to appear.
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never reached");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_signed_delivery_until_it_succeeds() {
    let s = start().await;
    let (url, seen) = receiver(2).await;
    let secret = "0123456789abcdef-secret";
    // Routed before the connector existed: never sent (no replay of history).
    let _before = post_request(&s, "voirie", "obstacle").await;
    let taxonomy = s.state.taxonomy();
    s.state
        .store
        .with_conn(|c| {
            set_connector(c, &taxonomy, "voirie", &url, secret, 5).unwrap();
            Ok(())
        })
        .unwrap();
    let reference = post_request(&s, "voirie", "nid_de_poule").await;
    let _other = post_request(&s, "proprete", "tags").await; // no connector: no delivery
    let worker = balade_sync::open311::spawn_connector_worker(s.state.clone(), fast());
    let delivered = || {
        s.state
            .store
            .with_conn(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .unwrap()
            == 1
    };
    wait_for(delivered).await;
    worker.abort();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.attempts.len(), 3);
    let (sig, key, body) = &seen.attempts[0];
    assert!(
        seen.attempts
            .iter()
            .all(|a| &a.1 == key && &a.2 == body && &a.0 == sig)
    );
    assert_eq!(sig, &signature(secret, body.as_bytes()));
    let body = json(body);
    assert_eq!(body["request"]["service_request_id"], reference.as_str());
    // ISO 8601 in Paris time, like the Open311 GETs.
    let requested = body["request"]["requested_datetime"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(requested).is_ok()
            && (requested.ends_with("+01:00") || requested.ends_with("+02:00")),
        "{requested}"
    );
    let request_id = body["request"]["id"].as_str().unwrap();
    assert_eq!(key, &format!("{request_id}:{}", body["event"]["seq"]));
    assert_eq!(s.count("webhook_deliveries"), 1);
    let (attempts,): (i64,) = s
        .state
        .store
        .with_conn(|c| {
            Ok(
                c.query_row("SELECT attempts FROM webhook_deliveries", [], |r| {
                    Ok((r.get(0)?,))
                })?,
            )
        })
        .unwrap();
    assert_eq!(attempts, 3);
}

#[tokio::test]
async fn an_always_failing_receiver_ends_in_the_dead_letter_list() {
    let s = start().await;
    let (url, seen) = receiver(usize::MAX).await;
    let taxonomy = s.state.taxonomy();
    s.state
        .store
        .with_conn(|c| {
            set_connector(c, &taxonomy, "voirie", &url, "another-long-secret", 3).unwrap();
            Ok(())
        })
        .unwrap();
    let reference = post_request(&s, "voirie", "tampon").await;
    let worker = balade_sync::open311::spawn_connector_worker(s.state.clone(), fast());
    let dead = || {
        s.state
            .store
            .with_conn(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'dead'",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .unwrap()
            == 1
    };
    wait_for(dead).await;
    worker.abort();
    assert_eq!(seen.lock().unwrap().attempts.len(), 3);

    let r = s
        .client
        .get(format!("{}/api/v1/admin/connectors/dead-letters", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .client
        .get(format!("{}/api/v1/admin/connectors/dead-letters", s.base))
        .header("x-api-key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .client
        .get(format!("{}/api/v1/admin/connectors/dead-letters", s.base))
        .header("x-api-key", &s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list = json(&r.text().await.unwrap());
    assert_eq!(list[0]["service_request_id"], reference.as_str());
    assert_eq!(list[0]["attempts"], 3);
    assert_eq!(list[0]["last_error"], "HTTP 503 Service Unavailable");
}

#[test]
fn connector_configuration_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = balade_sync::store::Store::open_blocking(dir.path()).unwrap();
    let taxonomy = balade_protocol::taxonomy::la_rochelle();
    for (service, url, secret, ok) in [
        ("voirie", "http://127.0.0.1:9/x", "sixteen-chars-ok", true),
        ("piscine", "http://127.0.0.1:9/x", "sixteen-chars-ok", false),
        ("voirie", "ftp://x", "sixteen-chars-ok", false),
        ("voirie", "http://127.0.0.1:9/x", "short", false),
    ] {
        let got = store
            .with_conn(|c| Ok(set_connector(c, &taxonomy, service, url, secret, 3).is_ok()))
            .unwrap();
        assert_eq!(got, ok, "{service} {url} {secret}");
    }
}
