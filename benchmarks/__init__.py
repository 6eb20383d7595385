"""The benchmarks: run them from the repository root as modules, ``python -m benchmarks.<name>``,
as the Makefile's bench targets do."""
