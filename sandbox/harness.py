"""What a running sandbox gives the code that uses it: its environment, its port map, its files.

The only reader of a sandbox's ``env`` file (which ``Sandbox.up`` writes, for a shell to source) and of
the port map in its ``sandbox.json``. The live tests, the end-to-end tests, the ecosystem and version
tests and the benchmarks take the sandbox's values from here (the shipped integration tests, which may not
import the test bed, take them from the environment that sourcing the env file set)::

    box = Harness(".sandbox")            # a state directory
    box.env()                            # {"KUBECONFIG": ..., "AWS_ENDPOINT_URL": ..., "SANDBOX_BIN_PATH": ...}
    box.env(path=True)                   # the same, with PATH as sourcing the file sets it
    box.ports                            # {"apiserver": 26443, "aws": 26450, ...}
"""

import json
import os
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE = ROOT / ".sandbox"
_EXPORT = re.compile(r"export ([A-Z0-9_]+)=(.*)$")


def read_env_file(path, path_var=False):
    """The ``export K='v'`` lines of a sandbox env file as a dict.

    PATH, which the file extends (``PATH="$SANDBOX_BIN_PATH:$PATH"``), is left out; with ``path_var``
    it is put in as sourcing the file makes it: SANDBOX_BIN_PATH before this process's PATH.
    """
    env = {}
    for line in Path(path).read_text().splitlines():
        m = _EXPORT.match(line)
        if m and m.group(1) != "PATH":
            env[m.group(1)] = shlex.split(m.group(2))[0]
    if path_var:
        env["PATH"] = os.pathsep.join(filter(None, [env.get("SANDBOX_BIN_PATH"), os.environ.get("PATH")]))
    return env


class Harness(object):
    """A sandbox as its state directory shows it (one that ``python -m sandbox up`` started)."""

    def __init__(self, state_dir=None):
        self.state = Path(state_dir or DEFAULT_STATE)

    @property
    def env_file(self):
        return self.state / "env"

    @property
    def vars_file(self):
        return self.state / "vars.yml"

    def exists(self):
        """Whether the sandbox was started (its env file is there); not whether it still runs."""
        return self.env_file.exists()

    def env(self, path=False):
        """The variables of the env file; with ``path``, PATH as sourcing the file sets it too."""
        return read_env_file(self.env_file, path_var=path)

    @property
    def ports(self):
        """Component name -> port, as the sandbox recorded them when it was created."""
        return dict(json.loads((self.state / "sandbox.json").read_text())["ports"])
