//! Runs the photo pipeline once on a file, as a whole process: the benchmark compares this
//! against `vipsthumbnail` and ImageMagick, which also pay process start-up and file I/O.
//!
//! `cargo run --release -p balade-app --no-default-features --example prepare_photo -- IN OUT [--exact] [--thumbnail THUMB]`

use std::path::PathBuf;

use anyhow::{Context, bail};
use balade_app::engine::photo::{PhotoOptions, prepare_photo_file};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut input, mut output, mut thumbnail) = (None, None, None);
    let mut options = PhotoOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--exact" => options.min_edge_fraction = 1.0,
            "--thumbnail" => {
                thumbnail = Some(PathBuf::from(args.next().context("--thumbnail FILE")?))
            }
            _ if input.is_none() => input = Some(PathBuf::from(arg)),
            _ if output.is_none() => output = Some(PathBuf::from(arg)),
            _ => bail!("usage: prepare_photo IN OUT [--exact] [--thumbnail THUMB]"),
        }
    }
    let (Some(input), Some(output)) = (input, output) else {
        bail!("usage: prepare_photo IN OUT [--exact] [--thumbnail THUMB]");
    };
    let prepared =
        prepare_photo_file(&input, &options).map_err(|e| anyhow::anyhow!("{}", e.message_fr()))?;
    std::fs::write(&output, &prepared.jpeg)
        .with_context(|| format!("writing {}", output.display()))?;
    if let Some(path) = thumbnail {
        std::fs::write(&path, &prepared.thumbnail)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "{} {}x{} {} bytes",
        prepared.photo_ref.sha256, prepared.width, prepared.height, prepared.photo_ref.size
    );
    Ok(())
}
