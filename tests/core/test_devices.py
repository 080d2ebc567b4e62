"""One device parser for the CLI's --device and the model loader."""

from __future__ import annotations

import pytest

from gazenet_app.core.devices import parse_devices


def test_parse_devices_normalises():
    assert parse_devices("cpu") == ("cpu",)
    assert parse_devices(" GPU:0, gpu:1") == ("gpu:0", "gpu:1")
    assert parse_devices("") == ("cpu",)


@pytest.mark.parametrize("bad", ["tpu", "gpu", "cuda:0", "gpu:x", "cpu,gpu:0", "gpu:0,"])
def test_parse_devices_refuses(bad):
    with pytest.raises(ValueError, match="use cpu or gpu:0"):
        parse_devices(bad)
