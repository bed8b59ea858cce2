//! One module per screen, plus the navigation bar and small shared pieces. Components are
//! small and call [`crate::ui::model::UiModel`] methods or [`crate::ui::backend::Backend`].

pub mod capture;
pub mod incident;
pub mod nav;
pub mod queue;
pub mod settings;
pub mod track;
pub mod walk;
pub mod walk_plan;

use base64::Engine as _;

/// A stable handle for tests and scripts, written as a *dynamic* `data-testid` attribute so
/// headless tests can find the element's id in the mutation stream.
pub fn tid(name: &'static str) -> &'static str {
    name
}

/// Largest photo shown inline as a thumbnail (bigger ones show a placeholder).
const MAX_INLINE_PHOTO_BYTES: u64 = 4 * 1024 * 1024;

/// A `data:` URL for a local photo, so the webview shows it without a file server.
pub fn photo_data_url(path: &std::path::Path) -> Option<String> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_INLINE_PHOTO_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let mime = crate::ui::capture_form::mime_for(path);
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}
