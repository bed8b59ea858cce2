//! Helpers for the end-to-end tests: start the real `balade-sync` binary on a free loopback
//! port with a temporary data directory, run the real `balade` headless commands.
