# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of this collection.

Helpers raise :class:`KarpenterError`; the modules' shared runner
(``_runner.run_module``) converts it to ``fail_json`` exactly once, with the
extra details the error carries and its traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback


class KarpenterError(Exception):
    """A failure that the module reports to the user as-is.

    ``msg`` names the bad input or the failed call; ``details`` are extra
    return values (for example the AWS error code or the HTTP status).
    """

    def __init__(self, msg, **details):
        super(KarpenterError, self).__init__(msg)
        self.msg = msg
        self.details = details


def fail_from(module, err):
    """Report ``err`` through ``module.fail_json``; the single conversion point.

    The result carries ``msg``, the error's details and, as ``exception``, the traceback of
    where it was raised (Ansible shows it at ``-vvv``).
    """
    result = dict(err.details, msg=err.msg)
    result.setdefault("exception", "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    module.fail_json(**result)
