//! `Send` and `Sync` on a target without threads.
//!
//! On `wasm32` zarrs drops the `Send + Sync` bounds of its codec, data type and chunk grid
//! trait objects (its `MaybeSend`), so its arrays are neither, while ome-core hands them to
//! rayon and keeps them in `Send + Sync` types ([`crate::LevelRead`]). `wasm32-unknown-unknown`
//! without the `atomics` target feature has no threads at all (`std::thread::spawn` fails and
//! rayon runs every task on the calling thread), so no value can be seen from two threads
//! and these assertions are vacuous there. Everywhere else they are not compiled: natively
//! the types are `Send + Sync` through their fields, as the compiler checks.

/// A value asserted `Send + Sync` on a threadless target (natively, exactly when `T` is).
/// Reach the value through [`OneThread::get`] or [`OneThread::into_inner`] inside closures,
/// so that the closure captures the wrapper, not its field.
#[derive(Debug)]
pub(crate) struct OneThread<T>(T);

impl<T> OneThread<T> {
    pub(crate) fn new(value: T) -> Self {
        OneThread(value)
    }

    pub(crate) fn get(&self) -> &T {
        &self.0
    }

    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

// SAFETY: no threads on this target (see the module documentation).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<T> Send for OneThread<T> {}
// SAFETY: as above.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<T> Sync for OneThread<T> {}
