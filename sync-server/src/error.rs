//! The one HTTP error type of the server, and a JSON extractor whose rejections use it.
//!
//! Why it exists: every error a client sees is `{"error":{"code","message","message_en"}}`
//! (balade_protocol::error) with the code's HTTP status, whichever layer produced it. 4xx carry a
//! precise code and message; 5xx are generic to the client and logged in full here.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balade_protocol::error::{ErrorBody, ErrorCode, ErrorDetail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::actions::ActionError;
use crate::store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// French message (shown to the user).
    pub message: String,
    pub message_en: String,
    /// Full detail for the log, never sent (5xx only).
    pub internal: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>, message_en: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            message_en: message_en.into(),
            internal: None,
        }
    }

    /// A 500 whose detail goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError {
            code: ErrorCode::Internal,
            message: "Erreur interne du serveur".into(),
            message_en: "internal server error".into(),
            internal: Some(detail.to_string()),
        }
    }

    pub fn not_found() -> Self {
        ApiError::new(ErrorCode::NotFound, "Ressource introuvable", "not found")
    }

    pub fn invalid_field(message: impl Into<String>, message_en: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidField, message, message_en)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The wire body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                message_en: self.message_en.clone(),
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message_en)?;
        if let Some(internal) = &self.internal {
            write!(f, " ({internal})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ErrorDetail> for ApiError {
    fn from(d: ErrorDetail) -> Self {
        ApiError::new(d.code, d.message, d.message_en)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code.as_str(), detail = ?self.internal, "server error");
        } else {
            tracing::debug!(
                code = self.code.as_str(),
                "client error: {}",
                self.message_en
            );
        }
        (status, axum::Json(self.body())).into_response()
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        match e.code() {
            ErrorCode::Internal => ApiError::internal(e),
            code => ApiError::new(code, e.message_fr(), e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Action(a) => a.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::internal(e)
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s: invalid JSON → `malformed_json`, wrong types
/// or missing fields → `invalid_field` (both 400), too large → 413 `body_too_large`, wrong
/// content type → 415 `unsupported_media_type`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Maps axum's JSON rejection to our error body.
pub fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::new(
            ErrorCode::InvalidField,
            format!("Champ invalide : {text}"),
            text,
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            ErrorCode::MalformedJson,
            "Le corps de la requête n'est pas du JSON valide",
            text,
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Le corps doit être de type application/json",
            "expected Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        other => ApiError::new(
            ErrorCode::MalformedJson,
            "Corps de requête illisible",
            other.body_text(),
        ),
    }
}

/// 413 `body_too_large`.
pub fn body_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::BodyTooLarge,
        "Corps de requête trop volumineux",
        "request body too large",
    )
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_generic_to_the_client() {
        let e = ApiError::internal("disk on fire at /secret/path");
        let body = serde_json::to_string(&e.body()).unwrap();
        assert!(!body.contains("secret"), "{body}");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let e = ApiError::new(ErrorCode::ChecksumMismatch, "x", "y");
        assert_eq!(e.status().as_u16(), 460);
    }
}
