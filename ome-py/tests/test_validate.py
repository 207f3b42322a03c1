"""ome_py.validate as the CLI: many targets in one call, recursive search, profiles (by
name or file) and baselines. The decisions are ome-validate's (ome_validate::Batch); these
tests check that the bindings hand every argument over and render what comes back."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

import ome_py


@pytest.fixture
def images(tmp_path: Path):
    """A tree with one valid 0.5 image, one 0.4 image and one broken 0.5 image."""
    data = np.arange(2 * 64 * 48, dtype=np.uint8).reshape(2, 64, 48)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    good = tree / "good.ome.zarr"
    old = tree / "sub" / "old.ome.zarr"
    bad = tree / "sub" / "bad.ome.zarr"
    ome_py.write_ome_zarr(good, data, axes="cyx", version="0.5")
    ome_py.write_ome_zarr(old, data, axes="cyx", version="0.4")
    ome_py.write_ome_zarr(bad, data, axes="cyx", version="0.5")
    doc = json.loads((bad / "zarr.json").read_text())
    doc["attributes"]["ome"]["multiscales"][0]["axes"][0]["type"] = 7
    (bad / "zarr.json").write_text(json.dumps(doc))
    return tree, good, old, bad


def test_many_targets_in_one_call(images):
    _, good, old, bad = images
    report = ome_py.validate([good, str(old), bad])
    assert [t for t, _ in report.targets] == [str(good), str(old), str(bad)]
    verdicts = dict(report.targets)
    assert verdicts[str(bad)] == "invalid"
    assert verdicts[str(good)] != "invalid"
    assert report.verdict == "invalid"
    assert {f.target for f in report.findings if f.severity == "error"} == {str(bad)}
    assert report.to_dict()["summary"]["targets"] == 3
    # One path, as before, is one target.
    assert len(ome_py.validate(good).targets) == 1


def test_a_target_given_twice_is_validated_once(images):
    _, good, _, _ = images
    # The same path twice, and another spelling of it (pathlib would drop the ".").
    report = ome_py.validate([good, good, f"{good.parent}/./{good.name}"])
    assert len(report.targets) == 1


def test_recursive_finds_every_image_once(images):
    tree, good, old, bad = images
    report = ome_py.validate(tree, recursive=True)
    assert sorted(t for t, _ in report.targets) == sorted(str(p) for p in (good, old, bad))
    # Overlapping directories: each image still once.
    again = ome_py.validate([tree, tree / "sub"], recursive=True)
    assert len(again.targets) == 3
    with pytest.raises(ome_py.OmeError):
        ome_py.validate(tree / "missing", recursive=True)


def test_profiles_by_name_and_by_file(images, tmp_path):
    _, good, old, _ = images
    named = ome_py.validate([good, old], profiles=["ngff-challenge-2024"])
    codes = {(f.target, f.code) for f in named.findings}
    # 0.4 is below the challenge's minimum version; neither image has an RO-Crate.
    assert (str(old), "PROFILE-NGFFC-001") in codes
    assert (str(good), "PROFILE-NGFFC-001") not in codes
    assert (str(good), "PROFILE-NGFFC-002") in codes
    # One name alone is one profile, not a sequence of letters.
    assert ome_py.validate(good, profiles="ngff-challenge-2024").to_json() == ome_py.validate(
        good, profiles=["ngff-challenge-2024"]
    ).to_json()
    profile = tmp_path / "lab.toml"
    profile.write_text(
        'name = "lab"\ntitle = "lab rules"\nsource = "our lab"\n\n[[rule]]\ncode = "PROFILE-LAB-001"\n'
        'title = "a README at the root"\nseverity = "warning"\ncheck = "file-present"\n'
        'path = "README.md"\n'
    )
    from_file = ome_py.validate(good, profiles=[profile])
    assert [f.code for f in from_file.findings if f.code.startswith("PROFILE-")] == ["PROFILE-LAB-001"]
    (good / "README.md").write_text("about this image\n")
    assert not any(f.code == "PROFILE-LAB-001" for f in ome_py.validate(good, profiles=[profile]).findings)
    with pytest.raises(ome_py.UsageError):
        ome_py.validate(good, profiles=["no-such-profile"])
    with pytest.raises(ome_py.UsageError):
        ome_py.validate(good, profiles=[tmp_path / "missing.toml"])


def test_baseline_keeps_only_new_findings(images, tmp_path):
    _, good, _, bad = images
    stored = tmp_path / "baseline.json"
    first = ome_py.validate([good, bad], write_baseline=stored)
    assert first.verdict == "invalid"
    assert json.loads(stored.read_text()) == first.to_dict()
    again = ome_py.validate([good, bad], baseline=stored)
    assert again.findings == []
    assert again.verdict == "valid-strict"
    diff = again.to_dict()["baseline"]
    assert diff["new"] == 0 and diff["unchanged"] == len(first.findings)
    # A new problem shows up against the same baseline.
    doc = json.loads((good / "zarr.json").read_text())
    doc["attributes"]["ome"]["multiscales"][0]["axes"][1]["type"] = 7
    (good / "zarr.json").write_text(json.dumps(doc))
    later = ome_py.validate([good, bad], baseline=stored)
    assert later.verdict == "invalid"
    assert {f.target for f in later.findings} == {str(good)}
    with pytest.raises(ome_py.OmeError):
        ome_py.validate(good, baseline=tmp_path / "missing.json")


def test_reports_of_many_targets_pickle(images):
    _, good, old, bad = images
    report = ome_py.validate([good, old, bad])
    back = pickle.loads(pickle.dumps(report))
    assert back.targets == report.targets
    assert [(f.target, f.code) for f in back.findings] == [(f.target, f.code) for f in report.findings]


def test_bad_path_argument_is_a_usage_error():
    with pytest.raises(ome_py.UsageError):
        ome_py.validate(42)  # type: ignore[arg-type]
