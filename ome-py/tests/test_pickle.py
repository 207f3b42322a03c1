"""Everything ome_py hands out claims module `ome_py` and survives pickle, so that errors,
reports and images cross process boundaries (Dask distributed, multiprocessing)."""

import pickle

import numpy as np
import pytest

import ome_py

EXCEPTIONS = [
    ome_py.OmeError,
    ome_py.FormatError,
    ome_py.UnsupportedError,
    ome_py.UsageError,
    ome_py.StorageError,
    ome_py.LimitsError,
]
CLASSES = [ome_py.Limits, ome_py.Level, ome_py.Report, ome_py.Finding, ome_py.RegionWriter, ome_py.Image]


@pytest.mark.parametrize("cls", EXCEPTIONS + CLASSES, ids=lambda c: c.__name__)
def test_public_classes_claim_module_ome_py(cls):
    assert cls.__module__ == "ome_py"
    assert getattr(ome_py, cls.__qualname__) is cls


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: c.__name__)
def test_exceptions_pickle_with_their_message(cls):
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(cls("the message"), protocol=protocol))
        assert type(back) is cls
        assert str(back) == "the message" and back.args == ("the message",)


def test_a_raised_error_pickles(tmp_path):
    with pytest.raises(ome_py.OmeError) as e:
        ome_py.open(tmp_path / "missing.ome.zarr")
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is type(e.value) and str(back) == str(e.value)


def _write(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", levels=2)
    return out


def test_report_and_findings_pickle_by_value(tmp_path, czyx):
    import json

    out = _write(tmp_path, czyx)
    doc = json.loads((out / "zarr.json").read_text())
    doc["attributes"]["ome"]["multiscales"][0]["axes"][0]["type"] = 7
    (out / "zarr.json").write_text(json.dumps(doc))
    report = ome_py.validate(out, strict=True)
    assert report.findings, str(report)
    back = pickle.loads(pickle.dumps(report))
    assert type(back) is ome_py.Report
    assert (back.verdict, back.ok, bool(back)) == (report.verdict, report.ok, bool(report))
    assert back.to_json() == report.to_json() and back.to_dict() == report.to_dict()
    assert str(back) == str(report) and repr(back) == repr(report)
    fields = ("code", "severity", "message", "location", "rule_page")
    assert [[getattr(f, k) for k in fields] for f in back.findings] == [
        [getattr(f, k) for k in fields] for f in report.findings
    ]
    # The file is gone: the copy holds its values, it does not validate again.
    import shutil

    shutil.rmtree(out)
    assert pickle.loads(pickle.dumps(report)).to_json() == report.to_json()
    one = report.findings[0]
    assert str(pickle.loads(pickle.dumps(one))) == str(one)


def test_levels_limits_and_images_pickle(tmp_path, czyx):
    out = _write(tmp_path, czyx)
    limits = ome_py.Limits(max_chunk_bytes=123_456_789, max_dimensions=7)
    assert pickle.loads(pickle.dumps(limits)) == limits
    image = ome_py.open(out, limits=limits)
    level = image.levels[1]
    back = pickle.loads(pickle.dumps(level))
    assert repr(back) == repr(level) and back.translation == level.translation and back.codecs == level.codecs
    again = pickle.loads(pickle.dumps(image))
    assert type(again) is ome_py.Image and again.limits == limits
    np.testing.assert_array_equal(again.read(c=1), czyx[1])
    assert again.to_dask(1).shape == tuple(level.shape)
    # The native class (what Image.label returns) pickles as an ome_py.Image too.
    native = ome_py._ome_py.Image(str(out), limits=limits)
    again = pickle.loads(pickle.dumps(native))
    assert type(again) is ome_py.Image and again.limits == limits and again.path == native.path


def _raise_format_error(message):
    raise ome_py.FormatError(message)


def _open(path):
    return ome_py.open(path)


def test_exceptions_cross_a_distributed_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")

    missing = tmp_path / "missing.ome.zarr"
    with pytest.raises(ome_py.OmeError) as local:
        ome_py.open(missing)
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in client.scheduler_info()["workers"])
        with pytest.raises(ome_py.FormatError) as e:
            client.submit(_raise_format_error, "bad pixels", pure=False).result()
        assert type(e.value) is ome_py.FormatError and str(e.value) == "bad pixels"
        with pytest.raises(ome_py.OmeError) as e:
            client.submit(_open, str(missing), pure=False).result()
        assert type(e.value) is type(local.value) and str(e.value) == str(local.value)
        # A report made in the worker arrives whole.
        out = tmp_path / "img.ome.zarr"
        ome_py.write_ome_zarr(out, np.zeros((64, 64), dtype=np.uint8))
        report = client.submit(ome_py.validate, str(out), pure=False).result()
        assert report.to_json() == ome_py.validate(out).to_json()
