"""Matplotlib figures drawn from saved results (never from live training state).

``sweep`` draws the width sweep's figures; ``paper`` the paper's experiments. Both use the
non-interactive Agg backend, so they work on headless machines.
"""

import matplotlib

matplotlib.use("Agg")
