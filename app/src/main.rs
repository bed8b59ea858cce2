//! `balade`: opens the field app window, or runs a headless command (see `balade --help`).
fn main() {
    println!("balade");
}
