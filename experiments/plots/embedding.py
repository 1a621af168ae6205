"""The embedding figure, drawn from the files ``experiments.embedding`` writes."""

import matplotlib.pyplot as plt

from experiments.plots.style import PAPER_CYCLE, fmt, footer, save


def plot(results, arrays, path):
    """The paper's Fig. 1: 2-D embeddings of rows u_j and columns v_j after training."""
    methods = [m for m in ("pca", "tsne") if f"{m}_u_supervised" in arrays]
    fig, axes = plt.subplots(
        2,
        2 * len(methods),
        figsize=(4.6 * len(methods) * 2, 9.4),
        squeeze=False,
        layout="constrained",
    )
    stats = results["embedding_stats"]
    for k, method in enumerate(methods):
        for r, layer in enumerate(("u", "v")):
            for c, mode in enumerate(("supervised", "adversarial")):
                ax = axes[r, 2 * k + c]
                xy = arrays[f"{method}_{layer}_{mode}"]
                colors = [PAPER_CYCLE[i % len(PAPER_CYCLE)] for i in range(xy.shape[0])]
                ax.scatter(xy[:, 0], xy[:, 1], c=colors, s=6, alpha=0.7, linewidths=0)
                st = stats[layer][mode]
                title = f"{method.upper()} of {layer}_j, {mode}"
                if method == "pca":
                    title += (
                        f"\nPC1/PC2 var = {fmt(st['pc_ratio'], 3)}, "
                        f"PC1× = {fmt(st['top_pc_excess'], 3)}, "
                        f"kurtosis(PC1) = {fmt(st['kurtosis_pc1'], 2)}"
                    )
                ax.set_title(title, fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
                if method == "pca":
                    ax.set_aspect("equal", adjustable="datalim")
    s = results["summary"]
    footer(
        fig,
        results,
        extra=(
            f"{s['dataset']} (n = {s['n']}, {'×'.join(map(str, s.get('image_shape', [])))} "
            f"images), m = {s['width']} neurons (one point each, coloured "
            f"cyclically b/g/r/c/m/y/k as in the paper), {s['steps']} iterations. PC1× = variance "
            "share of the top principal component of the full vectors over its i.i.d.-noise value"
        ),
    )
    save(fig, path, "Neuron embedding (paper's Fig. 1): supervised vs adversarial")
