//! « Importer un export d'appareil » over real HTTP: admins only, CSRF checked, a good file
//! imported once (the second time "déjà présent"), a damaged file refused with nothing stored and
//! no spooled upload left behind.

mod console_support;

use std::io::Write;

use balade_protocol::device_export::{ExportManifest, MANIFEST_ENTRY, PUSH_ENTRY, photo_entry};
use balade_protocol::envelope::PushRequest;
use balade_protocol::incident::{PhotoRef, sha256_hex};
use console_support::{Answer, Browser, PHOTO, incident, start};

/// An export file as the app writes it: one incident with one photo (the photo's bytes may be
/// altered after hashing, to make a damaged file).
fn export_zip(damage_photo: bool) -> (Vec<u8>, String) {
    let photo = PhotoRef {
        sha256: sha256_hex(PHOTO),
        size: PHOTO.len() as u64,
        mime: "image/png".into(),
    };
    let mut report = incident("voirie", "nid_de_poule", "Trou rue Hoche", 46.1603, -1.1511);
    report.photos = vec![photo.clone()];
    let id = report.id.to_string();
    let manifest = ExportManifest::new(None, 1, 0, 1);
    let push = PushRequest::new(vec![], vec![report]);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(MANIFEST_ENTRY, stored).unwrap();
    zip.write_all(&serde_json::to_vec(&manifest).unwrap())
        .unwrap();
    zip.start_file(PUSH_ENTRY, stored).unwrap();
    zip.write_all(&serde_json::to_vec(&push).unwrap()).unwrap();
    zip.start_file(photo_entry(&photo), stored).unwrap();
    let mut bytes = PHOTO.to_vec();
    if damage_photo {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
    }
    zip.write_all(&bytes).unwrap();
    (zip.finish().unwrap().into_inner(), id)
}

async fn upload(browser: &mut Browser, csrf: &str, file: &[u8], skip_rejected: bool) -> Answer {
    let boundary = "balade-test-boundary-7c1f";
    let mut body = Vec::new();
    let mut text_part = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    text_part("csrf", csrf);
    if skip_rejected {
        text_part("skip_rejected", "1");
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"balade-export.zip\"\r\nContent-Type: application/zip\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let cookies = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let response = browser
        .client
        .post(format!("{}/console/admin/import", browser.base))
        .header("cookie", cookies)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        location: String::new(),
        body: response.text().await.unwrap(),
    }
}

#[tokio::test]
async fn an_admin_imports_a_device_export_once_and_a_damaged_one_changes_nothing() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    server.add_user("paul", "operator-password", "operator", &["voirie"]);
    let mut paul = Browser::new(&server.base);
    paul.login("paul", "operator-password").await;
    assert_eq!(paul.get("/console/admin/import").await.status, 403);

    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let page = admin.get("/console/admin/import").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Importer un export d'appareil"),
        "{}",
        page.body
    );
    let csrf = admin.csrf().await;

    let (damaged, _) = export_zip(true);
    let answer = upload(&mut admin, &csrf, &damaged, false).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.contains("rien n'a été importé") && answer.body.contains("endommagée"),
        "{}",
        answer.body
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM requests"), 0);
    assert_eq!(server.count("SELECT COUNT(*) FROM photos"), 0);

    let (good, id) = export_zip(false);
    assert_eq!(
        upload(&mut admin, "wrong-token", &good, false).await.status,
        403
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM requests"), 0);

    let answer = upload(&mut admin, &csrf, &good, false).await;
    assert!(
        answer.body.contains("1 signalement(s) créé(s)"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("href=\"/console/requests/LR-"),
        "{}",
        answer.body
    );
    assert_eq!(
        server.count(&format!(
            "SELECT COUNT(*) FROM requests r JOIN device_imports d ON d.request_id = r.id
             WHERE r.id = '{id}' AND r.incomplete = 0 AND d.actor LIKE '%admin1%'"
        )),
        1
    );
    let again = upload(&mut admin, &csrf, &good, false).await;
    assert!(
        again
            .body
            .contains("0 signalement(s) créé(s), 1 déjà présent(s)"),
        "{}",
        again.body
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM requests"), 1);
    let leftovers: Vec<_> = std::fs::read_dir(server.dir.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "spooled uploads left: {leftovers:?}");
}
