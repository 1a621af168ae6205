"""Turing-like patterns by the PRD model on Fashion-MNIST (the paper's FashionMNIST kernel
figure): one initialisation is trained supervised and adversarially, and its neurons u_j are
drawn as weight images.

    python -m experiments.patterns_fashion_mnist --preset quick    # ~1 min on 2 CPU cores
    python -m experiments.patterns_fashion_mnist --preset medium   # minutes on 2 CPU cores
    python -m experiments.patterns_fashion_mnist --preset paper    # accelerator, 23000 it.
    python -m experiments.patterns_fashion_mnist --preset tiny     # seconds (smoke test)

Same protocol as ``experiments.patterns_mnist`` (see its docstring) on a class-balanced
Fashion-MNIST subset from Debian's dataset-fashion-mnist.
"""

from experiments.patterns_mnist import make, presets

PRESETS = presets("fashion_mnist")
main = make("fashion_mnist", "patterns_fashion_mnist", __doc__)

if __name__ == "__main__":
    main()
