"""The door (``streamcore/__init__.py``): a sorted ``__all__`` of names that import."""

from __future__ import annotations

import importlib

import pytest

import streamcore


def test_all_is_sorted_and_unique() -> None:
    names = [name for name in streamcore.__all__ if name != "__version__"]
    assert names == sorted(names)
    assert len(set(streamcore.__all__)) == len(streamcore.__all__)


@pytest.mark.parametrize("name", streamcore.__all__)
def test_every_name_is_importable(name: str) -> None:
    assert getattr(streamcore, name) is not None


def test_the_module_authoring_names_are_at_the_door() -> None:
    for name in (
        "BaseModule",
        "CallbackRegistrar",
        "DataPoint",
        "DataPointTask",
        "ModelSpec",
        "PlatformConfig",
    ):
        assert name in streamcore.__all__


def test_public_names_are_the_real_objects() -> None:
    from streamcore.model.datapoint import DataPointTask
    from streamcore.module.base import BaseModule

    assert streamcore.DataPointTask is DataPointTask
    assert streamcore.BaseModule is BaseModule


def test_version_is_kept() -> None:
    assert isinstance(streamcore.__version__, str)


@pytest.mark.parametrize(
    "path",
    [
        "streamcore.common.attrspec",
        "streamcore.common.base_module",
        "streamcore.common.callback_registrar",
        "streamcore.common.config",
        "streamcore.common.datapoint",
        "streamcore.common.datatype",
        "streamcore.common.entityspec",
        "streamcore.common.mac_address",
        "streamcore.common.state",
        "streamcore.common.task",
        "streamcore.common.types",
        "streamcore.common.utils",
        "streamcore.module",
        "streamcore.testing",
    ],
)
def test_mirrored_paths_export_what_they_list(path: str) -> None:
    module = importlib.import_module(path)
    for name in getattr(module, "__all__", []):
        assert getattr(module, name) is not None
