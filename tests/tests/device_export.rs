//! The offline road: a device that never reaches the network exports its queue to a file
//! (`balade export`), the office imports it (`balade-sync import-device-export`). Real binaries,
//! real SQLite files, real zip files. Failure cases first: a damaged or incomplete file changes
//! nothing; a refused incident makes the import all or nothing; importing twice, or importing
//! before the device syncs, stores nothing twice.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use balade_tests::{
    Device, Server, count, file_sha256, operator, server_cli, server_photo_path, write_jpeg,
};
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `balade-sync import-device-export FILE --json [extra]`: Ok(report) or Err(stderr).
fn import(server_data: &Path, file: &Path, extra: &[&str]) -> Result<Value, String> {
    let file = file.display().to_string();
    let mut args = vec!["import-device-export", file.as_str(), "--json"];
    args.extend_from_slice(extra);
    let output = server_cli(server_data, &args);
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("a JSON report"))
    } else {
        Err(text(&output.stderr))
    }
}

/// Copies a zip, letting `change` rewrite (Some) or drop (None) each entry.
fn rewrite_zip(src: &Path, dst: &Path, mut change: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = change(&name, bytes) {
            out.start_file(name, stored).unwrap();
            out.write_all(&bytes).unwrap();
        }
    }
    out.finish().unwrap();
}

fn entry_names(file: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect()
}

/// Every file under `<data>/photos` and `<data>/uploads` (what an import may leave behind).
fn files_under(data: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("photos"), &mut out);
    walk(&data.join("uploads"), &mut out);
    out
}

/// A device that was never enrolled, with a walk and two incidents (three photos).
fn offline_device(root: &Path) -> (Device, Vec<String>) {
    let device = Device::new(&root.join("device"));
    device.ok(&[
        "walk",
        "start",
        "--title",
        "Balade Mireuil",
        "--neighbourhood",
        "Mireuil",
    ]);
    let photos: Vec<PathBuf> = (0..3).map(|i| root.join(format!("p{i}.jpg"))).collect();
    for (i, photo) in photos.iter().enumerate() {
        write_jpeg(photo, 640, 480, 40 + i as u32);
    }
    let first = device.capture(&[&photos[0], &photos[1]], &[]);
    let second = device.capture(&[&photos[2]], &[]);
    (device, vec![first, second])
}

#[test]
fn an_export_is_imported_once_and_the_device_takes_its_requests_over_when_it_syncs() {
    let tmp = tempfile::tempdir().unwrap();
    let (device, ids) = offline_device(tmp.path());
    let file = tmp.path().join("export.zip");
    let said = device.ok(&["export", file.to_str().unwrap()]);
    assert!(
        said.contains("2 signalement(s), 1 balade(s) et 3 photo(s)"),
        "{said}"
    );
    let names = entry_names(&file);
    assert_eq!(
        names.iter().filter(|n| n.starts_with("photos/")).count(),
        3,
        "{names:?}"
    );
    assert!(
        names.contains(&"manifest.json".to_string()) && names.contains(&"push.json".to_string())
    );

    let server_data = tmp.path().join("server");
    let mut server = Server::start(&server_data);
    let report = import(&server_data, &file, &[]).unwrap();
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["photos_stored"], 3, "{report}");
    assert_eq!(report["device_known"], false, "{report}");
    let db = server.db();
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM requests r JOIN device_imports d ON d.request_id = r.id
             WHERE r.device_id IS NULL AND r.incomplete = 0 AND d.actor = 'cli'"
        ),
        2
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM walks WHERE device_id IS NULL"),
        1
    );
    let mut stmt = db.prepare("SELECT sha256 FROM request_photos").unwrap();
    let shas: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(shas.len(), 3);
    for sha in &shas {
        assert_eq!(&file_sha256(&server_photo_path(&server_data, sha)), sha);
    }
    let events = count(&db, "SELECT COUNT(*) FROM events");

    // The same file again: nothing new.
    let again = import(&server_data, &file, &[]).unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["already_stored"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    assert_eq!(again["photos_already_present"], 3, "{again}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 2);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events"), events);

    // The device reaches the network one day: its sync finds them stored, takes them over,
    // and receives what the operator does next.
    device.enroll(&server);
    device.ok(&["sync"]);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM requests"),
        2,
        "no duplicate"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM requests WHERE device_id IS NOT NULL"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM walks WHERE device_id IS NOT NULL"
        ),
        1
    );
    let queue = device.queue();
    let reference = queue
        .iter()
        .find(|row| row["id"] == ids[0].as_str())
        .and_then(|row| row["reference"].as_str())
        .expect("the device got the imported request's reference")
        .to_string();
    operator(
        &server_data,
        &["schedule", &reference, "--date", "2027-01-15"],
    );
    device.ok(&["sync"]);
    let status = device.status(&ids[0]);
    assert!(status.to_string().contains("2027-01-15"), "{status}");
    server.kill();
}

#[test]
fn a_damaged_or_incomplete_export_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (device, _) = offline_device(tmp.path());
    let file = tmp.path().join("export.zip");
    device.ok(&["export", file.to_str().unwrap()]);
    let server_data = tmp.path().join("server");

    let damaged = tmp.path().join("damaged.zip");
    let mut flipped = false;
    rewrite_zip(&file, &damaged, |name, mut bytes| {
        if name.starts_with("photos/") && !flipped {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0xff;
            flipped = true;
        }
        Some(bytes)
    });
    let without_photo = tmp.path().join("without-photo.zip");
    let mut dropped = false;
    rewrite_zip(&file, &without_photo, |name, bytes| {
        if name.starts_with("photos/") && !dropped {
            dropped = true;
            return None;
        }
        Some(bytes)
    });
    let without_push = tmp.path().join("without-push.zip");
    rewrite_zip(&file, &without_push, |name, bytes| {
        (name != "push.json").then_some(bytes)
    });
    let bad_json = tmp.path().join("bad-json.zip");
    rewrite_zip(&file, &bad_json, |name, bytes| {
        Some(if name == "push.json" {
            bytes[..bytes.len() / 2].to_vec()
        } else {
            bytes
        })
    });
    let truncated = tmp.path().join("truncated.zip");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let not_zip = tmp.path().join("notes.zip");
    std::fs::write(&not_zip, "Compte rendu de la balade du 4 décembre").unwrap();
    let other_format = tmp.path().join("other.zip");
    rewrite_zip(&file, &other_format, |name, bytes| {
        Some(if name == "manifest.json" {
            String::from_utf8(bytes)
                .unwrap()
                .replace("balade-device-export", "odk-submission")
                .into_bytes()
        } else {
            bytes
        })
    });

    for (bad, expected) in [
        (&damaged, "endommagée"),
        (&without_photo, "n'y est pas"),
        (&without_push, "« push.json » manque"),
        (&bad_json, "Export illisible : « push.json »"),
        (&truncated, "n'est pas un export Balade lisible"),
        (&not_zip, "n'est pas un export Balade lisible"),
        (&other_format, "odk-submission"),
    ] {
        let error = import(&server_data, bad, &[]).expect_err("a bad file is refused");
        assert!(error.contains(expected), "{}: {error}", bad.display());
        let db = balade_tests::server_db(&server_data);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM requests"),
            0,
            "{}",
            bad.display()
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM photos"),
            0,
            "{}",
            bad.display()
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM walks"),
            0,
            "{}",
            bad.display()
        );
        // No staged photo left behind either (a damaged file stops before anything moves).
        assert_eq!(
            files_under(&server_data),
            Vec::<PathBuf>::new(),
            "{}",
            bad.display()
        );
    }

    // The good file still imports after all that.
    assert_eq!(import(&server_data, &file, &[]).unwrap()["created"], 2);

    // On the device side, a photo damaged on disk stops the export with its name, and no
    // file is left at the target.
    let store_photo = std::fs::read_dir(device.dir.join("photos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_file() && !p.to_string_lossy().ends_with(".thumb.jpg"))
        .unwrap();
    let mut bytes = std::fs::read(&store_photo).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&store_photo, bytes).unwrap();
    let target = tmp.path().join("second.zip");
    let output = device.run(&["export", target.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("endommagée"),
        "{}",
        text(&output.stderr)
    );
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_refused_incident_makes_the_import_all_or_nothing_unless_skip_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let (device, ids) = offline_device(tmp.path());
    let server_data = tmp.path().join("server");
    let first = tmp.path().join("first.zip");
    device.ok(&["export", first.to_str().unwrap()]);
    assert_eq!(import(&server_data, &first, &[]).unwrap()["created"], 2);

    // A third incident, then a second export in which the first incident's comment was changed
    // by hand: the server holds that id with another body, a conflict.
    let photo = tmp.path().join("p9.jpg");
    write_jpeg(&photo, 640, 480, 99);
    let third = device.capture(&[&photo], &[]);
    let second = tmp.path().join("second.zip");
    device.ok(&["export", second.to_str().unwrap()]);
    let edited = tmp.path().join("edited.zip");
    rewrite_zip(&second, &edited, |name, bytes| {
        Some(if name == "push.json" {
            String::from_utf8(bytes)
                .unwrap()
                .replacen(
                    "Nid-de-poule devant l'école",
                    "Nid-de-poule devant la mairie",
                    1,
                )
                .into_bytes()
        } else {
            bytes
        })
    });
    let error = import(&server_data, &edited, &[]).expect_err("a conflict refuses the file");
    assert!(
        error.contains("rien n'a été importé") && error.contains(&ids[0]),
        "{error}"
    );
    let db = balade_tests::server_db(&server_data);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM requests"),
        2,
        "the third was not stored"
    );

    let report = import(&server_data, &edited, &["--skip-rejected"]).unwrap();
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["refused"], 1, "{report}");
    let results = report["results"].as_array().unwrap();
    let refused = results.iter().find(|r| r["id"] == ids[0].as_str()).unwrap();
    assert_eq!(refused["outcome"], "conflict", "{refused}");
    let created = results.iter().find(|r| r["id"] == third.as_str()).unwrap();
    assert!(
        created["reference"].as_str().unwrap().starts_with("LR-"),
        "{created}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 3);
    let comment: String = db
        .query_row(
            "SELECT comment FROM requests WHERE id = ?1",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        comment, "Nid-de-poule devant l'école",
        "the stored request is untouched"
    );
}
