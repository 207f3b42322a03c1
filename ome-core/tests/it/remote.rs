//! Remote reads through the HTTP store against a loopback server written here (Range
//! requests, HEAD, injected 503s and truncated bodies), so that `cargo test` covers the
//! remote path without Python. The interop suite tests the same against SeaweedFS (S3) and
//! its peers (`tests/interop/test_remote.py`).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ndarray::ArrayD;
use ome_core::storage::{RemoteOptions, set_remote_options};
use ome_core::{
    DynArray, ErrorKind, Image, ImageMetadata, Selection, WriteOptions, write_ome_zarr,
};

/// One request answered: (method, path, Range header, body bytes sent).
type Answered = (String, String, Option<String>, usize);

#[derive(Default)]
struct Faults {
    /// Answer this many requests with 503.
    fail_next: AtomicUsize,
    /// Paths whose body is cut in half (the announced length kept).
    truncate: Mutex<HashSet<String>>,
    /// A path whose bodies of ranges starting at or past an offset are cut in half.
    truncate_from: Mutex<Option<(String, u64)>>,
    requests: AtomicUsize,
    /// Milliseconds each answer waits (a distant server).
    delay_ms: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Every request answered: (method, path, Range header, body bytes sent).
    log: Mutex<Vec<Answered>>,
}

/// Counts a request in flight until dropped.
struct InFlight<'a>(&'a Faults);

impl<'a> InFlight<'a> {
    fn new(f: &'a Faults) -> Self {
        let now = f.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        f.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(f)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A static HTTP/1.1 server over `root` on 127.0.0.1, one thread per connection.
fn serve(root: PathBuf, faults: Arc<Faults>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (root, faults) = (root.clone(), Arc::clone(&faults));
            std::thread::spawn(move || {
                let _ = handle(stream, &root, &faults);
            });
        }
    });
    url
}

fn handle(stream: TcpStream, root: &Path, faults: &Faults) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("/").to_string(),
        );
        let mut range = None;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            if h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("range")
            {
                range = Some(v.trim().to_string());
            }
        }
        faults.requests.fetch_add(1, Ordering::SeqCst);
        let _counted = InFlight::new(faults);
        let delay = faults.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay as u64));
        }
        if faults
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            out.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        }
        let rel = path.trim_start_matches('/');
        let file = root.join(rel);
        let Ok(data) = std::fs::read(&file) else {
            out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        };
        let size = data.len();
        let (status, start, end) = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")) {
            Some(r) => {
                let (a, b) = r.split_once('-').unwrap();
                if a.is_empty() {
                    let n: usize = b.parse().unwrap();
                    ("206 Partial Content", size.saturating_sub(n), size)
                } else {
                    let s: usize = a.parse().unwrap();
                    let e = if b.is_empty() {
                        size
                    } else {
                        (b.parse::<usize>().unwrap() + 1).min(size)
                    };
                    ("206 Partial Content", s, e)
                }
            }
            None => ("200 OK", 0, size),
        };
        let body = &data[start..end];
        faults.log.lock().unwrap().push((
            method.clone(),
            rel.to_string(),
            range.clone(),
            if method == "HEAD" { 0 } else { body.len() },
        ));
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nETag: \"{size}\"\r\n",
            body.len()
        );
        if status.starts_with("206") {
            head.push_str(&format!(
                "Content-Range: bytes {start}-{}/{size}\r\n",
                end - 1
            ));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if method == "HEAD" {
            continue;
        }
        let cut_from = matches!(&*faults.truncate_from.lock().unwrap(),
            Some((p, from)) if p == rel && start as u64 >= *from);
        if cut_from || faults.truncate.lock().unwrap().contains(rel) {
            out.write_all(&body[..body.len() / 2])?;
            out.flush()?;
            return Ok(()); // the connection closes with the body short
        }
        out.write_all(body)?;
    }
}

/// Sets the process-wide remote options (few retries, a short timeout, no `AWS_*` from the
/// environment). This module shares its process with every other integration test of
/// ome-core (`tests/it/main.rs`), so what it sets must not change what they see: every test
/// here sets these same values, so the order the tests run in does not matter, and no other
/// module opens a remote address. The one value the options give local reads too, the size
/// of the remote read pool (`max_concurrency`, read at its first use, which a local region
/// read can be), is the default either way.
fn options() {
    let mut o = RemoteOptions::default();
    o.max_retries = 2;
    o.timeout = Duration::from_secs(10);
    set_remote_options(o);
}

fn dataset(dir: &Path) -> ArrayD<u16> {
    let data = ArrayD::from_shape_fn(vec![2, 4, 96, 80], |ix| {
        (ix[0] * 7 + ix[1] * 131 + ix[2] * 3 + ix[3] * 11) as u16
    });
    let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
    let mut opts = WriteOptions::default();
    opts.chunks = Some(vec![1, 2, 32, 32]);
    write_ome_zarr(dir.join("img.ome.zarr"), data.view(), &meta, &opts, None).unwrap();
    data
}

fn as_u16(a: DynArray) -> ArrayD<u16> {
    match a {
        DynArray::U16(a) => a,
        other => panic!("expected uint16, found {}", other.dtype()),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn http_reads_match_local_reads_and_survive_faults() {
    options();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path());
    let faults = Arc::new(Faults::default());
    let url = serve(dir.path().to_path_buf(), Arc::clone(&faults));
    let local = Image::open(dir.path().join("img.ome.zarr")).unwrap();
    let remote = Image::open(format!("{url}/img.ome.zarr")).unwrap();
    assert_eq!(remote.levels().len(), local.levels().len());
    for k in 0..local.levels().len() {
        let all = Selection::default();
        assert_eq!(
            as_u16(remote.read(k, &all).unwrap()),
            as_u16(local.read(k, &all).unwrap()),
            "level {k}"
        );
    }
    assert_eq!(as_u16(remote.read(0, &Selection::default()).unwrap()), data);

    // 503s are retried.
    faults.fail_next.store(2, Ordering::SeqCst);
    let again = Image::open(format!("{url}/img.ome.zarr")).unwrap();
    assert_eq!(as_u16(again.read(0, &Selection::default()).unwrap()), data);

    // A truncated body is an error naming the key, never a short or zero-filled chunk.
    let key = "img.ome.zarr/0/c/1/0/0/0";
    assert!(dir.path().join(key).is_file(), "{key} was not written");
    faults.truncate.lock().unwrap().insert(key.to_string());
    let fresh = Image::open(format!("{url}/img.ome.zarr")).unwrap();
    let e = fresh.read(0, &Selection::default()).unwrap_err();
    assert!(e.to_string().contains("0/c/1/0/0/0"), "{e}");
    faults.truncate.lock().unwrap().clear();

    // A missing dataset is a format error naming it; plain HTTP cannot list.
    let e = Image::open(format!("{url}/nothing.ome.zarr")).unwrap_err();
    assert!(e.to_string().contains("nothing.ome.zarr"), "{e}");
    // A bioformats2raw container without OME/ series names needs a listing, which plain
    // HTTP does not offer: a clear error, where the local store lists.
    let container = dir.path().join("c.ome.zarr");
    std::fs::create_dir_all(container.join("0")).unwrap();
    for name in ["zarr.json", "0"] {
        let from = dir.path().join("img.ome.zarr").join(name);
        if from.is_dir() {
            copy_dir(&from, &container.join("0").join("0"));
        } else {
            std::fs::copy(&from, container.join("0").join(name)).unwrap();
        }
    }
    std::fs::write(
        container.join("zarr.json"),
        br#"{"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "bioformats2raw.layout": 3}}}"#,
    )
    .unwrap();
    let local = ome_core::zarr::OmeZarr::open(&container).unwrap();
    assert_eq!(local.series().unwrap(), vec!["0".to_string()]);
    let z = ome_core::zarr::OmeZarr::open(format!("{url}/c.ome.zarr")).unwrap();
    assert!(faults.requests.load(Ordering::SeqCst) > 0);
    let e = z.series().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

#[test]
fn http_is_read_only() {
    options();
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let url = serve(dir.path().to_path_buf(), faults);
    let data = ArrayD::<u8>::zeros(vec![8, 8]);
    let meta = ImageMetadata::from_axis_letters("yx").unwrap();
    let e = write_ome_zarr(
        format!("{url}/new.ome.zarr"),
        data.view(),
        &meta,
        &WriteOptions::default(),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("read only"), "{e}");
    // .npy is read from local files only: a clear error, no request.
    let e = Image::open(format!("{url}/x.npy")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

/// An OME-TIFF over HTTP reads like the local file (every level, a region across tiles),
/// by byte ranges: the IFDs from cached pages, the tiles of a region fetched at once with
/// many requests in flight. A tile whose body arrives cut short is an error naming the
/// file and the IFD, never a wrong pixel; a missing file is an error naming it.
#[test]
fn ome_tiff_over_http_reads_like_the_local_file() {
    use ome_core::ArraySource;
    use ome_core::tiff::{TiffWriteOptions, write_ome_tiff};
    options();
    let dir = tempfile::tempdir().unwrap();
    let data = ArrayD::<u16>::from_shape_fn(vec![1, 2, 3, 300, 260], |ix| {
        (ix[1] * 20011 + ix[2] * 7919 + ix[3] * 263 + ix[4] * 5) as u16
    });
    let meta = ImageMetadata::default_for_ndim(5).unwrap();
    let mut o = TiffWriteOptions::default();
    o.tile = (64, 64);
    o.levels = Some(3);
    write_ome_tiff(
        dir.path().join("img.ome.tif"),
        &ArraySource::new(data.view()),
        &meta,
        &o,
    )
    .unwrap();
    let faults = Arc::new(Faults::default());
    let url = serve(dir.path().to_path_buf(), Arc::clone(&faults));
    let local = Image::open(dir.path().join("img.ome.tif")).unwrap();
    let remote = Image::open(format!("{url}/img.ome.tif")).unwrap();
    let opened = faults.requests.load(Ordering::SeqCst);
    assert_eq!(remote.levels().len(), 3);
    for k in 0..3 {
        let all = Selection::default();
        assert_eq!(
            as_u16(remote.read(k, &all).unwrap()),
            as_u16(local.read(k, &all).unwrap()),
            "level {k}"
        );
    }
    assert_eq!(as_u16(remote.read(0, &Selection::default()).unwrap()), data);
    let region: Selection = "c=1,z=1:3,y=70:250,x=10:200".parse().unwrap();
    assert_eq!(
        as_u16(remote.read(0, &region).unwrap()),
        as_u16(local.read(0, &region).unwrap())
    );
    // 6 planes of 5 x 5 tiles at level 0 (and fewer below): the pages of IFDs and tag
    // values are fetched once, so opening took a few requests, not one per tag.
    assert!(opened <= 24, "{opened} requests to open the file");

    // The tiles of a region are fetched at once: close tiles merge into requests of at
    // most 8 MiB, which are in flight together. 48 MiB of uncompressed tiles, 20 ms per
    // answer: at least 6 requests, several in flight.
    let big = ArrayD::<u16>::from_shape_fn(vec![1, 1, 12, 1024, 2048], |ix| {
        ((ix[2] * 2_654_435_761 + ix[3] * 40_503 + ix[4] * 9_973) % 65_521) as u16
    });
    let mut o = TiffWriteOptions::default();
    o.compression = ome_core::tiff::TiffCompression::None;
    o.levels = Some(1);
    write_ome_tiff(
        dir.path().join("big.ome.tif"),
        &ArraySource::new(big.view()),
        &meta,
        &o,
    )
    .unwrap();
    faults.delay_ms.store(20, Ordering::SeqCst);
    let slow = Image::open(format!("{url}/big.ome.tif")).unwrap();
    faults.max_in_flight.store(0, Ordering::SeqCst);
    let before = faults.requests.load(Ordering::SeqCst);
    assert_eq!(as_u16(slow.read(0, &Selection::default()).unwrap()), big);
    let (most, made) = (
        faults.max_in_flight.load(Ordering::SeqCst),
        faults.requests.load(Ordering::SeqCst) - before,
    );
    assert!(made >= 6, "{made} requests for 48 MiB");
    assert!(most >= 3, "at most {most} requests in flight");
    faults.delay_ms.store(0, Ordering::SeqCst);
    // 48 MiB are two batches: the second is fetched while the first decodes. Bodies of
    // the file's last quarter cut short: the fetch ahead fails, and the read is an error
    // naming the file once the first batch is decoded, never a wrong pixel or a hang.
    let size = std::fs::metadata(dir.path().join("big.ome.tif"))
        .unwrap()
        .len();
    *faults.truncate_from.lock().unwrap() = Some(("big.ome.tif".to_string(), size * 3 / 4));
    let e = slow.read(0, &Selection::default()).unwrap_err();
    assert!(e.to_string().contains("big.ome.tif"), "{e}");
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    *faults.truncate_from.lock().unwrap() = None;
    assert_eq!(as_u16(slow.read(0, &Selection::default()).unwrap()), big);

    // Bodies cut short (the client sees fewer bytes than announced): an error naming the
    // file, not a wrong pixel. (The S3 fault test cuts only tile bodies.)
    faults
        .truncate
        .lock()
        .unwrap()
        .insert("img.ome.tif".to_string());
    let cut = Image::open(format!("{url}/img.ome.tif"));
    let e = match cut {
        Ok(img) => img.read(0, &Selection::default()).unwrap_err(),
        Err(e) => e,
    };
    assert!(e.to_string().contains("img.ome.tif"), "{e}");
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    faults.truncate.lock().unwrap().clear();

    let e = Image::open(format!("{url}/none.ome.tif")).unwrap_err();
    assert!(e.to_string().contains("none.ome.tif"), "{e}");
}

/// HTTPS goes through rustls with the ring provider (no aws-lc): against a loopback port
/// that answers a TLS ClientHello with garbage, the client must have sent a ClientHello
/// (a TLS handshake record, first byte 0x16) and fail with an error naming the address,
/// not panic for want of a crypto provider.
#[test]
fn https_speaks_tls_and_a_failed_handshake_is_an_error() {
    options();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hellos = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hellos);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut s = stream;
            let mut first = [0u8; 1];
            if std::io::Read::read_exact(&mut s, &mut first).is_ok() && first[0] == 0x16 {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            let _ = s.write_all(b"HTTP/1.1 400 not tls\r\n\r\n");
        }
    });
    let url = format!("https://127.0.0.1:{port}/x.ome.zarr");
    let e = Image::open(&url).unwrap_err();
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    assert!(
        hellos.load(Ordering::SeqCst) >= 1,
        "no TLS ClientHello reached the server: {e}"
    );
}

/// A region that needs many chunks keeps many requests in flight (the remote store says it
/// is remote, so the chunks are fetched ahead, concurrently), not one per core; and the
/// pixels are those of the local read.
#[test]
fn many_chunks_are_fetched_concurrently() {
    options();
    let dir = tempfile::tempdir().unwrap();
    let data = ArrayD::from_shape_fn(vec![1, 256, 256], |ix| (ix[1] * 256 + ix[2]) as u16);
    let meta = ImageMetadata::from_axis_letters("zyx").unwrap();
    let mut opts = WriteOptions::default();
    opts.chunks = Some(vec![1, 32, 32]);
    opts.levels = ome_core::pyramid::LevelCount::Exactly(1);
    write_ome_zarr(
        dir.path().join("many.ome.zarr"),
        data.view(),
        &meta,
        &opts,
        None,
    )
    .unwrap();
    let faults = Arc::new(Faults::default());
    let url = serve(dir.path().to_path_buf(), Arc::clone(&faults));
    let image = Image::open(format!("{url}/many.ome.zarr")).unwrap();
    faults.delay_ms.store(50, Ordering::SeqCst);
    let before = faults.requests.load(Ordering::SeqCst);
    assert_eq!(as_u16(image.read(0, &Selection::default()).unwrap()), data);
    let made = faults.requests.load(Ordering::SeqCst) - before;
    assert_eq!(made, 64, "one request per chunk");
    let most = faults.max_in_flight.load(Ordering::SeqCst);
    assert!(
        most >= 16,
        "expected many of the 64 chunk requests in flight at once, found at most {most}"
    );
}

/// A viewer's tiles of a deep Blosc chunk: the first read of the chunk fetches it whole, in
/// one request; every later tile of it fetches only the blocks it touches (one ranged
/// request, a fraction of the chunk's bytes), from the block table kept from that first
/// read. The pixels are those of the local read.
#[test]
fn later_tiles_of_a_blosc_chunk_fetch_only_their_blocks() {
    options();
    let dir = tempfile::tempdir().unwrap();
    let shape = vec![16usize, 256, 256];
    // Noise-like values: each 32 KiB Blosc block compresses to a few KiB, not to nothing.
    let data = ArrayD::from_shape_fn(shape.clone(), |ix| {
        let h = (ix[0] * 65_536 + ix[1] * 256 + ix[2]) as u64;
        let h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52;
        (100 + h + (ix[1] as u64 / 8)) as u16
    });
    let meta = ImageMetadata::from_axis_letters("zyx").unwrap();
    let mut opts = WriteOptions::default();
    opts.chunks = Some(vec![16, 256, 256]);
    opts.compression = "blosc-zstd:1:shuffle".parse().unwrap();
    opts.levels = ome_core::pyramid::LevelCount::Exactly(1);
    write_ome_zarr(
        dir.path().join("deep.ome.zarr"),
        data.view(),
        &meta,
        &opts,
        None,
    )
    .unwrap();
    let chunk_key = "deep.ome.zarr/0/c/0/0/0";
    let chunk_len = std::fs::metadata(dir.path().join(chunk_key)).unwrap().len() as usize;
    let faults = Arc::new(Faults::default());
    let url = serve(dir.path().to_path_buf(), Arc::clone(&faults));
    let image = Image::open(format!("{url}/deep.ome.zarr")).unwrap();
    let local = Image::open(dir.path().join("deep.ome.zarr")).unwrap();
    let chunk_requests = |from: usize| -> Vec<(Option<String>, usize)> {
        faults.log.lock().unwrap()[from..]
            .iter()
            .filter(|(_, path, _, _)| path == chunk_key)
            .map(|(_, _, range, n)| (range.clone(), *n))
            .collect()
    };
    let tiles: [([u64; 3], [u64; 3]); 4] = [
        ([3, 0, 0], [1, 256, 256]),
        ([9, 0, 0], [1, 256, 256]),
        ([15, 0, 0], [1, 256, 256]),
        ([5, 10, 3], [1, 40, 197]),
    ];
    for (k, (start, size)) in tiles.iter().enumerate() {
        let before = faults.log.lock().unwrap().len();
        let got = as_u16(image.read_region(0, start, size).unwrap());
        assert_eq!(
            got,
            as_u16(local.read_region(0, start, size).unwrap()),
            "tile {k}"
        );
        let made = chunk_requests(before);
        assert_eq!(
            made.len(),
            1,
            "tile {k}: expected one request, found {made:?}"
        );
        let (range, bytes) = &made[0];
        if k == 0 {
            assert_eq!(range, &None, "the first read fetches the chunk whole");
            assert_eq!(*bytes, chunk_len);
        } else {
            assert!(range.is_some(), "tile {k}: expected a ranged request");
            assert!(
                *bytes * 4 < chunk_len,
                "tile {k}: expected a fraction of the chunk's {chunk_len} bytes, fetched {bytes}"
            );
        }
    }
    // A region of the chunk too big for the block path still reads right.
    let half = as_u16(image.read_region(0, &[0, 0, 0], &[16, 256, 256]).unwrap());
    assert_eq!(half, data);
}

/// A remote read of most of several shards of Blosc inner chunks fetches each shard whole, in
/// one request (all at once; the index comes with it: one round trip, as tensorstore does),
/// and decodes its inner chunks straight into the output; a later tile fetches only its
/// inner chunk, by range (the index was kept). The pixels are those of the local read.
#[test]
fn shards_are_read_whole_and_tiles_by_their_inner_chunk() {
    options();
    let dir = tempfile::tempdir().unwrap();
    let shape = vec![8usize, 512, 1024];
    let data = ArrayD::from_shape_fn(shape.clone(), |ix| {
        // splitmix64's finaliser: noise that Blosc cannot squeeze much.
        let mut h = (ix[0] * 524_288 + ix[1] * 1024 + ix[2]) as u64;
        h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        (h ^ (h >> 33)) as u16
    });
    let meta = ImageMetadata::from_axis_letters("zyx").unwrap();
    let mut opts = WriteOptions::default();
    opts.chunks = Some(vec![1, 128, 128]);
    opts.shards = Some(vec![8, 512, 512]);
    opts.compression = "blosc-zstd:1:shuffle".parse().unwrap();
    opts.levels = ome_core::pyramid::LevelCount::Exactly(1);
    write_ome_zarr(
        dir.path().join("sharded.ome.zarr"),
        data.view(),
        &meta,
        &opts,
        None,
    )
    .unwrap();
    let shard_keys = ["sharded.ome.zarr/0/c/0/0/0", "sharded.ome.zarr/0/c/0/0/1"];
    let shard_len = std::fs::metadata(dir.path().join(shard_keys[0]))
        .unwrap()
        .len() as usize;
    assert!(
        shard_len > 2 << 20,
        "expected shards of several groups, found {shard_len} bytes"
    );
    let faults = Arc::new(Faults::default());
    let url = serve(dir.path().to_path_buf(), Arc::clone(&faults));
    let image = Image::open(format!("{url}/sharded.ome.zarr")).unwrap();
    let local = Image::open(dir.path().join("sharded.ome.zarr")).unwrap();
    let shard_requests = |from: usize| -> Vec<(String, Option<String>, usize)> {
        faults.log.lock().unwrap()[from..]
            .iter()
            .filter(|(method, path, _, _)| method == "GET" && shard_keys.contains(&path.as_str()))
            .map(|(_, path, range, n)| (path.clone(), range.clone(), *n))
            .collect()
    };
    let before = faults.log.lock().unwrap().len();
    assert_eq!(as_u16(image.read(0, &Selection::default()).unwrap()), data);
    let made = shard_requests(before);
    for key in shard_keys {
        let len = std::fs::metadata(dir.path().join(key)).unwrap().len() as usize;
        let of_key: Vec<_> = made.iter().filter(|(p, _, _)| p == key).collect();
        assert_eq!(
            of_key,
            [&(key.to_string(), None, len)],
            "{key}: expected one whole-shard request"
        );
    }
    // A tile: one inner chunk, one request (the index is kept).
    let before = faults.log.lock().unwrap().len();
    let (start, size) = ([5u64, 130, 700], [1u64, 100, 90]);
    assert_eq!(
        as_u16(image.read_region(0, &start, &size).unwrap()),
        as_u16(local.read_region(0, &start, &size).unwrap())
    );
    let made = shard_requests(before);
    assert_eq!(
        made.len(),
        1,
        "expected one request for the tile, found {made:?}"
    );
    assert!(
        made[0].2 < shard_len / 16,
        "expected one inner chunk's bytes, found {made:?}"
    );
}
