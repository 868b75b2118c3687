"""One seedable source of randomness for initializers, dropout and data shuffling.

``manual_seed(s)`` resets it; every function that draws also accepts an explicit
``generator=`` (a ``numpy.random.Generator``), so experiments can keep separate
streams. Draws happen on the CPU and are moved to the GPU afterwards, so a seed
gives the same numbers on both devices.
"""
import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the default generator; returns it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator():
    return _generator


def get(generator=None):
    """The generator to draw from: the one given, else the default."""
    return _generator if generator is None else generator


def get_rng_state():
    """The default generator's state (a JSON-able dict), for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state
