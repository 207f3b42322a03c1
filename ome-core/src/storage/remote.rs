//! HTTP(S) and S3-compatible object stores, on `object_store`, behind the sync
//! [`KeyRead`] API: one shared tokio runtime runs the requests; every call blocks its
//! caller (a rayon worker decoding chunks, a Python thread with the GIL released).
//!
//! - Requests: whole values are bounded before their bodies are read (the size the server
//!   announces, then the body itself); range reads of one value are merged when closer
//!   than [`RemoteOptions::coalesce_bytes`] and fetched concurrently, at most
//!   [`RemoteOptions::max_concurrency`] in flight; every body is checked against the
//!   length asked for, so a truncated body is an error naming the key, never a short chunk.
//! - Faults: `object_store` retries 5xx, 429 / 503 SlowDown, timeouts and connection
//!   resets with exponential backoff and jitter ([`RemoteOptions::max_retries`]); each
//!   request has a timeout ([`RemoteOptions::timeout`]).
//! - Cache: sizes and versions of values (`HEAD`) are kept in a bounded map for the life of
//!   the store, so that a shard's index and its inner chunks cost no `HEAD` each; the
//!   dataset is assumed not to change while it is open.
//! - Access: S3 requests are unsigned when asked ([`RemoteOptions::anonymous`]) or when no
//!   credentials are set; once a value of the dataset was read, a 403 for another key of an
//!   anonymous store means the key is absent (public buckets that deny listing, such as
//!   IDR's, answer missing keys so).

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::http::HttpBuilder;
use object_store::path::Path as KeyPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions,
    PutPayload, RetryConfig,
};
use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{Bytes, StorageError};

use super::{Address, Got, Head, KeyRead, RemoteOptions, coalesce, outside, range_in};
use crate::error::{Error, Result};
use crate::location::Location;

/// Most `HEAD` results kept per store.
const HEAD_CACHE: usize = 16_384;

/// The runtime every remote request runs on: two worker threads (the requests wait on the
/// network, not on the CPU; decoding happens in the callers' threads).
fn runtime() -> std::result::Result<&'static tokio::runtime::Runtime, StorageError> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ome-remote")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| StorageError::Other(format!("cannot start the I/O runtime: {e}")))
}

/// Makes ring the process's TLS provider unless the host application installed one first
/// (HTTPS clients are built with `rustls-no-provider`; any installed provider serves).
/// rustls 0.23.48 deprecates ring's provider because it lacks post-quantum key exchange;
/// the classical TLS 1.2/1.3 suites it offers are what S3 and HTTP servers speak today,
/// and aws-lc (which has them) costs minutes of C compilation on every clean build.
#[allow(deprecated)]
fn install_tls_provider() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs `f` to completion on the shared runtime.
pub(crate) fn block_on<F: Future>(f: F) -> std::result::Result<F::Output, StorageError> {
    Ok(runtime()?.block_on(f))
}

/// A prefetched value and its head; `None` when the key was found absent.
type Held = Option<(Head, Bytes)>;

/// A dataset on an HTTP server or in an object store.
pub(crate) struct RemoteStore {
    store: Arc<dyn ObjectStore>,
    /// Key prefix of the dataset inside `store` (empty, or without slashes at the ends).
    prefix: String,
    /// The dataset's address, for messages.
    address: String,
    anonymous: bool,
    can_list: bool,
    /// A value of the dataset was read: the store grants access to it.
    readable: AtomicBool,
    concurrency: usize,
    coalesce: u64,
    heads: Mutex<HashMap<String, Head>>,
    /// Whole values fetched ahead by [`KeyRead::prefetch_each`], with the number of prefetches
    /// that hold each (`None`: the key is absent).
    prefetched: super::Holds<String, Held>,
}

impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore")
            .field("address", &self.address)
            .field("anonymous", &self.anonymous)
            .finish_non_exhaustive()
    }
}

fn client_options(opts: &RemoteOptions) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(true)
        .with_timeout(opts.timeout)
        .with_connect_timeout(opts.connect_timeout)
}

fn retry(opts: &RemoteOptions) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: std::time::Duration::from_millis(50),
            max_backoff: std::time::Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: opts.max_retries,
        retry_timeout: opts.timeout.saturating_mul(4),
    }
}

/// Whether S3 credentials are set in the environment.
fn have_credentials() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
    set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
}

impl RemoteStore {
    /// The store of a remote `address`.
    ///
    /// # Errors
    /// A usage error for a local address or a malformed URL; storage errors of the client.
    pub(crate) fn open(address: &Address, opts: &RemoteOptions) -> Result<Self> {
        install_tls_provider();
        let loc = || Location::file(address.display_path());
        let fail = |e: object_store::Error| Error::storage(loc(), format!("{address}: {e}"));
        let (store, prefix, anonymous, can_list): (Arc<dyn ObjectStore>, String, bool, bool) =
            match address {
                Address::Local(_) => {
                    return Err(Error::usage(format!(
                        "expected a remote address, found the local path {address}"
                    )));
                }
                Address::Http(url) => {
                    let store = HttpBuilder::new()
                        .with_url(url.clone())
                        .with_client_options(client_options(opts))
                        .with_retry(retry(opts))
                        .build()
                        .map_err(fail)?;
                    (Arc::new(store), String::new(), true, false)
                }
                Address::S3 { bucket, prefix } => {
                    if bucket.is_empty() {
                        return Err(Error::usage(format!(
                            "expected s3://BUCKET/PREFIX, found {address} (no bucket)"
                        )));
                    }
                    let anonymous = opts.anonymous || !have_credentials();
                    let mut b = AmazonS3Builder::from_env()
                        .with_bucket_name(bucket.clone())
                        .with_region(opts.region.clone().unwrap_or_else(|| "us-east-1".into()))
                        .with_client_options(client_options(opts))
                        .with_retry(retry(opts))
                        .with_virtual_hosted_style_request(false)
                        .with_skip_signature(anonymous);
                    if let Some(endpoint) = &opts.endpoint {
                        b = b.with_endpoint(endpoint.clone());
                    }
                    let store = b.build().map_err(fail)?;
                    (Arc::new(store), prefix.clone(), anonymous, true)
                }
            };
        Ok(RemoteStore {
            store,
            prefix,
            address: address.to_string(),
            anonymous,
            can_list,
            readable: AtomicBool::new(false),
            concurrency: opts.max_concurrency.max(1),
            coalesce: opts.coalesce_bytes,
            heads: Mutex::new(HashMap::new()),
            prefetched: super::Holds::new(),
        })
    }

    /// The object path of `key`.
    fn path(&self, key: &str) -> std::result::Result<KeyPath, StorageError> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else if key.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}/{key}", self.prefix)
        };
        KeyPath::parse(&full).map_err(|e| {
            StorageError::Other(format!(
                "{}: expected a valid object key, found {key:?} ({e})",
                self.address
            ))
        })
    }

    /// The error for a failed request on `key`.
    fn error(&self, key: &str, e: object_store::Error) -> StorageError {
        let hint = match &e {
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. }
                if self.anonymous =>
            {
                " (access denied to an unsigned request: the bucket may need credentials, \
                 set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            }
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => {
                " (access denied: check the credentials, or pass --anonymous for a public bucket)"
            }
            _ => "",
        };
        StorageError::Other(format!("{}/{key}: {e}{hint}", self.address))
    }

    /// Whether a failed request means "no such key".
    fn is_absent(&self, e: &object_store::Error) -> bool {
        match e {
            object_store::Error::NotFound { .. } => true,
            object_store::Error::PermissionDenied { .. } => {
                self.anonymous && self.readable.load(Ordering::Relaxed)
            }
            _ => false,
        }
    }

    fn cached_head(&self, key: &str) -> Option<Head> {
        self.heads.lock().ok().and_then(|h| h.get(key).copied())
    }

    fn remember(&self, key: &str, head: Head) {
        if let Ok(mut heads) = self.heads.lock() {
            if heads.len() >= HEAD_CACHE {
                heads.clear();
            }
            heads.insert(key.to_string(), head);
        }
    }

    fn head_of(meta: &object_store::ObjectMeta) -> Head {
        // The ETag distinguishes versions of one key where the server sends one.
        let tag = meta.e_tag.as_deref().map_or(0, |t| {
            t.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        });
        Head {
            len: meta.size,
            stamp: (tag, meta.size, None),
        }
    }

    /// Fetches `range` of `path` and checks that the body has exactly its length.
    async fn fetch(
        &self,
        key: &str,
        path: &KeyPath,
        range: Range<u64>,
    ) -> std::result::Result<Bytes, StorageError> {
        let want = range.end - range.start;
        let bytes = self
            .store
            .get_range(path, range.clone())
            .await
            .map_err(|e| self.error(key, e))?;
        if bytes.len() as u64 != want {
            return Err(StorageError::Other(format!(
                "{}/{key}: expected {want} bytes for bytes {}..{}, received {} (a truncated body)",
                self.address,
                range.start,
                range.end,
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// A prefetched value of `key`: `Some(None)` when it was found absent.
    fn held(&self, key: &str) -> Option<Held> {
        self.prefetched.get(&key.to_string())
    }

    /// [`KeyRead::get_bounded`], and the value's head when it was read.
    async fn get_bounded_async(
        &self,
        key: &str,
        max: u64,
    ) -> std::result::Result<(Got, Option<Head>), StorageError> {
        let path = self.path(key)?;
        let result = async {
            let got = self.store.get_opts(&path, GetOptions::default()).await?;
            let size = got.meta.size;
            let span = got.range.end - got.range.start;
            if size > max || span > max {
                return Ok(Err(size.max(span)));
            }
            let meta = got.meta.clone();
            // The body goes into one buffer of the announced length (huge pages for a
            // shard); a body longer than announced is cut one byte past it, so the length
            // check below refuses it without holding the rest.
            let Some(mut body) = crate::dtype::byte_buffer(span as usize) else {
                return Ok(Err(span));
            };
            let mut parts = got.into_stream();
            while let Some(part) = parts.next().await {
                let part = part?;
                let room = (span as usize + 1).saturating_sub(body.len());
                body.extend_from_slice(&part[..part.len().min(room)]);
                if body.len() as u64 > span {
                    break;
                }
            }
            Ok(Ok((meta, span, Bytes::from(body))))
        }
        .await;
        match result {
            Ok(Ok((meta, span, bytes))) => {
                if bytes.len() as u64 != span {
                    let received = if bytes.len() as u64 > span {
                        "more (an overlong body)".to_string()
                    } else {
                        format!("{} (a truncated body)", bytes.len())
                    };
                    return Err(StorageError::Other(format!(
                        "{}/{key}: expected {span} bytes, received {received}",
                        self.address
                    )));
                }
                self.readable.store(true, Ordering::Relaxed);
                let head = Self::head_of(&meta);
                self.remember(key, head);
                Ok((Got::Bytes(bytes), Some(head)))
            }
            Ok(Err(size)) => Ok((Got::TooBig(size), None)),
            Err(e) if self.is_absent(&e) => Ok((Got::Absent, None)),
            Err(e) => Err(self.error(key, e)),
        }
    }

    /// Writes `value` to `key`; with `no_clobber`, fails with [`PutOutcome::Exists`] when
    /// the key exists. That is two checks: a look first (a HEAD, never from the cache), which
    /// refuses even where the server ignores conditional writes, then the put itself is
    /// conditional (`If-None-Match: *`) where the server offers it, so that of two writers
    /// racing past the look only one wins. A server that neither honours the header nor says
    /// it does not leaves that window open.
    pub(crate) fn put(&self, key: &str, value: Bytes, no_clobber: bool) -> Result<PutOutcome> {
        let loc = || Location::file(format!("{}/{key}", self.address));
        let path = self
            .path(key)
            .map_err(|e| Error::storage(loc(), e.to_string()))?;
        if no_clobber {
            match block_on(self.store.head(&path))
                .map_err(|e| Error::storage(loc(), e.to_string()))?
            {
                Ok(_) => return Ok(PutOutcome::Exists),
                Err(e) if self.is_absent(&e) => {}
                Err(e) => return Err(Error::storage(loc(), self.error(key, e).to_string())),
            }
        }
        let payload = PutPayload::from_bytes(value.clone());
        let mode = if no_clobber {
            PutMode::Create
        } else {
            PutMode::Overwrite
        };
        let result = block_on(self.store.put_opts(&path, payload, PutOptions::from(mode)))
            .map_err(|e| Error::storage(loc(), e.to_string()))?;
        match result {
            Ok(_) => Ok(PutOutcome::Written),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(PutOutcome::Exists),
            // No conditional writes here: the look above is the only check.
            Err(object_store::Error::NotImplemented { .. }) if no_clobber => {
                self.put(key, value, false)
            }
            Err(e) => Err(Error::storage(loc(), self.error(key, e).to_string())),
        }
    }

    /// Puts many values concurrently (at most [`RemoteOptions::max_concurrency`] in flight).
    pub(crate) fn put_many(&self, items: Vec<(String, Bytes)>) -> Result<()> {
        let store = &self.store;
        let tasks = items.into_iter().map(|(key, value)| async move {
            let path = self.path(&key)?;
            store
                .put(&path, PutPayload::from_bytes(value))
                .await
                .map(|_| ())
                .map_err(|e| self.error(&key, e))
        });
        let results: Vec<std::result::Result<(), StorageError>> = block_on(
            futures::stream::iter(tasks)
                .buffer_unordered(self.concurrency)
                .collect::<Vec<_>>(),
        )
        .map_err(|e| Error::storage(Location::file(&self.address), e.to_string()))?;
        for r in results {
            r.map_err(|e| Error::storage(Location::file(&self.address), e.to_string()))?;
        }
        Ok(())
    }

    /// Every key below `prefix` (relative to the dataset), at most `max + 1`.
    pub(crate) fn list_keys(&self, prefix: &str, max: usize) -> Result<Vec<String>> {
        let loc = || Location::file(&self.address);
        let path = self
            .path(prefix)
            .map_err(|e| Error::storage(loc(), e.to_string()))?;
        let root = self.path("").ok();
        let base = root.as_ref().map(|p| p.as_ref().len()).unwrap_or(0);
        let listed = block_on(async {
            let mut out = Vec::new();
            let mut stream = self.store.list(Some(&path));
            while let Some(meta) = stream.next().await {
                let meta = meta?;
                let full: &str = meta.location.as_ref();
                let rel = full.get(base..).unwrap_or(full).trim_start_matches('/');
                out.push(rel.to_string());
                if out.len() > max {
                    break;
                }
            }
            Ok::<_, object_store::Error>(out)
        })
        .map_err(|e| Error::storage(loc(), e.to_string()))?;
        listed.map_err(|e| Error::storage(loc(), self.error(prefix, e).to_string()))
    }

    /// Deletes the keys `keys` (relative to the dataset).
    pub(crate) fn delete_keys(&self, keys: &[String]) -> Result<()> {
        let loc = || Location::file(&self.address);
        let paths = keys
            .iter()
            .map(|k| self.path(k))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::storage(loc(), e.to_string()))?;
        let done = block_on(async {
            let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
            let results: Vec<_> = self.store.delete_stream(stream).collect().await;
            results
        })
        .map_err(|e| Error::storage(loc(), e.to_string()))?;
        for r in done {
            match r {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(Error::storage(loc(), e.to_string())),
            }
        }
        Ok(())
    }
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutOutcome {
    Written,
    /// `no_clobber` and the key exists: nothing written.
    Exists,
}

impl KeyRead for RemoteStore {
    fn head(&self, key: &str) -> std::result::Result<Option<Head>, StorageError> {
        if let Some(held) = self.held(key) {
            return Ok(held.map(|(h, _)| h));
        }
        if let Some(h) = self.cached_head(key) {
            return Ok(Some(h));
        }
        let path = self.path(key)?;
        match block_on(self.store.head(&path))? {
            Ok(meta) => {
                let head = Self::head_of(&meta);
                self.readable.store(true, Ordering::Relaxed);
                self.remember(key, head);
                Ok(Some(head))
            }
            Err(e) if self.is_absent(&e) => Ok(None),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn read_ranges(
        &self,
        key: &str,
        head: &Head,
        ranges: &[ByteRange],
    ) -> std::result::Result<Option<Vec<Bytes>>, StorageError> {
        let len = head.len;
        let spans = ranges
            .iter()
            .map(|r| range_in(r, len).ok_or_else(|| outside(key, len, r)))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if let Some(Some((h, bytes))) = self.held(key)
            && h == *head
        {
            return Ok(Some(
                spans
                    .iter()
                    .map(|&(s, e)| bytes.slice(s as usize..e as usize))
                    .collect(),
            ));
        }
        let path = self.path(key)?;
        // Empty ranges need no request.
        let wanted: Vec<usize> = (0..spans.len())
            .filter(|&i| spans[i].0 < spans[i].1)
            .collect();
        let nonempty: Vec<(u64, u64)> = wanted.iter().map(|&i| spans[i]).collect();
        let requests = coalesce(&nonempty, self.coalesce);
        let path = &path;
        let fetched: Vec<std::result::Result<Bytes, StorageError>> = block_on(
            futures::stream::iter(
                requests
                    .iter()
                    .map(|((s, e), _)| self.fetch(key, path, *s..*e)),
            )
            .buffered(self.concurrency)
            .collect::<Vec<_>>(),
        )?;
        let mut out = vec![Bytes::new(); spans.len()];
        for (((s, _), members), body) in requests.iter().zip(fetched) {
            let body = body?;
            for &m in members {
                let (ms, me) = nonempty[m];
                out[wanted[m]] = body.slice((ms - s) as usize..(me - s) as usize);
            }
        }
        self.readable.store(true, Ordering::Relaxed);
        Ok(Some(out))
    }

    fn get_bounded(&self, key: &str, max: u64) -> std::result::Result<Got, StorageError> {
        match self.held(key) {
            Some(Some((_, bytes))) if bytes.len() as u64 > max => {
                Ok(Got::TooBig(bytes.len() as u64))
            }
            Some(Some((_, bytes))) => Ok(Got::Bytes(bytes)),
            Some(None) => Ok(Got::Absent),
            None => block_on(self.get_bounded_async(key, max))?.map(|(got, _)| got),
        }
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn list_keys_below(
        &self,
        prefix: &str,
        max: usize,
    ) -> std::result::Result<Option<Vec<String>>, StorageError> {
        if !self.can_list {
            return Ok(None);
        }
        self.list_keys(prefix, max)
            .map(Some)
            .map_err(|e| StorageError::Other(e.message().to_string()))
    }

    fn prefetch_each(&self, keys: &[String], max: u64, ready: &(dyn Fn(usize) -> bool + Sync)) {
        let todo: std::collections::HashSet<String> =
            self.prefetched.hold(keys).into_iter().collect();
        // Values held already (by another prefetch) are ready now; the others are fetched,
        // at most `concurrency` at once, in the order of `keys`, and each is ready as it
        // arrives.
        let mut fetch = Vec::with_capacity(todo.len());
        let mut seen = std::collections::HashSet::new();
        for (i, k) in keys.iter().enumerate() {
            if !todo.contains(k) {
                if !ready(i) {
                    return;
                }
            } else if seen.insert(k) {
                fetch.push(i);
            }
        }
        let _ = block_on(async {
            let mut arrivals = futures::stream::iter(
                fetch
                    .into_iter()
                    .map(|i| async move { (i, self.get_bounded_async(&keys[i], max).await) }),
            )
            .buffer_unordered(self.concurrency);
            while let Some((i, got)) = arrivals.next().await {
                let value = match got {
                    Ok((Got::Bytes(b), Some(head))) => Some(Some((head, b))),
                    Ok((Got::Absent, _)) => Some(None),
                    // Too big or failed: the read itself reports it.
                    _ => None,
                };
                if let Some(value) = value {
                    self.prefetched.insert(keys[i].clone(), value);
                }
                if !ready(i) {
                    break;
                }
            }
        });
    }

    fn release(&self, keys: &[String]) {
        self.prefetched.release(keys);
    }

    fn list_dirs(
        &self,
        prefix: &str,
        max: usize,
    ) -> std::result::Result<Option<Vec<String>>, StorageError> {
        if !self.can_list {
            return Ok(None);
        }
        let path = self.path(prefix)?;
        let listed = block_on(self.store.list_with_delimiter(Some(&path)))?
            .map_err(|e| self.error(prefix, e))?;
        let mut names: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .take(max + 1)
            .collect();
        names.sort();
        Ok(Some(names))
    }
}

/// The documents that make a Zarr group or array visible at a node, in the order a new
/// dataset writes them (the first one conditionally).
const ROOT_DOCUMENTS: [&str; 4] = [".zgroup", ".zarray", ".zattrs", "zarr.json"];

/// Files up to this size are put in one request; larger ones by multipart upload.
const SINGLE_PUT_MAX: u64 = 64 << 20;

/// Bytes of file contents held in memory by one batch of concurrent puts.
const BATCH_BYTES: u64 = 256 << 20;

/// The store of `address` and the key of the dataset's root inside it (the store is rooted
/// at the parent prefix, so that the dataset itself is one key or prefix).
pub(crate) fn target_store(address: &Address) -> Result<RemoteStore> {
    if matches!(address, Address::Http(_)) {
        return Err(Error::usage(format!(
            "{address}: an HTTP server is read only; write to s3://BUCKET/PREFIX or a local path"
        )));
    }
    // An output is one prefix: `--overwrite` at a bucket's root would delete the bucket.
    if matches!(address, Address::S3 { prefix, .. } if prefix.is_empty()) {
        return Err(Error::usage(format!(
            "expected an output at s3://BUCKET/PREFIX, found the root of a bucket ({address})"
        )));
    }
    RemoteStore::open(address, &super::remote_options())
}

/// Refuses an existing remote output unless `overwrite`: a dataset (`dir`) exists when one
/// of its root documents does, a file when its key does.
///
/// # Errors
/// A usage error naming the output when it exists; storage errors.
pub(crate) fn check_target(address: &Address, overwrite: bool, dir: bool) -> Result<()> {
    if overwrite {
        return Ok(());
    }
    let store = target_store(address)?;
    let loc = || Location::file(address.display_path());
    let keys: Vec<&str> = if dir {
        ROOT_DOCUMENTS.to_vec()
    } else {
        vec![""]
    };
    for key in keys {
        if store
            .head(key)
            .map_err(|e| Error::storage(loc(), e.to_string()))?
            .is_some()
        {
            return Err(Error::new(
                crate::ErrorKind::Usage,
                loc(),
                "the output exists; pass overwrite (--overwrite) to replace it",
            ));
        }
    }
    Ok(())
}

/// Every file below `dir`, as (key relative to `dir`, path, size), sorted by key.
fn files_below(dir: &std::path::Path) -> Result<Vec<(String, std::path::PathBuf, u64)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| Error::io(Location::file(&d), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(Location::file(&d), e))?;
            let path = entry.path();
            let ty = entry
                .file_type()
                .map_err(|e| Error::io(Location::file(&path), e))?;
            if ty.is_dir() {
                stack.push(path);
            } else if ty.is_file() {
                let len = entry
                    .metadata()
                    .map_err(|e| Error::io(Location::file(&path), e))?
                    .len();
                let rel = path
                    .strip_prefix(dir)
                    .ok()
                    .and_then(|r| r.to_str())
                    .map(|r| r.replace('\\', "/"))
                    .ok_or_else(|| {
                        Error::usage(format!("{}: a name that is not UTF-8", path.display()))
                    })?;
                out.push((rel, path, len));
            }
        }
    }
    out.sort();
    Ok(out)
}

impl RemoteStore {
    /// Puts the local file `path` at `key`, by multipart upload when it is large.
    fn put_file(&self, key: &str, path: &std::path::Path, len: u64) -> Result<()> {
        let loc = || Location::file(format!("{}/{key}", self.address));
        if len <= SINGLE_PUT_MAX {
            let bytes = std::fs::read(path).map_err(|e| Error::io(Location::file(path), e))?;
            self.put(key, Bytes::from(bytes), false)?;
            return Ok(());
        }
        let object = self
            .path(key)
            .map_err(|e| Error::storage(loc(), e.to_string()))?;
        let store = &self.store;
        block_on(async {
            use std::io::Read;
            let upload = store.put_multipart(&object).await?;
            let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, 16 << 20);
            let mut file = std::fs::File::open(path).map_err(|e| object_store::Error::Generic {
                store: "local",
                source: Box::new(e),
            })?;
            let mut buf = vec![0u8; 8 << 20];
            loop {
                let n = file
                    .read(&mut buf)
                    .map_err(|e| object_store::Error::Generic {
                        store: "local",
                        source: Box::new(e),
                    })?;
                if n == 0 {
                    break;
                }
                writer.wait_for_capacity(4).await?;
                writer.write(&buf[..n]);
            }
            writer.finish().await.map(|_| ())
        })
        .map_err(|e| Error::storage(loc(), e.to_string()))?
        .map_err(|e| Error::storage(loc(), self.error(key, e).to_string()))
    }
}

/// Uploads the finished local output `local` (a staging directory when `dir`, else a file)
/// to `address`. A dataset's data and the metadata of its nodes go first, concurrently, in
/// batches of bounded memory; its root documents last, the first of them as a conditional
/// put (no-clobber) unless `overwrite`, so that of two writers racing on one output only one
/// succeeds and a crash mid-upload leaves no root metadata: nothing that looks complete.
///
/// With `overwrite`, the old output's root documents are deleted first (from then on it no
/// longer looks complete), then every old key under the prefix, then the new output is
/// uploaded as above.
///
/// # Errors
/// A usage error when the output appeared meanwhile (another writer finished first);
/// storage and I/O errors naming the key or file.
pub(crate) fn upload(
    local: &std::path::Path,
    address: &Address,
    overwrite: bool,
    dir: bool,
) -> Result<()> {
    let store = target_store(address)?;
    let loc = || Location::file(address.display_path());
    let lost = || {
        Error::new(
            crate::ErrorKind::Usage,
            loc(),
            "the output appeared while writing (another writer finished first); refusing to replace it",
        )
    };
    if !dir {
        if !overwrite
            && store
                .head("")
                .map_err(|e| Error::storage(loc(), e.to_string()))?
                .is_some()
        {
            return Err(lost());
        }
        let len = std::fs::metadata(local)
            .map_err(|e| Error::io(Location::file(local), e))?
            .len();
        return store.put_file("", local, len);
    }
    if overwrite {
        let roots: Vec<String> = ROOT_DOCUMENTS.iter().map(|s| s.to_string()).collect();
        store.delete_keys(&roots)?;
        let old = store.list_keys("", usize::MAX - 1)?;
        store.delete_keys(&old)?;
    }
    let files = files_below(local)?;
    let (roots, rest): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(k, _, _)| ROOT_DOCUMENTS.contains(&k.as_str()));
    // Chunks before the metadata of their arrays and groups.
    let is_doc = |k: &str| {
        let name = k.rsplit('/').next().unwrap_or(k);
        ROOT_DOCUMENTS.contains(&name) || name.ends_with(".xml")
    };
    let (docs, data): (Vec<_>, Vec<_>) = rest.into_iter().partition(|(k, _, _)| is_doc(k));
    for group in [data, docs] {
        let mut batch = Vec::new();
        let mut held = 0u64;
        for (key, path, len) in group {
            if len > SINGLE_PUT_MAX {
                store.put_file(&key, &path, len)?;
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| Error::io(Location::file(&path), e))?;
            held += len;
            batch.push((key, Bytes::from(bytes)));
            if held >= BATCH_BYTES {
                store.put_many(std::mem::take(&mut batch))?;
                held = 0;
            }
        }
        store.put_many(batch)?;
    }
    let mut roots = roots;
    roots.sort_by_key(|(k, _, _)| ROOT_DOCUMENTS.iter().position(|d| d == k));
    for (i, (key, path, _)) in roots.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| Error::io(Location::file(path), e))?;
        let no_clobber = i == 0 && !overwrite;
        if store.put(key, Bytes::from(bytes), no_clobber)? == PutOutcome::Exists {
            return Err(lost());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    /// An HTTP/1.1 server on loopback whose value `/k{i}` (100 bytes of `i`) is answered
    /// after `i * step`; it counts the requests it answered.
    fn slow_server(step: Duration) -> (String, Arc<AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&count);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counted = Arc::clone(&counted);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut out = stream;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                                break;
                            }
                        }
                        counted.fetch_add(1, Ordering::SeqCst);
                        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                        let Some(i) = path.strip_prefix("/k").and_then(|i| i.parse::<u8>().ok())
                        else {
                            let _ = out
                                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                            continue;
                        };
                        std::thread::sleep(step * u32::from(i));
                        let head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nETag: \"x\"\r\n\r\n";
                        let _ = out.write_all(head.as_bytes());
                        let _ = out.write_all(&[i; 100]);
                    }
                });
            }
        });
        (url, count)
    }

    /// `prefetch_each` hands each value over as it arrives, not once all arrived: the first
    /// is ready while the slowest is still in flight. Every value is then held (reads of it
    /// make no request) until it is released.
    #[test]
    fn prefetched_values_are_ready_as_they_arrive() {
        let step = Duration::from_millis(150);
        let (url, requests) = slow_server(step);
        let store = RemoteStore::open(&Address::Http(url), &RemoteOptions::default()).unwrap();
        let keys: Vec<String> = (0..4).map(|i| format!("k{i}")).collect();
        let t0 = Instant::now();
        let ready = Mutex::new(Vec::new());
        store.prefetch_each(&keys, 1 << 20, &|i| {
            ready.lock().unwrap().push((i, t0.elapsed()));
            true
        });
        let done = t0.elapsed();
        let ready = ready.into_inner().unwrap();
        let order: Vec<usize> = ready.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![0, 1, 2, 3], "in the order they arrived");
        assert!(done >= step * 3, "the slowest value takes {:?}", step * 3);
        assert!(
            ready[0].1 + step * 2 <= done,
            "the first value was ready at {:?}, the last fetch ended at {done:?}",
            ready[0].1
        );
        assert_eq!(requests.load(Ordering::SeqCst), 4);
        for (i, k) in keys.iter().enumerate() {
            match store.get_bounded(k, 1 << 20).unwrap() {
                Got::Bytes(b) => assert_eq!(&b[..], &[i as u8; 100][..]),
                other => panic!("{k}: {other:?}"),
            }
        }
        assert_eq!(
            requests.load(Ordering::SeqCst),
            4,
            "held values cost no request"
        );
        store.release(&keys);
        assert!(matches!(
            store.get_bounded("k0", 1 << 20).unwrap(),
            Got::Bytes(_)
        ));
        assert_eq!(
            requests.load(Ordering::SeqCst),
            5,
            "a released value is fetched again"
        );
        // Stopped after the first arrival: no further fetch starts.
        let before = requests.load(Ordering::SeqCst);
        let few = RemoteStore::open(
            &Address::Http(store.address.clone()),
            &RemoteOptions {
                max_concurrency: 1,
                ..RemoteOptions::default()
            },
        )
        .unwrap();
        let calls = AtomicUsize::new(0);
        few.prefetch_each(&keys, 1 << 20, &|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            false
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(requests.load(Ordering::SeqCst) - before, 1);
    }
}
