//! Round trips through the store: an Open311 POST, an operator schedule (planned date) seen as
//! expected_datetime, a back-office servicerequestupdates POST applied once, older updates never
//! overriding newer state, and a device-made request whose back-office update reaches the events
//! the device feed reads (public, in seq order).

mod open311_support;

use balade_protocol::incident::{Incident, Position};
use balade_protocol::status::State;
use balade_sync::actions::{Action, apply_action, public_timeline};
use open311_support::{json, start};

fn schedule(s: &open311_support::Server, reference: &str, date: &str) {
    let taxonomy = s.state.taxonomy();
    let date = date.parse().unwrap();
    s.state
        .store
        .with_conn(|c| {
            let row = balade_sync::store::requests::find(c, reference)?.unwrap();
            balade_sync::store::write_tx(c, |tx| {
                apply_action(
                    tx,
                    &taxonomy,
                    "operateur",
                    row.id,
                    Action::Schedule {
                        date,
                        note: Some("Passage prévu".into()),
                    },
                )?;
                Ok(())
            })
        })
        .unwrap();
}

#[tokio::test]
async fn post_schedule_update_and_tracking_round_trip() {
    let s = start().await;
    let key = s.key.clone();
    let (status, _, body) = s
        .post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", "voirie"),
                ("lat", "46.159"),
                ("long", "-1.152"),
                ("attribute[subcategory]", "tampon"),
                ("description", "Plaque descellée"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let reference = json(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();

    schedule(&s, &reference, "2026-12-24");
    let (_, _, body) = s
        .get(&format!("/open311/v2/requests/{reference}.json"))
        .await;
    let r = &json(&body)[0];
    // A civil date in France: midnight Europe/Paris, winter offset.
    assert_eq!(r["expected_datetime"], "2026-12-24T00:00:00+01:00");
    assert_eq!(r["status_notes"], "Passage prévu");

    let update = |id: &'static str,
                  status: &'static str,
                  code: &'static str,
                  at: &'static str,
                  text: &'static str| {
        vec![
            ("api_key", key.clone()),
            ("update_id", id.into()),
            ("service_request_id", reference.clone()),
            ("status", status.into()),
            ("external_status_code", code.into()),
            ("updated_datetime", at.into()),
            ("description", text.into()),
        ]
    };
    let post = |pairs: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.post_form("/open311/v2/servicerequestupdates.json", &pairs)
                .await
        }
    };
    let n_events = || s.count("events");

    let (status, _, body) = post(update(
        "bo-1",
        "open",
        "in_progress",
        "2026-12-24T08:00:00+01:00",
        "Équipe sur place",
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)[0]["applied"], true);
    let after_first = n_events();
    // The same update_id again: same answer, applied once.
    let (status, _, body) = post(update(
        "bo-1",
        "open",
        "in_progress",
        "2026-12-24T08:00:00+01:00",
        "Équipe sur place",
    ))
    .await;
    assert_eq!(
        (status, json(&body)[0]["applied"].clone()),
        (200, serde_json::json!(true))
    );
    assert_eq!(n_events(), after_first);

    let (status, _, body) = post(update(
        "bo-3",
        "closed",
        "fixed",
        "2026-12-24T11:00:00+01:00",
        "Plaque remplacée",
    ))
    .await;
    assert_eq!(
        (status, json(&body)[0]["applied"].clone()),
        (200, serde_json::json!(true))
    );
    // An older update arriving late is kept but does not reopen the request.
    let (status, _, body) = post(update(
        "bo-2",
        "open",
        "in_progress",
        "2026-12-24T09:00:00+01:00",
        "retard",
    ))
    .await;
    assert_eq!(
        (status, json(&body)[0]["applied"].clone()),
        (200, serde_json::json!(false)),
        "{body}"
    );
    assert_eq!(s.count("open311_updates"), 3);

    let (_, _, body) = s
        .get(&format!(
            "/open311/v2/requests/{reference}.json?extensions=true"
        ))
        .await;
    let r = &json(&body)[0];
    assert_eq!(r["status"], "closed");
    assert_eq!(r["status_notes"], "Plaque remplacée");
    assert_eq!(r["extended_attributes"]["state"], "resolved");

    // The citizen tracking view's timeline (what /api/v1/track shows) carries the updates.
    let taxonomy = s.state.taxonomy();
    let timeline = s
        .state
        .store
        .with_conn(|c| {
            let row = balade_sync::store::requests::find(c, &reference)?.unwrap();
            public_timeline(c, &taxonomy, row.id)
        })
        .unwrap();
    let tracking_code = s
        .state
        .store
        .with_conn(|c| {
            Ok(balade_sync::store::requests::find(c, &reference)?
                .unwrap()
                .tracking_code)
        })
        .unwrap();
    let view: balade_protocol::envelope::TrackingView = s
        .client
        .get(format!("{}/api/v1/track/{tracking_code}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view.state, State::Resolved);
    assert_eq!(view.timeline, timeline);
    let states: Vec<State> = timeline.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            State::Received,
            State::Routed,
            State::Scheduled,
            State::InProgress,
            State::Resolved
        ]
    );
    assert_eq!(
        timeline.last().unwrap().note.as_deref(),
        Some("Plaque remplacée")
    );

    // GET servicerequestupdates lists the public events as FixMyStreet updates.
    let (status, _, body) = s.get("/open311/v2/servicerequestupdates.json").await;
    assert_eq!(status, 200);
    let updates = json(&body);
    let last = updates.as_array().unwrap().last().unwrap();
    assert_eq!(
        (
            last["status"].as_str(),
            last["external_status_code"].as_str()
        ),
        (Some("closed"), Some("fixed"))
    );
    let (_, _, xml) = s.get("/open311/v2/servicerequestupdates.xml").await;
    assert!(
        xml.contains("<service_request_updates><request_update>"),
        "{xml}"
    );
}

#[tokio::test]
async fn expected_datetime_is_midnight_paris_in_winter_and_summer() {
    let s = start().await;
    let key = s.key.clone();
    let (status, _, body) = s
        .post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", "voirie"),
                ("lat", "46.159"),
                ("long", "-1.152"),
                ("attribute[subcategory]", "tampon"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let reference = json(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let expected_in = |reference: &str| {
        let s = &s;
        let reference = reference.to_string();
        async move {
            let (_, _, body) = s
                .get(&format!("/open311/v2/requests/{reference}.json"))
                .await;
            let json_value = json(&body)[0]["expected_datetime"].clone();
            let (_, _, xml) = s
                .get(&format!("/open311/v2/requests/{reference}.xml"))
                .await;
            (json_value, xml)
        }
    };
    for (date, expected) in [
        ("2026-01-15", "2026-01-15T00:00:00+01:00"),
        ("2026-07-14", "2026-07-14T00:00:00+02:00"),
    ] {
        schedule(&s, &reference, date);
        let (value, xml) = expected_in(&reference).await;
        assert_eq!(value, expected, "{date}");
        assert!(
            xml.contains(&format!(
                "<expected_datetime>{expected}</expected_datetime>"
            )),
            "{date}: {xml}"
        );
    }
    // A back office's expected_datetime is read as the Paris civil date: local midnight in
    // summer is 22:00 UTC the day before, and must not move the planned date back a day.
    let (status, _, body) = s
        .post_form(
            "/open311/v2/servicerequestupdates.json",
            &[
                ("api_key", &key),
                ("update_id", "bo-summer"),
                ("service_request_id", &reference),
                ("status", "open"),
                ("external_status_code", "action_scheduled"),
                ("updated_datetime", "2026-06-01T09:00:00+02:00"),
                ("expected_datetime", "2026-08-03T00:00:00+02:00"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)[0]["applied"], true, "{body}");
    let (value, _) = expected_in(&reference).await;
    assert_eq!(value, "2026-08-03T00:00:00+02:00");
    let planned: String = s
        .state
        .store
        .with_conn(|c| {
            Ok(c.query_row(
                "SELECT planned_date FROM requests WHERE reference = ?1",
                [&reference],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(planned, "2026-08-03");
}

#[tokio::test]
async fn bad_updates_are_refused_and_change_nothing() {
    let s = start().await;
    let key = s.key.clone();
    let (_, _, body) = s
        .post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", "voirie"),
                ("lat", "46.159"),
                ("long", "-1.152"),
                ("attribute[subcategory]", "tampon"),
            ],
        )
        .await;
    let reference = json(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let events_before = s.count("events");
    let good = [
        ("api_key", key.as_str()),
        ("update_id", "u1"),
        ("service_request_id", reference.as_str()),
        ("status", "closed"),
        ("updated_datetime", "2026-12-01T10:00:00Z"),
    ];
    let without = |name: &str| {
        good.iter()
            .filter(|(k, _)| *k != name)
            .cloned()
            .collect::<Vec<_>>()
    };
    let with = |name: &'static str, value: &'static str| {
        let mut v = without(name);
        v.push((name, value));
        v
    };
    for (case, pairs, status) in [
        ("no key", without("api_key"), 403),
        ("bad key", with("api_key", "nope"), 403),
        ("no update_id", without("update_id"), 400),
        ("no request", without("service_request_id"), 400),
        (
            "unknown request",
            with("service_request_id", "LR-1999-000009"),
            404,
        ),
        ("bad status", with("status", "done"), 400),
        ("no datetime", without("updated_datetime"), 400),
        ("bad datetime", with("updated_datetime", "demain"), 400),
        (
            "bad external code",
            with("external_status_code", "exploded"),
            400,
        ),
    ] {
        for suffix in ["json", "xml"] {
            let (got, _, body) = s
                .post_form(
                    &format!("/open311/v2/servicerequestupdates.{suffix}"),
                    &pairs,
                )
                .await;
            assert_eq!(got, status, "{case} {suffix}: {body}");
        }
    }
    assert_eq!(s.count("events"), events_before);
    assert_eq!(s.count("open311_updates"), 0);
}

#[tokio::test]
async fn a_back_office_update_reaches_the_reporting_devices_feed() {
    let s = start().await;
    // A real device: enrolment code, enrol over HTTP, push over HTTP.
    let code = s
        .state
        .store
        .with_conn(|c| balade_sync::api::auth::create_enrollment_code(c, "tablette"))
        .unwrap();
    let enrolled: balade_protocol::envelope::EnrollResponse = s
        .client
        .post(format!("{}/api/v1/enroll", s.base))
        .json(&serde_json::json!({"protocol": 1, "code": code, "device_name": "tablette"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let incident = Incident {
        id: uuid::Uuid::now_v7(),
        walk_id: None,
        comment: "Banc cassé".into(),
        observed_at: chrono::Utc::now(),
        category: "mobilier_urbain".into(),
        subcategory: "banc".into(),
        extra: Default::default(),
        photos: vec![],
        position: Position::new(46.16, -1.15, Some(4.0)).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    };
    let pushed: balade_protocol::envelope::PushResponse = s
        .client
        .post(format!("{}/api/v1/push", s.base))
        .bearer_auth(&enrolled.token)
        .json(&balade_protocol::envelope::PushRequest::new(
            vec![],
            vec![incident],
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = pushed.results[0].reference.clone().unwrap();
    let feed = || async {
        let page: balade_protocol::envelope::FeedPage = s
            .client
            .get(format!("{}/api/v1/feed?since=0", s.base))
            .bearer_auth(&enrolled.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page
    };
    let before = feed().await;
    let key = s.key.clone();
    let (status, _, body) = s
        .post_form(
            "/open311/v2/servicerequestupdates.json",
            &[
                ("api_key", &key),
                ("update_id", "wo-77"),
                ("service_request_id", &reference),
                ("status", "closed"),
                ("updated_datetime", "2026-12-04T10:00:00Z"),
                ("description", "Banc réparé"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = feed().await;
    assert_eq!(after.events.len(), before.events.len() + 1);
    let last = after.events.last().unwrap();
    assert_eq!(last.state, State::Resolved);
    assert_eq!(last.note.as_deref(), Some("Banc réparé"));
    assert_eq!(last.reference, reference);
    assert_eq!(after.next_cursor, last.seq);
}
