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


def test_training_grammar_takes_cpu_lists():
    assert parse_devices("cpu:0, CPU:1", several_cpus=True) == ("cpu:0", "cpu:1")
    assert parse_devices("cpu,gpu,,gpu:2", several_cpus=True) == ("cpu:0", "gpu:0", "gpu:2")
    assert parse_devices("", several_cpus=True) == ("cpu:0",)
    with pytest.raises(ValueError, match="no device given"):
        parse_devices(",", several_cpus=True)


@pytest.mark.parametrize("bad", ["tpu:0", "cuda", "cpu:x", "gpu:-1"])
def test_training_grammar_refuses(bad):
    with pytest.raises(ValueError, match=f"bad device '{bad}': use cpu, cpu:N or gpu:N"):
        parse_devices(bad, several_cpus=True)
