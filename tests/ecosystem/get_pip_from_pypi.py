"""Stand-in for ansible-test's pip bootstrap script (get-pip.py), which it downloads from a host
other than PyPI. Run as ansible-test runs get-pip.py, with the same arguments: it installs the
interpreter's bundled pip (ensurepip), then the requested packages (pip==X.Y) from PyPI.
tests/ecosystem/ansible-test.sh puts it where ansible-test looks for its cached copy.
"""

import ensurepip
import os
import shutil
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main():
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    ensurepip.bootstrap(upgrade=True)
    # ansible-test runs pip with a minimal environment (no PIP_* or SSL variables): the caller's pip
    # settings, saved beside this script, become the virtualenv's own pip.conf.
    conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-settings.conf")
    if os.path.exists(conf):
        shutil.copy(conf, os.path.join(sys.prefix, "pip.conf"))
    env = dict(os.environ)
    env.pop("PIP_CONFIG_FILE", None)  # ensurepip sets it to os.devnull
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args, env=env)


if __name__ == "__main__":
    main()
