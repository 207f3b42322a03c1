"""Helpers shared by the interop tests (a sibling module: pytest's default prepend import mode puts tests/interop on sys.path)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

def group_attrs(path: Path) -> dict:
    """The OME attributes of a group: .zattrs (v2) or zarr.json attributes["ome"] (v3)."""
    path = Path(path)
    if (path / "zarr.json").exists():
        doc = json.loads((path / "zarr.json").read_text())
        attrs = doc.get("attributes", {})
        return attrs.get("ome", attrs)
    if (path / ".zattrs").exists():
        return json.loads((path / ".zattrs").read_text())
    raise AssertionError(f"no group metadata at {path}")


def raw_group_attrs(path: Path) -> dict:
    """The attributes document as the JSON schemas see it (v3: with the `ome` key)."""
    path = Path(path)
    if (path / "zarr.json").exists():
        return json.loads((path / "zarr.json").read_text()).get("attributes", {})
    return json.loads((path / ".zattrs").read_text())


def level_paths(path: Path) -> list[str]:
    return [d["path"] for d in group_attrs(path)["multiscales"][0]["datasets"]]


def read_level(path: Path, level_path: str) -> np.ndarray:
    import zarr

    return zarr.open_array(str(Path(path) / level_path), mode="r")[...]


def assert_same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    equal = np.array_equal(got, want, equal_nan=got.dtype.kind == "f")
    if not equal:
        diff = np.argwhere(got != want)
        raise AssertionError(f"{what}: {len(diff)} pixels differ, first at {tuple(diff[0])}: "
                             f"{got[tuple(diff[0])]} != {want[tuple(diff[0])]}")


def schema_validator(shared: Path, version: str, name: str = "image"):
    """A Draft 2020-12 validator for ngff/<version>/schemas/<name>.schema, every schema of
    the version directory registered under its $id (nothing is fetched)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for f in sorted((shared / "ngff" / version / "schemas").glob("*.schema")):
        doc = json.loads(f.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012)))
    def retrieve_refused(uri):  # never fetch
        raise LookupError(f"schema {uri} is not in {shared}/ngff/{version}/schemas")

    registry = Registry(retrieve=retrieve_refused).with_resources(resources)
    main = json.loads((shared / "ngff" / version / "schemas" / f"{name}.schema").read_text())
    return jsonschema.Draft202012Validator(main, registry=registry)


def assert_schema_valid(shared: Path, version: str, attrs: dict, name: str = "image") -> None:
    v = schema_validator(shared, version, name)
    errors = sorted(v.iter_errors(attrs), key=lambda e: list(e.path))
    assert not errors, f"{name} schema {version}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errors[:5])


def sample_array(shape, dtype, seed: int = 0) -> np.ndarray:
    """Deterministic data that uses the dtype's range (so byte order and sign errors show)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.normal(0, 1000, shape).astype(dt)
        a.flat[::97] = -0.0
        return a
    info = np.iinfo(dt)
    base = rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    # smooth part so codecs see structure, random part for the full range
    ramp = (np.indices(shape).sum(axis=0) % 251).astype(dt)
    return np.where(rng.random(shape) < 0.7, ramp, base)
