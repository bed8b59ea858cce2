//! (in progress) — stub router so the app builds; the console engineer replaces this file.

/// Routes of this module.
pub fn router() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
}
