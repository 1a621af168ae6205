"""The baseline: the Theorem 1-2 width sweep as a careful researcher would write it in JAX.

One width at a time, ``jit(vmap over seeds)`` of a ``lax.scan`` over steps, called once per
``lambda_adv`` (a traced argument: one compile per width). The model is Eq. 6 (``d_out = 1``,
only ``U`` trained, ``v`` fixed), the critic ``g(w, a, z) = a^T relu(w z) / sqrt(m)`` is
trained by plain gradient ascent on the WGAN-GP objective with the gradient penalty by
autodiff (a per-sample ``grad`` inside the loss), and four metrics are recorded every
``log_every`` steps: kernel deviation ``||H(t) - H(0)||_2``, maximum per-neuron drift, residual
``||f - y||`` and critic norm ``||w||``.

It draws its initial weights with ``prd_jax.model.init`` and splits each run's key as
``prd_jax.train`` does, so its supervised runs (``lambda_adv = 0``, where the critic does not
act on the generator) follow the project's trajectories: ``agreement`` checks that both
compute the same thing before their times are compared.
"""

import jax
import jax.numpy as jnp
import numpy as np

from prd_jax.model import init as model_init

METRICS = ("kernel_dev", "drift_max", "residual", "critic_norm")


def _net(U, v, X):
    return jax.nn.relu(X @ U.T) @ v / jnp.sqrt(U.shape[0])  # (n,)


def _critic(w, a, z):
    return jax.nn.relu(z[:, None] * w[None, :]) @ a / jnp.sqrt(w.shape[0])  # (n,)


def _critic_loss(params, z, y, eps, gp_weight):
    w, a = params
    y_hat = eps * y + (1.0 - eps) * z
    grad_z = jax.vmap(jax.grad(lambda s: _critic(w, a, s[None])[0]))(y_hat)  # (n,)
    penalty = jnp.mean(jnp.square(jnp.sqrt(jnp.square(grad_z) + 1e-12) - 1.0))
    return jnp.mean(_critic(w, a, z)) - jnp.mean(_critic(w, a, y)) + gp_weight * penalty


def _kernel(U, X):
    A = (X @ U.T >= 0).astype(X.dtype)
    return (X @ X.T) * (A @ A.T) / U.shape[0]


def make_sweep_fn(m, steps, log_every, critic_lr=0.05, gp_weight=10.0):
    """``jit(vmap(run))(seeds, X, y, lr, lambda_adv) -> {metric: (seeds, steps/log_every+1)}``
    for width ``m``."""

    def run(seed, X, y, lr, lam):
        k_init, key = jax.random.split(jax.random.key(seed))
        (U, V), (W, a) = model_init(k_init, m, X.shape[1], 1)
        v, w = V[0], W[:, 0]
        U0, H0 = U, _kernel(U, X)

        def metrics(U, w):
            dev = jnp.max(jnp.abs(jnp.linalg.eigvalsh(_kernel(U, X) - H0)))
            drift = jnp.max(jnp.linalg.norm(U - U0, axis=1))
            return jnp.stack([dev, drift, jnp.linalg.norm(_net(U, v, X) - y), jnp.linalg.norm(w)])

        def step(carry, _):
            U, w, a, key = carry
            key, k_eps = jax.random.split(key)
            eps = jax.random.uniform(k_eps, y.shape)
            z = _net(U, v, X)
            gw, ga = jax.grad(_critic_loss)((w, a), z, y, eps, gp_weight)
            w, a = w - critic_lr * gw, a - critic_lr * ga

            def gen_loss(U):
                f = _net(U, v, X)
                return 0.5 * jnp.sum(jnp.square(f - y)) - lam * jnp.sum(_critic(w, a, f))

            U = U - lr * jax.grad(gen_loss)(U)
            return (U, w, a, key), None

        def block(carry, _):
            carry, _ = jax.lax.scan(step, carry, None, length=log_every)
            return carry, metrics(carry[0], carry[1])

        _, logged = jax.lax.scan(block, (U, w, a, key), None, length=steps // log_every)
        logged = jnp.concatenate([metrics(U, w)[None], logged])
        return {name: logged[:, i] for i, name in enumerate(METRICS)}

    return jax.jit(jax.vmap(run, in_axes=(0, None, None, None, None)))


def sweep(X, Y, widths, seeds, lambdas, lr, steps, log_every, critic_lr=0.05):
    """The whole baseline sweep: ``{(width, lambda): {metric: (seeds, logs) numpy}}``."""
    seeds = jnp.asarray(list(seeds), jnp.int32)
    y = jnp.asarray(Y)[:, 0]
    out = {}
    for m in widths:
        fn = make_sweep_fn(int(m), steps, log_every, critic_lr)
        for lam in lambdas:
            res = fn(seeds, jnp.asarray(X), y, jnp.float32(lr), jnp.float32(lam))
            out[(int(m), float(lam))] = {k: np.asarray(v) for k, v in res.items()}
    return out


def agreement(baseline: dict, project, lam: float = 0.0) -> dict:
    """Largest relative difference between the baseline's and the project's supervised runs,
    per metric (over widths, seeds and log points); the critic norm is compared at
    ``lambda_adv = lam`` too, where both critics see the same outputs at step 0 only."""
    worst = {}
    for name in ("residual", "drift_max", "kernel_dev"):
        diffs = []
        for (m, lam_b), res in baseline.items():
            if lam_b != lam:
                continue
            mine = project.sel(width=m, lambda_adv=lam).metrics[name]
            scale = np.maximum(np.abs(mine).max(), 1e-6)
            diffs.append(float(np.max(np.abs(res[name] - mine)) / scale))
        worst[name] = max(diffs)
    return worst
