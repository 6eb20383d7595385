# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubernetes library's generated packages loaded on demand (``_lazy_kubernetes``): the lines it
takes out of an ``__init__`` file, and, in a fresh interpreter each (imports are process-wide), that
every name the four packages had resolves to the very object the library defines, that the hundreds
of generated files are not loaded until a name is used, and what the modules import still works."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

from ansible_collections.jit.karpenter.plugins.module_utils._lazy_kubernetes import split_imports


def test_split_imports_takes_one_name_lines_and_keeps_line_numbers():
    source = (
        "# coding: utf-8\n"
        "from __future__ import absolute_import\n"
        "__version__ = '1.0'\n"
        "from . import client\n"
        "from kubernetes.client.models.v1_pod import V1Pod  # generated\n"
        "from .api_client import ApiClient\n"
        "from kubernetes.client.models import (\n"
        "    V1Node,\n"
        ")\n"
        "from os import path as p\n"
        "if True:\n"
        "    from kubernetes.client import rest\n"
    )
    rest, names = split_imports(source, "kubernetes.client")
    assert names == {
        "client": ("kubernetes.client.client", None),
        "V1Pod": ("kubernetes.client.models.v1_pod", "V1Pod"),
        "ApiClient": ("kubernetes.client.api_client", "ApiClient"),
    }
    lines = rest.split("\n")
    assert len(lines) == len(source.split("\n"))
    assert lines[1:3] == ["from __future__ import absolute_import", "__version__ = '1.0'"]
    # Left to run as written: several names, an alias, an import below the top level.
    assert "from kubernetes.client.models import (" in rest
    assert "from os import path as p" in rest
    assert "    from kubernetes.client import rest" in rest
    assert "V1Pod" not in rest and "from . import client" not in rest


def test_split_imports_takes_the_subpackage_imports_of_older_releases():
    source = "__version__ = '24.2.0'\nimport kubernetes.client\nimport kubernetes.config  # comment\nimport os.path\n"
    rest, names = split_imports(source, "kubernetes")
    assert names == {"client": ("kubernetes.client", None), "config": ("kubernetes.config", None)}
    assert rest == "__version__ = '24.2.0'\n\n\nimport os.path\n"


def _python(code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# Every name each package offers: its top-level imports (releases before 37) and its __all__ (37 on, which load
# their generated names on demand themselves), each compared with the object its own module defines.
_CHECK = r"""
import importlib, importlib.util, json, sys
from ansible_collections.jit.karpenter.plugins.module_utils._lazy_kubernetes import install, LAZY_PACKAGES, split_imports
meta_path_before = [type(f).__name__ for f in sys.meta_path]
installed = install()
meta_path_same = meta_path_before == [type(f).__name__ for f in sys.meta_path]
import kubernetes
import kubernetes.client
loaded_before = sorted(m for m in sys.modules if m.startswith("kubernetes.client.models.") or m.startswith("kubernetes.client.api.")
                       or m in ("kubernetes.config", "kubernetes.watch", "kubernetes.stream", "kubernetes.leaderelection"))
checked = 0
wrong = []
for package in LAZY_PACKAGES:
    module = importlib.import_module(package)
    with open(module.__file__) as f:
        rest, names = split_imports(f.read(), package)
    for name, (origin, attribute) in names.items():
        real = importlib.import_module(origin)
        if attribute is not None:
            real = getattr(real, attribute)
        if getattr(module, name) is not real:
            wrong.append(package + "." + name)
        checked += 1
    for name in getattr(module, "__all__", []):
        getattr(module, name)
        checked += 1
print(json.dumps({"version": kubernetes.__version__, "installed": installed, "loaded_before": loaded_before,
                  "checked": checked, "wrong": wrong, "meta_path": meta_path_same}))
"""


def test_every_name_resolves_to_the_librarys_own_object():
    import kubernetes  # noqa: F401  the library this collection runs with, imported here the usual way

    result = _python(_CHECK)
    assert result["installed"] is True
    assert result["meta_path"] is True  # modules added, the import system left alone
    assert result["version"] == kubernetes.__version__
    # Nothing of the generated APIs and models, and none of the subpackages, ran before a name was asked for.
    assert result["loaded_before"] == []
    # kubernetes/client/__init__.py alone offers over 800 APIs and models.
    assert result["checked"] > 1000
    assert result["wrong"] == []


_MODULE_IMPORTS = r"""
import json, sys
from ansible_collections.jit.karpenter.plugins.module_utils import _kube  # loads the packages on demand
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from kubernetes.client import CoreV1Api, CustomObjectsApi, V1ConfigMap, V1ObjectMeta
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import NotFoundError
import kubernetes.client.models
import kubernetes.client.models.v1_config_map
# ApiClient's deserialization looks models up by name on kubernetes.client.models.
same = getattr(kubernetes.client.models, "V1ConfigMap") is kubernetes.client.models.v1_config_map.V1ConfigMap
cm = V1ConfigMap(metadata=V1ObjectMeta(name="aws-auth"), data={"mapRoles": "[]"})
models = [m for m in sys.modules if m.startswith("kubernetes.client.models.")]
print(json.dumps({"same": same, "name": cm.metadata.name, "client": CoreV1Api.__name__, "models": len(models)}))
"""


def test_what_the_modules_import_works_and_loads_few_models():
    result = _python(_MODULE_IMPORTS)
    assert result["same"] is True
    assert result["name"] == "aws-auth" and result["client"] == "CoreV1Api"
    # The same imports without the collection's module_utils first: the library as it loads by itself.
    alone = _python(
        _MODULE_IMPORTS.replace("from ansible_collections.jit.karpenter.plugins.module_utils import _kube", "")
    )
    assert alone["same"] is True
    if alone["models"] > 500:  # a release that loads every model at import (before 37)
        assert 0 < result["models"] < 20
    else:  # a release that loads its models on demand itself (37 on)
        assert result["models"] <= alone["models"]


def test_without_install_import_kubernetes_loads_its_subpackages():
    result = _python(
        "import json, sys, kubernetes\n"
        "print(json.dumps({'config': 'kubernetes.config' in sys.modules, 'watch': 'kubernetes.watch' in sys.modules}))"
    )
    assert result == {"config": True, "watch": True}


def test_install_leaves_a_library_already_imported_as_it_is():
    result = _python(
        "import json, sys, kubernetes\n"
        "from ansible_collections.jit.karpenter.plugins.module_utils._lazy_kubernetes import install\n"
        "before = sys.modules['kubernetes.client']\n"
        "installed = install()\n"
        "print(json.dumps({'same': sys.modules['kubernetes.client'] is before, 'installed': installed}))"
    )
    assert result == {"same": True, "installed": False}
