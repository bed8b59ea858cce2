//! # balade-protocol
//!
//! The compatibility boundary between the field app (`balade-app`) and the sync server
//! (`balade-sync`). Everything that crosses the wire is defined here and only here, and every
//! envelope carries [`PROTOCOL_VERSION`] so an old device and a new server can tell each other
//! apart. The crate does no I/O: it is types, validation and pure computations shared by both
//! sides (status model, taxonomy, Lambert-93 projection, the street index).
//!
//! Main types:
//! - [`incident::Incident`]: one report made on a walk, identified by a device-made UUIDv7.
//! - [`status::State`] and [`status::StatusEvent`]: the status model of DESIGN.md with its
//!   Open311 mapping; events are append-only and ordered by the server's sequence.
//! - [`envelope`]: the request/response bodies of the device API (push, feed, enrolment).
//! - [`error::ErrorCode`] / [`error::ErrorBody`]: the machine-readable errors, French first.
//! - [`taxonomy::Taxonomy`]: categories, sub-categories, keywords, recipients and delays.
//! - [`device_export`]: the export file that carries a device's queue to the server offline.
//!
//! ```
//! use balade_protocol::status::State;
//! assert_eq!(State::Scheduled.label_fr(), "Programmé");
//! assert_eq!(State::Refused.open311_status(), "closed");
//! ```

pub mod device_export;
pub mod envelope;
pub mod error;
pub mod geo;
pub mod incident;
pub mod status;
pub mod taxonomy;
pub mod text;
pub mod tracking;

/// Version of the wire protocol. Every envelope carries it as `"protocol": 1`.
pub const PROTOCOL_VERSION: u32 = 1;
