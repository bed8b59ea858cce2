//! « Importer un export d'appareil » (admins): the console door to `device_import`, for the
//! office that receives a device's export file (a device that never reaches the network).
//!
//! The upload is streamed to a file under `<data>/uploads/` (not held in memory), imported by
//! the same function as `balade-sync import-device-export`, then removed. The page shows the
//! report (one line per incident, with its reference) or, when the file is refused, why — and
//! that nothing was imported. Files are limited by the server's body limit (64 MiB); larger
//! exports go through the command line.

use std::io::Write;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum_extra::extract::Multipart;
use balade_protocol::envelope::{PushItemResult, PushOutcome};
use maud::{Markup, html};

use super::auth::{self, ConsoleUser};
use super::layout::{self, Nav, csrf_field};
use super::web::{Authed, PageError};
use crate::device_import::{ImportError, ImportOptions, ImportReport};
use crate::state::AppState;

fn require_admin(user: &ConsoleUser) -> Result<(), PageError> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

pub async fn show(Authed(user): Authed) -> Result<Markup, PageError> {
    require_admin(&user)?;
    Ok(page(&user, None))
}

/// The outcome shown under the form.
enum Shown {
    Imported(ImportReport),
    Refused(ImportError),
}

fn page(user: &ConsoleUser, shown: Option<Shown>) -> Markup {
    layout::page(
        user,
        Nav::Admin,
        "Importer un export d'appareil",
        false,
        html! {
            h1 { "Importer un export d'appareil" }
            section.card {
                p { "Pour un appareil qui n'atteint jamais le réseau : dans l'application, Réglages → « Exporter les signalements non envoyés » produit un fichier .zip ; importez-le ici. Les signalements entrent comme par une synchronisation (références, codes de suivi, aiguillage), sans doublon si le fichier est importé deux fois ou si l'appareil se synchronise plus tard." }
                form method="post" action="/console/admin/import" enctype="multipart/form-data" {
                    (csrf_field(user))
                    p { label { "Fichier d'export (.zip) " input type="file" name="file" accept=".zip,application/zip" required; } }
                    p { label { input type="checkbox" name="skip_rejected" value="1"; " Importer les signalements acceptés même si d'autres sont refusés" } }
                    button type="submit" { "Importer" }
                }
            }
            @match shown {
                Some(Shown::Imported(report)) => section.card {
                    p.notice role="status" { (report.message_fr()) }
                    (results_table(&report.results))
                },
                Some(Shown::Refused(error)) => section.card {
                    p.error role="alert" { "Import refusé, rien n'a été importé. " (error.to_string()) }
                    @if let ImportError::Refused(results) = &error { (results_table(results)) }
                },
                None => {}
            }
        },
    )
}

fn results_table(results: &[PushItemResult]) -> Markup {
    html! {
        table {
            thead { tr { th { "Signalement" } th { "Référence" } th { "Résultat" } } }
            tbody { @for result in results {
                tr {
                    td { code { (result.id) } }
                    td { @if let Some(reference) = &result.reference {
                        a href={ "/console/requests/" (reference) } { (reference) }
                    } @else { "—" } }
                    td { (match result.outcome {
                        PushOutcome::Created => "créé".to_string(),
                        PushOutcome::AlreadyStored => "déjà présent".to_string(),
                        PushOutcome::Conflict | PushOutcome::Rejected => format!(
                            "refusé : {}",
                            result.error.as_ref().map_or("conflit", |e| e.message.as_str())
                        ),
                    }) }
                }
            } }
        }
    }
}

pub async fn submit(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Result<Markup, PageError> {
    let (mut parts, body): (Parts, _) = request.into_parts();
    let Authed(user) = Authed::from_request_parts(&mut parts, &state).await?;
    require_admin(&user)?;
    let request = axum::extract::Request::from_parts(parts, body);
    let mut multipart =
        <Multipart as axum::extract::FromRequest<AppState>>::from_request(request, &state)
            .await
            .map_err(|_| PageError::BadRequest("formulaire multipart attendu".into()))?;
    let uploads = state.data_dir.join(crate::api::tus::UPLOADS_DIR);
    std::fs::create_dir_all(&uploads).map_err(|e| PageError::Internal(e.to_string()))?;
    let path = uploads.join(format!("console-import-{}.zip", auth::random_token()));
    let spooled = Spooled(path.clone());
    let (mut csrf, mut skip_rejected, mut received) = (String::new(), false, false);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| PageError::BadRequest(e.to_string()))?
    {
        match field.name().unwrap_or_default() {
            "csrf" => {
                let bytes = field.bytes().await.map_err(bad_upload)?;
                csrf = String::from_utf8_lossy(&bytes).into_owned();
            }
            "skip_rejected" => skip_rejected = true,
            "file" => {
                let mut file =
                    std::fs::File::create(&path).map_err(|e| PageError::Internal(e.to_string()))?;
                while let Some(chunk) = field.chunk().await.map_err(bad_upload)? {
                    file.write_all(&chunk)
                        .map_err(|e| PageError::Internal(e.to_string()))?;
                }
                received = true;
            }
            _ => {}
        }
    }
    if !auth::constant_time_eq(&csrf, &user.csrf_token) {
        return Err(PageError::Forbidden);
    }
    if !received {
        return Err(PageError::BadRequest("aucun fichier reçu".into()));
    }
    let taxonomy = state.taxonomy();
    let (store, data_dir, actor) = (state.store.clone(), state.data_dir.clone(), user.actor());
    let outcome = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&spooled.0)?;
        let options = ImportOptions { skip_rejected };
        let outcome = crate::device_import::import_device_export(
            &store, &taxonomy, &data_dir, file, &actor, options,
        );
        drop(spooled);
        Ok::<_, std::io::Error>(outcome)
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?
    .map_err(|e| PageError::Internal(e.to_string()))?;
    let shown = match outcome {
        Ok(report) => Shown::Imported(report),
        Err(ImportError::Store(e)) => return Err(PageError::Internal(e.to_string())),
        Err(error) => Shown::Refused(error),
    };
    Ok(page(&user, Some(shown)))
}

fn bad_upload(_: axum_extra::extract::multipart::MultipartError) -> PageError {
    PageError::BadRequest("fichier trop grand (au plus 64 Mio : utilisez balade-sync import-device-export) ou envoi interrompu".into())
}

/// The spooled upload, removed when the import is done (or the request fails).
struct Spooled(std::path::PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
