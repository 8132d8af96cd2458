"""Deferred imports: a module registered here is imported only when something first uses it.

Haystack imports torch when it is itself imported (`haystack.utils.device`: ~1 s on a quiet laptop,
5 s on a busy host), although answering with the ONNX engine never touches it. `defer_import("torch")`
puts a stand-in in `sys.modules`: `import torch` there binds the stand-in, and its first attribute
access (a torch engine, Haystack's device code, training) imports the real module, which from then
on is what `import torch` returns everywhere. (`importlib.util.LazyLoader` cannot do this on Python
3.11: the import statement itself reads `__spec__`, which loads the module.)
"""

from __future__ import annotations

import copy
import importlib
import importlib.abc
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in for a module until something reads one of its attributes."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self.__name__), attr)


class _Loaded(importlib.abc.Loader):
    """Hands the import system a module that is loaded already."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec, self.loader = module.__spec__, getattr(module, "__loader__", None)

    def create_module(self, spec: Any) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing runs (it ran when it was first imported); its own spec and loader are put back."""
        module.__spec__, module.__loader__ = self.spec, self.loader


class _Finder(importlib.abc.MetaPathFinder):
    """`import torch.distributed` while `torch` is a stand-in: reading the stand-in's `__path__`
    imports the real torch, which imports `torch.distributed` itself, after the import system has
    checked that it is not loaded; without this it would run that submodule a second time (torch
    aborts the process). Such a submodule is handed over as it is."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.partition(".")[0] not in _deferred or "." not in name:
            return None
        module = sys.modules.get(name)
        own = getattr(module, "__spec__", None) if module is not None else None
        if module is None or own is None:
            return None
        spec = copy.copy(own)
        spec.loader = _Loaded(module)
        return spec


_deferred: set[str] = set()


def _load(name: str) -> types.ModuleType:
    with _lock:
        module = sys.modules.get(name)
        if module is None or isinstance(module, _Deferred):
            sys.modules.pop(name, None)
            module = importlib.import_module(name)
        return module


def defer_import(name: str) -> None:
    """Register `name` to load on first use (no-op when it is loaded already or not installed)."""
    with _lock:
        if name in sys.modules:
            return
        spec = importlib.util.find_spec(name)
        if spec is None:
            return
        stand_in = _Deferred(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in
        if not _deferred:
            sys.meta_path.insert(0, _Finder())
        _deferred.add(name)


def is_loaded(name: str) -> bool:
    """Whether `name` was really imported (not only registered by `defer_import`)."""
    module = sys.modules.get(name)
    return module is not None and not isinstance(module, _Deferred)
