"""The experiment scripts: ``python -m experiments.<name>`` (see ``experiments/common.py``)."""

import sys

# `python -m experiments.<name>`: while the module is being located, sys.argv[0] is "-m".
# Install the Ctrl-C handler now, before JAX is imported and starts its threads, so that a
# Ctrl-C at any moment of a command is one line and exit 130 (experiments.cli).
if sys.argv[:1] == ["-m"]:
    from experiments import cli as _cli

    _cli.exit_on_interrupt()
