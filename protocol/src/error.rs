//! Machine-readable errors shared by the server (HTTP bodies) and the app (what it shows).
//!
//! Every HTTP error body is `{"error": {"code": "...", "message": "...", "message_en": "..."}}`:
//! the code for programs, the French message for the user, English beside it.

use serde::{Deserialize, Serialize};

/// Stable error codes. New codes may be added: match with a fallback.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    MalformedJson,
    InvalidField,
    UnsupportedProtocol,
    UnknownCategory,
    UnknownSubcategory,
    InvalidPosition,
    BodyTooLarge,
    MissingToken,
    InvalidToken,
    InvalidEnrollmentCode,
    Forbidden,
    NotFound,
    IdConflict,
    ChecksumMismatch,
    InvalidUploadId,
    OffsetMismatch,
    UploadTooLarge,
    UnsupportedMediaType,
    InvalidTusRequest,
    InvalidState,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::UnsupportedProtocol => "unsupported_protocol",
            ErrorCode::UnknownCategory => "unknown_category",
            ErrorCode::UnknownSubcategory => "unknown_subcategory",
            ErrorCode::InvalidPosition => "invalid_position",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidEnrollmentCode => "invalid_enrollment_code",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::IdConflict => "id_conflict",
            ErrorCode::ChecksumMismatch => "checksum_mismatch",
            ErrorCode::InvalidUploadId => "invalid_upload_id",
            ErrorCode::OffsetMismatch => "offset_mismatch",
            ErrorCode::UploadTooLarge => "upload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidTusRequest => "invalid_tus_request",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedJson
            | ErrorCode::InvalidField
            | ErrorCode::UnsupportedProtocol
            | ErrorCode::InvalidUploadId
            | ErrorCode::InvalidTusRequest => 400,
            ErrorCode::MissingToken | ErrorCode::InvalidToken => 401,
            ErrorCode::Forbidden | ErrorCode::InvalidEnrollmentCode => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::IdConflict | ErrorCode::OffsetMismatch | ErrorCode::InvalidState => 409,
            ErrorCode::BodyTooLarge | ErrorCode::UploadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::UnknownCategory
            | ErrorCode::UnknownSubcategory
            | ErrorCode::InvalidPosition => 422,
            ErrorCode::ChecksumMismatch => 460,
            ErrorCode::Internal => 500,
        }
    }
}

/// The inside of an error body.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// French message for the user.
    pub message: String,
    /// English message.
    #[serde(default)]
    pub message_en: String,
}

/// `{"error": {...}}`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(
        code: ErrorCode,
        message_fr: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message_fr.into(),
                message_en: message_en.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_string() {
        for code in [
            ErrorCode::MalformedJson,
            ErrorCode::ChecksumMismatch,
            ErrorCode::IdConflict,
        ] {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
        assert_eq!(ErrorCode::ChecksumMismatch.http_status(), 460);
    }
}
