"""Matplotlib figures drawn from saved results (never from live training state).

``sweep`` draws the width sweep's figures, ``paper`` the paper's experiments and
``gray_scott`` the Turing side. All use the non-interactive Agg backend, so they work on
headless machines. The library (``prd_jax``) never imports this package.
"""

import matplotlib

matplotlib.use("Agg")
