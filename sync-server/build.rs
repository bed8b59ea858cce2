//! Rebuild when a migration directory is added or changed: `include_dir!` does not track files.
fn main() {
    println!("cargo:rerun-if-changed=../migrations/server");
}
