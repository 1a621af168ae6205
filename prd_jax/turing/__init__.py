"""The Turing side: Gray-Scott solvers (``gray_scott``), the linear stability of its uniform
states (``stability``), and pattern metrics shared by Gray-Scott fields and weight images
(``patterns``).

Imported on use (``from prd_jax.turing import gray_scott``), never by ``import prd_jax``: no
PRD module needs the solvers.
"""
