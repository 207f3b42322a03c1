#!/usr/bin/env python3
"""Writes the hostile-input corpus: malformed OME-Zarr, TIFF and OME-XML inputs.

Usage: make_corpus.py OUTDIR            writes every case under OUTDIR and OUTDIR/manifest.json
       make_corpus.py --manifest FILE   writes only the manifest (testdata/hostile/manifest.json)

Python 3.8+ standard library only (zlib, gzip, struct, json), so the corpus can be made on
any machine; `ome-cli/tests/it/hostile_corpus.rs` runs this script into a temporary directory
and checks the manifest it prints against the committed `manifest.json`.

Each case has an expected outcome:
  expect           substrings (case-insensitive), at least one of which the error message of
                   each command that must fail contains: the message names the problem
  info_may_succeed the problem lies in chunk/tile bytes, which `ome info` never reads
  convert_may_succeed (only written when true) the data reads and converts; the problem is
                   one the validator flags (a rule code among `expect`), so `ome-validate` must
                   exit non-zero, and `ome info` too unless info_may_succeed
  pending          why the strict assertion is not yet made (a reader that does not exist
                   yet, a limit not wired yet); the test still requires no panic, a non-zero
                   exit of convert/validate, bounded memory and time, and reports the rest
Bomb sizes are chosen so a reader that decodes without a bound goes well past 512 MiB.
"""

import gzip
import json
import os
import struct
import sys
import zlib

CASES = []

TIFF_PENDING = None  # the OME-TIFF reader exists: every TIFF case gets the strict check


def case(name, fmt, problem, expect, info_may_succeed=False, pending=None, ext=None, convert_may_succeed=False):
    if ext is None:
        ext = {"zarr": "", "tiff": ".tif", "xml": ".ome.xml"}[fmt]

    def register(fn):
        CASES.append(
            {
                "name": name,
                "path": name + ext,
                "format": fmt,
                "problem": problem,
                "expect": expect,
                "info_may_succeed": info_may_succeed,
                "pending": pending,
                "make": fn,
            }
        )
        if convert_may_succeed:
            CASES[-1]["convert_may_succeed"] = True
        return fn

    return register


# ---------------------------------------------------------------- helpers


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def jdump(obj):
    return json.dumps(obj, allow_nan=True)


def zstd_rle_bomb(total):
    """A zstd frame of RLE blocks of 128 KiB zero bytes: 4 bytes per 128 KiB decoded."""
    block = 128 << 10
    out = bytearray(struct.pack("<I", 0xFD2FB528))
    out += bytes([0x00, 7 << 3])  # no content size, window 2^17
    n = total // block
    for i in range(n):
        last = 1 if i == n - 1 else 0
        header = last | (1 << 1) | (block << 3)
        out += struct.pack("<I", header)[:3] + b"\x00"
    return bytes(out)


def deflate_zeros(total, wrap):
    """zlib (wrap='zlib') or gzip (wrap='gzip') stream of `total` zero bytes."""
    wbits = 31 if wrap == "gzip" else 15
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    piece = bytes(16 << 20)
    out = []
    for _ in range(total // len(piece)):
        out.append(c.compress(piece))
    out.append(c.flush())
    return b"".join(out)


AXES_YX = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]


def v3_root_attrs(datasets=None, axes=None):
    return {
        "ome": {
            "version": "0.5",
            "multiscales": [
                {
                    "name": "hostile",
                    "axes": axes if axes is not None else AXES_YX,
                    "datasets": datasets
                    if datasets is not None
                    else [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0]}]}],
                }
            ],
        }
    }


def v3_array(shape=(64, 64), chunks=(64, 64), dtype="uint8", codecs=None, **extra):
    doc = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": codecs if codecs is not None else [{"name": "bytes", "configuration": {"endian": "little"}}],
    }
    doc.update(extra)
    return doc


def v3_image(d, array=None, root_attrs=None, chunks=None, root_text=None, array_text=None):
    """A 0.5 image with one level `0`; `chunks` maps chunk keys under 0/ to bytes."""
    root = {"zarr_format": 3, "node_type": "group", "attributes": root_attrs or v3_root_attrs()}
    write(os.path.join(d, "zarr.json"), root_text if root_text is not None else jdump(root))
    if array_text is not None:
        write(os.path.join(d, "0", "zarr.json"), array_text)
    elif array is not False:
        write(os.path.join(d, "0", "zarr.json"), jdump(array or v3_array()))
    for key, data in (chunks or {}).items():
        write(os.path.join(d, "0", key), data)


def v2_image(d, zarray=None, zattrs=None, chunks=None, zattrs_text=None):
    write(os.path.join(d, ".zgroup"), jdump({"zarr_format": 2}))
    attrs = zattrs or {
        "multiscales": [
            {
                "version": "0.4",
                "axes": AXES_YX,
                "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0]}]}],
            }
        ]
    }
    write(os.path.join(d, ".zattrs"), zattrs_text if zattrs_text is not None else jdump(attrs))
    za = {
        "zarr_format": 2,
        "shape": [64, 64],
        "chunks": [64, 64],
        "dtype": "|u1",
        "compressor": {"id": "zlib", "level": 1},
        "fill_value": 0,
        "order": "C",
        "filters": None,
        "dimension_separator": "/",
    }
    za.update(zarray or {})
    write(os.path.join(d, "0", ".zarray"), jdump(za))
    for key, data in (chunks or {}).items():
        write(os.path.join(d, "0", key), data)


GZIP = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip", "configuration": {"level": 5}}]
ZSTD = [
    {"name": "bytes", "configuration": {"endian": "little"}},
    {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
]
BLOSC = [
    {"name": "bytes", "configuration": {"endian": "little"}},
    {
        "name": "blosc",
        "configuration": {"cname": "zstd", "clevel": 1, "shuffle": "noshuffle", "typesize": 1, "blocksize": 0},
    },
]


def sharded(inner=(16, 16), index_location="end"):
    return [
        {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": list(inner),
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                "index_location": index_location,
            },
        }
    ]


def shard_bytes(entries, payload=b""):
    """A shard: payload then an index of (offset, nbytes) u64 pairs."""
    return payload + b"".join(struct.pack("<QQ", o, n) for o, n in entries)


def nest(depth, leaf=0):
    return "[" * depth + str(leaf) + "]" * depth


# ---------------------------------------------------------------- Zarr cases

LIMIT = ["limit", "exceed"]
DECODE = ["decod", "decompress", "chunk", "codec", "size", "length", "expected"]


@case("zarr-zstd-bomb", "zarr", "zstd chunk of 64x64 u8 that decompresses to 2 GiB",
      DECODE + LIMIT, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=ZSTD), chunks={"c/0/0": zstd_rle_bomb(2 << 30)})


@case("zarr-gzip-bomb", "zarr", "gzip chunk of 64x64 u8 that inflates to 1 GiB",
      DECODE + LIMIT, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=GZIP), chunks={"c/0/0": deflate_zeros(1 << 30, "gzip")})


@case("zarr-v2-zlib-bomb", "zarr", "v2 zlib chunk of 64x64 u8 that inflates to 1 GiB",
      DECODE + LIMIT, info_may_succeed=True)
def _(d):
    v2_image(d, chunks={"0/0": deflate_zeros(1 << 30, "zlib")})


@case("zarr-blosc-header-lies", "zarr", "blosc chunk whose header claims 2 GiB decoded",
      DECODE + ["blosc"] + LIMIT, info_may_succeed=True)
def _(d):
    hdr = struct.pack("<BBBBIII", 2, 1, 0x02, 1, 0x7FFFFFFF, 0x7FFFFFFF, 16 + 8)
    v3_image(d, array=v3_array(codecs=BLOSC), chunks={"c/0/0": hdr + bytes(8)})


@case("zarr-blosc-memcpy-short", "zarr", "blosc memcpyed chunk shorter than its header says",
      DECODE + ["blosc"], info_may_succeed=True)
def _(d):
    hdr = struct.pack("<BBBBIII", 2, 1, 0x02, 1, 4096, 4096, 4096 + 16)
    v3_image(d, array=v3_array(codecs=BLOSC), chunks={"c/0/0": hdr + bytes(100)})


@case("zarr-gzip-garbage", "zarr", "gzip chunk that is not a gzip stream", DECODE + ["gzip", "header"],
      info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=GZIP), chunks={"c/0/0": b"\x1f\x8b\x08\x00garbage" * 10})


@case("zarr-zstd-truncated", "zarr", "zstd chunk cut in the middle", DECODE + ["zstd"], info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=ZSTD), chunks={"c/0/0": zstd_rle_bomb(1 << 20)[:40]})


@case("zarr-raw-chunk-short", "zarr", "uncompressed chunk with fewer bytes than its shape", DECODE,
      info_may_succeed=True)
def _(d):
    v3_image(d, chunks={"c/0/0": bytes(100)})


@case("zarr-raw-chunk-long", "zarr", "uncompressed chunk with more bytes than its shape", DECODE,
      info_may_succeed=True)
def _(d):
    v3_image(d, chunks={"c/0/0": bytes(64 * 64 + 7)})


@case("zarr-huge-shape-overflow", "zarr", "shape whose byte size overflows 64 bits",
      ["shape", "64 bits", "overflow"])
def _(d):
    v3_image(d, array=v3_array(shape=(1 << 40, 1 << 40), chunks=(64, 64)))


@case("zarr-huge-shape-exabyte", "zarr", "shape of 2^60 elements with small chunks (all fill value)",
      ["shape", "limit", "exceed", "elements"])
def _(d):
    v3_image(d, array=v3_array(shape=(1 << 30, 1 << 30), chunks=(64, 64)))


@case("zarr-huge-chunk", "zarr", "chunk shape of 2^40 bytes", LIMIT)
def _(d):
    v3_image(d, array=v3_array(shape=(1 << 20, 1 << 20), chunks=(1 << 20, 1 << 20)))


@case("zarr-zero-chunk", "zarr", "chunk shape with a zero extent", ["zero", "chunk"])
def _(d):
    v3_image(d, array=v3_array(chunks=(0, 64)))


@case("zarr-negative-shape", "zarr", "negative array extent", ["shape", "non-negative", "integer"])
def _(d):
    v3_image(d, array=v3_array(shape=(-64, 64)))


@case("zarr-float-shape", "zarr", "shape given as 1e20 floats", ["shape", "integer"])
def _(d):
    v3_image(d, array_text=jdump(v3_array()).replace('"shape": [64, 64]', '"shape": [1e20, 64]'))


@case("zarr-too-many-dims", "zarr", "array with 40 dimensions", ["dimension"] + LIMIT)
def _(d):
    v3_image(d, array=v3_array(shape=[1] * 40, chunks=[1] * 40))


@case("zarr-shape-chunk-rank", "zarr", "chunk shape rank differs from the array rank", ["dimension", "rank"])
def _(d):
    v3_image(d, array=v3_array(chunks=(64,)))


@case("zarr-nan-scale", "zarr", "NaN in a scale transform (not JSON)", ["json", "nan", "expected"])
def _(d):
    a = v3_root_attrs()
    a["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"] = [float("nan"), 1.0]
    v3_image(d, root_attrs=a)


@case("zarr-huge-number-scale", "zarr", "1e999 in a scale transform", ["json", "number", "range", "scale"])
def _(d):
    v3_image(d, root_text=jdump({"zarr_format": 3, "node_type": "group", "attributes": v3_root_attrs()})
             .replace('"scale": [1.0, 1.0]', '"scale": [1e999, 1.0]'))


@case("zarr-huge-fill-value", "zarr", "fill value 1e400 for uint8", ["fill", "json", "number", "range"])
def _(d):
    v3_image(d, array_text=jdump(v3_array()).replace('"fill_value": 0', '"fill_value": 1e400'))


@case("zarr-fill-value-type", "zarr", "fill value of the wrong type", ["fill"])
def _(d):
    v3_image(d, array=v3_array(fill_value="banana"))


@case("zarr-deep-json-root", "zarr", "zarr.json nested 100000 arrays deep", ["recursion", "depth", "nest", "json"])
def _(d):
    v3_image(d, root_text='{"zarr_format": 3, "node_type": "group", "attributes": {"x": ' + nest(100000) + "}}")


@case("zarr-deep-json-attributes", "zarr", "attributes nested 120 arrays deep (below serde's 128)",
      ["depth", "nest"])
def _(d):
    a = v3_root_attrs()
    a["deep"] = json.loads(nest(120))
    v3_image(d, root_attrs=a)


@case("zarr-v2-deep-zattrs", "zarr", ".zattrs nested 100000 objects deep", ["recursion", "depth", "nest", "json"])
def _(d):
    v2_image(d, zattrs_text='{"a":' * 100000 + "1" + "}" * 100000)


@case("zarr-huge-metadata", "zarr", "zarr.json of 80 MiB", LIMIT + ["bytes"])
def _(d):
    root = jdump({"zarr_format": 3, "node_type": "group", "attributes": v3_root_attrs()})
    v3_image(d, root_text=root[:-1] + ', "pad": "' + "x" * (80 << 20) + '"}')


@case("zarr-path-dotdot", "zarr", "dataset path ../outside", ["..", "path", "outside", "escape", "root"])
def _(d):
    v3_image(d, root_attrs=v3_root_attrs(datasets=[{"path": "../outside", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0]}]}]))
    v3_image(os.path.join(os.path.dirname(d), "outside"))


@case("zarr-path-absolute", "zarr", "dataset path /etc", ["path", "absolute", "outside", "escape", "root"])
def _(d):
    v3_image(d, root_attrs=v3_root_attrs(datasets=[{"path": "/etc", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0]}]}]))


@case("zarr-path-nested-dotdot", "zarr", "dataset path 0/../../x", ["..", "path", "outside", "escape", "root"])
def _(d):
    v3_image(d, root_attrs=v3_root_attrs(datasets=[{"path": "0/../../x", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0]}]}]))


@case("zarr-symlink-array-escape", "zarr", "level 0 is a symlink to an array outside the dataset",
      ["symlink", "link", "outside", "escape", "root"])
def _(d):
    outside = os.path.join(os.path.dirname(d), "zarr-symlink-array-escape-target")
    v3_image(outside)
    v3_image(d, array=False)
    os.symlink(os.path.join(outside, "0"), os.path.join(d, "0"))


@case("zarr-symlink-chunk-etc", "zarr", "a chunk file that is a symlink to /etc/passwd",
      ["symlink", "link", "outside", "escape", "root"], info_may_succeed=True)
def _(d):
    v3_image(d)
    os.makedirs(os.path.join(d, "0", "c", "0"), exist_ok=True)
    os.symlink("/etc/passwd", os.path.join(d, "0", "c", "0", "0"))


@case("zarr-v2-dtype-unknown", "zarr", "v2 dtype <u3", ["dtype", "type", "data type", "unsupported"])
def _(d):
    v2_image(d, zarray={"dtype": "<u3"})


@case("zarr-v3-dtype-unknown", "zarr", "v3 data type uint128", ["type", "unsupported", "uint128"])
def _(d):
    v3_image(d, array=v3_array(dtype="uint128"))


@case("zarr-v2-dtype-odd-bytes", "zarr", "v2 <u2 chunk with an odd number of bytes", DECODE,
      info_may_succeed=True)
def _(d):
    v2_image(d, zarray={"dtype": "<u2", "compressor": None}, chunks={"0/0": bytes(64 * 64 * 2 - 1)})


@case("zarr-v2-compressor-unknown", "zarr", "v2 compressor lzma", ["compressor", "codec", "unsupported", "lzma"])
def _(d):
    v2_image(d, zarray={"compressor": {"id": "lzma"}})


@case("zarr-shard-not-multiple", "zarr", "shard shape not a multiple of the inner chunk shape",
      ["shard", "chunk", "multiple", "divis"])
def _(d):
    v3_image(d, array=v3_array(codecs=sharded(inner=(24, 24))))


@case("zarr-shard-index-past-end", "zarr", "shard index entries pointing past the end of the shard",
      DECODE + ["shard", "index", "offset"], info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded()),
             chunks={"c/0/0": shard_bytes([(1 << 40, 256)] * 16)})


@case("zarr-shard-index-huge-nbytes", "zarr", "shard index entry of 2^63 bytes",
      DECODE + ["shard", "index"], info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded()),
             chunks={"c/0/0": shard_bytes([(0, 1 << 63)] * 16, bytes(256))})


@case("zarr-shard-index-truncated", "zarr", "shard shorter than its index", DECODE + ["shard", "index"],
      info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded()), chunks={"c/0/0": bytes(40)})


@case("zarr-shard-inner-wrong-size", "zarr", "shard whose inner chunks have the wrong byte count",
      DECODE + ["shard"], info_may_succeed=True)
def _(d):
    payload = bytes(16 * 100)
    v3_image(d, array=v3_array(codecs=sharded()),
             chunks={"c/0/0": shard_bytes([(i * 100, 100) for i in range(16)], payload)})


@case("zarr-axes-shape-mismatch", "zarr", "three axes for a two-dimensional array", ["axes", "dimension"])
def _(d):
    v3_image(d, root_attrs=v3_root_attrs(axes=AXES_YX + [{"name": "z", "type": "space"}]))


@case("zarr-no-datasets", "zarr", "multiscales with an empty datasets list", ["datasets", "level", "empty"])
def _(d):
    v3_image(d, root_attrs=v3_root_attrs(datasets=[]))


@case("zarr-missing-array", "zarr", "level path naming no array", ["0", "array", "not found", "missing", "no such"])
def _(d):
    v3_image(d, array=False)


@case("zarr-root-not-object", "zarr", "zarr.json that is a JSON array", ["json", "expected", "object"])
def _(d):
    v3_image(d, root_text="[1, 2, 3]")


@case("zarr-root-binary", "zarr", "zarr.json holding binary garbage", ["json", "expected", "utf", "invalid"])
def _(d):
    v3_image(d, root_text=b"\x00\xff\xfe" * 100)


@case("zarr-root-empty", "zarr", "empty zarr.json", ["json", "eof", "expected", "empty"])
def _(d):
    v3_image(d, root_text="")


@case("zarr-scale-length", "zarr", "scale with one value for two axes", ["scale", "axes", "length", "dimension"])
def _(d):
    v3_image(d, root_attrs=v3_root_attrs(datasets=[{"path": "0", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0]}]}]))


# ---------------------------------------------------------------- TIFF cases


# ---------------------------------------------------------------- Zarr read path: blosc, shards, special files

# Headers that lie about sizes, shard indexes that point anywhere, and files that are not
# regular files or lead out of the dataset: each must end in an error naming the key,
# before any allocation of what the bytes claim and without blocking.

BLOSC_V2 = {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 0, "blocksize": 0}
BLOSC_NEEDLES = ["blosc", "decoded", "block", "compressed"]
SHARD_NEEDLES = ["shard", "index", "inner chunk", "offset"]
LINK_NEEDLES = ["symbolic link", "symlink", "outside", "root"]
SPECIAL_NEEDLES = ["fifo", "regular file", "special", "device"]


def blosc_header(nbytes, blocksize, cbytes, flags=0x00, typesize=1):
    return struct.pack("<BBBBIII", 2, 1, flags, typesize, nbytes, blocksize, cbytes)


def blosc_lying_nbytes():
    """A non-copy blosc chunk claiming 2 GiB - 256 decoded (below c-blosc's own 2 GiB cap)."""
    nbytes = 0x7FFFFF00
    body = struct.pack("<I", 20) + struct.pack("<i", 8) + bytes(8)
    return blosc_header(nbytes, nbytes, 16 + len(body)) + body


def sharded_codecs(inner=(16, 16), inner_codecs=None, index_location="end", crc=False):
    index_codecs = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if crc:
        index_codecs.append({"name": "crc32c"})
    return [
        {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": list(inner),
                "codecs": inner_codecs or [{"name": "bytes", "configuration": {"endian": "little"}}],
                "index_codecs": index_codecs,
                "index_location": index_location,
            },
        }
    ]


def shard_with_first(n_chunks, first, index_location="end", crc=False):
    """A shard whose inner chunk 0 holds `first` and every other inner chunk is empty."""
    empty = (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
    index_len = 16 * n_chunks + (4 if crc else 0)
    at = index_len if index_location == "start" else 0
    entries = [(at, len(first))] + [empty] * (n_chunks - 1)
    index = b"".join(struct.pack("<QQ", o, n) for o, n in entries)
    if crc:
        index += struct.pack("<I", crc32c(index))
    return index + first if index_location == "start" else first + index


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


INNER_BLOSC = [BLOSC[0], BLOSC[1]]
INNER_ZSTD = ZSTD
INNER_GZIP = GZIP
BIG_SHARD = dict(shape=(1024, 1024), chunks=(1024, 1024))  # 1 MiB decoded, 4096 inner chunks


@case("zarr-blosc-nbytes-lie-v3", "zarr", "v3 blosc chunk of 64x64 u8 whose header claims 2 GiB - 256 decoded",
      BLOSC_NEEDLES + DECODE, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=BLOSC), chunks={"c/0/0": blosc_lying_nbytes()})


@case("zarr-blosc-nbytes-lie-v2", "zarr", "v2 blosc chunk of 64x64 u8 whose header claims 2 GiB - 256 decoded",
      BLOSC_NEEDLES + DECODE, info_may_succeed=True)
def _(d):
    v2_image(d, zarray={"compressor": BLOSC_V2}, chunks={"0/0": blosc_lying_nbytes()})


@case("zarr-blosc-blocksize-lie", "zarr", "blosc chunk with a block size of 2 GiB for 4096 decoded bytes",
      BLOSC_NEEDLES + DECODE, info_may_succeed=True)
def _(d):
    body = struct.pack("<I", 20) + struct.pack("<i", 8) + bytes(8)
    v3_image(d, array=v3_array(codecs=BLOSC),
             chunks={"c/0/0": blosc_header(4096, 0x7FFFFF00, 16 + len(body)) + body})


@case("zarr-blosc-cbytes-lie", "zarr", "blosc chunk whose header claims 1 MiB compressed, 116 bytes present",
      BLOSC_NEEDLES + DECODE, info_may_succeed=True)
def _(d):
    body = struct.pack("<I", 20) + bytes(96)
    v3_image(d, array=v3_array(codecs=BLOSC), chunks={"c/0/0": blosc_header(4096, 4096, 1 << 20) + body})


@case("zarr-v2-blosc-block-table-past-end", "zarr", "blosc chunk of 1-byte blocks whose block table lies past the end",
      BLOSC_NEEDLES + DECODE, info_may_succeed=True)
def _(d):
    body = bytes(8)
    v2_image(d, zarray={"compressor": BLOSC_V2}, chunks={"0/0": blosc_header(4096, 1, 16 + len(body)) + body})


@case("zarr-shard-blosc-nbytes-lie", "zarr", "blosc inner chunk of a shard whose header claims 2 GiB - 256 decoded",
      BLOSC_NEEDLES + SHARD_NEEDLES, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded_codecs(inner_codecs=INNER_BLOSC)),
             chunks={"c/0/0": shard_with_first(16, blosc_lying_nbytes())})


@case("zarr-shard-zstd-bomb", "zarr", "zstd inner chunk of 16x16 u8 in a shard that decompresses to 2 GiB",
      DECODE + LIMIT + SHARD_NEEDLES, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded_codecs(inner_codecs=INNER_ZSTD), **BIG_SHARD),
             chunks={"c/0/0": shard_with_first(4096, zstd_rle_bomb(2 << 30))})


@case("zarr-shard-gzip-bomb", "zarr", "gzip inner chunk of 16x16 u8 in a shard (crc32c index) that inflates to 1 GiB",
      DECODE + LIMIT + SHARD_NEEDLES, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded_codecs(inner_codecs=INNER_GZIP, crc=True), **BIG_SHARD),
             chunks={"c/0/0": shard_with_first(4096, deflate_zeros(1 << 30, "gzip"), crc=True)})


@case("zarr-shard-index-overlaps-index", "zarr", "shard index entry whose bytes run into the index at the end",
      SHARD_NEEDLES, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded_codecs()),
             chunks={"c/0/0": shard_bytes([(200, 256)] + [(0, 256)] * 15, bytes(256))})


@case("zarr-shard-index-length-overflow", "zarr", "shard index entry whose offset + length overflows 64 bits",
      SHARD_NEEDLES + ["overflow"], info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded_codecs()),
             chunks={"c/0/0": shard_bytes([((1 << 64) - 16, 32)] + [(0, 256)] * 15, bytes(256))})


@case("zarr-shard-index-start-past-end", "zarr", "index at the start of the shard, an entry past its end",
      SHARD_NEEDLES, info_may_succeed=True)
def _(d):
    index = b"".join(struct.pack("<QQ", o, 256) for o in [256 + 16 * 16 * 16] + [256] * 15)
    v3_image(d, array=v3_array(codecs=sharded_codecs(index_location="start")),
             chunks={"c/0/0": index + bytes(256)})


@case("zarr-shard-index-start-overlaps", "zarr", "index at the start of the shard, an entry reading the index",
      SHARD_NEEDLES, info_may_succeed=True)
def _(d):
    index = b"".join(struct.pack("<QQ", o, 256) for o in [0] + [256] * 15)
    v3_image(d, array=v3_array(codecs=sharded_codecs(index_location="start")),
             chunks={"c/0/0": index + bytes(256)})


@case("zarr-shard-index-crc-mismatch", "zarr", "shard index whose crc32c does not match",
      SHARD_NEEDLES + ["crc32c", "checksum"], info_may_succeed=True)
def _(d):
    shard = bytearray(shard_with_first(16, bytes(256), crc=True))
    shard[-1] ^= 0xFF
    v3_image(d, array=v3_array(codecs=sharded_codecs(crc=True)), chunks={"c/0/0": bytes(shard)})


@case("zarr-shard-index-huge", "zarr", "shards of 16384x16384 u8 with 1x1 inner chunks: a 4 GiB shard index",
      SHARD_NEEDLES + LIMIT)
def _(d):
    v3_image(d, array=v3_array(shape=(16384, 16384), chunks=(16384, 16384), codecs=sharded_codecs(inner=(1, 1))))


@case("zarr-chunk-huge-sparse", "zarr", "a 64x64 u8 chunk file of 8 GiB (sparse)", DECODE + LIMIT + ["bytes"],
      info_may_succeed=True)
def _(d):
    v3_image(d, chunks={"c/0/0": b""})
    with open(os.path.join(d, "0", "c", "0", "0"), "wb") as f:
        f.truncate(8 << 30)


@case("zarr-fifo-chunk", "zarr", "a FIFO where a chunk file should be", SPECIAL_NEEDLES, info_may_succeed=True)
def _(d):
    v3_image(d)
    os.makedirs(os.path.join(d, "0", "c", "0"), exist_ok=True)
    os.mkfifo(os.path.join(d, "0", "c", "0", "0"))


@case("zarr-shard-fifo", "zarr", "a FIFO where a shard file should be", SPECIAL_NEEDLES, info_may_succeed=True)
def _(d):
    v3_image(d, array=v3_array(codecs=sharded_codecs()))
    os.makedirs(os.path.join(d, "0", "c", "0"), exist_ok=True)
    os.mkfifo(os.path.join(d, "0", "c", "0", "0"))


@case("zarr-fifo-zarr-json", "zarr", "a FIFO as the root zarr.json", SPECIAL_NEEDLES)
def _(d):
    v3_image(d)
    os.remove(os.path.join(d, "zarr.json"))
    os.mkfifo(os.path.join(d, "zarr.json"))


@case("zarr-fifo-array-json", "zarr", "a FIFO as the zarr.json of level 0", SPECIAL_NEEDLES)
def _(d):
    v3_image(d, array=False)
    os.makedirs(os.path.join(d, "0"))
    os.mkfifo(os.path.join(d, "0", "zarr.json"))


@case("zarr-v2-fifo-zattrs", "zarr", "a FIFO as the root .zattrs", SPECIAL_NEEDLES)
def _(d):
    v2_image(d)
    os.remove(os.path.join(d, ".zattrs"))
    os.mkfifo(os.path.join(d, ".zattrs"))


@case("zarr-chunk-links-dev-zero", "zarr", "a chunk file that is a symlink to /dev/zero", LINK_NEEDLES + SPECIAL_NEEDLES,
      info_may_succeed=True)
def _(d):
    v3_image(d)
    os.makedirs(os.path.join(d, "0", "c", "0"), exist_ok=True)
    os.symlink("/dev/zero", os.path.join(d, "0", "c", "0", "0"))


@case("zarr-symlink-root-json-escape", "zarr", "the root zarr.json is a symlink to a valid zarr.json outside the dataset",
      LINK_NEEDLES)
def _(d):
    target = d + "-target.json"
    write(target, jdump({"zarr_format": 3, "node_type": "group", "attributes": v3_root_attrs()}))
    v3_image(d)
    os.remove(os.path.join(d, "zarr.json"))
    os.symlink(target, os.path.join(d, "zarr.json"))


@case("zarr-v2-symlink-zattrs-escape", "zarr", "the root .zattrs is a symlink to valid attributes outside the dataset",
      LINK_NEEDLES)
def _(d):
    v2_image(d)
    target = d + "-target.zattrs"
    os.rename(os.path.join(d, ".zattrs"), target)
    os.symlink(target, os.path.join(d, ".zattrs"))


@case("zarr-dangling-chunk-symlink", "zarr", "a chunk file that is a symlink to nothing (not a missing chunk)",
      ["symbolic link", "dangling", "nothing"], info_may_succeed=True)
def _(d):
    v3_image(d)
    os.makedirs(os.path.join(d, "0", "c", "0"), exist_ok=True)
    os.symlink("no-such-chunk", os.path.join(d, "0", "c", "0", "0"))


@case("ome-companion-fifo-pixels", "tiff", "an OME-XML companion whose TiffData names a FIFO as its TIFF file",
      SPECIAL_NEEDLES, ext=".companion.ome")
def _(d):
    os.mkfifo(d + "-pixels.ome.tif")
    uuid = "urn:uuid:00000000-0000-4000-8000-000000000000"
    tiffdata = ('<TiffData IFD="0" PlaneCount="1"><UUID FileName="%s">%s</UUID></TiffData>'
                % (os.path.basename(d) + "-pixels.ome.tif", uuid))
    write(d + ".companion.ome", ome_doc().replace("<TiffData/>", tiffdata))


def tiff(entries_per_ifd, next_offsets=None, big_endian=False, extra=b"", ifd_at=8):
    """A classic TIFF with IFDs at given places. `entries_per_ifd` is a list of (offset, entries,
    next) where entries are (tag, type, count, value_u32)."""
    e = ">" if big_endian else "<"
    out = bytearray((b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, ifd_at))
    for off, entries, nxt in entries_per_ifd:
        if len(out) < off:
            out += bytes(off - len(out))
        ifd = struct.pack(e + "H", len(entries))
        for tag, typ, count, value in entries:
            ifd += struct.pack(e + "HHII", tag, typ, count, value)
        ifd += struct.pack(e + "I", nxt)
        out[off:off + len(ifd)] = ifd
    return bytes(out) + extra


def basic_entries(w=64, h=64, strip_off=200, strip_len=4096, compression=1, desc=None):
    ents = [
        (256, 4, 1, w),
        (257, 4, 1, h),
        (258, 3, 1, 8),
        (259, 3, 1, compression),
        (262, 3, 1, 1),
        (273, 4, 1, strip_off),
        (277, 3, 1, 1),
        (278, 4, 1, h),
        (279, 4, 1, strip_len),
    ]
    if desc is not None:
        ents.append(desc)
    return sorted(ents)


def tiff_with_description(xml):
    data = xml.encode() if isinstance(xml, str) else xml
    desc_off = 8 + 2 + 10 * 12 + 4
    pix_off = desc_off + len(data)
    ents = basic_entries(strip_off=pix_off, desc=(270, 2, len(data), desc_off))
    return tiff([(8, ents, 0)]) + data + bytes(4096)


TIFF_NEEDLES = ["ifd", "tag", "tiff", "offset"]


@case("tiff-ifd-self-cycle", "tiff", "IFD 0 whose next-IFD offset points to itself", ["cycle", "loop"] + TIFF_NEEDLES,
      pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(), 8)], extra=bytes(4096)))


@case("tiff-ifd-two-cycle", "tiff", "IFD 0 -> IFD 1 -> IFD 0", ["cycle", "loop"] + TIFF_NEEDLES, pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(), 400), (400, basic_entries(), 8)], extra=bytes(4096)))


@case("tiff-ifd-past-end", "tiff", "first IFD offset past the end of the file", ["offset", "end"] + TIFF_NEEDLES,
      pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", b"II" + struct.pack("<HI", 42, 0x7FFFFFF0) + bytes(64))


@case("tiff-next-ifd-past-end", "tiff", "next-IFD offset past the end of the file", ["offset", "end"] + TIFF_NEEDLES,
      pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(), 0x7FFFFFF0)], extra=bytes(4096)))


@case("tiff-strip-past-end", "tiff", "strip offset past the end of the file", ["offset", "strip"] + TIFF_NEEDLES,
      info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(strip_off=0x7FFF0000), 0)]))


@case("tiff-huge-entry-count", "tiff", "IFD claiming 65535 entries in a 30-byte file", TIFF_NEEDLES,
      pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", b"II" + struct.pack("<HIH", 42, 8, 0xFFFF) + bytes(20))


@case("tiff-huge-tag-count", "tiff", "StripOffsets tag with count 2^32-1", ["count"] + TIFF_NEEDLES + LIMIT,
      pending=TIFF_PENDING)
def _(d):
    ents = [e if e[0] != 273 else (273, 4, 0xFFFFFFFF, 200) for e in basic_entries()]
    write(d + ".tif", tiff([(8, ents, 0)], extra=bytes(4096)))


@case("tiff-tile-bomb", "tiff", "tiled 2^31 x 2^31 image with 65536 x 65536 tiles", LIMIT + TIFF_NEEDLES,
      pending=TIFF_PENDING)
def _(d):
    ents = [
        (256, 4, 1, 1 << 31), (257, 4, 1, 1 << 31), (258, 3, 1, 16), (259, 3, 1, 8), (262, 3, 1, 1),
        (277, 3, 1, 1), (322, 4, 1, 65536), (323, 4, 1, 65536), (324, 4, 1, 400), (325, 4, 1, 100),
    ]
    write(d + ".tif", tiff([(8, ents, 0)], extra=bytes(600)))


@case("tiff-deflate-bomb", "tiff", "one deflate strip of a 64x64 image inflating to 1 GiB",
      ["decod", "decompress", "strip", "size"] + TIFF_NEEDLES + LIMIT, info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    bomb = deflate_zeros(1 << 30, "zlib")
    write(d + ".tif", tiff([(8, basic_entries(strip_len=len(bomb), compression=8), 0)])
          + bytes(200 - 138) + bomb)


@case("tiff-deflate-garbage", "tiff", "deflate strip that is not a deflate stream",
      ["decod", "deflate", "corrupt"] + TIFF_NEEDLES, info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(strip_len=4096, compression=8), 0)]) + bytes(62) + b"\xff" * 4096)


@case("tiff-jpeg-garbage", "tiff", "JPEG strip (Compression 7) that is not a JPEG stream",
      ["jpeg", "decod"] + TIFF_NEEDLES, info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    head = tiff([(8, basic_entries(strip_len=4096, compression=7), 0)])
    write(d + ".tif", head + bytes(200 - len(head)) + b"\xff\xd8" + b"\x5a" * 4094)


@case("tiff-jpeg-huge-frame", "tiff", "64 x 64 JPEG strip whose frame header claims 60000 x 60000 pixels",
      ["jpeg", "frame", "decod"] + TIFF_NEEDLES, info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    # SOI, SOF0 (8-bit, 60000 x 60000, one component), EOI: a decoder that trusted the frame
    # would allocate 3.6 GB for one strip.
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 60000, 60000, 1) + b"\x01\x11\x00"
    stream = b"\xff\xd8" + sof + b"\xff\xd9"
    head = tiff([(8, basic_entries(strip_len=len(stream), compression=7), 0)])
    write(d + ".tif", head + bytes(200 - len(head)) + stream)


@case("tiff-lzw-garbage", "tiff", "LZW strip that is not an LZW stream", ["decod", "lzw", "corrupt"] + TIFF_NEEDLES,
      info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(strip_len=4096, compression=5), 0)]) + bytes(62) + b"\xa5" * 4096)


@case("tiff-zero-dimensions", "tiff", "ImageWidth 0", ["width", "zero"] + TIFF_NEEDLES, pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", tiff([(8, basic_entries(w=0), 0)], extra=bytes(4096)))


@case("tiff-bad-magic", "tiff", "byte order II with magic 43 but classic layout", TIFF_NEEDLES + ["magic", "header"],
      pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", b"II" + struct.pack("<HI", 43, 8) + bytes(64))


@case("tiff-bigtiff-huge-offset", "tiff", "BigTIFF with first IFD at 2^63", ["offset"] + TIFF_NEEDLES,
      pending=TIFF_PENDING, ext=".btf")
def _(d):
    write(d + ".btf", b"II" + struct.pack("<HHHQ", 43, 8, 0, 1 << 63) + bytes(64))


@case("tiff-many-ifds", "tiff", "a chain of 200000 IFDs", ["ifd"] + LIMIT, pending=TIFF_PENDING)
def _(d):
    n = 200000
    out = bytearray(b"II" + struct.pack("<HI", 42, 8))
    for i in range(n):
        nxt = 8 + (i + 1) * 18 if i + 1 < n else 0
        out += struct.pack("<H", 1) + struct.pack("<HHII", 256, 4, 1, 1) + struct.pack("<I", nxt)
    write(d + ".tif", bytes(out))


@case("tiff-subifd-cycle", "tiff", "SubIFDs tag pointing back to IFD 0 (info of a plain TIFF need not follow SubIFDs)", ["cycle", "loop"] + TIFF_NEEDLES,
      info_may_succeed=True, pending=TIFF_PENDING)
def _(d):
    ents = sorted(basic_entries() + [(330, 13, 1, 8)])
    write(d + ".tif", tiff([(8, ents, 0)], extra=bytes(4096)))


@case("tiff-truncated-header", "tiff", "a 5-byte file starting II*", TIFF_NEEDLES + ["header", "eof", "short"],
      pending=TIFF_PENDING)
def _(d):
    write(d + ".tif", b"II*\x00\x08")


@case("tiff-ome-xml-entity-bomb", "tiff", "OME-XML in ImageDescription with nested entities",
      ["doctype", "entity", "dtd"] + TIFF_NEEDLES, pending=TIFF_PENDING, ext=".ome.tif")
def _(d):
    write(d + ".ome.tif", tiff_with_description(BILLION_LAUGHS))


@case("tiff-ome-xml-deep", "tiff", "OME-XML in ImageDescription nested 100000 deep",
      ["depth", "nest"] + TIFF_NEEDLES + LIMIT, pending=TIFF_PENDING, ext=".ome.tif")
def _(d):
    write(d + ".ome.tif", tiff_with_description(DEEP_XML))


@case("tiff-ome-xml-huge-sizes", "tiff", "OME-XML whose Pixels declare 2^40 x 2^40 planes",
      ["size"] + TIFF_NEEDLES + LIMIT, pending=TIFF_PENDING, ext=".ome.tif")
def _(d):
    write(d + ".ome.tif", tiff_with_description(ome_doc(size_x=str(1 << 40), size_y=str(1 << 40))))


# ---------------------------------------------------------------- OME-XML cases

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"


def ome_doc(size_x="64", size_y="64", extra_pixels_attrs="", body="", dim_order="XYZCT", size_c="1",
            physical=""):
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<OME xmlns="{OME_NS}">'
        f'<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="{dim_order}" Type="uint8" '
        f'SizeX="{size_x}" SizeY="{size_y}" SizeZ="1" SizeC="{size_c}" SizeT="1" {physical}{extra_pixels_attrs}>'
        f'<Channel ID="Channel:0:0" SamplesPerPixel="1"/>{body}<TiffData/></Pixels></Image></OME>'
    )


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE OME [\n<!ENTITY a "aaaaaaaaaa">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "' + ("&" + chr(97 + i) + ";") * 10 + '">\n' for i in range(9))
    + "]>\n" + ome_doc().split("\n", 1)[1].replace('ID="Image:0"', 'ID="Image:0" Name="&j;"')
)

DEEP_XML = f'<OME xmlns="{OME_NS}">' + "<X>" * 100000 + "</X>" * 100000 + "</OME>"


@case("xml-billion-laughs", "xml", "nested entity expansion (billion laughs)", ["doctype", "dtd", "entity"])
def _(d):
    write(d + ".ome.xml", BILLION_LAUGHS)


@case("xml-external-entity", "xml", "external entity reading /etc/passwd", ["doctype", "dtd", "entity"])
def _(d):
    write(d + ".ome.xml", '<?xml version="1.0"?>\n<!DOCTYPE OME [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
          + ome_doc().split("\n", 1)[1].replace('ID="Image:0"', 'ID="Image:0" Name="&x;"'))


@case("xml-parameter-entity", "xml", "external parameter entity fetched from the network",
      ["doctype", "dtd", "entity"])
def _(d):
    write(d + ".ome.xml", '<?xml version="1.0"?>\n<!DOCTYPE OME [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]>\n'
          + ome_doc().split("\n", 1)[1])


@case("xml-undeclared-entity", "xml", "reference to an undeclared entity", ["entity", "&", "unknown", "reference"])
def _(d):
    write(d + ".ome.xml", ome_doc().replace('ID="Image:0"', 'ID="Image:0" Name="&nope;"'))


@case("xml-huge-attribute", "xml", "attribute value of 4 MiB", ["attribute"] + LIMIT)
def _(d):
    write(d + ".ome.xml", ome_doc().replace('ID="Image:0"', 'ID="Image:0" Name="' + "x" * (4 << 20) + '"'))


@case("xml-deep-nesting", "xml", "elements nested 100000 deep", ["depth", "nest"] + LIMIT)
def _(d):
    write(d + ".ome.xml", DEEP_XML)


@case("xml-many-elements", "xml", "1.1 million Plane elements", ["element"] + LIMIT)
def _(d):
    write(d + ".ome.xml", ome_doc(body="<Plane/>" * 1_100_000))


@case("xml-huge-document", "xml", "an OME-XML document of 80 MiB", ["bytes", "size"] + LIMIT)
def _(d):
    doc = ome_doc()
    write(d + ".ome.xml", doc.replace("<Image", "<!--" + " " * (80 << 20) + "--><Image", 1))


@case("xml-truncated", "xml", "document cut in the middle of an element", ["eof", "end", "unclosed", "expected"])
def _(d):
    doc = ome_doc()
    write(d + ".ome.xml", doc[: len(doc) // 2])


@case("xml-not-utf8", "xml", "invalid UTF-8 bytes", ["utf", "encoding", "invalid"])
def _(d):
    write(d + ".ome.xml", ome_doc().encode().replace(b"Image:0", b"Image:\xff\xfe"))


@case("xml-huge-size", "xml", "SizeX of 2^70", ["sizex", "size", "integer", "range"])
def _(d):
    write(d + ".ome.xml", ome_doc(size_x=str(1 << 70)))


@case("xml-negative-size", "xml", "SizeY of -5", ["sizey", "size", "integer", "positive"])
def _(d):
    write(d + ".ome.xml", ome_doc(size_y="-5"))


@case("xml-nan-physical-size", "xml", "PhysicalSizeX NaN", ["physicalsizex", "nan", "finite", "number"])
def _(d):
    write(d + ".ome.xml", ome_doc(physical='PhysicalSizeX="NaN" '))


@case("xml-bad-dimension-order", "xml", "DimensionOrder XXYZT", ["dimensionorder", "order"])
def _(d):
    write(d + ".ome.xml", ome_doc(dim_order="XXYZT"))


@case("xml-not-ome", "xml", "a well-formed XML document that is not OME", ["ome", "root", "expected"])
def _(d):
    write(d + ".ome.xml", "<html><body/></html>")


# ---------------------------------------------------------------- OME-XML sizes, IFD samples, Zarr formats, cycles
#
# Sizes near 2^31 in OME-XML (a few bytes that declare 48 GiB of plane table), IFDs of one
# series that disagree on their samples, Zarr v2 levels under a Zarr v3 image (and the
# reverse), and hierarchies that loop through a symbolic link.


def ome_xml_doc(sizes=(64, 64, 1, 1, 1), pixel_type="uint8", tiff_data="<TiffData/>", pixels_body=None,
                dim_order="XYZCT"):
    x, y, z, c, t = sizes
    body = pixels_body if pixels_body is not None else tiff_data
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<OME xmlns="{OME_NS}">'
        f'<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="{dim_order}" Type="{pixel_type}" '
        f'SizeX="{x}" SizeY="{y}" SizeZ="{z}" SizeC="{c}" SizeT="{t}">'
        f'<Channel ID="Channel:0:0" SamplesPerPixel="1"/>{body}</Pixels></Image></OME>'
    )


def build_tiff(images, desc=None):
    """A classic little-endian TIFF. `images` lists the main-chain IFDs in order, each a dict:
    w, h, bits (8), fmt (SampleFormat, 1), spp (1), strip_len (the strip's byte count; by default
    the plane's size), subs (a list of such dicts: SubIFD levels). `desc` goes into IFD 0."""
    out = bytearray(b"II*\0\0\0\0\0")

    def put(data):
        if len(out) % 2:
            out.append(0)
        off = len(out)
        out.extend(data)
        return off

    def write_ifd(im, extra):
        spp = im.get("spp", 1)
        bits = im.get("bits", 8)
        n = im.get("strip_len")
        if n is None:
            n = (im["w"] * spp * bits + 7) // 8 * im["h"]
        strip = put(bytes(min(n, 1 << 20)))
        entries = [
            (256, 4, [im["w"]]), (257, 4, [im["h"]]), (258, 3, [bits] * spp), (259, 3, [1]),
            (262, 3, [2 if spp == 3 else 1]), (273, 4, [strip]), (277, 3, [spp]), (278, 4, [im["h"]]),
            (279, 4, [n]), (284, 3, [1]), (339, 3, [im.get("fmt", 1)] * spp),
        ] + extra
        fields = []
        for tag, typ, values in sorted(entries, key=lambda e: e[0]):
            if typ == 2:
                raw, count = values, len(values)
            else:
                raw = b"".join(struct.pack("<H" if typ == 3 else "<I", v) for v in values)
                count = len(values)
            value = raw.ljust(4, b"\0") if len(raw) <= 4 else struct.pack("<I", put(raw))
            fields.append(struct.pack("<HHI", tag, typ, count) + value)
        at = put(struct.pack("<H", len(fields)) + b"".join(fields) + struct.pack("<I", 0))
        return at, at + 2 + 12 * len(fields)

    prev_next = 4
    for i, im in enumerate(images):
        extra = []
        if i == 0 and desc is not None:
            extra.append((270, 2, desc.encode() + b"\0"))
        subs = [write_ifd(sub, [(254, 4, [1])])[0] for sub in im.get("subs", [])]
        if subs:
            extra.append((330, 4, subs))
        at, next_field = write_ifd(im, extra)
        struct.pack_into("<I", out, prev_next, at)
        prev_next = next_field
    return bytes(out)


def ome_tiff_case(d, xml, images=None):
    write(d + ".ome.tif", build_tiff(images or [{"w": 64, "h": 64}], desc=xml))


SIZE_NEEDLES = ["planes", "elements", "sizez", "size"] + LIMIT


@case("tiff-ome-plane-count-huge", "tiff", "TiffData PlaneCount 2^31-1 for a one-IFD file",
      ["tiffdata", "ifd", "plane"], ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(tiff_data='<TiffData IFD="0" PlaneCount="2147483647"/>'))


@case("tiff-ome-size-z-huge", "tiff", "SizeZ 2^31-1 (a 48 GiB plane table) with one IFD",
      SIZE_NEEDLES, ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(sizes=(64, 64, 2147483647, 1, 1)))


@case("tiff-ome-sizes-overflow", "tiff", "SizeZ x SizeC x SizeT = (2^31-1)^3, past 2^64",
      SIZE_NEEDLES, ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(sizes=(64, 64, 2147483647, 2147483647, 2147483647)))


@case("tiff-ome-sizes-u32-max", "tiff", "SizeZ = SizeC = SizeT = 2^32-1 (u32 sizes whose product overflows u64)",
      SIZE_NEEDLES, ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(sizes=(64, 64, 4294967295, 4294967295, 4294967295)))


@case("tiff-ome-huge-xy-tiny-strip", "tiff", "SizeX = SizeY = ImageWidth = ImageLength = 2^31-1 with one 16-byte strip",
      SIZE_NEEDLES + TIFF_NEEDLES, ext=".ome.tif")
def _(d):
    n = 2147483647
    ome_tiff_case(d, ome_xml_doc(sizes=(n, n, 1, 1, 1)), [{"w": n, "h": n, "strip_len": 16}])


@case("tiff-ome-wide-row-tiny-strip", "tiff", "SizeX = ImageWidth = 2^31-1, one row, one 16-byte strip (a 2 GiB strip)",
      ["strip", "tile", "bytes"] + LIMIT + TIFF_NEEDLES, ext=".ome.tif")
def _(d):
    n = 2147483647
    ome_tiff_case(d, ome_xml_doc(sizes=(n, 1, 1, 1, 1)), [{"w": n, "h": 1, "strip_len": 16}])


@case("tiff-ome-tiffdata-ifd-huge", "tiff", "TiffData IFD 2^31 in a one-IFD file",
      ["tiffdata", "ifd"], ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(tiff_data='<TiffData IFD="2147483648" PlaneCount="1"/>'))


@case("tiff-ome-tiffdata-first-huge", "tiff", "TiffData FirstZ/FirstC/FirstT 2^31-1",
      ["tiffdata", "plane", "sizez"], ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(tiff_data='<TiffData FirstZ="2147483647" FirstC="2147483647" '
                                           'FirstT="2147483647" IFD="0" PlaneCount="1"/>'))


@case("tiff-ome-xml-huge-sizes-metadata-only", "tiff",
      "an OME-XML document (no TIFF) with every Size 2^31-1 and MetadataOnly: info may describe it, "
      "convert and validate refuse it",
      SIZE_NEEDLES + ["omexml-doc-002"], info_may_succeed=True, ext=".ome.xml")
def _(d):
    n = 2147483647
    write(d + ".ome.xml", ome_xml_doc(sizes=(n, n, n, n, n), pixels_body="<MetadataOnly/>"))


@case("tiff-ome-xml-huge-sizes-bindata", "tiff",
      "an OME-XML document (no TIFF) with every Size 2^31-1 (SizeZ x SizeC x SizeT past 2^64) and a BinData element",
      SIZE_NEEDLES + ["omexml-doc-002"], info_may_succeed=True, ext=".ome.xml")
def _(d):
    n = 2147483647
    write(d + ".ome.xml", ome_xml_doc(
        sizes=(n, n, n, n, n),
        pixels_body='<BinData xmlns="http://www.openmicroscopy.org/Schemas/BinaryFile/2016-06" '
                    'BigEndian="false" Length="4">AAAAAA==</BinData>'))


BITS_NEEDLES = ["bitspersample", "samples", "sampleformat", "ometiff-pix-002", "ometiff-pyr-004"]


@case("tiff-ome-ifds-disagree-bits", "tiff", "two planes of one series: IFD 0 8-bit, IFD 1 16-bit (Type uint8)",
      BITS_NEEDLES, ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(sizes=(64, 64, 2, 1, 1)), [{"w": 64, "h": 64}, {"w": 64, "h": 64, "bits": 16}])


@case("tiff-ome-ifds-disagree-format", "tiff", "two planes: IFD 1 SampleFormat 2 (signed) under Type uint8",
      BITS_NEEDLES, ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(sizes=(64, 64, 2, 1, 1)), [{"w": 64, "h": 64}, {"w": 64, "h": 64, "fmt": 2}])


@case("tiff-ome-ifds-disagree-spp", "tiff", "two planes: IFD 1 has SamplesPerPixel 3, IFD 0 has 1",
      ["samplesperpixel", "samples per pixel", "ometiff-pix-003"], ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(sizes=(64, 64, 2, 1, 1)), [{"w": 64, "h": 64}, {"w": 64, "h": 64, "spp": 3}])


@case("tiff-ome-subifd-disagree-bits", "tiff", "an 8-bit plane whose SubIFD level is 16-bit float",
      BITS_NEEDLES + ["subifd"], ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(), [{"w": 64, "h": 64, "subs": [{"w": 32, "h": 32, "bits": 32, "fmt": 3}]}])


@case("tiff-ome-subifd-narrower", "tiff", "a 16-bit plane whose SubIFD level is 8-bit (Type uint16)",
      BITS_NEEDLES + ["subifd"], ext=".ome.tif")
def _(d):
    ome_tiff_case(d, ome_xml_doc(pixel_type="uint16"),
                  [{"w": 64, "h": 64, "bits": 16, "subs": [{"w": 32, "h": 32, "bits": 8}]}])


@case("zarr-v05-image-v2-levels", "zarr", "a 0.5 (Zarr v3) image whose level 0 is a Zarr v2 array (.zarray)",
      ["ngff-hier-005", "zarr v2", "zarr v3", "zarr format", ".zarray"], info_may_succeed=True,
      convert_may_succeed=True)
def _(d):
    v3_image(d, array=False)
    za = {"zarr_format": 2, "shape": [64, 64], "chunks": [64, 64], "dtype": "|u1", "compressor": None,
          "fill_value": 0, "order": "C", "filters": None}
    write(os.path.join(d, "0", ".zarray"), jdump(za))


@case("zarr-v04-image-v3-levels", "zarr", "a 0.4 (Zarr v2) image whose level 0 is a Zarr v3 array (zarr.json)",
      ["ngff-hier-005", "zarr v2", "zarr v3", "zarr format", "zarr.json"], info_may_succeed=True,
      convert_may_succeed=True)
def _(d):
    v2_image(d)
    os.remove(os.path.join(d, "0", ".zarray"))
    write(os.path.join(d, "0", "zarr.json"), jdump(v3_array()))


def labels_group(d, names, version="0.5"):
    write(os.path.join(d, "labels", "zarr.json"), jdump(
        {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": version, "labels": names}}}))


CYCLE_NEEDLES = ["cycle", "symbolic link", "ngff-hier-006"]


@case("zarr-labels-symlink-cycle", "zarr", "labels/cells is a symbolic link back to its image",
      CYCLE_NEEDLES, info_may_succeed=True, convert_may_succeed=True)
def _(d):
    v3_image(d)
    labels_group(d, ["cells"])
    os.symlink("..", os.path.join(d, "labels", "cells"))


@case("zarr-labels-group-symlink-cycle", "zarr", "the labels group is a symbolic link to the image itself",
      CYCLE_NEEDLES, info_may_succeed=True, convert_may_succeed=True)
def _(d):
    v3_image(d)
    os.symlink(".", os.path.join(d, "labels"))


@case("zarr-labels-nested-symlink-cycle", "zarr",
      "labels/cells/inner is a symbolic link to the root (a longer loop through a label image)",
      CYCLE_NEEDLES, info_may_succeed=True, convert_may_succeed=True)
def _(d):
    v3_image(d)
    labels_group(d, ["cells/inner"])
    os.makedirs(os.path.join(d, "labels", "cells"))
    os.symlink("../..", os.path.join(d, "labels", "cells", "inner"))


# ---------------------------------------------------------------- TIFF blocks that claim more than they hold
# A strip or tile whose declared decoded size is large (under the 1 GiB chunk limit) but
# whose compressed bytes are a few dozen: a reader that reserves the declared size before
# decoding takes ~900 MiB of address space and aborts under `prlimit --as=536870912`.


def _claims_900mib(d, compression, payload):
    w = h = 30000  # one 8-bit strip of 900 MB
    head = tiff([(8, basic_entries(w=w, h=h, strip_len=len(payload), compression=compression), 0)])
    assert len(head) <= 200
    write(d + ".tif", head + bytes(200 - len(head)) + payload)


@case("tiff-strip-claims-900mib-deflate", "tiff",
      "30000 x 30000 single deflate strip (900 MB declared) holding 20 bytes",
      ["decod", "strip", "short", "fewer", "expected", "size", "limit", "exceed"] + TIFF_NEEDLES,
      info_may_succeed=True)
def _(d):
    _claims_900mib(d, 8, zlib.compress(bytes(64)))


@case("tiff-strip-claims-900mib-zstd", "tiff",
      "30000 x 30000 single zstd strip (900 MB declared) holding a 64-byte frame",
      ["decod", "strip", "short", "fewer", "expected", "size", "limit", "exceed"] + TIFF_NEEDLES,
      info_may_succeed=True)
def _(d):
    # a zstd frame without a content size: one raw block of 64 zero bytes
    frame = struct.pack("<I", 0xFD2FB528) + bytes([0x00, 7 << 3])
    frame += struct.pack("<I", 1 | (0 << 1) | (64 << 3))[:3] + bytes(64)
    _claims_900mib(d, 50000, frame)


@case("tiff-strip-claims-900mib-lzw", "tiff",
      "30000 x 30000 single LZW strip (900 MB declared) holding 3 bytes",
      ["decod", "strip", "short", "fewer", "expected", "size", "lzw", "limit", "exceed"] + TIFF_NEEDLES,
      info_may_succeed=True)
def _(d):
    _claims_900mib(d, 5, bytes([0x80, 0x00, 0x00]))


@case("tiff-strip-claims-900mib-packbits", "tiff",
      "30000 x 30000 single PackBits strip (900 MB declared) holding 4 bytes",
      ["decod", "strip", "short", "fewer", "expected", "size", "limit", "exceed"] + TIFF_NEEDLES,
      info_may_succeed=True)
def _(d):
    _claims_900mib(d, 32773, bytes([0x81, 0x00, 0x81, 0x00]))


# ---------------------------------------------------------------- main


def manifest():
    return [{k: v for k, v in c.items() if k != "make"} for c in CASES]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--manifest":
        with open(sys.argv[2], "w") as f:
            json.dump(manifest(), f, indent=1)
            f.write("\n")
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = set()
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        c["make"](os.path.join(out, c["name"]))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
