# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record each task's timing and outcome to a JSON file, for the benchmarks.

Enabled with ANSIBLE_CALLBACKS_ENABLED=bench_timings and ANSIBLE_CALLBACK_PLUGINS pointing at
this directory; writes to the file named by BENCH_TIMINGS_FILE when the playbook ends.

Per task: ``start`` (task start), ``end`` (last host result), ``span`` (task start to the next
task's start, what ansible.posix.profile_tasks reports) and the statuses of the host results.
At the end: the PLAY RECAP counters per host.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timings
type: aggregate
short_description: Task timings and outcomes as JSON, for the benchmarks
description:
  - Writes each task's start, end and host statuses, and the PLAY RECAP counters, to the file
    named by the environment variable E(BENCH_TIMINGS_FILE).
requirements:
  - enable in configuration
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timings"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._tasks = []
        self._started = time.monotonic()

    def _start(self, task):
        now = time.monotonic()
        if self._tasks and self._tasks[-1]["span"] is None:
            self._tasks[-1]["span"] = now - self._tasks[-1]["start"]
        self._tasks.append({"name": task.get_name(), "action": task.action, "start": now, "end": now, "span": None,
                            "statuses": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _result(self, status):
        if self._tasks:
            self._tasks[-1]["end"] = time.monotonic()
            self._tasks[-1]["statuses"].append(status)

    def v2_runner_on_ok(self, result):
        self._result("changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed")

    def v2_runner_on_skipped(self, result):
        self._result("skipped")

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable")

    def v2_playbook_on_stats(self, stats):
        now = time.monotonic()
        if self._tasks and self._tasks[-1]["span"] is None:
            self._tasks[-1]["span"] = now - self._tasks[-1]["start"]
        for task in self._tasks:
            task["start"] -= self._started
            task["end"] -= self._started
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        path = os.environ.get("BENCH_TIMINGS_FILE")
        if path:
            with open(path, "w") as f:
                json.dump({"tasks": self._tasks, "recap": recap, "seconds": now - self._started}, f)
