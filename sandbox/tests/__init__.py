"""The test bed's own tests, named after what they need to run.

unit: pure tests of the sandbox's code, no process started (``make unit``).
emulator: each session starts the AWS emulator as a server process (``make test-emulator``).
live: they need a running sandbox (``make sandbox``, then ``make test-sandbox``).
"""
