"""`ome_py.configure_remote`: the CLI's remote flags as keywords (issue 15)."""

import pytest

import ome_py


def test_configure_remote_sets_checks_and_is_used():
    before = ome_py.configure_remote()
    assert set(before) == {"endpoint", "region", "anonymous", "max_requests", "request_timeout", "retries"}
    try:
        got = ome_py.configure_remote(endpoint="http://127.0.0.1:9", region="eu-west-1",
                                      anonymous=True, request_timeout=1.5, retries=0)
        assert got["endpoint"] == "http://127.0.0.1:9" and got["region"] == "eu-west-1"
        assert got["anonymous"] is True and got["request_timeout"] == 1.5 and got["retries"] == 0
        # Used by the next open: nothing listens on that endpoint, so an error naming the
        # dataset, at once (no retries), instead of AWS.
        with pytest.raises(ome_py.OmeError, match="x.ome.zarr"):
            ome_py.open("s3://bucket/x.ome.zarr")
        for bad in (dict(max_requests=0), dict(request_timeout=-1.0), dict(request_timeout=float("nan"))):
            with pytest.raises(ome_py.UsageError):
                ome_py.configure_remote(**bad)
        assert ome_py.configure_remote(endpoint="")["endpoint"] is None
    finally:
        ome_py.configure_remote(endpoint=before["endpoint"] or "", region=before["region"] or "",
                                anonymous=before["anonymous"], request_timeout=before["request_timeout"],
                                retries=before["retries"])
