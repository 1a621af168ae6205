"""prd_jax: the Pseudo-Reaction-Diffusion model of adversarial interaction in JAX.

Rout, "Why Adversarial Interaction Creates Non-Homogeneous Patterns: A
Pseudo-Reaction-Diffusion Model for Turing Instability", AAAI 2021 (arXiv 2010.00521).

The library neither draws nor prints, and importing it creates no JAX arrays (so
``jax.distributed.initialize()`` can still run after it). The Gray-Scott side lives in
``prd_jax.turing`` and is imported on use. The mathematics in the code's conventions:
``docs/mathematics.md``.
"""

from prd_jax import breakdown, claims, critics, features, grid, growth, metrics, results, theory
from prd_jax.critics import CriticTransform
from prd_jax.data import DataError, Dataset, ImageDataset, image_dataset, read_idx, sphere
from prd_jax.grid import GridResult, MemoryCache, run_grid
from prd_jax.kernels import (
    Spectrum,
    gram_spectrum,
    h_empirical,
    h_infinity,
    h_infinity_mc,
    h_infinity_numpy,
    spectrum,
)
from prd_jax.losses import (
    adv_loss,
    aug_loss,
    critic,
    critic_input_grad,
    reaction_diffusion,
    sup_loss,
    wgan_gp_loss,
)
from prd_jax.metrics import ks_from_normal
from prd_jax.model import (
    Critic,
    Generator,
    generator,
    init,
    init_critic,
    init_generator,
    width_mask,
)
from prd_jax.train import HParams, TrainConfig, TrainResult, make_train, suggest_lr

__version__ = "0.2.0"

__all__ = [
    "Critic",
    "CriticTransform",
    "DataError",
    "Dataset",
    "Generator",
    "GridResult",
    "HParams",
    "ImageDataset",
    "MemoryCache",
    "Spectrum",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "adv_loss",
    "aug_loss",
    "breakdown",
    "claims",
    "critic",
    "critic_input_grad",
    "critics",
    "features",
    "generator",
    "gram_spectrum",
    "grid",
    "growth",
    "h_empirical",
    "h_infinity",
    "h_infinity_mc",
    "h_infinity_numpy",
    "image_dataset",
    "init",
    "init_critic",
    "init_generator",
    "ks_from_normal",
    "make_train",
    "metrics",
    "reaction_diffusion",
    "read_idx",
    "results",
    "run_grid",
    "spectrum",
    "sphere",
    "suggest_lr",
    "sup_loss",
    "theory",
    "wgan_gp_loss",
    "width_mask",
]

# With $PRD_JAX_CACHE_DIR set (an entry point or the test suite sets it for its child
# processes), use that persistent compilation cache; unset, importing changes no setting.
from prd_jax import compile_cache  # noqa: E402

compile_cache.enable_from_environment()
