//! Writing large outputs around the page cache (`O_DIRECT`, Linux).
//!
//! A new dataset is not read back soon, and on virtual machines filling fresh page-cache
//! pages can cost more than compressing the data: on the benchmark machine 755 MB went
//! through the page cache at 0.43 GB/s and around it at 3 GB/s. `O_DIRECT` wants the
//! buffer address, the file offset and the length to be multiples of the block size, so
//! data goes through a 4 KiB-aligned buffer, the last block is padded and the file cut back
//! to its length. Filesystems that refuse `O_DIRECT` (at open or at the first write) get
//! ordinary buffered writes; the file is the same either way.

use std::fs::File;
use std::io;
use std::path::Path;

/// The alignment `O_DIRECT` needs on every filesystem Linux has (the page size).
pub(crate) const ALIGN: usize = 4096;

/// A zeroed buffer of `cap` bytes whose start is `ALIGN`-aligned (no unsafe: a `Vec`
/// `ALIGN` bytes longer, used from its first aligned byte; a `Vec` never moves its heap
/// block, so the alignment holds).
pub(crate) struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    cap: usize,
}

impl AlignedBuf {
    pub(crate) fn new(cap: usize) -> Self {
        let raw = vec![0u8; cap + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN).min(ALIGN);
        AlignedBuf { raw, start, cap }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.cap]
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.cap]
    }
}

/// Creates (truncates) `path`; with `direct`, opened with `O_DIRECT` when the filesystem
/// accepts it. Returns the file and whether it is direct.
pub(crate) fn create(path: &Path, direct: bool) -> io::Result<(File, bool)> {
    #[cfg(target_os = "linux")]
    if direct {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
        {
            Ok(f) => return Ok((f, true)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = direct;
    Ok((File::create(path)?, false))
}

/// Clears `O_DIRECT` on `file`, so that unaligned writes work.
pub(crate) fn set_buffered(file: &File) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: fcntl on a descriptor `file` owns; F_GETFL/F_SETFL only read and change
        // its status flags.
        let ok = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) == 0
        };
        if !ok {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
    Ok(())
}

/// Writes all of `data` at `offset` of `file` (`pwrite` on Unix; elsewhere, such as the
/// WebAssembly build, which has no files, seek and write).
pub(crate) fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, data, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(data)
    }
}

/// Writes `data` (a multiple of `ALIGN` bytes from an aligned buffer when `*direct`) at
/// `offset`; a filesystem that opened with `O_DIRECT` but refuses its writes makes the file
/// buffered (`*direct` becomes false) and the write is repeated.
// (`direct` is read on Linux only, the one system with `O_DIRECT` here.)
#[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
pub(crate) fn write_at(file: &File, direct: &mut bool, data: &[u8], offset: u64) -> io::Result<()> {
    match write_all_at(file, data, offset) {
        #[cfg(target_os = "linux")]
        Err(e) if *direct && e.raw_os_error() == Some(libc::EINVAL) => {
            set_buffered(file)?;
            *direct = false;
            write_all_at(file, data, offset)
        }
        r => r,
    }
}

/// Writes `data` as the whole new file `path`, around the page cache when the filesystem
/// allows, through this thread's aligned buffer of at most `PIECE` bytes (a chunk or a
/// shard; small files gain nothing).
pub(crate) fn write_file(path: &Path, data: &[u8]) -> io::Result<()> {
    const PIECE: usize = 8 << 20;
    thread_local! {
        static BUF: std::cell::RefCell<Option<AlignedBuf>> = const { std::cell::RefCell::new(None) };
    }
    let (file, mut direct) = create(path, true)?;
    if !direct {
        return write_all_at(&file, data, 0);
    }
    // Data that already starts on a block boundary (large allocations usually do) goes out
    // in place, whole blocks of it; only the tail is copied.
    let mut offset = 0usize;
    if (data.as_ptr() as usize).is_multiple_of(ALIGN) {
        let whole = data.len() / ALIGN * ALIGN;
        if whole > 0 {
            write_at(&file, &mut direct, &data[..whole], 0)?;
            offset = whole;
        }
    }
    BUF.with(|cell| {
        let mut slot = cell.borrow_mut();
        let buf = slot.get_or_insert_with(|| AlignedBuf::new(PIECE));
        while offset < data.len() {
            let n = (data.len() - offset).min(PIECE);
            let padded = n.next_multiple_of(ALIGN);
            let out = buf.as_mut_slice();
            out[..n].copy_from_slice(&data[offset..offset + n]);
            out[n..padded].fill(0);
            write_at(&file, &mut direct, &buf.as_slice()[..padded], offset as u64)?;
            offset += n;
        }
        Ok::<(), io::Error>(())
    })?;
    if !data.len().is_multiple_of(ALIGN) {
        set_buffered(&file)?;
        file.set_len(data.len() as u64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refused_direct_writes_fall_back_to_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let (file, mut direct) = create(&path, true).unwrap();
        // Aligned data goes through as it is.
        let mut buf = AlignedBuf::new(2 * ALIGN);
        buf.as_mut_slice().fill(7);
        write_at(&file, &mut direct, &buf.as_slice()[..ALIGN], 0).unwrap();
        // 100 bytes at an odd offset: O_DIRECT refuses (EINVAL), the file turns buffered
        // and the write still lands.
        let was_direct = direct;
        write_at(&file, &mut direct, &[1u8; 100], ALIGN as u64 + 3).unwrap();
        if was_direct {
            assert!(
                !direct,
                "the refused write should have turned the file buffered"
            );
        }
        drop(file);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), ALIGN + 103);
        assert!(bytes[..ALIGN].iter().all(|&b| b == 7));
        assert!(bytes[ALIGN + 3..].iter().all(|&b| b == 1));
    }

    #[test]
    fn write_file_cuts_the_padding() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 1, ALIGN - 1, ALIGN, 3 * ALIGN + 5, (8 << 20) + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            write_file(&path, &data).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "{len} bytes");
            // The same bytes from a block-aligned source: written in place but the tail.
            let mut aligned = AlignedBuf::new(len.max(1));
            aligned.as_mut_slice()[..len].copy_from_slice(&data);
            write_file(&path, &aligned.as_slice()[..len]).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "{len} aligned bytes");
        }
    }
}
