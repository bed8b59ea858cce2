//! Photo pipeline benchmark: our `prepare_photo` against `vipsthumbnail` and ImageMagick on
//! generated 12 MP phone-like JPEGs with several EXIF orientations.
//!
//! `cargo bench -p balade-app --no-default-features --bench photos` (needs the apt packages
//! libvips-tools, imagemagick and time). Prints, per image, the median wall time of N runs of
//! each tool as a whole process, our in-process time, our ratio to each tool (≤ 1.0 is as fast
//! or faster) and each process's peak RSS. `BALADE_PHOTO_BENCH_RUNS` sets N (default 5).

#[path = "../tests/photo_support/mod.rs"]
mod photo_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use balade_app::engine::photo::{PhotoOptions, prepare_photo};
use photo_support::{PhoneExif, jpeg, phone_scene, with_metadata};

/// One measured tool: median wall time and the largest peak RSS over the runs.
struct Measure {
    median: Duration,
    peak_rss_kib: Option<u64>,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `program args` once, under `/usr/bin/time -f "%M"` when present: (wall, peak RSS KiB).
fn run_once(program: &Path, args: &[String]) -> (Duration, Option<u64>) {
    let use_time = Path::new("/usr/bin/time").exists();
    let mut command = if use_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args);
    let start = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} {args:?} failed: {stderr}",
        program.display()
    );
    let kib = use_time
        .then(|| {
            stderr
                .lines()
                .last()
                .and_then(|l| l.trim().parse::<u64>().ok())
        })
        .flatten();
    (wall, kib)
}

/// Measures several commands, taking turns run after run so that the load of this shared
/// machine falls on all of them alike.
fn measure_processes(runs: usize, commands: &[(&Path, Vec<String>)]) -> Vec<Measure> {
    let mut times = vec![Vec::new(); commands.len()];
    let mut peaks = vec![None; commands.len()];
    for _ in 0..runs {
        for (i, (program, args)) in commands.iter().enumerate() {
            let (wall, kib) = run_once(program, args);
            times[i].push(wall);
            peaks[i] = peaks[i].max(kib);
        }
    }
    times
        .into_iter()
        .zip(peaks)
        .map(|(t, peak_rss_kib)| Measure {
            median: median(t),
            peak_rss_kib,
        })
        .collect()
}

/// The example binary `prepare_photo`, built in release next to this benchmark.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let binary = profile_dir.join("examples").join("prepare_photo");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "balade-app",
            "--no-default-features",
            "--example",
            "prepare_photo",
        ])
        .status()
        .expect("cargo build --example prepare_photo");
    assert!(
        status.success() && binary.exists(),
        "{} not built",
        binary.display()
    );
    binary
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0}", k as f64 / 1024.0))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and similar probes
    }
    let runs: usize = std::env::var("BALADE_PHOTO_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let vips = PathBuf::from("/usr/bin/vipsthumbnail");
    let convert = PathBuf::from("/usr/bin/convert");
    for tool in [&vips, &convert] {
        assert!(
            tool.exists(),
            "{} missing: apt-get install libvips-tools imagemagick",
            tool.display()
        );
    }
    let ours = example_binary();
    let dir = tempfile::tempdir().unwrap();

    println!(
        "photo benchmark: 4032×3024 phone-like JPEGs → long edge ≤ 2048, q80, stripped; median of {runs} runs, tools taking turns"
    );
    println!(
        "ours = DCT-scaled decode (4032 → 2016 px directly); ours-exact = exactly 2048 px (full decode + Lanczos3)"
    );
    println!();
    println!(
        "| image | MB | orient. | ours in-proc ms | ours ms | ours-exact ms | vips ms | convert ms | ours/vips | exact/vips | ours/convert | RSS MiB ours / exact / vips / convert | PSNR exact vs vips dB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut ratios_vips = Vec::new();
    let mut ratios_exact = Vec::new();
    let mut ratios_convert = Vec::new();
    for (i, orientation) in [1u16, 6, 3, 8].into_iter().enumerate() {
        let scene = phone_scene(4032, 3024, 100 + i as u64);
        let exif = PhoneExif {
            orientation: Some(orientation),
            gps: Some((46.1591, -1.1520, Some(5.0))),
            taken: Some("2026:05:01 10:30:00"),
            offset: Some("+02:00"),
            serial: Some("SN-BENCH"),
        };
        let original = with_metadata(&jpeg(&scene, 92), &exif);
        let name = format!("img{i}_o{orientation}.jpg");
        let input = dir.path().join(&name);
        std::fs::write(&input, &original).unwrap();
        let input_s = input.display().to_string();
        let out = |tag: &str| {
            dir.path()
                .join(format!("{tag}_{i}.jpg"))
                .display()
                .to_string()
        };

        let options = PhotoOptions::default();
        let mut in_process = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let prepared = prepare_photo(&original, &options).unwrap();
            in_process.push(start.elapsed());
            std::hint::black_box(prepared);
        }
        let in_process = median(in_process);
        let commands: Vec<(&Path, Vec<String>)> = vec![
            (&ours, vec![input_s.clone(), out("ours")]),
            (&ours, vec![input_s.clone(), out("exact"), "--exact".into()]),
            (
                &vips,
                vec![
                    input_s.clone(),
                    "--size".into(),
                    "2048x2048".into(),
                    "-o".into(),
                    format!("{}[Q=80,strip]", out("vips")),
                ],
            ),
            (
                &convert,
                vec![
                    input_s.clone(),
                    "-auto-orient".into(),
                    "-resize".into(),
                    "2048x2048>".into(),
                    "-strip".into(),
                    "-quality".into(),
                    "80".into(),
                    out("convert"),
                ],
            ),
        ];
        let mut measures = measure_processes(runs, &commands).into_iter();
        let [ours_m, exact_m, vips_m, convert_m] =
            std::array::from_fn(|_| measures.next().expect("four commands"));
        let ratio = |a: &Measure, b: &Measure| a.median.as_secs_f64() / b.median.as_secs_f64();
        ratios_vips.push(ratio(&ours_m, &vips_m));
        ratios_exact.push(ratio(&exact_m, &vips_m));
        ratios_convert.push(ratio(&ours_m, &convert_m));
        let decode = |p: &str| {
            let image = image::open(p).unwrap().into_rgb8();
            photo_support::Rgb {
                width: image.width(),
                height: image.height(),
                data: image.into_raw(),
            }
        };
        let (exact_out, vips_out) = (decode(&out("exact")), decode(&out("vips")));
        let similarity = if (exact_out.width, exact_out.height) == (vips_out.width, vips_out.height)
        {
            format!("{:.1}", photo_support::psnr(&exact_out, &vips_out))
        } else {
            format!(
                "sizes differ {}×{} / {}×{}",
                exact_out.width, exact_out.height, vips_out.width, vips_out.height
            )
        };
        println!(
            "| {name} | {:.1} | {orientation} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} / {} / {} / {} | {similarity} |",
            original.len() as f64 / 1e6,
            ms(in_process),
            ms(ours_m.median),
            ms(exact_m.median),
            ms(vips_m.median),
            ms(convert_m.median),
            ratio(&ours_m, &vips_m),
            ratio(&exact_m, &vips_m),
            ratio(&ours_m, &convert_m),
            mib(ours_m.peak_rss_kib),
            mib(exact_m.peak_rss_kib),
            mib(vips_m.peak_rss_kib),
            mib(convert_m.peak_rss_kib),
        );
        // Same orientation as the tools: upright output dimensions must agree.
        let dims = |p: &str| image::image_dimensions(p).unwrap();
        let (ow, oh) = dims(&out("ours"));
        let (vw, vh) = dims(&out("vips"));
        assert_eq!(
            ow > oh,
            vw > vh,
            "{name}: ours {ow}×{oh} vs vips {vw}×{vh} disagree on orientation"
        );
    }
    stage_breakdown(runs);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!();
    println!(
        "mean ratio (whole process): ours/vips {:.2}, ours-exact/vips {:.2}, ours/convert {:.2}",
        mean(&ratios_vips),
        mean(&ratios_exact),
        mean(&ratios_convert)
    );
}

/// Where the in-process time goes, stage by stage, on one 12 MP photo with orientation 6.
fn stage_breakdown(runs: usize) {
    use balade_app::engine::photo::{decode, encode, read_capture_metadata, transform};
    let exif = PhoneExif {
        orientation: Some(6),
        ..PhoneExif::default()
    };
    let original = with_metadata(&jpeg(&phone_scene(4032, 3024, 42), 92), &exif);
    let options = PhotoOptions::default();
    let time = |f: &mut dyn FnMut()| {
        let mut times = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            f();
            times.push(start.elapsed());
        }
        median(times)
    };
    let decode_at = |divisor: u32| {
        decode::decode_jpeg(&original, options.max_pixels, |_| divisor)
            .unwrap()
            .1
    };
    let half = decode_at(2);
    let oriented = transform::apply_orientation(half.clone(), 6);
    let stages: Vec<(&str, Duration)> = vec![
        (
            "EXIF read",
            time(&mut || {
                std::hint::black_box(read_capture_metadata(&original));
            }),
        ),
        (
            "decode full size (4032)",
            time(&mut || drop(std::hint::black_box(decode_at(1)))),
        ),
        (
            "decode 1/2 DCT scale (2016)",
            time(&mut || drop(std::hint::black_box(decode_at(2)))),
        ),
        (
            "decode 1/8 DCT scale (504)",
            time(&mut || drop(std::hint::black_box(decode_at(8)))),
        ),
        (
            "orientation 6 on 2016×1512",
            time(&mut || {
                drop(std::hint::black_box(transform::apply_orientation(
                    half.clone(),
                    6,
                )))
            }),
        ),
        (
            "clone 2016×1512 (baseline of the row above)",
            time(&mut || drop(std::hint::black_box(half.clone()))),
        ),
        (
            "Lanczos3 2016 → 320",
            time(&mut || {
                drop(std::hint::black_box(transform::downscaled_copy(
                    &oriented, 320,
                )))
            }),
        ),
        (
            "encode JPEG q80 1512×2016",
            time(&mut || {
                drop(std::hint::black_box(
                    encode::encode_jpeg(&oriented, 80).unwrap(),
                ))
            }),
        ),
        ("sha256 of the output", {
            let out = encode::encode_jpeg(&oriented, 80).unwrap();
            time(&mut || {
                drop(std::hint::black_box(balade_protocol::incident::sha256_hex(
                    &out,
                )))
            })
        }),
        (
            "whole prepare_photo",
            time(&mut || {
                drop(std::hint::black_box(
                    prepare_photo(&original, &options).unwrap(),
                ))
            }),
        ),
    ];
    println!();
    println!(
        "stage breakdown (in-process, median of {runs}, {:.1} MB original):",
        original.len() as f64 / 1e6
    );
    println!("| stage | ms |");
    println!("|---|---|");
    for (name, duration) in stages {
        println!("| {name} | {:.1} |", duration.as_secs_f64() * 1000.0);
    }
}
