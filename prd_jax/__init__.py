"""prd_jax: the Pseudo-Reaction-Diffusion model of adversarial interaction in JAX.

Rout, "Why Adversarial Interaction Creates Non-Homogeneous Patterns: A
Pseudo-Reaction-Diffusion Model for Turing Instability", AAAI 2021 (arXiv 2010.00521).
"""

from prd_jax import breakdown, claims, critics, features, grid, metrics, results, theory
from prd_jax.data import DataError, Dataset, ImageDataset, image_dataset, read_idx, sphere
from prd_jax.kernels import (
    Spectrum,
    gram_spectrum,
    h_empirical,
    h_infinity,
    h_infinity_mc,
    spectrum,
)
from prd_jax.losses import adv_loss, aug_loss, critic, reaction_diffusion, sup_loss, wgan_gp_loss
from prd_jax.model import Critic, Generator, generator, init, width_mask
from prd_jax.train import HParams, TrainConfig, TrainResult, make_train, suggest_lr

__all__ = [
    "Critic",
    "DataError",
    "Dataset",
    "Generator",
    "HParams",
    "ImageDataset",
    "Spectrum",
    "TrainConfig",
    "TrainResult",
    "adv_loss",
    "aug_loss",
    "critic",
    "features",
    "generator",
    "gram_spectrum",
    "h_empirical",
    "h_infinity",
    "h_infinity_mc",
    "h_infinity_numpy",
    "image_dataset",
    "init",
    "make_train",
    "metrics",
    "reaction_diffusion",
    "read_idx",
    "results",
    "spectrum",
    "sphere",
    "suggest_lr",
    "sup_loss",
    "theory",
    "wgan_gp_loss",
    "width_mask",
]
