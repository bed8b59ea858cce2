//! `balade-sync`: thin CLI glue over the library (see `balade-sync --help`).
fn main() {
    println!("balade-sync");
}
