"""Performance benchmarks: ``python -m benchmarks.run`` (``make bench``) runs every
``benchmarks/bench_*.py`` module's ``run(quick: bool) -> list[dict]``."""
