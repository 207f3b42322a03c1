"""OME-TIFF sample layouts beyond whole-byte lossless tiles, written by tifffile and read by `ome`:

- JPEG tiles and strips (Compression 7, TIFF Technical Note 2), grey and RGB, with the
  shared JPEGTables tag. JPEG is lossy and IDCTs differ between decoders by a grey level or
  so, so pixels are compared with tifffile's own decode (libjpeg-turbo through imagecodecs)
  within a small tolerance.
- Packed samples: 1-bit masks (tifffile writes bool arrays as bilevel TIFF) and 4-, 10-,
  12- and 14-bit unsigned samples (tifffile's `bitspersample`), which must read exactly.
"""
from __future__ import annotations

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")
pytest.importorskip("imagecodecs")

from test_tiff import _tczyx  # noqa: E402


def _smooth(shape, dtype, seed=1):
    """A smooth image with some texture: JPEG's natural input."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[-3] if len(shape) == 3 and shape[-1] == 3 else shape[-2],
                    0 : shape[-2] if len(shape) == 3 and shape[-1] == 3 else shape[-1]]
    base = 100 + 60 * np.sin(x / 9.0) * np.cos(y / 13.0)
    if len(shape) == 3 and shape[-1] == 3:
        img = np.stack([base, base[::-1] * 0.8 + 20, base[:, ::-1] * 0.6 + 40], axis=-1)
    else:
        img = np.broadcast_to(base, shape)
    img = img + rng.normal(0, 4, size=img.shape)
    return np.clip(img, 0, 255).astype(dtype)


# (id, shape, axes, tifffile options, largest difference allowed from libjpeg-turbo).
# IDCTs differ by a grey level; with 2x2-subsampled chroma (tifffile's Photometric YCbCr)
# the upsampling filter, which the JPEG standard leaves to the decoder, adds a few more.
JPEG_CASES = [
    ("grey-tiles", (3, 100, 140), "ZYX", {"tile": (32, 48), "photometric": "minisblack"}, 2),
    ("grey-strips", (90, 70), "YX", {"rowsperstrip": 16, "photometric": "minisblack"}, 2),
    ("rgb-ycbcr-tiles", (96, 128, 3), "YXS", {"tile": (32, 64), "photometric": "rgb"}, 6),
    ("rgb-tiles-no-ycbcr", (64, 80, 3), "YXS",
     {"tile": (32, 32), "photometric": "rgb", "compressionargs": {"outcolorspace": "rgb"}}, 2),
]


@pytest.mark.parametrize("case", JPEG_CASES, ids=[c[0] for c in JPEG_CASES])
def test_tifffile_jpeg_we_read(ome, tmp_path, case):
    _, shape, axes, kw, limit = case
    data = _smooth(shape, "uint8")
    path = tmp_path / "jpeg.ome.tif"
    try:
        tifffile.imwrite(path, data, ome=True, metadata={"axes": axes}, compression="jpeg", **kw)
    except (TypeError, ValueError) as e:  # an option this tifffile/imagecodecs lacks
        pytest.skip(f"tifffile cannot write this case: {e}")
    with tifffile.TiffFile(path) as tf:
        assert tf.pages[0].compression == 7
        reference = tf.asarray()
    got = ome.to_npy(path, tmp_path / "out.npy")
    ref_axes = axes.lower().replace("s", "c")
    want = _tczyx(reference, ref_axes)
    assert got.shape == want.shape and got.dtype == want.dtype
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert diff.max() <= limit, f"max difference {diff.max()} from libjpeg-turbo's decode"
    assert diff.mean() < 0.5, f"mean difference {diff.mean():.3f} from libjpeg-turbo's decode"


def _jpeg_segments(b: bytes):
    """(marker, bytes) of each segment of a JPEG stream up to and including its scan."""
    i, out = 2, []
    while i < len(b):
        m = b[i + 1]
        if m == 0xDA:
            out.append((m, b[i:]))
            break
        n = int.from_bytes(b[i + 2 : i + 4], "big")
        out.append((m, b[i : i + 2 + n]))
        i += 2 + n
    return out


def test_jpeg_tables_tag_we_read(ome, tmp_path):
    """Abbreviated streams (Technical Note 2): the quantisation and Huffman tables live once
    in JPEGTables (tag 347) and each tile holds only its frame and scan."""
    data = _smooth((100, 140), "uint8")
    whole = tmp_path / "whole.tif"
    tifffile.imwrite(whole, data, compression="jpeg", tile=(32, 48), photometric="minisblack")
    with tifffile.TiffFile(whole) as tf:
        page = tf.pages[0]
        reference = page.asarray()
        tiles = []
        for off, n in zip(page.dataoffsets, page.databytecounts):
            tf.filehandle.seek(off)
            tiles.append(tf.filehandle.read(n))
    tables = b"\xff\xd8" + b"".join(s for m, s in _jpeg_segments(tiles[0]) if m in (0xDB, 0xC4)) + b"\xff\xd9"
    abbreviated = [b"\xff\xd8" + b"".join(s for m, s in _jpeg_segments(t) if m not in (0xDB, 0xC4)) for t in tiles]
    path = tmp_path / "tables.ome.tif"
    tifffile.imwrite(path, iter(abbreviated), shape=data.shape, dtype="uint8", compression="jpeg",
                     tile=(32, 48), photometric="minisblack", extratags=[(347, 7, len(tables), tables, True)],
                     ome=True)
    with tifffile.TiffFile(path) as tf:
        assert 347 in tf.pages[0].tags
        np.testing.assert_array_equal(tf.asarray(), reference)
    got = ome.to_npy(path, tmp_path / "out.npy")
    diff = np.abs(got.astype(np.int16) - _tczyx(reference, "yx").astype(np.int16))
    assert diff.max() <= 2


PACKED_CASES = [
    ("bool-mask", "bool", 1, (2, 37, 29), "ZYX"),
    ("uint8-4bit", "uint8", 4, (33, 21), "YX"),
    ("uint16-10bit", "uint16", 10, (2, 25, 19), "CYX"),
    ("uint16-12bit", "uint16", 12, (3, 40, 33), "ZYX"),
    ("uint16-14bit", "uint16", 14, (17, 23), "YX"),
]


@pytest.mark.parametrize("case", PACKED_CASES, ids=[c[0] for c in PACKED_CASES])
def test_tifffile_packed_bits_we_read(ome, tmp_path, case):
    _, dtype, bits, shape, axes = case
    rng = np.random.default_rng(7)
    if dtype == "bool":
        data = rng.random(shape) > 0.6
        kw = {}
    else:
        data = rng.integers(0, 2**bits, size=shape).astype(dtype)
        kw = {"bitspersample": bits}
    path = tmp_path / "packed.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": axes}, photometric="minisblack", **kw)
    with tifffile.TiffFile(path) as tf:
        assert tf.pages[0].bitspersample == bits
        reference = tf.asarray()
    got = ome.to_npy(path, tmp_path / "out.npy")
    want = _tczyx(reference.astype(np.uint8) if dtype == "bool" else reference, axes.lower())
    np.testing.assert_array_equal(got, want)


# --- we write every codec, Bio-Formats decodes the pixels ------------------------------------

from test_tiff import OURS, _bf_run, _bioformats, _write_ours  # noqa: E402


@pytest.mark.parametrize("case", OURS, ids=[c[0] for c in OURS])
def test_bioformats_decodes_our_pixels(ome, tmp_path, case):
    """Bio-Formats 7.3 `ImageConverter` decodes level 0 of our file (zstd is TIFF
    Compression 50000, which Bio-Formats reads since 6.x) into an uncompressed OME-TIFF;
    its pixels equal what we wrote."""
    comp, axes, shape, dtype, extra = case
    _bioformats()
    data, out = _write_ours(ome, tmp_path, comp, axes, shape, dtype, extra)
    plain = tmp_path / "bf.ome.tif"
    text = _bf_run("ImageConverter", "-series", "0", "-compression", "Uncompressed", out, plain)
    assert plain.is_file(), text[-3000:]
    with tifffile.TiffFile(plain) as tif:
        got = tif.series[0].asarray()
    want = _tczyx(data, axes)
    np.testing.assert_array_equal(got.reshape(want.shape), want)
