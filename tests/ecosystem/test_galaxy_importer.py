"""galaxy-importer, the checks Galaxy and Automation Hub run on an uploaded collection, passes on the tarball.

ansible-test sanity runs separately (`make sanity`), so the importer's own ansible-test run, which
needs a container engine, is switched off; its ansible-doc, ansible-lint and role checks run.
"""

import subprocess
import sys
from pathlib import Path

from ecolib import clean_env


def test_galaxy_importer_accepts_the_tarball(built_collection, tmp_path):
    cfg = tmp_path / "galaxy-importer.cfg"
    cfg.write_text("[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n")
    env = clean_env()
    env["GALAXY_IMPORTER_CONFIG"] = str(cfg)
    env["PATH"] = str(Path(sys.executable).parent) + ":" + env.get("PATH", "")
    res = subprocess.run(
        [sys.executable, "-m", "galaxy_importer.main", str(built_collection)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=900,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert "Importer processing completed successfully" in out, out[-4000:]
    errors = [line for line in out.splitlines() if line.startswith("ERROR")]
    assert errors == [], "\n".join(errors)
    # Each role has the README Galaxy shows; the importer fails the import without one.
    assert "No role readme found" not in out
