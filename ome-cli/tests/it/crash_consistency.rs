//! Crash consistency: `ome convert` killed with SIGKILL at random moments never leaves a
//! dataset that looks complete but is not. After each kill the output either does not exist
//! (readers and the validator say so) or is complete, valid and pixel-exact. With
//! `--overwrite` the old dataset stays readable and exact until the new one replaces it.
//!
//! The kill moments are drawn from a seed printed by the test (`OME_CRASH_SEED` replays one).

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ndarray::{ArrayD, IxDyn};
use ome_core::{DynArray, NpyReader, write_npy};

const KILLS_ZARR: usize = 20;
const KILLS_OVERWRITE: usize = 10;
const KILLS_TIFF: usize = 20;

use crate::common::{ome, ome_validate};

/// xorshift64*: enough randomness for kill moments without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: Duration) -> Duration {
        let nanos = u64::try_from(n.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(self.next() % nanos)
    }
}

fn seed() -> u64 {
    std::env::var("OME_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

fn input_npy(dir: &Path, name: &str, salt: u16) -> PathBuf {
    let a = ArrayD::<u16>::from_shape_fn(IxDyn(&[2, 8, 768, 768]), |ix| {
        (ix[0] as u16 * 7919) ^ (ix[1] as u16 * 131) ^ (ix[2] as u16 * 3) ^ (ix[3] as u16) ^ salt
    });
    let p = dir.join(name);
    write_npy(&p, &DynArray::U16(a)).unwrap();
    p
}

fn convert_cmd(input: &Path, output: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(ome());
    c.args([
        "convert",
        "--quiet",
        "--axes",
        "czyx",
        "--chunks",
        "1,4,128,128",
    ])
    .args(extra)
    .arg(input)
    .arg(output)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

/// Starts `cmd` and SIGKILLs it after `after`; returns whether it had finished by then.
fn kill_after(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            return true;
        }
        if start.elapsed() >= after {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Level 0 of an OME-Zarr or OME-TIFF read back through `ome convert` to .npy.
fn pixels(dataset: &Path, scratch: &Path) -> Result<DynArray, String> {
    let back = scratch.join("back.npy");
    let _ = fs::remove_file(&back);
    let o = run(Command::new(ome())
        .args(["convert", "--quiet", "--level", "0"])
        .arg(dataset)
        .arg(&back));
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    NpyReader::open(&back)
        .and_then(|r| r.read_all())
        .map_err(|e| e.to_string())
}

/// Equal type, equal values in C order, and equal shapes once axes of length 1 are dropped
/// (an OME-TIFF always reads back as 5-D t,c,z,y,x).
fn same_pixels(a: &DynArray, b: &DynArray) -> bool {
    let squeeze = |s: &[usize]| s.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    if a.dtype() != b.dtype() || squeeze(a.shape()) != squeeze(b.shape()) {
        return false;
    }
    ome_core::with_dyn_array!(a, x, T => {
        let y = <T as ome_core::Element>::from_dyn_array(b).expect("same dtype");
        x.iter().eq(y.iter())
    })
}

fn expected(npy: &Path) -> DynArray {
    NpyReader::open(npy).unwrap().read_all().unwrap()
}

/// Checks a dataset that exists: info and the validator accept it and the pixels are exact.
fn check_complete(dataset: &Path, want: &DynArray, scratch: &Path, validate: &Path, what: &str) {
    let info = run(Command::new(ome()).arg("info").arg(dataset));
    assert!(
        info.status.success(),
        "{what}: {} exists but `ome info` fails: {}",
        dataset.display(),
        String::from_utf8_lossy(&info.stderr)
    );
    let o = run(Command::new(validate)
        .args(["--color", "never"])
        .arg(dataset));
    assert!(
        o.status.success(),
        "{what}: {} exists but does not validate: {}",
        dataset.display(),
        String::from_utf8_lossy(&o.stdout)
    );
    let got = pixels(dataset, scratch).unwrap_or_else(|e| {
        panic!(
            "{what}: {} exists but cannot be read: {e}",
            dataset.display()
        )
    });
    assert!(
        same_pixels(&got, want),
        "{what}: {} holds wrong pixels",
        dataset.display()
    );
}

/// Checks a dataset path that does not exist: readers and the validator say so.
fn check_absent(dataset: &Path, validate: &Path, what: &str) {
    let info = run(Command::new(ome()).arg("info").arg(dataset));
    assert!(
        !info.status.success(),
        "{what}: ome info succeeded on a missing output"
    );
    let o = run(Command::new(validate).arg(dataset));
    assert!(
        !o.status.success(),
        "{what}: ome-validate passed a missing output"
    );
}

/// Times one full conversion, the window the kills are drawn from.
fn full_run(cmd: Command) -> Duration {
    let start = Instant::now();
    let mut cmd = cmd;
    let s = cmd.status().unwrap();
    assert!(s.success(), "the baseline conversion failed");
    start.elapsed()
}

#[test]
fn convert_to_ome_zarr_survives_sigkill() {
    let seed = seed();
    eprintln!("OME_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let validate = ome_validate();
    let npy = input_npy(dir, "big.npy", 0);
    let want = expected(&npy);
    let baseline = full_run(convert_cmd(&npy, &dir.join("baseline.ome.zarr"), &[]));
    eprintln!("baseline conversion: {baseline:?}");
    check_complete(
        &dir.join("baseline.ome.zarr"),
        &want,
        dir,
        &validate,
        "baseline",
    );
    // Kills fall inside the first 90 % of a baseline run; a machine that speeds up
    // later (the baseline ran under load) still sees most of them land mid-write.
    let window = baseline.mul_f64(0.9);
    let (mut finished, mut killed) = (0, 0);
    for i in 0..KILLS_ZARR {
        let out = dir.join(format!("out{i}.ome.zarr"));
        let at = rng.below(window);
        let what = format!("kill {i} at {at:?}");
        if kill_after(convert_cmd(&npy, &out, &[]), at) {
            finished += 1;
        } else {
            killed += 1;
        }
        if out.exists() {
            check_complete(&out, &want, dir, &validate, &what);
        } else {
            check_absent(&out, &validate, &what);
        }
        let _ = fs::remove_dir_all(&out);
    }
    eprintln!("{killed} killed mid-way, {finished} finished before the kill");
    assert!(
        killed >= KILLS_ZARR / 4,
        "too few kills landed mid-write ({killed})"
    );
}

#[test]
fn overwrite_keeps_the_old_dataset_until_the_new_one_is_complete() {
    let seed = seed() ^ 0x9E37_79B9_7F4A_7C15;
    eprintln!("OME_CRASH_SEED={seed} (xor 0x9E3779B97F4A7C15)");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let validate = ome_validate();
    let old_npy = input_npy(dir, "old.npy", 0x5555);
    let new_npy = input_npy(dir, "new.npy", 0);
    let (old, new) = (expected(&old_npy), expected(&new_npy));
    let target = dir.join("target.ome.zarr");
    assert!(
        convert_cmd(&old_npy, &target, &[])
            .status()
            .unwrap()
            .success()
    );

    // Without --overwrite: refused, naming the flag, and the old dataset untouched.
    let o = run(convert_cmd(&new_npy, &target, &[]).stderr(Stdio::piped()));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && msg.contains("--overwrite"), "{msg}");
    check_complete(&target, &old, dir, &validate, "refused overwrite");

    let baseline = {
        let copy = dir.join("timing.ome.zarr");
        assert!(
            convert_cmd(&old_npy, &copy, &[])
                .status()
                .unwrap()
                .success()
        );
        full_run(convert_cmd(&new_npy, &copy, &["--overwrite"]))
    };
    // Kills fall inside the first 90 % of a baseline run; a machine that speeds up
    // later (the baseline ran under load) still sees most of them land mid-write.
    let window = baseline.mul_f64(0.9);
    let mut killed = 0;
    for i in 0..KILLS_OVERWRITE {
        // Start each round from the old dataset.
        if pixels(&target, dir).ok().as_ref() != Some(&old) {
            let _ = fs::remove_dir_all(&target);
            assert!(
                convert_cmd(&old_npy, &target, &[])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let at = rng.below(window);
        let what = format!("overwrite kill {i} at {at:?}");
        if !kill_after(convert_cmd(&new_npy, &target, &["--overwrite"]), at) {
            killed += 1;
        }
        assert!(
            target.exists(),
            "{what}: the target vanished (the old dataset was moved aside before the new one was in place)"
        );
        let got = pixels(&target, dir).unwrap_or_else(|e| panic!("{what}: unreadable: {e}"));
        assert!(
            got == old || got == new,
            "{what}: neither the old nor the new pixels"
        );
        let expect = if got == old { &old } else { &new };
        check_complete(&target, expect, dir, &validate, &what);
    }
    eprintln!("{killed} of {KILLS_OVERWRITE} overwrites killed mid-way");
}

#[test]
fn convert_to_ome_tiff_survives_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let npy = input_npy(dir, "big.npy", 0);
    let zarr = dir.join("in.ome.zarr");
    assert!(convert_cmd(&npy, &zarr, &[]).status().unwrap().success());
    let probe = dir.join("probe.ome.tif");
    let o = run(Command::new(ome())
        .args(["convert", "--quiet"])
        .arg(&zarr)
        .arg(&probe));
    assert!(
        o.status.success(),
        "`ome convert x.ome.zarr y.ome.tif` failed: {}",
        String::from_utf8_lossy(&o.stderr).trim()
    );
    let seed = seed();
    eprintln!("OME_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let want = expected(&npy);
    // Every complete output, the probe included, must validate.
    let validate = ome_validate();
    check_complete(&probe, &want, dir, &validate, "tiff probe");
    let tiff_cmd = |out: &Path| {
        let mut c = Command::new(ome());
        c.args(["convert", "--quiet"])
            .arg(&zarr)
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let baseline = full_run(tiff_cmd(&dir.join("baseline.ome.tif")));
    check_complete(
        &dir.join("baseline.ome.tif"),
        &want,
        dir,
        &validate,
        "tiff baseline",
    );
    // Kills fall inside the first 90 % of a baseline run; a machine that speeds up
    // later (the baseline ran under load) still sees most of them land mid-write.
    let window = baseline.mul_f64(0.9);
    for i in 0..KILLS_TIFF {
        let out = dir.join(format!("out{i}.ome.tif"));
        let at = rng.below(window);
        let what = format!("tiff kill {i} at {at:?}");
        kill_after(tiff_cmd(&out), at);
        if out.exists() {
            check_complete(&out, &want, dir, &validate, &what);
        } else {
            check_absent(&out, &validate, &what);
        }
        let _ = fs::remove_file(&out);
    }
}
