//! Where datasets live: one trait for reading the keys of a dataset ([`KeyRead`]), with the
//! local filesystem ([`fs::RootedStore`]) and, behind the default feature `remote`, HTTP(S)
//! servers and S3-compatible object stores ([`remote::RemoteStore`], on `object_store`) as
//! its implementations. The format adapters (`zarr/`) read through it and never know which
//! one they have.
//!
//! The security rules hold for every store: keys are relative paths that never leave the
//! dataset root (the filesystem store also refuses links out of it, FIFOs and dangling
//! links), every whole read is bounded by a size given by the caller, and a range read
//! returns exactly the bytes asked for or an error naming the key (a truncated body is an
//! error, never a short chunk).
//!
//! Addresses: a local path, `http://` / `https://` URLs (read only; plain HTTP cannot list,
//! so hierarchies are discovered from their metadata alone), and `s3://bucket/prefix`
//! (read and write). How remote stores are reached (endpoint, credentials, anonymous
//! requests, concurrency, timeouts, retries) is [`RemoteOptions`], read from the usual
//! `AWS_*` environment variables and overridable by front ends ([`set_remote_options`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use crate::location::Location;

use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{Bytes, StorageError};

pub(crate) mod fs;
#[cfg(feature = "remote")]
pub(crate) mod remote;
mod scratch;
mod source;
pub(crate) use scratch::Scratch;
pub use source::ByteSource;
pub(crate) use source::SourceStore;

/// Where a dataset is: a local path or a remote URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// A path on the local filesystem.
    Local(PathBuf),
    /// An `http://` or `https://` URL (read only), without a trailing slash.
    Http(String),
    /// An object store prefix `s3://bucket/prefix` (read and write).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix inside the bucket, without leading or trailing slashes
        /// (empty for the bucket's root).
        prefix: String,
    },
}

impl Address {
    /// Reads a path or URL as given by a user: `s3://`, `http://` and `https://` are remote,
    /// anything else is a local path.
    pub fn parse(s: &str) -> Address {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if let Some(rest) = strip_scheme(s, &lower, "s3://") {
            let rest = rest.trim_matches('/');
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            return Address::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            };
        }
        if strip_scheme(s, &lower, "http://").is_some()
            || strip_scheme(s, &lower, "https://").is_some()
        {
            return Address::Http(s.trim_end_matches('/').to_string());
        }
        Address::Local(PathBuf::from(s))
    }

    /// [`Address::parse`] of a path whose text may be a URL (`Path::new("s3://b/x")`).
    pub fn of_path(path: &Path) -> Address {
        match path.to_str() {
            Some(s) => Address::parse(s),
            None => Address::Local(path.to_path_buf()),
        }
    }

    /// Whether the dataset is on a remote store.
    pub fn is_remote(&self) -> bool {
        !matches!(self, Address::Local(_))
    }

    /// The address as a path, for messages and [`crate::Location`]s (a URL stays its text).
    pub fn display_path(&self) -> PathBuf {
        match self {
            Address::Local(p) => p.clone(),
            other => PathBuf::from(other.to_string()),
        }
    }

    /// The last segment of the address (`img.ome.zarr`), if any.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Address::Local(p) => p.file_name().and_then(|n| n.to_str()).map(str::to_string),
            Address::Http(u) => u.rsplit('/').next().map(str::to_string),
            Address::S3 { prefix, .. } => prefix.rsplit('/').next().map(str::to_string),
        }
        .filter(|n| !n.is_empty())
    }
}

fn strip_scheme<'a>(s: &'a str, lower: &str, scheme: &str) -> Option<&'a str> {
    lower.starts_with(scheme).then(|| &s[scheme.len()..])
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Local(p) => write!(f, "{}", p.display()),
            Address::Http(u) => f.write_str(u),
            Address::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Address::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// How remote stores are reached. The defaults come from the environment
/// ([`RemoteOptions::from_env`]); front ends override them from their flags
/// (`--endpoint`, `--anonymous`) with [`set_remote_options`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// The S3 endpoint for S3-compatible servers (`http://127.0.0.1:8333`), addressed
    /// path-style (`endpoint/bucket/key`); `None` for AWS itself. Env: `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, `AWS_ENDPOINT`.
    pub endpoint: Option<String>,
    /// The S3 region. Env: `AWS_REGION`, `AWS_DEFAULT_REGION`; default `us-east-1`.
    pub region: Option<String>,
    /// Unsigned requests even when credentials are set (public buckets). Requests are also
    /// unsigned when no credentials are set (`AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`). Env: `AWS_NO_SIGN_REQUEST=true`.
    pub anonymous: bool,
    /// Most requests in flight for one read or write call (byte ranges of one chunk or
    /// shard, objects of one upload).
    pub max_concurrency: usize,
    /// Time allowed for one request, including its body.
    pub timeout: Duration,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Retries of one request on 5xx, 429 / 503 SlowDown, timeouts and connection resets,
    /// with exponential backoff and jitter.
    pub max_retries: usize,
    /// Byte ranges of one object closer than this are fetched as one request.
    pub coalesce_bytes: u64,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            endpoint: None,
            region: None,
            anonymous: false,
            max_concurrency: 32,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 6,
            coalesce_bytes: 1 << 20,
        }
    }
}

impl RemoteOptions {
    /// The defaults with the endpoint, region and `AWS_NO_SIGN_REQUEST` of the environment.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        RemoteOptions {
            endpoint: var("AWS_ENDPOINT_URL_S3")
                .or_else(|| var("AWS_ENDPOINT_URL"))
                .or_else(|| var("AWS_ENDPOINT")),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            anonymous: var("AWS_NO_SIGN_REQUEST")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes")),
            ..RemoteOptions::default()
        }
    }
}

fn options_cell() -> &'static RwLock<Option<RemoteOptions>> {
    static CELL: OnceLock<RwLock<Option<RemoteOptions>>> = OnceLock::new();
    CELL.get_or_init(|| RwLock::new(None))
}

/// Sets the options every later remote open of this process uses (front ends call it once
/// with their flags).
pub fn set_remote_options(options: RemoteOptions) {
    if let Ok(mut slot) = options_cell().write() {
        *slot = Some(options);
    }
}

/// The options remote opens use now: those set with [`set_remote_options`], else
/// [`RemoteOptions::from_env`].
pub fn remote_options() -> RemoteOptions {
    options_cell()
        .read()
        .ok()
        .and_then(|o| o.clone())
        .unwrap_or_else(RemoteOptions::from_env)
}

/// What identifies one version of a stored value, for caches keyed by it.
pub(crate) type Stamp = (u64, u64, Option<std::time::SystemTime>);

/// The size and version of a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) len: u64,
    pub(crate) stamp: Stamp,
}

/// A whole value read with a size bound.
#[derive(Debug)]
pub(crate) enum Got {
    /// No such key.
    Absent,
    /// The value.
    Bytes(Bytes),
    /// The value is larger than the bound: its size (nothing more was read).
    TooBig(u64),
}

/// Reading the keys of one dataset (keys are `/`-separated paths relative to its root).
pub(crate) trait KeyRead: fmt::Debug + Send + Sync {
    /// The size and version of `key`, or `None` when there is no such key.
    fn head(&self, key: &str) -> Result<Option<Head>, StorageError>;
    /// Reads `ranges` of `key`, whose [`KeyRead::head`] was `head`: exactly the bytes of
    /// each range, or an error naming the key (a range outside the value, a value that
    /// changed, a truncated body); `None` when the key is gone.
    fn read_ranges(
        &self,
        key: &str,
        head: &Head,
        ranges: &[ByteRange],
    ) -> Result<Option<Vec<Bytes>>, StorageError>;
    /// The whole value of `key` when it has at most `max` bytes.
    fn get_bounded(&self, key: &str, max: u64) -> Result<Got, StorageError>;
    /// The names of the child prefixes ("directories") of `prefix` (`""` for the root),
    /// at most `max + 1` of them; `None` where the store cannot list (plain HTTP).
    fn list_dirs(&self, prefix: &str, max: usize) -> Result<Option<Vec<String>>, StorageError>;
    /// Every key below `prefix` (`""` for the root; keys relative to the dataset root), at
    /// most `max + 1` of them; `None` where the store cannot list (plain HTTP). Local
    /// datasets are walked by their callers; the default is `None`.
    fn list_keys_below(
        &self,
        prefix: &str,
        max: usize,
    ) -> Result<Option<Vec<String>>, StorageError> {
        let _ = (prefix, max);
        Ok(None)
    }
    /// Whether reads wait on a network: region reads then keep many requests in flight
    /// ([`io_pool`]) instead of one per core.
    fn is_remote(&self) -> bool {
        false
    }
    /// Fetches the whole values of `keys` (distinct; each at most `max` bytes; larger ones
    /// and failures are left to the reads that follow, which report them) with many
    /// requests in flight, and serves the reads of those keys from memory until
    /// [`KeyRead::release`] of the same keys. `ready(i)` is called as soon as the value of
    /// `keys[i]` is held, or its fetch ended without one, so that the caller can decode it
    /// while the other fetches are in flight; once `ready` returns false no further fetch
    /// starts. Returns when every fetch started has ended. For stores where a request
    /// costs a round trip; elsewhere nothing is fetched and every key is ready at once.
    /// Calls nest: a value stays while any prefetch holds it.
    fn prefetch_each(&self, keys: &[String], max: u64, ready: &(dyn Fn(usize) -> bool + Sync)) {
        let _ = max;
        for i in 0..keys.len() {
            if !ready(i) {
                break;
            }
        }
    }
    /// Ends a [`KeyRead::prefetch_each`] of `keys`.
    fn release(&self, keys: &[String]) {
        let _ = keys;
    }
}

/// Values fetched ahead and held while any of their holders needs them: the prefetches of
/// [`KeyRead::prefetch_each`] (by key) and of a remote TIFF's tiles (by byte span). Holds nest:
/// each [`Holds::hold`] or [`Holds::insert`] of a key is ended by one [`Holds::release`].
#[derive(Debug)]
pub(crate) struct Holds<K, V>(std::sync::Mutex<std::collections::HashMap<K, (V, usize)>>);

impl<K: Eq + std::hash::Hash + Clone, V: Clone> Holds<K, V> {
    pub(crate) fn new() -> Self {
        Holds(std::sync::Mutex::new(std::collections::HashMap::new()))
    }

    /// The value held for `key`.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.0.lock().ok()?.get(key).map(|(v, _)| v.clone())
    }

    /// Holds the keys that are held already once more; returns the others, each once, for
    /// the caller to fetch and [`Holds::insert`].
    pub(crate) fn hold(&self, keys: &[K]) -> Vec<K> {
        let mut todo: Vec<K> = Vec::new();
        if let Ok(mut held) = self.0.lock() {
            for k in keys {
                match held.get_mut(k) {
                    Some((_, n)) => *n += 1,
                    None if !todo.contains(k) => todo.push(k.clone()),
                    None => {}
                }
            }
        }
        todo
    }

    /// Holds `value` for `key` (once more, if another holder inserted it meanwhile).
    pub(crate) fn insert(&self, key: K, value: V) {
        if let Ok(mut held) = self.0.lock() {
            held.entry(key)
                .and_modify(|(_, n)| *n += 1)
                .or_insert((value, 1));
        }
    }

    /// Ends one hold of each of `keys`; a value no longer held is dropped.
    pub(crate) fn release(&self, keys: &[K]) {
        if let Ok(mut held) = self.0.lock() {
            for k in keys {
                if let Some((_, n)) = held.get_mut(k) {
                    *n -= 1;
                    if *n == 0 {
                        held.remove(k);
                    }
                }
            }
        }
    }
}

/// The threads that read regions of remote arrays: one blocking request each, so as many
/// as [`RemoteOptions::max_concurrency`] (read at first use) requests are in flight while
/// the chunks that arrived decode. `None` when the pool cannot be built (reads then run on
/// the global pool).
pub(crate) fn io_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = remote_options().max_concurrency.clamp(1, 256);
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("ome-remote-read-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// A byte range of a value of `len` bytes as `start..end`, or `None` when it does not lie
/// inside the value (computed without overflow, unlike `ByteRange::to_range`).
pub(crate) fn range_in(range: &ByteRange, len: u64) -> Option<(u64, u64)> {
    match *range {
        ByteRange::FromStart(offset, None) => (offset <= len).then_some((offset, len)),
        ByteRange::FromStart(offset, Some(n)) => {
            let end = offset.checked_add(n)?;
            (end <= len).then_some((offset, end))
        }
        ByteRange::Suffix(n) => Some((len.checked_sub(n)?, len)),
    }
}

/// Describes a byte range for messages.
pub(crate) fn describe_range(range: &ByteRange) -> String {
    match *range {
        ByteRange::FromStart(offset, None) => format!("bytes {offset}.."),
        ByteRange::FromStart(offset, Some(n)) => format!("{n} bytes at offset {offset}"),
        ByteRange::Suffix(n) => format!("the last {n} bytes"),
    }
}

/// The error for a range outside a value.
pub(crate) fn outside(key: &str, len: u64, range: &ByteRange) -> StorageError {
    StorageError::Other(format!(
        "{key}: expected a byte range inside the value of {len} bytes, found {}",
        describe_range(range)
    ))
}

/// The most bytes one merged request spans: larger reads (a whole level of a TIFF, many
/// inner chunks of a shard) go as several requests in flight at once rather than one
/// long one. A single range larger than this stays one request.
#[cfg(feature = "remote")]
const MAX_MERGED: u64 = 8 << 20;

/// Merges the non-empty ranges `spans` (start, end) whose gaps are at most `gap` bytes,
/// up to [`MAX_MERGED`] bytes per request: the requests to make, each with the indexes of
/// the spans it covers.
#[cfg(feature = "remote")]
pub(crate) fn coalesce(spans: &[(u64, u64)], gap: u64) -> Vec<((u64, u64), Vec<usize>)> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i]);
    let mut out: Vec<((u64, u64), Vec<usize>)> = Vec::new();
    for i in order {
        let (s, e) = spans[i];
        match out.last_mut() {
            Some(((start, end), members))
                if s <= end.saturating_add(gap)
                    && (*end).max(e).saturating_sub(*start) <= MAX_MERGED =>
            {
                *end = (*end).max(e);
                members.push(i);
            }
            _ => out.push(((s, e), vec![i])),
        }
    }
    out
}

/// Opens the store of a dataset address.
///
/// # Errors
/// A usage error for a remote address when the feature `remote` is off; storage errors of
/// the remote client's set-up.
pub(crate) fn open_remote(address: &Address) -> crate::Result<std::sync::Arc<dyn KeyRead>> {
    #[cfg(feature = "remote")]
    {
        Ok(std::sync::Arc::new(remote::RemoteStore::open(
            address,
            &remote_options(),
        )?))
    }
    #[cfg(not(feature = "remote"))]
    {
        Err(crate::Error::usage(format!(
            "{address}: this build of ome-core has no remote stores (feature \"remote\")"
        )))
    }
}

/// The store of the folder of a remote file and the file's key in it: `https://h/d/f.tif`
/// is key `f.tif` of `https://h/d`, `s3://b/d/f.tif` key `f.tif` of `s3://b/d`.
///
/// # Errors
/// A usage error for an address that names no file (a bucket, a host), or when remote
/// stores are not built in; storage errors of the client's set-up.
pub(crate) fn open_remote_file(
    address: &Address,
) -> crate::Result<(std::sync::Arc<dyn KeyRead>, String)> {
    let no_file = || {
        crate::Error::usage(format!(
            "expected the address of a file (…/NAME), found {address}"
        ))
    };
    let (folder, name) = match address {
        Address::Local(_) => {
            return Err(crate::Error::usage(format!(
                "expected a remote address, found the local path {address}"
            )));
        }
        Address::Http(url) => {
            let after_scheme = url.find("://").map_or(0, |i| i + 3);
            let (folder, name) = url.rsplit_once('/').ok_or_else(no_file)?;
            if folder.len() < after_scheme || name.is_empty() {
                return Err(no_file());
            }
            (Address::Http(folder.to_string()), name.to_string())
        }
        Address::S3 { bucket, prefix } => {
            let (folder, name) = prefix.rsplit_once('/').unwrap_or(("", prefix.as_str()));
            if name.is_empty() {
                return Err(no_file());
            }
            (
                Address::S3 {
                    bucket: bucket.clone(),
                    prefix: folder.to_string(),
                },
                name.to_string(),
            )
        }
    };
    Ok((open_remote(&folder)?, name))
}

/// The first `n` bytes of the file at `path` (fewer when the file is shorter), local or
/// remote.
///
/// # Errors
/// Storage errors naming the file (absent, unreadable, not a regular file).
pub fn read_file_head(path: &Path, n: u64) -> crate::Result<Vec<u8>> {
    let address = Address::of_path(path);
    if !address.is_remote() {
        use std::io::Read;
        let file =
            crate::open_regular(path).map_err(|e| crate::Error::io(Location::file(path), e))?;
        let mut head = Vec::new();
        file.take(n)
            .read_to_end(&mut head)
            .map_err(|e| crate::Error::io(Location::file(path), e))?;
        return Ok(head);
    }
    let (store, key) = open_remote_file(&address)?;
    let fail = |e: StorageError| crate::Error::storage(Location::file(path), e.to_string());
    let head = store
        .head(&key)
        .map_err(fail)?
        .ok_or_else(|| absent(path))?;
    let range = ByteRange::FromStart(0, Some(n.min(head.len)));
    let got = store
        .read_ranges(&key, &head, &[range])
        .map_err(fail)?
        .ok_or_else(|| absent(path))?;
    Ok(got
        .into_iter()
        .next()
        .map(|b| b.to_vec())
        .unwrap_or_default())
}

/// The whole file at `path`, local or remote, when it has at most `max` bytes.
///
/// # Errors
/// A limits error when the file is larger than `max` (nothing more than `max + 1` bytes is
/// read); storage errors naming the file.
pub fn read_file(path: &Path, max: u64) -> crate::Result<Vec<u8>> {
    let too_big = || {
        crate::Error::limits(
            Location::file(path),
            format!("expected a file of at most {max} bytes, found a larger one"),
        )
    };
    let address = Address::of_path(path);
    if !address.is_remote() {
        use std::io::Read;
        let file =
            crate::open_regular(path).map_err(|e| crate::Error::io(Location::file(path), e))?;
        let mut buf = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| crate::Error::io(Location::file(path), e))?;
        if buf.len() as u64 > max {
            return Err(too_big());
        }
        return Ok(buf);
    }
    let (store, key) = open_remote_file(&address)?;
    match store
        .get_bounded(&key, max)
        .map_err(|e| crate::Error::storage(Location::file(path), e.to_string()))?
    {
        Got::Bytes(b) => Ok(b.to_vec()),
        Got::TooBig(_) => Err(too_big()),
        Got::Absent => Err(absent(path)),
    }
}

fn absent(path: &Path) -> crate::Error {
    crate::Error::storage(
        Location::file(path),
        format!("{}: no such file", path.display()),
    )
}

/// Refuses an existing remote output unless `overwrite` (see `remote::check_target`).
///
/// # Errors
/// A usage error when the output exists, or when remote stores are not built in.
pub(crate) fn check_remote_target(
    address: &Address,
    overwrite: bool,
    dir: bool,
) -> crate::Result<()> {
    #[cfg(feature = "remote")]
    {
        remote::check_target(address, overwrite, dir)
    }
    #[cfg(not(feature = "remote"))]
    {
        let _ = (overwrite, dir);
        Err(crate::Error::usage(format!(
            "{address}: this build of ome-core has no remote stores (feature \"remote\")"
        )))
    }
}

/// Uploads a finished local output to a remote address (see `remote::upload`).
///
/// # Errors
/// As [`check_remote_target`], and storage errors of the upload.
pub(crate) fn upload(
    local: &Path,
    address: &Address,
    overwrite: bool,
    dir: bool,
) -> crate::Result<()> {
    #[cfg(feature = "remote")]
    {
        remote::upload(local, address, overwrite, dir)
    }
    #[cfg(not(feature = "remote"))]
    {
        let _ = (local, overwrite, dir);
        Err(crate::Error::usage(format!(
            "{address}: this build of ome-core has no remote stores (feature \"remote\")"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_as_users_write_them() {
        assert_eq!(
            Address::parse("s3://bucket/a/b.zarr/"),
            Address::S3 {
                bucket: "bucket".into(),
                prefix: "a/b.zarr".into()
            }
        );
        assert_eq!(
            Address::parse("S3://bucket"),
            Address::S3 {
                bucket: "bucket".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Address::parse("https://h:8/x.zarr/"),
            Address::Http("https://h:8/x.zarr".into())
        );
        assert_eq!(
            Address::parse("data/s3:/x"),
            Address::Local("data/s3:/x".into())
        );
        assert_eq!(
            Address::parse("s3://b/p/img.zarr").file_name().as_deref(),
            Some("img.zarr")
        );
        assert_eq!(Address::parse("s3://b/p").to_string(), "s3://b/p");
    }

    #[cfg(feature = "remote")]
    #[test]
    fn close_ranges_are_merged_and_far_ones_are_not() {
        let spans = [(100, 200), (0, 50), (60, 90), (5000, 6000), (150, 300)];
        // Gaps of 10 bytes: merged at 10, not at 9; overlapping spans always.
        let merged = coalesce(&spans, 9);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged[0], ((0, 50), vec![1]));
        assert_eq!(merged[1], ((60, 90), vec![2]));
        assert_eq!(merged[2], ((100, 300), vec![0, 4]));
        assert_eq!(merged[3], ((5000, 6000), vec![3]));
        let merged = coalesce(&spans, 10);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0], ((0, 300), vec![1, 2, 0, 4]));
        assert_eq!(coalesce(&spans, 1 << 20).len(), 1);
    }

    #[cfg(feature = "remote")]
    #[test]
    fn merged_requests_stop_at_the_cap_and_big_ranges_stay_whole() {
        let mib = 1u64 << 20;
        // 20 adjacent 1 MiB tiles: 8 + 8 + 4, so three requests can be in flight at once.
        let tiles: Vec<(u64, u64)> = (0..20).map(|i| (i * mib, (i + 1) * mib)).collect();
        let merged = coalesce(&tiles, mib);
        let sizes: Vec<u64> = merged.iter().map(|((s, e), _)| e - s).collect();
        assert_eq!(sizes, vec![8 * mib, 8 * mib, 4 * mib]);
        let covered: usize = merged.iter().map(|(_, m)| m.len()).sum();
        assert_eq!(covered, 20);
        // One range past the cap is one request.
        assert_eq!(
            coalesce(&[(0, 20 * mib)], mib),
            vec![((0, 20 * mib), vec![0])]
        );
    }
}
