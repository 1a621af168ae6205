"""Turing-like patterns by the PRD model on synthetic data: one initialisation is trained
supervised and adversarially, and its neurons u_j are drawn as weight images.

    python -m experiments.patterns_synthetic --preset quick    # ~1 min on 2 CPU cores
    python -m experiments.patterns_synthetic --preset medium   # minutes on 2 CPU cores
    python -m experiments.patterns_synthetic --preset paper    # accelerator, 23000 it.
    python -m experiments.patterns_synthetic --preset tiny     # seconds (smoke test)

The paper names a synthetic data set without describing it. Here: x uniform on the unit
sphere of R^{d_in} with d_in = 14x14 (28x28 in the paper preset) so that neurons can be drawn
as images, and y in R^10 from a random two-layer teacher network (prd_jax.sphere, targets
"teacher"). The inputs have no spatial structure, so any spatial pattern in u_j is made by
training, not inherited from the data. Same protocol as ``experiments.patterns_mnist``.
"""

from experiments.patterns_mnist import make, presets

PRESETS = presets("synthetic")
main = make("synthetic", "patterns_synthetic", __doc__)

if __name__ == "__main__":
    main()
