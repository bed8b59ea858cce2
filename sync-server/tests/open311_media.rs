//! Open311 `media_url` for device photos: published only once an operator allowed the photo for
//! citizens (the console's `console_public_photos` flag, the one the tracking page reads), served
//! at `/open311/v2/media/{reference}/{sha256}`, and withdrawn with the permission.

mod open311_support;

use balade_protocol::envelope::{EnrollResponse, PushRequest, PushResponse};
use balade_protocol::incident::{Incident, PhotoRef, Position};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use open311_support::{Server, json, start};
use sha2::{Digest, Sha256};

async fn enroll(s: &Server) -> String {
    let code = s
        .state
        .store
        .with_conn(|c| balade_sync::api::auth::create_enrollment_code(c, "tablette"))
        .unwrap();
    let enrolled: EnrollResponse = s
        .client
        .post(format!("{}/api/v1/enroll", s.base))
        .json(&serde_json::json!({"protocol": 1, "code": code, "device_name": "tablette"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    enrolled.token
}

/// Uploads `bytes` with tus (create + one PATCH), as a device does.
async fn upload(s: &Server, token: &str, bytes: &[u8]) {
    let sha = hex_sha(bytes);
    let metadata = format!(
        "sha256 {},mime {}",
        B64.encode(&sha),
        B64.encode("image/jpeg")
    );
    let created = s
        .client
        .post(format!("{}/api/v1/uploads", s.base))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header("upload-metadata", metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let patched = s
        .client
        .patch(format!("{}{location}", s.base))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 204);
}

fn hex_sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn set_allowed(s: &Server, reference: &str, sha256: &str, allowed: bool) {
    // The same rows the console's "visible to citizens" switch writes (console/request.rs).
    let sql = if allowed {
        "INSERT OR IGNORE INTO console_public_photos (incident_id, sha256)
         SELECT id, ?2 FROM requests WHERE reference = ?1"
    } else {
        "DELETE FROM console_public_photos WHERE sha256 = ?2
           AND incident_id = (SELECT id FROM requests WHERE reference = ?1)"
    };
    s.state
        .store
        .with_conn(|c| Ok(c.execute(sql, [reference, sha256])?))
        .unwrap();
}

#[tokio::test]
async fn media_url_shows_a_device_photo_only_once_an_operator_allowed_it() {
    let s = start().await;
    let token = enroll(&s).await;
    let photo_a = b"\xff\xd8\xff\xe0 photo A of a broken bench".to_vec();
    let photo_b = b"\xff\xd8\xff\xe0 photo B with a face in it".to_vec();
    let photo_ref = |bytes: &[u8]| PhotoRef {
        sha256: hex_sha(bytes),
        size: bytes.len() as u64,
        mime: "image/jpeg".into(),
    };
    let incident = Incident {
        id: uuid::Uuid::now_v7(),
        walk_id: None,
        comment: "Banc cassé".into(),
        observed_at: chrono::Utc::now(),
        category: "mobilier_urbain".into(),
        subcategory: "banc".into(),
        extra: Default::default(),
        photos: vec![photo_ref(&photo_a), photo_ref(&photo_b)],
        position: Position::new(46.16, -1.15, Some(4.0)).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    };
    let pushed: PushResponse = s
        .client
        .post(format!("{}/api/v1/push", s.base))
        .bearer_auth(&token)
        .json(&PushRequest::new(vec![], vec![incident]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = pushed.results[0].reference.clone().unwrap();
    let (sha_a, sha_b) = (hex_sha(&photo_a), hex_sha(&photo_b));
    let photo_url = |sha: &str| format!("{}/open311/v2/media/{reference}/{sha}", s.base);
    let published = || async {
        let (status, _, body) = s
            .get(&format!(
                "/open311/v2/requests/{reference}.json?extensions=true"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        let r = json(&body)[0].clone();
        (
            r["media_url"].clone(),
            r["extended_attributes"]["media_urls"].clone(),
        )
    };
    let fetch = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.bytes().await.unwrap().to_vec())
    };

    // Before upload and permission, and after upload without permission: nothing published.
    assert_eq!(
        published().await,
        (serde_json::Value::Null, serde_json::json!([]))
    );
    upload(&s, &token, &photo_a).await;
    upload(&s, &token, &photo_b).await;
    assert_eq!(
        published().await,
        (serde_json::Value::Null, serde_json::json!([]))
    );
    let (status, ct, _) = fetch(photo_url(&sha_a)).await;
    assert_eq!((status, ct.starts_with("application/json")), (404, true));

    // The operator allows photo A: it is published and served; photo B stays private.
    set_allowed(&s, &reference, &sha_a, true);
    let (media_url, media_urls) = published().await;
    assert_eq!(media_url, photo_url(&sha_a).as_str());
    assert_eq!(media_urls, serde_json::json!([photo_url(&sha_a)]));
    let (status, ct, bytes) = fetch(photo_url(&sha_a)).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(bytes, photo_a);
    assert_eq!(fetch(photo_url(&sha_b)).await.0, 404);
    let (_, _, xml) = s
        .get(&format!("/open311/v2/requests/{reference}.xml"))
        .await;
    assert!(
        xml.contains(&format!("<media_url>{}</media_url>", photo_url(&sha_a))),
        "{xml}"
    );
    let (_, _, list) = s.get("/open311/v2/requests.json").await;
    let listed = json(&list);
    let item = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == reference.as_str())
        .unwrap();
    assert_eq!(item["media_url"], photo_url(&sha_a).as_str());

    // An allowed photo is not reachable through another request's reference.
    let other = s
        .post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &s.key),
                ("service_code", "voirie"),
                ("lat", "46.159"),
                ("long", "-1.152"),
                ("attribute[subcategory]", "tampon"),
            ],
        )
        .await;
    let other_reference = json(&other.2)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let across = format!("{}/open311/v2/media/{other_reference}/{sha_a}", s.base);
    assert_eq!(fetch(across).await.0, 404);
    assert_eq!(
        fetch(format!(
            "{}/open311/v2/media/{reference}/..%2F..%2Ftaxonomy.json",
            s.base
        ))
        .await
        .0,
        404
    );

    // Withdrawn permission: unpublished and no longer served.
    set_allowed(&s, &reference, &sha_a, false);
    assert_eq!(
        published().await,
        (serde_json::Value::Null, serde_json::json!([]))
    );
    assert_eq!(fetch(photo_url(&sha_a)).await.0, 404);
}
