# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load the kubernetes library's generated packages on demand.

``import kubernetes`` runs ``kubernetes/__init__.py``, which imports every part of the library, and
``kubernetes/client/__init__.py`` with ``kubernetes/client/models/__init__.py``, which import each of
the API's hundreds of generated API classes and models, one file each. A module that reads a few
objects through the dynamic client uses none of them by name, yet spends most of its start-up there.

``install()`` loads those four packages ahead of the first import: for each, it runs the
``__init__`` file's code except its top-level ``from X import Name`` lines (``from . import sub`` in
``kubernetes/__init__.py``), and answers each of those names the first time it is asked for,
through a module ``__getattr__`` (PEP 562) that imports ``X`` then. (Releases from 37 on load their
generated names on demand themselves; there only the subpackages of ``kubernetes`` wait for their
first use.) Every name the package had is
still there, from the same file: ``from kubernetes.client import CoreV1Api``,
``kubernetes.client.models.V1Pod`` and ``kubernetes.__version__`` work as before. It adds modules to
``sys.modules`` only; the import system itself (``sys.meta_path``) is left as it is. Nothing changes
when the library is already imported, when it is not installed, or for any other module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import importlib.machinery
import importlib.util
import re
import sys

LAZY_PACKAGES = ("kubernetes", "kubernetes.client", "kubernetes.client.api", "kubernetes.client.models")

# "from kubernetes.client.models.v1_pod import V1Pod", "from . import client": one name, at the start
# of a line (top level), as the library's generated __init__ files write them; and "import
# kubernetes.client", as kubernetes/__init__.py imports its subpackages before release 25.
_FROM_IMPORT = re.compile(
    r"^(?:from[ \t]+(\.|[\w.]+)[ \t]+import[ \t]+(\w+)|import[ \t]+([\w.]+))[ \t]*(?:#.*)?$", re.MULTILINE
)


def split_imports(source, package):
    """Return ``(rest, names)``: ``source`` without its top-level one-name ``from X import Name``
    lines other than ``__future__`` ones, and its ``import <package>.<sub>`` lines (each left as an
    empty line, so that line numbers hold), and ``names``, mapping each name to ``(module,
    attribute)``; ``attribute`` is None where the name is the submodule itself (``from . import
    client`` or ``import kubernetes.client`` in package ``kubernetes``)."""
    names = {}

    def take(match):
        origin, name, imported = match.group(1), match.group(2), match.group(3)
        if imported is not None:
            # "import kubernetes.client" in package kubernetes: its subpackage, on demand; any other stays.
            parent, _dot, child = imported.rpartition(".")
            if parent != package:
                return match.group(0)
            names[child] = (imported, None)
            return ""
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


def _load(name, path):
    """Module ``name`` made from its ``__init__.py`` as :func:`split_imports` leaves it, or None when it
    has no such source file."""
    spec = importlib.machinery.PathFinder.find_spec(name, path)
    if spec is None or spec.submodule_search_locations is None or not (spec.origin or "").endswith("__init__.py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as f:
            source = f.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None
    rest, names = split_imports(source, name)
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__getattr__"] = _lazy_getattr(module, names)
    sys.modules[name] = module
    try:
        exec(compile(rest, spec.origin, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def install():
    """Load the four packages as described above and put them in ``sys.modules``, unless the library is
    imported already or is not there; the imports that follow, ``import kubernetes.client.models`` as
    ``from kubernetes.client.exceptions import ApiException``, find them there. Any package that cannot
    be loaded this way (no source file) is left, with those below it, to the usual import. Returns
    whether it loaded ``kubernetes``."""
    if "kubernetes" in sys.modules:
        return False
    for name in LAZY_PACKAGES:
        parent, _dot, child = name.rpartition(".")
        if name in sys.modules:  # imported by the code of a package above it
            continue
        path = sys.modules[parent].__path__ if parent else None
        module = _load(name, path)
        if module is None:
            return parent != ""
        if parent:
            setattr(sys.modules[parent], child, module)
    return True
