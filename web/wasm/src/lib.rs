//! ome-validate as a plain WebAssembly module for the static page in `web/`.
//!
//! No wasm-bindgen: the module exports `alloc`/`dealloc`, `validate` and the result buffer,
//! and imports a few synchronous functions from the page's Web Worker (module `"ome"`),
//! which reads dropped files with `FileReaderSync` and URLs with synchronous range requests.
//! Strings cross as UTF-8 bytes in the module's memory.
//!
//! `validate(ptr, len)` takes a JSON request `{"name": ..., "depth": "attributes" |
//! "hierarchy" | "data"}` and leaves the CLI's JSON report (`ome-validate --format json`)
//! in the result buffer (`result_ptr`/`result_len`); it returns 0, or 1 with an error
//! message there instead.

use std::sync::Arc;

use ome_core::storage::ByteSource;
use ome_validate::{Depth, Options};
use serde_json::Value;

#[link(wasm_import_module = "ome")]
unsafe extern "C" {
    /// The size of a key: `-1` absent, `-2` an error (message through `error_message`).
    fn source_size(key_ptr: *const u8, key_len: usize) -> f64;
    /// Reads `len` bytes of a key at `offset` into `dst`: the number of bytes read, or `-2`.
    fn source_read(
        key_ptr: *const u8,
        key_len: usize,
        offset: f64,
        len: usize,
        dst: *mut u8,
    ) -> f64;
    /// The child directories of a prefix as a JSON array of names written to `dst` when it
    /// fits in `cap` bytes: the length of that text, `-1` when the source cannot list, `-2`
    /// on an error.
    fn source_list(prefix_ptr: *const u8, prefix_len: usize, dst: *mut u8, cap: usize) -> f64;
    /// Writes the last error message (UTF-8) to `dst` when it fits in `cap`: its length.
    fn error_message(dst: *mut u8, cap: usize) -> usize;
    /// Fills `len` bytes at `dst` from `crypto.getRandomValues`.
    fn random_fill(dst: *mut u8, len: usize);
}

/// Text written by the page into a growing buffer: calls `f(dst, cap)` until the length it
/// reports fits.
fn take_text(mut f: impl FnMut(*mut u8, usize) -> f64) -> Result<Option<String>, f64> {
    let mut cap = 4096usize;
    loop {
        let mut buf = vec![0u8; cap];
        let n = f(buf.as_mut_ptr(), cap);
        if n < 0.0 {
            return Err(n);
        }
        let n = n as usize;
        if n <= cap {
            buf.truncate(n);
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        cap = n;
    }
}

fn last_error() -> String {
    let mut buf = vec![0u8; 1024];
    // SAFETY: the page writes at most `cap` bytes at `dst`, a live buffer of that size.
    let n = unsafe { error_message(buf.as_mut_ptr(), buf.len()) };
    buf.truncate(n.min(1024));
    let s = String::from_utf8_lossy(&buf).into_owned();
    if s.is_empty() {
        "the page could not read it".into()
    } else {
        s
    }
}

/// The files (or URL) the page reads for us.
#[derive(Debug)]
struct PageSource;

impl ByteSource for PageSource {
    fn size(&self, key: &str) -> Result<Option<u64>, String> {
        // SAFETY: the page reads `key_len` bytes at `key_ptr`, a live string.
        let n = unsafe { source_size(key.as_ptr(), key.len()) };
        if n == -1.0 {
            Ok(None)
        } else if n < 0.0 || !n.is_finite() {
            Err(last_error())
        } else {
            Ok(Some(n as u64))
        }
    }

    fn read(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        let n = usize::try_from(len).map_err(|_| format!("{len} bytes do not fit in memory"))?;
        let mut buf = vec![0u8; n];
        // SAFETY: the page writes at most `len` bytes at `dst`, a live buffer of that size
        // (it looks the memory up after the call starts, so growth cannot strand it).
        let got =
            unsafe { source_read(key.as_ptr(), key.len(), offset as f64, n, buf.as_mut_ptr()) };
        if got < 0.0 || !got.is_finite() {
            return Err(last_error());
        }
        // A short answer is reported by the store as an error naming the key.
        buf.truncate((got as usize).min(n));
        Ok(buf)
    }

    fn list_dirs(&self, prefix: &str) -> Result<Option<Vec<String>>, String> {
        // SAFETY: the page reads the prefix and writes at most `cap` bytes at `dst`.
        let text =
            take_text(|dst, cap| unsafe { source_list(prefix.as_ptr(), prefix.len(), dst, cap) });
        match text {
            Err(-1.0) => Ok(None),
            Err(_) => Err(last_error()),
            Ok(None) => Ok(None),
            Ok(Some(t)) => serde_json::from_str::<Vec<String>>(&t)
                .map(Some)
                .map_err(|e| format!("expected a JSON list of names from the page ({e})")),
        }
    }
}

static RESULT: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

fn set_result(bytes: Vec<u8>) {
    if let Ok(mut r) = RESULT.lock() {
        *r = bytes;
    }
}

/// Allocates `len` bytes for the page to write a request into.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len.max(1));
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// Frees what [`alloc`] gave.
///
/// # Safety
/// `ptr` and `len` come from one call of [`alloc`], freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    // SAFETY: as the caller promises, a buffer of capacity `len.max(1)` from `alloc`.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len.max(1)) });
}

/// The result of the last [`validate`] (a JSON report or an error message).
#[unsafe(no_mangle)]
pub extern "C" fn result_ptr() -> *const u8 {
    RESULT
        .lock()
        .map(|r| r.as_ptr())
        .unwrap_or(std::ptr::null())
}

/// The length of [`result_ptr`]'s bytes.
#[unsafe(no_mangle)]
pub extern "C" fn result_len() -> usize {
    RESULT.lock().map(|r| r.len()).unwrap_or(0)
}

fn run(request: &[u8]) -> Result<String, String> {
    let req: Value =
        serde_json::from_slice(request).map_err(|e| format!("malformed request ({e})"))?;
    let name = req
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("the request names no dataset")?;
    let depth = match req
        .get("depth")
        .and_then(Value::as_str)
        .unwrap_or("hierarchy")
    {
        "attributes" => Depth::Attributes,
        "hierarchy" => Depth::Hierarchy,
        "data" => Depth::Data,
        other => {
            return Err(format!(
                "expected a depth attributes, hierarchy or data, found {other:?}"
            ));
        }
    };
    let options = Options::with_depth(depth);
    let report = ome_validate::validate_source(name, Arc::new(PageSource), &options)
        .map_err(|e| e.to_string())?;
    Ok(ome_validate::render_json(&report))
}

/// Validates the dataset the page serves; see the crate documentation.
///
/// # Safety
/// `ptr..ptr + len` is a live buffer (from [`alloc`]) holding the request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn validate(ptr: *const u8, len: usize) -> i32 {
    // SAFETY: as the caller promises.
    let request = unsafe { std::slice::from_raw_parts(ptr, len) };
    match run(request) {
        Ok(json) => {
            set_result(json.into_bytes());
            0
        }
        Err(message) => {
            set_result(message.into_bytes());
            1
        }
    }
}

/// getrandom's `custom` backend (selected in `.cargo/config.toml`): the page's
/// `crypto.getRandomValues`.
///
/// # Safety
/// `dest` is valid for `len` bytes (getrandom's contract).
#[unsafe(no_mangle)]
unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom::Error> {
    // SAFETY: `dest` is valid for `len` bytes.
    unsafe { random_fill(dest, len) };
    Ok(())
}
