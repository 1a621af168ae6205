"""The Turing side: Gray-Scott solvers, their linear stability analysis, and pattern metrics
shared by Gray-Scott fields and weight images.

Imported on use (``from prd_jax.turing import gray_scott``), never by ``import prd_jax``: no
PRD module needs the solvers.
"""
