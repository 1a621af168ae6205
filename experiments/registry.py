"""The registry of experiments: one line each. It drives ``make figures`` (order and titles),
the figures index page and the smoke tests, so a new experiment is one file plus one line here.

``needs`` names experiments whose saved results this one reads (run first, into the same
folder).
"""

from typing import NamedTuple


class Entry(NamedTuple):
    name: str  # module experiments.<name>
    title: str  # heading on the index page
    needs: tuple[str, ...] = ()  # experiments whose files this one reads


EXPERIMENTS = (
    Entry("linear_rate", "Linear rate (Remark 3, Eq. 17)"),
    Entry("theorem1", "Theorem 1: symmetry and homogeneity under supervision"),
    Entry("dissect_diffusion", "Theorem 2: dissecting diffusion"),
    Entry("theorem2", "Theorems 1-2, Remark 3, Eq. 17 in their own setting; critic-norm sweep"),
    Entry("patterns_synthetic", "Turing-like patterns: synthetic data"),
    Entry("patterns_mnist", "Turing-like patterns: MNIST"),
    Entry("patterns_fashion_mnist", "Turing-like patterns: Fashion-MNIST"),
    Entry("embedding", "Neuron embedding (the paper's Fig. 1)"),
    Entry("feature_vis", "Feature visualisation"),
    Entry("joint_rd", "Theorem 3: reaction-diffusion orders under joint training"),
    Entry("phase_diagram", "The adversary's strength: m*(T) against lambda_adv"),
    Entry("gray_scott", "Gray-Scott model (Pearson 1993; the paper's F, k)"),
    Entry(
        "pattern_comparison",
        "PRD drift patterns vs Gray-Scott patterns, same metrics",
        needs=("gray_scott", "patterns_synthetic", "patterns_mnist", "patterns_fashion_mnist"),
    ),
)

BY_NAME = {e.name: e for e in EXPERIMENTS}
