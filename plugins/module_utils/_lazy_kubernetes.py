# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the kubernetes library's generated packages on demand.

``import kubernetes`` runs ``kubernetes/__init__.py``, which imports every part of the library, and
``kubernetes/client/__init__.py`` with ``kubernetes/client/models/__init__.py``, which import each of
the API's hundreds of generated API classes and models, one file each. A module that reads a few
objects through the dynamic client uses none of them by name, yet spends most of its start-up there.

``install()`` puts a finder before the others on ``sys.meta_path`` that, for those four package
``__init__`` files only, runs the file's code except its top-level ``from X import Name`` lines
(``from . import sub`` in ``kubernetes/__init__.py``), and answers each of those names the first
time it is asked for, through a module ``__getattr__`` (PEP 562) that imports ``X`` then. Every
name the package had is still there, from the same file: ``from kubernetes.client import
CoreV1Api``, ``kubernetes.client.models.V1Pod`` and ``kubernetes.__version__`` work as before.
Nothing changes when the library is already imported, when a package has no source file, or for
any other module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import importlib.util
import re
import sys

LAZY_PACKAGES = ("kubernetes", "kubernetes.client", "kubernetes.client.api", "kubernetes.client.models")

# "from kubernetes.client.models.v1_pod import V1Pod", "from . import client": one name, at the start
# of a line (top level), as the library's generated __init__ files write them.
_FROM_IMPORT = re.compile(r"^from[ \t]+(\.|[\w.]+)[ \t]+import[ \t]+(\w+)[ \t]*(?:#.*)?$", re.MULTILINE)


def split_imports(source, package):
    """Return ``(rest, names)``: ``source`` without its top-level one-name ``from X import Name``
    lines other than ``__future__`` ones (each left as an empty line, so that line numbers hold),
    and ``names``, mapping each name to ``(module, attribute)``; ``attribute`` is None where the
    name is the submodule itself (``from . import client`` in package ``kubernetes``)."""
    names = {}

    def take(match):
        origin, name = match.group(1), match.group(2)
        if origin == "__future__":
            return match.group(0)
        if origin == ".":
            names[name] = (package + "." + name, None)
        else:
            names[name] = (importlib.util.resolve_name(origin, package), name)
        return ""

    return _FROM_IMPORT.sub(take, source), names


def _lazy_getattr(module, names):
    def __getattr__(name):
        target = names.get(name)
        if target is None:
            raise AttributeError("module {0!r} has no attribute {1!r}".format(module.__name__, name))
        value = importlib.import_module(target[0])
        if target[1] is not None:
            value = getattr(value, target[1])
        setattr(module, name, value)
        return value

    return __getattr__


class _LazyInitLoader:
    def __init__(self, loader, path):
        self._loader = loader
        self._path = path

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        try:
            with open(self._path) as f:
                source = f.read()
        except (IOError, OSError, UnicodeDecodeError):
            return self._loader.exec_module(module)
        rest, names = split_imports(source, module.__name__)
        module.__dict__["__getattr__"] = _lazy_getattr(module, names)
        exec(compile(rest, self._path, "exec"), module.__dict__)


class LazyKubernetesFinder:
    """The meta path finder; ``find_spec`` asks the finders after it for the real spec."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in LAZY_PACKAGES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        origin = spec.origin or ""
        if spec.submodule_search_locations is None or not origin.endswith("__init__.py") or spec.loader is None:
            return spec
        spec.loader = _LazyInitLoader(spec.loader, origin)
        return spec


def install():
    """Put the finder on ``sys.meta_path``, once, unless the library is imported already."""
    if "kubernetes" in sys.modules or any(isinstance(f, LazyKubernetesFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, LazyKubernetesFinder())
