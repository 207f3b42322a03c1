"""ome_py: fast OME-Zarr reading, writing, conversion and validation (Rust core).

The vocabulary follows ome-zarr-py (``axes``, ``scale_factors``, ``units``) and tifffile
(``compression``, ``maxworkers``). Every call that touches storage releases the GIL.

``scale_factors`` means what it means to ome-zarr-py ``write_image`` and ngff-zarr
``to_multiscales``: one entry per level from 1 on, each relative to level 0 (``[2, 4, 8]``
on y and x, or per-axis dicts); ``downscale`` is the factor between consecutive levels.
``limits=`` (a :class:`Limits` or a dict of its keywords) raises or lowers the safety
bounds against hostile input. Exceptions, :class:`Report`, :class:`Finding`,
:class:`Level`, :class:`Limits`, :class:`Image` and :class:`RegionWriter` pickle, so they
cross process boundaries (Dask ``distributed``, ``multiprocessing``).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Tuple, Union

from ._ome_py import (
    FormatError,
    Finding,
    Level,
    Limits,
    LimitsError,
    OmeError,
    RegionWriter,
    Report,
    StorageError,
    UnsupportedError,
    UsageError,
    __version__,
    configure_remote,
    convert,
    validate,
    write_ome_tiff,
    write_ome_tiff_series,
    write_ome_zarr,
)
from ._ome_py import Image as _NativeImage

__all__ = [
    "FormatError",
    "Finding",
    "Image",
    "Level",
    "Limits",
    "LimitsError",
    "OmeError",
    "RegionWriter",
    "Report",
    "StorageError",
    "UnsupportedError",
    "UsageError",
    "__version__",
    "configure_remote",
    "convert",
    "open",
    "validate",
    "write_dask",
    "write_ome_tiff",
    "write_ome_tiff_series",
    "write_ome_zarr",
]

PathLike = Union[str, "os.PathLike[str]"]


class _LevelReader:
    """What ``dask.array.from_array`` reads from: one level, pickled as path + level (and
    the series and limits the image was opened with)."""

    def __init__(
        self,
        path: str,
        level: int,
        shape: Tuple[int, ...],
        dtype: Any,
        series: int = 0,
        limits: Optional[Limits] = None,
    ) -> None:
        self.path = path
        self.series = series
        self.limits = limits
        self.level = level
        self.shape = tuple(shape)
        self.dtype = dtype
        self.ndim = len(self.shape)
        self._image: Optional[_NativeImage] = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_image"] = None
        return state

    def __getitem__(self, key: Any) -> Any:
        import numpy as np

        if not isinstance(key, tuple):
            key = (key,)
        start = []
        extent = []
        for dim, k in zip(self.shape, key + (slice(None),) * (self.ndim - len(key))):
            lo, hi, step = k.indices(dim)
            if step != 1:
                raise UsageError(f"expected slices with step 1, found step {step}")
            start.append(lo)
            extent.append(max(hi - lo, 0))
        if any(e == 0 for e in extent):
            return np.zeros(extent, dtype=self.dtype)
        if self._image is None:
            self._image = _NativeImage(self.path, self.series, limits=self.limits)
        return self._image.read_region(self.level, start, extent)


class Image(_NativeImage):
    """An OME-Zarr image opened for reading (see :func:`open`)."""

    def to_dask(self, level: int = 0) -> Any:
        """A Dask array of ``level`` whose chunks are the storage chunks (shards when
        sharded); each task reads one region through the Rust core."""
        import dask.array as da
        import numpy as np

        lvl = self.levels[level]
        grid = lvl.storage_chunks
        reader = _LevelReader(
            self.path, level, tuple(lvl.shape), np.dtype(lvl.dtype), self.series, self.limits
        )
        return da.from_array(
            reader,
            chunks=tuple(grid),
            lock=False,
            asarray=False,
            fancy=False,
            meta=np.empty((0,) * len(grid), dtype=lvl.dtype),
            name=f"ome-py-{os.path.abspath(self.path)}-{self.series}-{level}",
        )


def open(  # noqa: A001 - the name users expect
    path: PathLike, series: int = 0, *, limits: Union[Limits, Mapping[str, int], None] = None
) -> Image:
    """Opens an OME-Zarr image (a label image, or a plate field such as ``p.zarr/A/1/0``)
    or an OME-TIFF file; the format is detected. ``series`` picks an image of a multi-image
    OME-TIFF or a series of a bioformats2raw container (as tifffile's ``series=``).
    ``limits`` (a :class:`Limits`, or a dict of its keywords) bounds what is read: a file
    beyond one raises :class:`LimitsError`; the defaults are safe for untrusted input."""
    return Image(os.fspath(path), series, limits=limits)


def _write_block(block: Any, writer: RegionWriter, block_info: Any = None) -> Any:
    import numpy as np

    start = [lo for lo, _ in block_info[0]["array-location"]]
    writer.write_region(start, np.ascontiguousarray(block))
    return np.zeros((1,) * block.ndim, dtype=np.uint8)


def write_dask(path: PathLike, data: Any, **options: Any) -> dict:
    """Writes a Dask array as an OME-Zarr pyramid, each block written by whichever worker
    computes it (no locks; works with ``distributed`` across processes). Takes the options
    of :func:`write_ome_zarr`. Blocks are rechunked to the storage grid first."""
    writer = RegionWriter.create(os.fspath(path), tuple(data.shape), data.dtype, **options)
    try:
        grid = writer.region_grid
        aligned = data.rechunk(tuple(min(g, s) for g, s in zip(grid, data.shape)))
        import numpy as np

        aligned.map_blocks(
            _write_block, writer, dtype=np.uint8, chunks=(1,) * aligned.ndim
        ).compute()
    except BaseException:
        writer.abort()
        raise
    return writer.finish()
