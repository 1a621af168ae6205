"""The training engine: a whole run is one pure function of a key.

    cfg = TrainConfig(width=512, steps=2000)
    train = make_train(cfg)                      # closes over structure only
    result = jax.jit(train)(jax.random.key(0), cfg.hparams(), X, Y)

``TrainConfig`` holds what is static (shapes, step counts, modes: one compile per value);
``HParams`` holds what is traced (learning rates, lambda_adv, the run's own width), so a batch
of seeds x lambda_adv x widths is ``jax.vmap`` of the same compiled function. The step loop is
``lax.scan`` over the log points ``cfg.log_steps()``, each advancing the run by that
point's spacing of generator steps (a ``fori_loop``; 0 for the initial point) and stacking the
metrics there, so the metrics are compiled once. Each step runs the generator's forward pass
once: the critic trains on its outputs Z and the generator's gradient is pulled back through
the same ``jax.vjp``.

Generator: gradient descent (optax ``sgd`` by default, ``adam`` optional) on
``L_aug = L_sup - lambda_adv L_adv``. Critic: any ``critics.CriticTransform``; by default the
one ``cfg.critic`` names in ``critics.REGISTRY``: ``frozen`` (w, a fixed at init, optionally
projected onto ``||W||_F <= critic_radius``: the setting of the theorems) or ``wgan_gp``
(alternating gradient descent-ascent, ``n_critic`` critic steps on the WGAN-GP objective before
each generator step, as in the paper's experiments).

A run whose loss becomes non-finite, or grows past ``divergence_ratio`` times its initial
value, is flagged ``diverged`` and frozen from then on; other runs of a batch are unaffected.
"""

import contextlib
import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from prd_jax import critics as critics_lib
from prd_jax import metrics as metrics_lib
from prd_jax.losses import aug_loss, aug_loss_of_outputs
from prd_jax.model import Critic, Generator, default_float, generator, init, width_mask

LOG_SCHEDULES = ("linear", "geometric")
INT32_MAX = 2**31 - 1  # steps and widths are int32 inside the compiled program
FLOAT32_MAX = float(np.finfo(np.float32).max)  # float fields become float32 inside JAX
MAX_LOG_POINTS = 100_000  # metrics are stored at every log point of every run


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Static configuration of a training run (validated on construction).

    Example, U-only theorem setting with a frozen critic, about a second on a CPU:
        TrainConfig(width=256, steps=500, critic="frozen", train_v=False)
    """

    width: int = 256  # stored width M; a run's own width m = HParams.width <= M (padded sweep)
    steps: int = 1000  # generator steps (the horizon is t = lr * steps)
    log_schedule: str = "geometric"  # "geometric" (dense early) or "linear"
    log_every: int = 100  # spacing of log points for the linear schedule
    logs_per_decade: int = 9  # geometric: 1..9 step k, 10..90 step 10k, ... (9 = 1,2,..,9,10,20)
    optimizer: str = "sgd"  # generator optimizer: "sgd" (gradient descent, Eq. 4) or "adam"
    lr: float = 0.1  # default generator learning rate (HParams.lr overrides, traced)
    train_v: bool = False  # False: only U trained (Theorems 1-2); True: U and V (Theorem 3)
    lambda_adv: float = 1.0  # default adversarial weight (HParams.lambda_adv overrides)
    critic: str = "wgan_gp"  # "wgan_gp" (trained, alternating) or "frozen" (fixed at init)
    critic_optimizer: str = "adam"  # "adam" (per-unit step does not shrink with m) or "sgd"
    critic_lr: float = 5e-3  # critic rate per unit of t: its step is critic_lr * lr (HParams)
    n_critic: int = 1  # critic steps per generator step (wgan_gp)
    gp_weight: float = 10.0  # WGAN-GP gradient-penalty weight
    freeze_a: bool = False  # keep the critic's a_r in {+-1} fixed (wgan_gp)
    critic_radius: float | None = None  # L: project ||W||_F <= L (at init, and after updates)
    divergence_ratio: float = 1e6  # diverged when L_aug > ratio * (|L_aug(0)| + 1)
    image_shape: tuple[int, ...] | None = None  # neuron as image for spatial_ac; None: auto

    def __post_init__(self):
        def positive_int(name):
            value = getattr(self, name)
            ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            if not ok or not 0 < value <= INT32_MAX:
                raise ValueError(
                    f"TrainConfig.{name} must be a positive int below 2^31, got {value!r}"
                )
            object.__setattr__(self, name, int(value))  # NumPy integers -> int (hash, JSON)

        def number(name):
            value = getattr(self, name)
            ok = isinstance(value, int | float | np.integer | np.floating)
            if not ok or isinstance(value, bool | np.bool_):
                raise ValueError(f"TrainConfig.{name} must be a number, got {value!r}")
            if math.isfinite(value) and abs(value) > FLOAT32_MAX:
                raise ValueError(
                    f"TrainConfig.{name} must be within float32's range (|x| <= "
                    f"{FLOAT32_MAX:.4g}, or it becomes inf in the run), got {value!r}"
                )
            object.__setattr__(self, name, float(value))
            return float(value)

        for name in ("width", "steps", "log_every", "logs_per_decade", "n_critic"):
            positive_int(name)
        choices = (
            ("optimizer", tuple(critics_lib.OPTIMIZERS)),
            ("critic_optimizer", tuple(critics_lib.OPTIMIZERS)),
            ("critic", tuple(critics_lib.REGISTRY)),
            ("log_schedule", LOG_SCHEDULES),
        )
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"TrainConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}"
                )
        for name in ("lr", "critic_lr", "divergence_ratio"):
            value = number(name)
            if not value > 0 or not math.isfinite(value):
                raise ValueError(
                    f"TrainConfig.{name} must be a finite number > 0, got {getattr(self, name)!r}"
                )
        for name in ("lambda_adv", "gp_weight"):
            value = number(name)
            if not value >= 0 or not math.isfinite(value):
                raise ValueError(f"TrainConfig.{name} must be a finite number >= 0, got {value!r}")
        if self.critic_radius is not None and not (
            number("critic_radius") > 0 and math.isfinite(self.critic_radius)
        ):
            raise ValueError(
                f"TrainConfig.critic_radius must be a finite number > 0 or None, "
                f"got {self.critic_radius!r}"
            )
        for name in ("train_v", "freeze_a"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"TrainConfig.{name} must be a bool, got {getattr(self, name)!r}")
        self._check_layout()

    def _check_layout(self) -> None:
        """``image_shape`` is positive ints; a linear schedule logs every ``log_every`` steps,
        at most ``steps`` apart and at most ``MAX_LOG_POINTS`` times (checked before
        ``log_steps`` lists them)."""
        if self.image_shape is not None and (
            not isinstance(self.image_shape, tuple)
            or not all(
                isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in self.image_shape
            )
        ):
            raise ValueError(
                f"TrainConfig.image_shape must be positive ints, got {self.image_shape}"
            )
        if self.log_schedule != "linear":
            return
        if self.log_every > self.steps:
            raise ValueError(
                f"TrainConfig.log_every = {self.log_every} is more than steps = {self.steps}"
                ": only the first and last steps would be logged; use log_every <= steps"
            )
        if self.steps // self.log_every + 1 > MAX_LOG_POINTS:
            raise ValueError(
                f"TrainConfig.log_every = {self.log_every} with steps = {self.steps} makes "
                f"{self.steps // self.log_every + 1} log points, more than {MAX_LOG_POINTS}; "
                f"use log_every >= {-(-self.steps // (MAX_LOG_POINTS - 1))}"
            )

    def check_image_shape(self, d_in: int, where: str = "TrainConfig.image_shape") -> None:
        """A neuron seen as an image must have ``d_in`` pixels: ValueError otherwise."""
        if self.image_shape is not None and math.prod(self.image_shape) != d_in:
            raise ValueError(
                f"{where} = {self.image_shape} has {math.prod(self.image_shape)} pixels, but a "
                f"neuron has d_in = {d_in} inputs; use a shape whose product is {d_in}, or none"
            )

    def log_steps(self) -> tuple[int, ...]:
        """Steps at which metrics are recorded, starting with 0 (init) and ending at ``steps``."""
        if self.log_schedule == "linear":
            points = set(range(0, self.steps, self.log_every))
        else:
            points, scale = {0}, 1
            while scale < self.steps:
                spacing = max(scale * 10 // (self.logs_per_decade + 1), 1)
                points.update(range(scale, min(10 * scale, self.steps), spacing))
                scale *= 10
        return tuple(sorted(points | {self.steps}))

    def hparams(self, **overrides) -> "HParams":
        """Traced hyper-parameters: this config's defaults with validated overrides.

        Overrides may be arrays; every field is broadcast to their common shape, so
        ``cfg.hparams(lambda_adv=[0.0, 1.0])`` is a batch of two runs for ``jax.vmap``.
        """
        values = dict(lr=self.lr, critic_lr=self.critic_lr, lambda_adv=self.lambda_adv)
        values["width"] = self.width
        unknown = set(overrides) - set(values)
        if unknown:
            raise ValueError(
                f"unknown hyper-parameter(s) {sorted(unknown)}; valid: {sorted(values)}"
            )
        values.update(overrides)
        # Traced values (inside jit, vmap or grad) pass through unchecked: validation must
        # never break a transformation. Concrete ones are checked here.
        concrete = {k: v for k, v in values.items() if not isinstance(v, jax.core.Tracer)}
        for name, value in overrides.items():
            if name not in concrete:
                continue
            try:
                arr = np.asarray(value)
                numeric = arr.dtype != bool and (
                    np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
                )
            except (TypeError, ValueError):  # ragged lists and the like
                numeric = False
            if not numeric or arr.size == 0 or not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"HParams.{name} must be finite numbers (a scalar or an array), got {value!r}"
                )
            if np.any(np.abs(arr) > FLOAT32_MAX) and np.dtype(default_float()) == np.float32:
                raise ValueError(
                    f"HParams.{name} must be within float32's range (|x| <= {FLOAT32_MAX:.4g}),"
                    f" got {value!r}"
                )
        for name in ("lr", "critic_lr"):
            if name in concrete and np.any(np.asarray(values[name]) <= 0):
                raise ValueError(f"HParams.{name} must be > 0, got {values[name]!r}")
        if "lambda_adv" in concrete and np.any(np.asarray(values["lambda_adv"]) < 0):
            raise ValueError(f"HParams.lambda_adv must be >= 0, got {values['lambda_adv']!r}")
        if "width" in concrete:
            check_width(values["width"], self.width, "HParams.width")
        # Broadcast every field to one shape, so ``hparams(lambda_adv=[0, 1])`` is a batch of 2.
        shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
        real = default_float()  # float32, or float64 under jax_enable_x64
        dtypes = dict(lr=real, critic_lr=real, lambda_adv=real)
        return HParams(
            **{
                k: jnp.broadcast_to(jnp.asarray(v, dtypes.get(k, jnp.int32)), shape)
                for k, v in values.items()
            }
        )


def check_width(width, stored: int, name: str = "HParams.width") -> None:
    """A run's width must be an integer in ``[1, stored]`` (the stored width M of the padded
    network): ValueError otherwise. Traced widths pass through (a mask clips them)."""
    if isinstance(width, jax.core.Tracer):
        return
    w = np.asarray(width)
    if (
        w.size == 0
        or w.dtype == bool
        or not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating))
        or np.any(w < 1)
        or np.any(w > stored)
        or not np.all(w == np.round(w))
    ):
        raise ValueError(
            f"{name} must be an integer in [1, TrainConfig.width={stored}] (the stored width "
            f"of the padded network), got {width!r}"
        )


class HParams(NamedTuple):
    """Traced hyper-parameters of one run (scalars; give them a leading axis to vmap)."""

    lr: jax.Array  # generator learning rate eta (continuous time t = eta * steps)
    critic_lr: jax.Array  # critic rate per unit of t = lr * steps: its step is critic_lr * lr
    lambda_adv: jax.Array  # adversarial weight; 0 is supervised learning exactly
    width: jax.Array  # the run's own width m <= TrainConfig.width (int32)


class TrainState(NamedTuple):
    """Carry of the training scan."""

    generator: Generator
    critic: Critic
    gen_opt: optax.OptState
    critic_opt: optax.OptState
    key: jax.Array
    step: jax.Array  # generator steps taken (stops counting once diverged)
    diverged: jax.Array  # bool


class TrainResult(NamedTuple):
    """Output of ``train``: metrics at ``cfg.log_steps()`` and the final weights."""

    metrics: dict  # name -> (num_logs,) for each of metrics.METRIC_NAMES
    init: tuple  # (Generator, Critic) at t = 0
    final: tuple  # (Generator, Critic) at the end (or where the run diverged)
    diverged: jax.Array  # bool: the run diverged
    steps_taken: jax.Array  # generator steps applied before the run froze (== steps if not)


@contextlib.contextmanager
def unrolled_threefry_on_cpu():
    """While active, programs lowered for the CPU compute ``threefry2x32`` (every
    ``jax.random`` split and draw) as straight-line code: JAX's own lowering for GPU and TPU,
    instead of its CPU default, a 5-iteration while loop per call.

    Why: a training step draws three times (the step's key split, the critic's split and its
    interpolation weights), and on the CPU each rolled loop is a while loop of its own inside
    the step loop; at small widths the step is overhead-bound and those loops were about half
    of it (8 runs, n = 32, d_in = 16, m = 32: 57-84 us per step rolled, 32 us unrolled). The
    random bits are identical (the same 20 rounds of integer adds, rotations and xors); XLA
    may fuse the float code around them differently, so a metric may move by float32
    reassociation. The grid engine lowers its bucket programs inside this context
    (``grid._run_bucket``); ``make_train`` alone keeps JAX's default, so ``train`` drawing its
    own initial weights stays bit-identical to ``train`` given ``init_params``. Not
    thread-safe (it swaps a global lowering rule for its duration); does nothing on a JAX
    whose internals differ.
    """
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32 as tf

        rules = mlir._platform_specific_lowerings["cpu"]
        previous = rules.get(tf.threefry2x32_p)
        fast = mlir.LoweringRuleEntry(tf._threefry2x32_lowering_rule, True)
    except (ImportError, AttributeError, KeyError, TypeError):
        yield
        return
    rules[tf.threefry2x32_p] = fast
    try:
        yield
    finally:
        if previous is None:
            rules.pop(tf.threefry2x32_p, None)
        else:
            rules[tf.threefry2x32_p] = previous


def _all_finite(tree):
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def _log_point_on_host(on_log, reached, loss):
    """``make_train``'s progress call: ``on_log(step)`` (not for the initial point, step 0),
    then the loss back, unchanged."""
    step = int(np.asarray(reached).ravel()[0])
    if step > 0:
        on_log(step)
    return np.asarray(loss)


def init_params(key, width: int, d_in: int, d_out: int) -> tuple[Generator, Critic]:
    """The unmasked initial weights of the run keyed ``key`` at stored width ``width``: what
    ``train(key, ...)`` draws, ``model.init`` of the first half of ``jax.random.split(key)``.
    Nested: the first m neurons are the width-m weights."""
    k_init, _ = jax.random.split(key)
    return init(k_init, width, d_in, d_out)


def masked_params(params0, width: int, d_in: int, d_out: int, mask) -> tuple[Generator, Critic]:
    """``params0`` (from ``init_params``) checked against the run's shapes and masked as
    ``model.init(..., mask)`` masks: exactly the weights ``train`` would have drawn."""
    (U, V), (W, a) = params0
    shapes = {"U": (U.shape, (width, d_in)), "V": (V.shape, (d_out, width)),
              "W": (W.shape, (width, d_out)), "a": (a.shape, (width,))}  # fmt: skip
    for name, (got, want) in shapes.items():
        if tuple(got) != want:
            raise ValueError(f"params0 {name} has shape {tuple(got)}; expected {want}")
    return (
        Generator(U * mask[:, None], V * mask[None, :]),
        Critic(W * mask[:, None], a * mask),
    )


def make_train(cfg: TrainConfig, critic: critics_lib.CriticTransform | None = None, on_log=None):
    """Build ``train(key, hparams, X, Y) -> TrainResult`` for a static config.

    ``train`` is pure: jit it, vmap it over keys and hparams (``in_axes=(0, 0, None, None)``),
    or both. Data are arguments rather than closure constants, so large data sets are not baked
    into the compiled program.

    ``train(key, hparams, X, Y, params0)`` takes the initial weights instead of drawing them:
    ``params0 = init_params(key, cfg.width, d_in, d_out)`` (unmasked; the run's width mask is
    applied here) gives the same run as ``params0=None``. The grid engine draws them once per
    grid, at its largest width, and slices each bucket's (initialisation is nested): the
    random-number program is then compiled once per grid, not once per bucket (it was about
    40% of a bucket's compile time on the CPU).

    Args:
      cfg: the static configuration.
      critic: a ``critics.CriticTransform``; default ``critics.from_config(cfg)`` (the critic
        ``cfg.critic`` names). The step calls ``critic.update`` without knowing which it is.
      on_log: opt-in progress hook, ``on_log(step)`` called on the host with the generator step
        reached at each log point after the first, once that point's metrics are computed
        (a host callback through which the loss passes unchanged). Under ``vmap`` it is one
        call per log point and per program (per device under ``shard_map``), not one per run.
        It must be quick and must not call JAX. None (default): no callback, the program and
        its numbers are unchanged (on, the numbers are identical too).
    """
    # A leading 0: the first block takes no step and measures the initial state, so the
    # metrics are traced (and compiled) once, inside the scan, not a second time before it.
    spacings = np.diff(np.asarray(cfg.log_steps(), np.int32), prepend=0)
    critic = critic if critic is not None else critics_lib.from_config(cfg)
    gen_optimizer = critics_lib.OPTIMIZERS[cfg.optimizer]

    def train(key, hparams: HParams, X, Y, params0=None) -> TrainResult:
        if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
            raise ValueError(f"X {X.shape} and Y {Y.shape} must be (n, d_in) and (n, d_out)")
        d_in, d_out = X.shape[1], Y.shape[1]
        cfg.check_image_shape(d_in)
        check_width(hparams.width, cfg.width)  # concrete widths only: a mask clips the rest
        mask = width_mask(hparams.width, cfg.width)
        k_init, k_train = jax.random.split(key)
        if params0 is None:
            gen, crit = init(k_init, cfg.width, d_in, d_out, mask)
        else:
            gen, crit = masked_params(params0, cfg.width, d_in, d_out, mask)
        crit, critic_state = critic.init(crit, hparams)

        gen_tx = gen_optimizer(hparams.lr)
        ref = metrics_lib.reference(gen, crit, X, mask)
        # The scale of the divergence test: |L_aug(0)| + 1.
        loss0 = jnp.abs(aug_loss(*gen, *crit, X, Y, hparams.lambda_adv, mask)) + 1.0

        def measure(state):
            return metrics_lib.measure(
                state.generator, state.critic, ref, X, Y, hparams.lambda_adv, mask, cfg.image_shape
            )

        def step(state: TrainState) -> TrainState:
            key, k_critic = jax.random.split(state.key)
            # One forward pass per step, shared by the critic and the generator: the critic
            # trains on Z, then L_aug's gradient in Z flows back through the same vjp.
            gen = state.generator
            if cfg.train_v:
                Z, pullback = jax.vjp(lambda g: generator(*g, X, mask), gen)
            else:  # only U moves: V's cotangent is never formed
                Z, pullback_u = jax.vjp(lambda U: generator(U, gen.V, X, mask), gen.U)

                def pullback(dZ):
                    (dU,) = pullback_u(dZ)
                    return (Generator(dU, jnp.zeros_like(gen.V)),)

            crit, critic_opt = critic.update(
                state.critic, state.critic_opt, Z, Y, k_critic, hparams, mask
            )
            loss, dZ = jax.value_and_grad(aug_loss_of_outputs)(Z, crit, Y, hparams.lambda_adv, mask)
            (grads,) = pullback(dZ)
            updates, gen_opt = gen_tx.update(grads, state.gen_opt, gen)
            gen = optax.apply_updates(gen, updates)

            candidate = TrainState(
                gen, crit, gen_opt, critic_opt, key, state.step + 1, state.diverged
            )
            healthy = (
                jnp.isfinite(loss)
                & (loss < cfg.divergence_ratio * loss0)
                & _all_finite((gen, crit))
            )
            ok = healthy & ~state.diverged
            new = jax.tree.map(lambda c, s: jnp.where(ok, c, s), candidate, state)
            return new._replace(diverged=state.diverged | ~healthy)

        def log_block(state, spacing):
            # A while loop with the (unbatched) spacing as its trip count: the step body is
            # compiled once for every log schedule, however uneven.
            state = jax.lax.fori_loop(0, spacing, lambda _, s: step(s), state)
            return state, measure(state)

        state = TrainState(
            gen,
            crit,
            gen_tx.init(gen),
            critic_state,
            k_train,
            jnp.zeros((), jnp.int32),
            jnp.zeros((), bool),
        )
        if on_log is None:
            state, logged = jax.lax.scan(log_block, state, spacings)
        else:

            def log_block_reporting(state, xs):
                spacing, reached = xs
                state, logged = log_block(state, spacing)
                # The host call receives this block's loss and returns it unchanged: the data
                # dependence orders it after the block's work (an optimization barrier does
                # not: XLA aliases its buffers away), and its result being used, it is never
                # pruned. vmap_method="expand_dims": one call per log point and program
                # (per device under shard_map) with the whole batch, never one per run.
                loss = logged["loss_sup"]
                logged = dict(logged)
                logged["loss_sup"] = jax.pure_callback(
                    functools.partial(_log_point_on_host, on_log),
                    jax.ShapeDtypeStruct(loss.shape, loss.dtype),
                    reached,
                    loss,
                    vmap_method="expand_dims",
                )
                return state, logged

            reached = np.asarray(cfg.log_steps(), np.int32)
            state, logged = jax.lax.scan(log_block_reporting, state, (spacings, reached))
        return TrainResult(
            metrics={k: logged[k] for k in metrics_lib.METRIC_NAMES},
            init=(gen, crit),
            final=(state.generator, state.critic),
            diverged=state.diverged,
            steps_taken=state.step,
        )

    return train


def suggest_lr(X, d_out: int = 1, train_v: bool = False, safety: float = 0.5) -> float:
    """A gradient-descent step size from the data's infinite-width kernel (float64, host).

    Under the SUM loss, lazy training moves the outputs by ``z <- z + eta K (y - z)`` with
    ``K = H_inf / d_out`` (plus the arc-cosine kernel of the output layer when V is trained);
    GD is stable for ``eta < 2 / lambda_max(K)``. Returns ``safety * 2 / lambda_max(K)``: a
    Python float, or, for a traced X (inside ``jit``, so that a jitted run can pick its own
    step size), a traced scalar of X's dtype computed the same way on the host (NaN for a
    non-finite X). ``d_out``, ``train_v`` and ``safety`` are static.
    """
    from prd_jax.kernels import h_infinity_numpy, host_call

    if isinstance(X, jax.core.Tracer):

        def lr(x):
            return suggest_lr(x, d_out, train_v, safety) if np.all(np.isfinite(x)) else np.nan

        return host_call(lr, (), X)
    X = np.asarray(X, np.float64)
    K = h_infinity_numpy(X)  # Definition 1
    if train_v:  # plus the arc-cosine kernel of degree 1, E[sigma(u.x_i) sigma(u.x_j)]
        norms = np.linalg.norm(X, axis=1)
        cos = np.clip((X @ X.T) / np.maximum(np.outer(norms, norms), 1e-300), -1.0, 1.0)
        theta = np.arccos(cos)
        K = K + np.outer(norms, norms) * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi)
    lam_max = float(np.linalg.eigvalsh(K / d_out)[-1])
    return safety * 2.0 / lam_max
