//! # balade-app
//!
//! The field app. [`engine`] is everything that works without a screen: the local SQLite
//! queue, the sync client and its I/O-free state machine, photo and geo processing, and the
//! headless CLI. The Dioxus UI (feature `desktop`) sits on top of it.

pub mod engine;
#[cfg(feature = "desktop")]
pub mod ui;
