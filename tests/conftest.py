"""Strict JAX settings for the whole suite: no silent rank promotion, no implicit dtype
promotion (float32 * int32 is an error; Python scalars stay weakly typed)."""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")
