"""Install collections of given versions from the ``ansible`` release wheels that bundle them.

    python tests/versions/install_collections.py tests/versions/collections-min.yml DEST

DEST becomes a collections path (DEST/ansible_collections/<namespace>/<name>). The wheels are
fetched from PyPI with pip (``--no-deps``) into DEST/.wheels and kept there as a cache.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml


def main(spec_file, dest):
    spec = yaml.safe_load(Path(spec_file).read_text())
    dest = Path(dest)
    wheels = dest / ".wheels"
    for fqcn, want in spec.items():
        namespace, name = fqcn.split(".")
        release = want["from"]
        wheel_dir = wheels / release.replace("==", "-")
        if not list(wheel_dir.glob("*.whl")):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    str(wheel_dir),
                    release,
                ],
                check=True,
            )
        (wheel,) = wheel_dir.glob("*.whl")
        prefix = "ansible_collections/%s/%s/" % (namespace, name)
        target = dest / "ansible_collections" / namespace / name
        shutil.rmtree(target, ignore_errors=True)
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if m.startswith(prefix)]
            if not members:
                sys.exit("%s does not bundle %s" % (release, fqcn))
            zf.extractall(dest, members)
        found = json.loads((target / "MANIFEST.json").read_text())["collection_info"]["version"]
        if found != str(want["version"]):
            sys.exit("%s bundles %s %s, not %s" % (release, fqcn, found, want["version"]))
        print("%s %s (from %s)" % (fqcn, found, release))


if __name__ == "__main__":
    main(*sys.argv[1:])
