"""Flax (linen) modules for the generator and the critic, for use inside flax models.

They hold the same parameters as ``prd_jax.model``, call the same pure functions and draw
their initial weights with the same code: a module initialised from key ``k`` (the key flax
hands it, ``self.make_rng("params")``) holds exactly ``prd_jax.init(k, ...)``'s weights, so
they are nested in the width too (Theorems 1-2, neuron by neuron).

    module = PRDGenerator(width=256, d_out=1)
    variables = module.init(jax.random.key(0), X)  # {"params": {"U": (m, d_in), "V": (d_out, m)}}
    Z = module.apply(variables, X)
"""

import flax.linen as nn

from prd_jax.losses import critic
from prd_jax.model import generator, init_critic, init_generator


def _params(module: nn.Module, draw, names):
    """Declare ``names`` as params whose initial values are fields of ONE ``draw(key)``.

    ``prd_jax.init`` draws a layer from a single key; flax would hand every ``self.param`` its
    own key. So the layer is drawn once, from the module's next "params" key, while
    initialising. At apply time the params exist; flax then only checks their shapes against
    the initialiser's (an abstract evaluation with its own key, hence the fallback).
    """
    drawn = draw(module.make_rng("params")) if module.is_initializing() else None

    def initialiser(name):
        return lambda key: getattr(drawn if drawn is not None else draw(key), name)

    return [module.param(name, initialiser(name)) for name in names]


class PRDGenerator(nn.Module):
    """Eq. 1 as a module: ``X (n, d_in) -> V sigma(U x) / sqrt(d_out m)``, shape ``(n, d_out)``.

    Initial weights: ``prd_jax.model.init_generator(key, width, d_in, d_out)``.
    """

    width: int
    d_out: int

    @nn.compact
    def __call__(self, X, mask=None):
        d_in = X.shape[-1]
        U, V = _params(self, lambda k: init_generator(k, self.width, d_in, self.d_out), ("U", "V"))
        return generator(U, V, X, mask)


class PRDCritic(nn.Module):
    """The critic ``g(W, a, z) = a^T sigma(W z) / sqrt(m)`` on each row: ``(n, d_out) -> (n,)``.

    Initial weights: ``prd_jax.model.init_critic(key, width, d_out)``.
    """

    width: int

    @nn.compact
    def __call__(self, Z, mask=None):
        W, a = _params(self, lambda k: init_critic(k, self.width, Z.shape[-1]), ("W", "a"))
        return critic(W, a, Z, mask)
