"""Typed stubs of the native module (checked by ``python -m mypy.stubtest ome_py``)."""

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, final

from typing_extensions import disjoint_base

_Path = Union[str, os.PathLike[str]]
_Ints = Union[int, Sequence[int]]
# Per level from 1 on, relative to level 0: an int (y and x) or a dict of axis factors.
_ScaleFactors = Sequence[Union[int, Mapping[str, int]]]
_Limits = Union["Limits", Mapping[str, int], None]

__version__: str
__all__ = [
    "Finding",
    "FormatError",
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
    "validate",
    "write_ome_tiff",
    "write_ome_tiff_series",
    "write_ome_zarr",
]

class OmeError(Exception): ...
class FormatError(OmeError): ...
class UnsupportedError(OmeError): ...
class UsageError(OmeError): ...
class StorageError(OmeError): ...
class LimitsError(OmeError): ...

@final
class Limits:
    def __new__(
        cls,
        *,
        max_metadata_bytes: Optional[int] = None,
        max_chunk_bytes: Optional[int] = None,
        max_read_bytes: Optional[int] = None,
        max_dimensions: Optional[int] = None,
        max_list_entries: Optional[int] = None,
        max_json_depth: Optional[int] = None,
        max_array_elements: Optional[int] = None,
        max_tiff_ifds: Optional[int] = None,
        max_xml_bytes: Optional[int] = None,
        max_xml_depth: Optional[int] = None,
    ) -> "Limits": ...
    @property
    def max_metadata_bytes(self) -> int: ...
    @property
    def max_chunk_bytes(self) -> int: ...
    @property
    def max_read_bytes(self) -> int: ...
    @property
    def max_dimensions(self) -> int: ...
    @property
    def max_list_entries(self) -> int: ...
    @property
    def max_json_depth(self) -> int: ...
    @property
    def max_array_elements(self) -> int: ...
    @property
    def max_tiff_ifds(self) -> int: ...
    @property
    def max_xml_bytes(self) -> int: ...
    @property
    def max_xml_depth(self) -> int: ...
    def to_dict(self) -> Dict[str, int]: ...
    def __getnewargs_ex__(self) -> Tuple[Tuple[()], Dict[str, int]]: ...

@final
class Level:
    @property
    def path(self) -> str: ...
    @property
    def shape(self) -> List[int]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def chunks(self) -> List[int]: ...
    @property
    def shards(self) -> Optional[List[int]]: ...
    @property
    def scale(self) -> Optional[List[float]]: ...
    @property
    def translation(self) -> Optional[List[float]]: ...
    @property
    def codecs(self) -> List[str]: ...
    @property
    def storage_chunks(self) -> List[int]: ...
    def __reduce__(self) -> Any: ...

@disjoint_base
class Image:
    def __new__(cls, path: _Path, series: int = 0, *, limits: _Limits = None) -> "Image": ...
    @property
    def series(self) -> int: ...
    @property
    def limits(self) -> Limits: ...
    def __reduce__(self) -> Any: ...
    @property
    def path(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def version(self) -> Optional[str]: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def axes(self) -> List[str]: ...
    @property
    def axes_info(self) -> List[Dict[str, str]]: ...
    @property
    def levels(self) -> List[Level]: ...
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def channels(self) -> List[Dict[str, Any]]: ...
    @property
    def labels(self) -> List[str]: ...
    def label(self, name: str) -> "Image": ...
    @property
    def metadata(self) -> Dict[str, Any]: ...
    @property
    def ome_xml(self) -> Optional[str]: ...
    def read(self, level: int = 0, **selection: Union[int, slice]) -> Any: ...
    def read_region(self, level: int, start: Sequence[int], shape: Sequence[int]) -> Any: ...
    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> Any: ...
    def __len__(self) -> int: ...

@final
class Finding:
    @property
    def target(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def rule_page(self) -> str: ...
    def __reduce__(self) -> Any: ...

@final
class Report:
    @property
    def verdict(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def findings(self) -> List[Finding]: ...
    @property
    def targets(self) -> List[Tuple[str, str]]: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def __bool__(self) -> bool: ...
    def __reduce__(self) -> Any: ...

@final
class RegionWriter:
    @staticmethod
    def create(
        path: _Path,
        shape: Sequence[int],
        dtype: Any,
        *,
        axes: Any = None,
        scale: Optional[Sequence[float]] = None,
        translation: Optional[Sequence[float]] = None,
        units: Any = None,
        scale_factors: Optional[_ScaleFactors] = None,
        downscale: Optional[_Ints] = None,
        levels: Optional[int] = None,
        method: Optional[str] = None,
        chunks: Optional[Sequence[int]] = None,
        shards: Optional[Sequence[int]] = None,
        compression: Optional[str] = None,
        version: Optional[str] = None,
        channel_names: Optional[Sequence[str]] = None,
        channel_colors: Optional[Sequence[str]] = None,
        name: Optional[str] = None,
        overwrite: bool = False,
        maxworkers: Optional[int] = None,
        limits: _Limits = None,
    ) -> "RegionWriter": ...
    @staticmethod
    def open(path: _Path) -> "RegionWriter": ...
    @property
    def path(self) -> str: ...
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def region_grid(self) -> Tuple[int, ...]: ...
    def write_region(self, start: Sequence[int], data: Any) -> None: ...
    def missing_chunks(self) -> List[List[int]]: ...
    def finish(self) -> Dict[str, Any]: ...
    def abort(self) -> None: ...
    def __reduce__(self) -> Any: ...

def write_ome_zarr(
    path: _Path,
    data: Any,
    *,
    axes: Any = None,
    scale: Optional[Sequence[float]] = None,
    translation: Optional[Sequence[float]] = None,
    units: Any = None,
    scale_factors: Optional[_ScaleFactors] = None,
    downscale: Optional[_Ints] = None,
    levels: Optional[int] = None,
    method: Optional[str] = None,
    chunks: Optional[Sequence[int]] = None,
    shards: Optional[Sequence[int]] = None,
    compression: Optional[str] = None,
    version: Optional[str] = None,
    channel_names: Optional[Sequence[str]] = None,
    channel_colors: Optional[Sequence[str]] = None,
    name: Optional[str] = None,
    overwrite: bool = False,
    maxworkers: Optional[int] = None,
    limits: _Limits = None,
) -> Dict[str, Any]: ...
def convert(
    src: _Path,
    dst: _Path,
    *,
    series: Optional[int] = None,
    level: int = 0,
    scale_factors: Optional[_ScaleFactors] = None,
    downscale: Optional[_Ints] = None,
    levels: Optional[int] = None,
    method: Optional[str] = None,
    chunks: Optional[Sequence[int]] = None,
    shards: Optional[Sequence[int]] = None,
    compression: Optional[str] = None,
    version: Optional[str] = None,
    tile: Optional[Tuple[int, int]] = None,
    bigtiff: Optional[bool] = None,
    overwrite: bool = False,
    maxworkers: Optional[int] = None,
    limits: _Limits = None,
) -> Dict[str, Any]: ...
def validate(
    path: Union[_Path, Sequence[_Path]],
    *,
    depth: str = "hierarchy",
    strict: bool = False,
    xml_schema: Optional[_Path] = None,
    limits: _Limits = None,
    recursive: bool = False,
    profiles: Union[_Path, Sequence[_Path], None] = None,
    baseline: Optional[_Path] = None,
    write_baseline: Optional[_Path] = None,
) -> Report: ...
def write_ome_tiff(
    path: _Path,
    data: Any,
    *,
    axes: Any = None,
    scale: Optional[Sequence[float]] = None,
    units: Any = None,
    channel_names: Optional[Sequence[str]] = None,
    name: Optional[str] = None,
    tile: Optional[Tuple[int, int]] = None,
    compression: Optional[str] = None,
    compressionargs: Optional[Dict[str, Any]] = None,
    predictor: bool = False,
    subifds: Optional[int] = None,
    subresolutions: Optional[int] = None,
    method: Optional[str] = None,
    bigtiff: Optional[bool] = None,
    overwrite: bool = False,
) -> Dict[str, Any]: ...
def write_ome_tiff_series(
    path: _Path,
    images: Sequence[Any],
    *,
    tile: Optional[Tuple[int, int]] = None,
    compression: Optional[str] = None,
    compressionargs: Optional[Dict[str, Any]] = None,
    predictor: bool = False,
    subifds: Optional[int] = None,
    subresolutions: Optional[int] = None,
    method: Optional[str] = None,
    bigtiff: Optional[bool] = None,
    ome_xml: Optional[str] = None,
    overwrite: bool = False,
    limits: _Limits = None,
) -> Dict[str, Any]: ...

def configure_remote(
    *,
    endpoint: Optional[str] = None,
    region: Optional[str] = None,
    anonymous: Optional[bool] = None,
    max_requests: Optional[int] = None,
    request_timeout: Optional[float] = None,
    retries: Optional[int] = None,
) -> Dict[str, Any]: ...
