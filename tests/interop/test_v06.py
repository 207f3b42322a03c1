"""OME-Zarr 0.6 (RFC-5 coordinate systems and transformations) against the peers.

Peer support as pinned (scripts/requirements-test.txt); "tested" means a test below,
"source" what was read in the peer's code:
- ngff-zarr 0.50.0 reads and writes 0.6 (`version="0.6"`, intrinsic system `intrinsic`):
  images tested both ways, pixel-exact, scales and translations; scenes (`NgffScene`)
  and plates (`from_hcs_zarr`, `HCSPlateWriter`) tested both ways; it reads our label
  image as a multiscale. Source: it has no `labels` / `image-label` model (no label writing), and its
  v06 model types every transformation (identity ... byDimension, bijection, sequence).
- ome-zarr-models 1.8.0rc0 (`ome_zarr_models.v06`: Image, Labels/ImageLabel, HCS/Well,
  Scene, every transformation type but `projectAxis`) accepts (tested): our 0.6 image, one
  with a second system linked by an affine, our label image, our scene, ngff-zarr's 0.6
  image, and the 0.6rc0 examples listed in OMZ_ON_EXAMPLES. It refuses (tested):
  the version string `0.6rc0` (it knows `0.6.dev4` and `0.6`, the latter with a warning),
  so everything rc0 is checked as `0.6`; every plate, ours included, because its v06
  `Plate` requires `plate.version`, a 0.4 key that 0.5 dropped and the 0.6rc0 plate
  schema lacks (peer wrong); `byDimension` entries keyed `inputAxes` / `outputAxes`, which
  it names `input_axes` / `output_axes` (peer wrong); `projectAxis` (not modelled).
  Source: `affine` / `rotation` with `path` raise NotImplementedError instead of validating.
- ome-zarr-py 0.18.0 has no 0.6 format (FormatV05 is its newest) and writes none. Tested:
  it falls back to FormatV05 and reads every level of our 0.6 image pixel-exact by
  `datasets[].path`, but reports its default axes `tczyx`, not our coordinate systems.

So: we write 0.6 and ngff-zarr reads it pixel-exact with our scales and translations;
ngff-zarr writes 0.6 and we read every level pixel-exact; scenes and plates go both ways
between ngff-zarr and us; 0.5 -> 0.6 -> 0.5 keeps pixels
and scales; a 0.6 image whose transformation is no scale + translation refuses to go
back to 0.5 with an error naming it; our 0.6 metadata (image, label image, plate, well,
field, scene, written through the ome-core API by `examples/v06_hierarchy.rs`) passes the
0.6rc0 schemas and our validator; ome-zarr-models accepts what we write (a plate once it
has the key it wrongly requires); the official 0.6rc0 scene samples open with `ome info`.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from interop_util import assert_same, assert_schema_valid, group_attrs, level_paths, read_level, raw_group_attrs


def make_npy(tmp_path: Path) -> tuple[Path, np.ndarray]:
    a = (np.arange(2 * 70 * 50, dtype=np.uint16).reshape(2, 70, 50) * 7) % 4093
    p = tmp_path / "in.npy"
    np.save(p, a)
    return p, a


def write_ours(ome, tmp_path: Path, version: str = "0.6") -> tuple[Path, np.ndarray]:
    src, a = make_npy(tmp_path)
    out = tmp_path / f"ours-{version}.ome.zarr"
    ome.convert(src, out, "--ngff-version", version, "--axes", "cyx", "--scale", "1,0.5,0.25",
                "--levels", "3", "--chunks", "1,32,32", "--name", "ours", "--overwrite")
    return out, a


def test_we_write_a_06_pyramid(ome, tmp_path, shared_dir):
    out, a = write_ours(ome, tmp_path, "0.6rc0")
    ome_attrs = group_attrs(out)
    assert ome_attrs["version"] == "0.6rc0"
    ms = ome_attrs["multiscales"][0]
    assert "axes" not in ms
    assert [c["name"] for c in ms["coordinateSystems"]] == ["intrinsic"]
    for k, ds in enumerate(ms["datasets"]):
        (t,) = ds["coordinateTransformations"]
        assert t["input"] == {"path": ds["path"]} and t["output"] == {"name": "intrinsic"}
        assert t["type"] == ("scale" if k == 0 else "sequence")
    assert_schema_valid(shared_dir, "0.6rc0", raw_group_attrs(out), "image")
    assert_schema_valid(shared_dir, "0.6rc0", raw_group_attrs(out), "strict_image")
    assert_same(read_level(out, level_paths(out)[0]), a, "level 0")
    info = ome.info(out)
    assert info["version"] == "0.6rc0"
    assert info["coordinate_systems"][0]["intrinsic"] is True
    assert [e["output"] for e in info["transformations"]] == ["intrinsic"] * 3


def test_ngff_zarr_reads_our_06(ome, tmp_path):
    import ngff_zarr as nz

    out, a = write_ours(ome, tmp_path, "0.6")
    assert group_attrs(out)["version"] == "0.6"
    ms = nz.from_ngff_zarr(str(out))
    assert len(ms.images) == 3
    assert_same(np.asarray(ms.images[0].data), a, "ngff-zarr level 0")
    assert ms.images[0].scale == {"c": 1.0, "y": 0.5, "x": 0.25}
    for k, img in enumerate(ms.images):
        ours = ome.to_npy(out, tmp_path / f"l{k}.npy", level=k)
        assert_same(np.asarray(img.data), ours, f"ngff-zarr level {k}")
        if k:
            # mean downsampling by 2 on y and x: the half-pixel shift of the spec's note
            assert img.translation["y"] == pytest.approx(0.5 * (2 ** k - 1) / 2)
            assert img.translation["x"] == pytest.approx(0.25 * (2 ** k - 1) / 2)


def write_ngff_zarr_06(path: Path):
    import ngff_zarr as nz

    a = (np.arange(3 * 64 * 48, dtype=np.int16).reshape(3, 64, 48) * 5) % 997
    img = nz.to_ngff_image(a, dims=list("zyx"), scale={"z": 2.0, "y": 0.5, "x": 0.5},
                           translation={"z": 0.0, "y": 10.0, "x": -3.0})
    ms = nz.to_multiscales(img, scale_factors=[{"z": 1, "y": 2, "x": 2}, {"z": 1, "y": 4, "x": 4}],
                           method=nz.Methods.DASK_BIN_SHRINK, chunks=16)
    nz.to_ngff_zarr(str(path), ms, version="0.6")
    return ms


def test_we_read_ngff_zarr_06(ome, tmp_path):
    path = tmp_path / "nz.ome.zarr"
    ms = write_ngff_zarr_06(path)
    info = ome.info(path)
    assert info["version"] == "0.6"
    assert len(info["levels"]) == len(ms.images) == 3
    names = [c["name"] for c in info["coordinate_systems"]]
    assert names and info["coordinate_systems"][0]["intrinsic"]
    for k, (lp, img) in enumerate(zip(level_paths(path), ms.images)):
        got = ome.to_npy(path, tmp_path / f"nz{k}.npy", level=k)
        assert_same(got, read_level(path, lp), f"level {k} vs zarr-python")
        lvl = info["levels"][k]
        assert lvl["scale"] == pytest.approx([img.scale[d] for d in "zyx"])
        want_t = [img.translation[d] for d in "zyx"]
        assert (lvl["translation"] or [0.0] * 3) == pytest.approx(want_t)


def test_05_to_06_and_back_keeps_pixels_and_scales(ome, tmp_path):
    v05, a = write_ours(ome, tmp_path, "0.5")
    v06 = tmp_path / "up.ome.zarr"
    back = tmp_path / "down.ome.zarr"
    ome.convert(v05, v06, "--ngff-version", "0.6")
    ome.convert(v06, back, "--ngff-version", "0.5")
    assert group_attrs(v06)["version"] == "0.6"
    assert group_attrs(back)["version"] == "0.5"
    for k in range(3):
        want = ome.to_npy(v05, tmp_path / f"a{k}.npy", level=k)
        assert_same(ome.to_npy(v06, tmp_path / f"b{k}.npy", level=k), want, f"0.6 level {k}")
        assert_same(ome.to_npy(back, tmp_path / f"c{k}.npy", level=k), want, f"0.5 level {k}")
    first, last = ome.info(v05)["levels"], ome.info(back)["levels"]
    assert [l["scale"] for l in first] == [l["scale"] for l in last]
    assert [l["translation"] for l in first] == [l["translation"] for l in last]


def test_a_rotation_does_not_go_back_to_05(ome, tmp_path):
    out, _ = write_ours(ome, tmp_path, "0.6")
    doc = json.loads((out / "zarr.json").read_text())
    ms = doc["attributes"]["ome"]["multiscales"][0]
    ms["coordinateSystems"].append({"name": "rotated", "axes": ms["coordinateSystems"][0]["axes"]})
    ms["coordinateTransformations"] = [{
        "type": "rotation", "rotation": [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
        "input": {"name": "intrinsic"}, "output": {"name": "rotated"}}]
    (out / "zarr.json").write_text(json.dumps(doc))
    assert "rotation" in ome.run("info", out).stdout
    p = ome.run("convert", out, tmp_path / "down.ome.zarr", "--ngff-version", "0.5", check=False)
    assert p.returncode != 0
    assert "rotation" in p.stderr and "scale and translation" in p.stderr, p.stderr
    # 0.6 to 0.6 is fine.
    ome.convert(out, tmp_path / "again.ome.zarr", "--ngff-version", "0.6")


@pytest.mark.parametrize("sample", ["stitched_tiles_2d.zarr", "stitched_tiles_3d.zarr"])
def test_rfc5_scene_samples_open(ome, shared_dir, sample):
    path = shared_dir / "ngff" / "samples" / "rfc5-examples" / "user_stories" / sample
    info = ome.info(path)
    assert info["kind"] == "scene"
    scene = info["scene"]
    assert scene["images"] and all(im["intrinsic_system"] for im in scene["images"])
    assert all(t["input"] != "?" and t["output"] != "?" for t in scene["transformations"])
    assert info["version"].startswith("0.6.dev")  # as written
    text = ome.run("info", path).stdout
    assert "scene:" in text and "transformations:" in text


# --- ome-zarr-models 1.8.0rc0 (ome_zarr_models.v06) -------------------------------------


def omz_validate(cls, path: Path):
    """`cls.from_zarr` on the group at `path` (the documented entry point), with the
    warning 1.8.0rc0 gives for the version string `0.6` (it stores `0.6.dev4`) silenced."""
    import warnings

    import zarr

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Version number is '0.6'")
        return cls.from_zarr(zarr.open_group(str(path), mode="r"))


def test_ome_zarr_models_accepts_our_06_image(ome, tmp_path):
    from ome_zarr_models.v06 import Image

    out, _ = write_ours(ome, tmp_path, "0.6")
    model = omz_validate(Image, out)
    (ms,) = model.ome_attributes.multiscales
    assert [cs.name for cs in ms.coordinateSystems] == ["intrinsic"]
    assert ms.intrinsic_coordinate_system.ndim == 3
    assert [ds.path for ds in ms.datasets] == level_paths(out)
    # 1.8.0rc0 knows the version strings "0.6.dev4" and "0.6" only: the string 0.6rc0 of the
    # release candidate (its _version.schema enum) is refused, though nothing else differs.
    rc0, _ = write_ours(ome, tmp_path, "0.6rc0")
    with pytest.raises(ValueError, match="Invalid version: '0.6rc0'"):
        omz_validate(Image, rc0)


def test_ome_zarr_models_accepts_ngff_zarr_06(tmp_path):
    from ome_zarr_models.v06 import Image

    path = tmp_path / "nz.ome.zarr"
    write_ngff_zarr_06(path)
    model = omz_validate(Image, path)
    assert len(model.ome_attributes.multiscales[0].datasets) == 3


def test_ome_zarr_py_reads_our_06_pixels_not_its_systems(ome, tmp_path):
    """ome-zarr-py 0.18 has no 0.6 format: `parse_url` falls back to FormatV05, which finds
    the levels by `datasets[].path` (so every level's pixels are right) but knows no
    `coordinateSystems`, so the axes it reports are its 5-D default, not ours."""
    import warnings

    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    out, a = write_ours(ome, tmp_path, "0.6")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loc = parse_url(str(out))
        assert loc.fmt.version == "0.5"
        (node, *_) = list(Reader(loc)())
    assert any(isinstance(s, Multiscales) for s in node.specs)
    assert len(node.data) == 3
    for k, level in enumerate(node.data):
        ours = ome.to_npy(out, tmp_path / f"p{k}.npy", level=k)
        assert_same(np.asarray(level), ours, f"ome-zarr-py level {k}")
    assert [ax["name"] for ax in node.metadata["axes"]] == list("tczyx")


def test_ome_zarr_models_accepts_our_06_with_a_second_system(ome, tmp_path):
    """An `aligned` system linked to the intrinsic one by an affine, carried by our 0.6 -> 0.6
    conversion (the writer's ImageMetadata.coordinate_systems / transformations)."""
    from ome_zarr_models.v06 import Image
    from ome_zarr_models.v06.coordinate_transforms import Affine

    src, _ = write_ours(ome, tmp_path, "0.6")
    doc = json.loads((src / "zarr.json").read_text())
    ms = doc["attributes"]["ome"]["multiscales"][0]
    ms["coordinateSystems"].append({"name": "aligned", "axes": ms["coordinateSystems"][0]["axes"]})
    affine = [[1, 0, 0, 0], [0, 1, 0.1, 3], [0, 0, 1, -2]]
    ms["coordinateTransformations"] = [{
        "type": "affine", "affine": affine,
        "input": {"name": "intrinsic"}, "output": {"name": "aligned"}}]
    (src / "zarr.json").write_text(json.dumps(doc))
    out = tmp_path / "aligned.ome.zarr"
    ome.convert(src, out, "--ngff-version", "0.6")
    written = group_attrs(out)["multiscales"][0]
    assert [cs["name"] for cs in written["coordinateSystems"]] == ["intrinsic", "aligned"]
    (t,) = written["coordinateTransformations"]
    assert t["type"] == "affine" and t["affine"] == affine
    model = omz_validate(Image, out)
    (t,) = model.ome_attributes.multiscales[0].coordinateTransformations
    assert isinstance(t, Affine)
    assert t.transform_point((0.0, 1.0, 10.0)) == pytest.approx((0.0, 5.0, 8.0))


# --- 0.6 hierarchies written through the ome-core API (examples/v06_hierarchy.rs) ----------


def write_api_tree(ome, out: Path, version: str) -> Path:
    """Runs the ome-core example that writes an image with an affine-linked second system
    and a label image, a plate and a scene of two tiles; built next to the `ome` binary
    (`cargo build -p ome-core --examples`; `cargo test` builds it too)."""
    exe = ome.binary.parent / "examples" / "v06_hierarchy"
    if not exe.is_file():
        pytest.skip(f"{exe} not built (cargo build -p ome-core --examples)")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(exe), str(out), version], check=True, capture_output=True, timeout=120)
    return out


def api_image() -> np.ndarray:
    c, y, x = np.indices((2, 64, 48))
    return ((c * 1000 + y * 7 + x) % 4093).astype(np.uint16)


def api_labels() -> np.ndarray:
    _, y, x = np.indices((1, 64, 48))
    return (1 + (y // 16) * 3 + x // 16).astype(np.uint32)


def api_field(k: int) -> np.ndarray:
    y, x = np.indices((32, 32))
    return ((k * 50 + y + x) % 256).astype(np.uint8)


def api_tile(t: int) -> np.ndarray:
    y, x = np.indices((32, 48))
    return (t * 10000 + y * 100 + x).astype(np.uint16)


def test_api_06_image_and_labels_against_the_peers(ome, tmp_path):
    import ngff_zarr as nz
    from ome_zarr_models.v06 import Image

    root = write_api_tree(ome, tmp_path / "api", "0.6")
    image = root / "image.ome.zarr"
    model = omz_validate(Image, image)  # labels/cells is validated with it (ImageLabel)
    assert model.labels is not None and model.labels.ome_attributes.labels == ["cells"]
    (ms,) = model.ome_attributes.multiscales
    assert [cs.name for cs in ms.coordinateSystems] == ["physical", "aligned"]
    (t,) = ms.coordinateTransformations
    assert t.type == "affine" and (t.input.name, t.output.name) == ("physical", "aligned")

    got = nz.from_ngff_zarr(str(image))
    assert len(got.images) == 3
    assert_same(np.asarray(got.images[0].data), api_image(), "ngff-zarr image level 0")
    assert got.images[0].scale == {"c": 1.0, "y": 0.5, "x": 0.25}
    cells = nz.from_ngff_zarr(str(image / "labels" / "cells"))
    assert len(cells.images) == 3
    assert_same(np.asarray(cells.images[0].data), api_labels(), "ngff-zarr labels level 0")
    for k in range(3):
        ours = ome.to_npy(image / "labels" / "cells", tmp_path / f"l{k}.npy", level=k)
        assert_same(np.asarray(cells.images[k].data), ours, f"ngff-zarr labels level {k}")

    info = ome.info(image)
    assert [c["name"] for c in info["coordinate_systems"]] == ["physical", "aligned"]
    assert info["labels"] == ["cells"]


def test_api_06_plate_against_ome_zarr_models(ome, tmp_path):
    """ome-zarr-models 1.8.0rc0's v06 `Plate` requires `plate.version`, a key of 0.4 that
    0.5 removed and the 0.6rc0 plate schema does not have (the version is `ome.version`):
    our plate, right by the spec, is refused for that key alone. A copy with the key added
    is accepted, wells and fields included."""
    import shutil

    from pydantic import ValidationError
    from ome_zarr_models.v06 import HCS

    root = write_api_tree(ome, tmp_path / "api", "0.6")
    plate = root / "plate.ome.zarr"
    with pytest.raises(ValidationError) as refused:
        omz_validate(HCS, plate)
    assert [e["loc"] for e in refused.value.errors()] == [("plate", "version")]
    patched = tmp_path / "patched.ome.zarr"
    shutil.copytree(plate, patched)
    doc = json.loads((patched / "zarr.json").read_text())
    doc["attributes"]["ome"]["plate"]["version"] = "0.6"
    (patched / "zarr.json").write_text(json.dumps(doc))
    model = omz_validate(HCS, patched)
    assert [w.path for w in model.ome_attributes.plate.wells] == ["A/1", "B/2"]
    assert len(list(model.well_groups)) == 2
    for k, well in enumerate(["A/1", "B/2"]):
        field = plate / well / "0"
        assert_same(read_level(plate / well / "0", level_paths(field)[0]), api_field(k), f"field {well}/0")
    assert ome.info(plate)["kind"] == "plate"


def test_api_06_scene_against_the_peers(ome, tmp_path):
    from ome_zarr_models.v06 import Scene

    root = write_api_tree(ome, tmp_path / "api", "0.6")
    scene = root / "scene.ome.zarr"
    model = omz_validate(Scene, scene)
    assert sorted(model.images) == ["tile_0", "tile_1"]
    ts = model.ome_attributes.scene.coordinateTransformations
    assert [(t.input.path, t.input.name, t.output.name) for t in ts] == [
        ("tile_0", "physical", "world"), ("tile_1", "physical", "world")]
    assert ts[1].transform_point((1.0, 2.0)) == pytest.approx((1.0, 26.0))

    info = ome.info(scene)
    assert info["kind"] == "scene" and info["version"] == "0.6"
    assert [im["path"] for im in info["scene"]["images"]] == ["tile_0", "tile_1"]
    for t in range(2):
        tile = scene / f"tile_{t}"
        assert_same(read_level(tile, level_paths(tile)[0]), api_tile(t), f"tile {t} (zarr-python)")
        assert_same(ome.to_npy(tile, tmp_path / f"t{t}.npy"), api_tile(t), f"tile {t} (ours)")


def test_api_06rc0_hierarchy_passes_the_schemas_and_our_validator(ome, tmp_path, shared_dir):
    root = write_api_tree(ome, tmp_path / "api", "0.6rc0")
    checks = [
        ("image.ome.zarr", ["image", "strict_image"]),
        ("image.ome.zarr/labels/cells", ["label", "strict_label"]),
        ("plate.ome.zarr", ["plate", "strict_plate"]),
        ("plate.ome.zarr/A/1", ["well", "strict_well"]),
        ("plate.ome.zarr/A/1/0", ["image", "strict_image"]),
        ("scene.ome.zarr", ["scene"]),
        ("scene.ome.zarr/tile_1", ["image", "strict_image"]),
    ]
    for node, schemas in checks:
        attrs = raw_group_attrs(root / node)
        assert attrs["ome"]["version"] == "0.6rc0", node
        for schema in schemas:
            assert_schema_valid(shared_dir, "0.6rc0", attrs, schema)
    validate = ome.binary.parent / "ome-validate"
    for top in ["image.ome.zarr", "plate.ome.zarr", "scene.ome.zarr"]:
        p = subprocess.run([str(validate), str(root / top), "--format", "json"],
                           capture_output=True, text=True, timeout=120)
        report = json.loads(p.stdout)
        assert report["summary"]["errors"] == 0 and report["verdict"].startswith("valid"), p.stdout[-3000:]
        assert report["targets"][0]["nodes_checked"] > 3


# --- ome-zarr-models 1.8.0rc0 on the official 0.6rc0 examples -----------------------------

# examples/<file> -> None (accepted) or (what refuses it, why). Documents are validated as
# their kind's attributes model after the version string 0.6rc0 is replaced by 0.6, which
# 1.8.0rc0 requires (see test_ome_zarr_models_accepts_our_06_image).
OMZ_ON_EXAMPLES = {
    "bf2raw/image.json": None,
    "bf2raw/plate.json": (("plate", "version"), "peer: plate.version required, 0.6rc0 has none"),
    "label_strict/colors_properties.json": None,
    "multiscales_strict/multiscales_example.json": None,
    "multiscales_strict/multiscales_reference_to_label.json": None,
    "multiscales_strict/multiscales_transformations.json": None,
    "plate_strict/plate_2wells.json": (("plate", "version"), "peer: as bf2raw/plate.json"),
    "plate_strict/plate_6wells.json": (("plate", "version"), "peer: as bf2raw/plate.json"),
    "scene/scene_registration.json": None,
    "scene/scene_stitching.json": None,
    "subspace/subspacePermute.json": None,
    "well_strict/well_2fields.json": None,
    "well_strict/well_4fields.json": None,
    "transformations/affine2d2d.json": None,
    "transformations/affine2d2d_with_channel.json": None,
    "transformations/affine2d3d.json": None,
    "transformations/bijection.json": None,
    "transformations/bijection_verbose.json": None,
    "transformations/identity.json": None,
    "transformations/rotation.json": None,
    "transformations/scale.json": None,
    "transformations/scale_with_discrete.json": None,
    "transformations/sequence.json": None,
    "transformations/sequenceSubspace1.json": None,
    "transformations/translation.json": None,
    # peer: byDimension entries as `input_axes` / `output_axes`; the spec says inputAxes /
    # outputAxes (§byDimension-md), as every example writes them.
    "transformations/byDimension1.json": ("input_axes", "peer: snake_case byDimension keys"),
    "transformations/byDimension2.json": ("input_axes", "peer: snake_case byDimension keys"),
    "transformations/xarrayLike.json": ("input_axes", "peer: snake_case byDimension keys"),
    # invalid examples (an output axis out of range / twice), refused, but for the key names
    "transformations/byDimensionInvalid1.json": ("input_axes", "peer: snake_case byDimension keys"),
    "transformations/byDimensionInvalid2.json": ("input_axes", "peer: snake_case byDimension keys"),
    # example: entries without `transformation`, the flat form before 0.6rc0's text; the
    # peer is right (§byDimension-md: each entry "MUST contain ... `transformation`").
    "transformations/byDimensionXarray.json": (
        "0, 'transformation')", "example: flat byDimension entries"),
    # peer: no projectAxis model (§projectAxis-md).
    "transformations/projectAxis.json": ("projectAxis", "peer: no projectAxis"),
    "transformations/projectAxis2.json": ("projectAxis", "peer: no projectAxis"),
    # example: `"input": "in"`, the bare string of 0.6.dev3 (0.6rc0 wants an object).
    "transformations/mapAxis1.json": ("CoordinateSystemIdentifier", "example: bare string input"),
    # example: a 2-element scale on 3 axes (c, y, x) in datasets; the peer is right.
    "transformations/displacements/displacement_field.json": (
        "length of axes", "example: scale shorter than the axes"),
}


def strip_jsonc(text: str) -> str:
    """The examples are JSON with `//` comments on their own lines (spec-data README 2.4)."""
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))


@pytest.mark.parametrize("example", sorted(OMZ_ON_EXAMPLES))
def test_ome_zarr_models_on_the_06rc0_examples(shared_dir, example):
    import warnings

    from pydantic import TypeAdapter, ValidationError
    from ome_zarr_models.v06.bioformats2raw import BioFormats2RawAttrs
    from ome_zarr_models.v06.coordinate_transforms import AnyTransform
    from ome_zarr_models.v06.hcs import HCSAttrs
    from ome_zarr_models.v06.image import ImageAttrs
    from ome_zarr_models.v06.image_label import ImageLabelAttrs
    from ome_zarr_models.v06.scene import BaseSceneAttrs
    from ome_zarr_models.v06.well import WellAttrs

    doc = json.loads(strip_jsonc((shared_dir / "ngff" / "0.6rc0" / "examples" / example).read_text()))
    doc = doc.get("attributes", doc)

    def check():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "ome" not in doc:  # a transformation example: systems + transformations
                for t in doc.get("coordinateTransformations", [doc]):
                    TypeAdapter(AnyTransform).validate_python(t)
                return
            ome_attrs = dict(doc["ome"], version="0.6")
            kinds = [("scene", BaseSceneAttrs), ("bioformats2raw.layout", BioFormats2RawAttrs),
                     ("image-label", ImageLabelAttrs), ("multiscales", ImageAttrs),
                     ("plate", HCSAttrs), ("well", WellAttrs)]
            cls = next(c for key, c in kinds if key in ome_attrs)
            cls.model_validate(ome_attrs)

    expected = OMZ_ON_EXAMPLES[example]
    if expected is None:
        check()
        return
    needle, _why = expected
    with pytest.raises(ValidationError) as refused:
        check()
    text = str(refused.value) + repr([e["loc"] for e in refused.value.errors()])
    want = str(needle) if isinstance(needle, str) else repr(needle)
    assert want in text, text


# --- scenes and plates with ngff-zarr 0.50 (NgffScene, HCS) --------------------------------


def test_ngff_zarr_reads_our_06_scene(ome, tmp_path):
    import ngff_zarr as nz

    root = write_api_tree(ome, tmp_path / "api", "0.6")
    scene = nz.from_ome_zarr(str(root / "scene.ome.zarr"), validate=True, kind="scene")
    assert sorted(scene.images) == ["tile_0", "tile_1"]
    for t in range(2):
        ms = scene.images[f"tile_{t}"]
        assert_same(np.asarray(ms.images[0].data), api_tile(t), f"ngff-zarr scene tile {t}")
    ends = [(x.input.path, x.input.name, x.output.name) for x in scene.coordinateTransformations]
    assert ends == [("tile_0", "physical", "world"), ("tile_1", "physical", "world")]
    assert [cs.name for cs in scene.coordinateSystems] == ["world"]


def test_we_read_an_ngff_zarr_06_scene(ome, tmp_path):
    import ngff_zarr as nz
    from ngff_zarr.v06.zarr_metadata import (
        Axis, CoordinateSystem, CoordinateSystemIdentifier, Translation)

    tiles = [(np.arange(32 * 40, dtype=np.uint16).reshape(32, 40) + 1000 * t) for t in range(2)]
    images = {}
    for t, a in enumerate(tiles):
        img = nz.to_ngff_image(a, dims=["y", "x"], scale={"y": 0.5, "x": 0.5})
        images[f"tiles/t{t}"] = nz.to_multiscales(img, scale_factors=[2], chunks=16)
    world = CoordinateSystem(name="world", axes=[Axis(name="y", type="space", unit="micrometer"),
                                                 Axis(name="x", type="space", unit="micrometer")])
    transforms = [
        Translation(translation=[0.0, 20.0 * t],
                    input=CoordinateSystemIdentifier(path=f"tiles/t{t}", name="intrinsic"),
                    output=CoordinateSystemIdentifier(name="world"))
        for t in range(2)]
    path = tmp_path / "nz-scene.ome.zarr"
    nz.NgffScene(images=images, coordinateTransformations=transforms,
                 coordinateSystems=[world]).to_ome_zarr(str(path), version="0.6")

    info = ome.info(path)
    assert info["kind"] == "scene" and info["version"] == "0.6"
    assert [im["path"] for im in info["scene"]["images"]] == ["tiles/t0", "tiles/t1"]
    for t, a in enumerate(tiles):
        assert_same(ome.to_npy(path / "tiles" / f"t{t}", tmp_path / f"s{t}.npy"), a, f"tile {t}")
    validate = ome.binary.parent / "ome-validate"
    p = subprocess.run([str(validate), str(path), "--format", "json"], capture_output=True, text=True)
    report = json.loads(p.stdout)
    assert report["summary"]["errors"] == 0, p.stdout[-3000:]


def test_ngff_zarr_reads_our_06_plate(ome, tmp_path):
    import ngff_zarr as nz

    root = write_api_tree(ome, tmp_path / "api", "0.6")
    plate = nz.from_hcs_zarr(str(root / "plate.ome.zarr"), validate=True)
    assert [w.path for w in plate.metadata.wells] == ["A/1", "B/2"]
    for k, (row, col) in enumerate([("A", "1"), ("B", "2")]):
        ms = plate.get_well(row, col).get_image(0)
        assert_same(np.asarray(ms.images[0].data), api_field(k), f"ngff-zarr field {row}/{col}/0")


def test_we_read_an_ngff_zarr_06_plate(ome, tmp_path):
    import ngff_zarr as nz
    from ngff_zarr.hcs import HCSPlateWriter

    plate_meta = nz.Plate(
        columns=[nz.PlateColumn(name="1"), nz.PlateColumn(name="2")],
        rows=[nz.PlateRow(name="A"), nz.PlateRow(name="B")],
        wells=[nz.PlateWell(path="A/1", rowIndex=0, columnIndex=0),
               nz.PlateWell(path="B/2", rowIndex=1, columnIndex=1)],
        version="0.6")
    fields = {w: (np.arange(24 * 20, dtype=np.uint16).reshape(24, 20) * (k + 3)) % 1009
              for k, w in enumerate(["A/1", "B/2"])}
    path = tmp_path / "nz-plate.ome.zarr"
    with HCSPlateWriter(str(path), plate_meta) as writer:
        for w, a in fields.items():
            row, col = w.split("/")
            ms = nz.to_multiscales(nz.to_ngff_image(a, dims=["y", "x"]), scale_factors=[2], chunks=16)
            writer.write_well_image(multiscales=ms, row_name=row, column_name=col, field_index=0)

    assert group_attrs(path)["version"] == "0.6"
    info = ome.info(path)
    assert info["kind"] == "plate" and info["version"] == "0.6"
    for w, a in fields.items():
        field = path / w / "0"
        assert_same(ome.to_npy(field, tmp_path / "f.npy"), a, f"ngff-zarr field {w}/0")
    validate = ome.binary.parent / "ome-validate"
    p = subprocess.run([str(validate), str(path), "--format", "json"], capture_output=True, text=True)
    report = json.loads(p.stdout)
    assert report["summary"]["errors"] == 0, p.stdout[-3000:]
