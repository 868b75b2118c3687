"""``cupy.random`` stood in: the draws happen "on the device" (no copy is counted) and are
made by NumPy's generators, so a seed gives the same numbers on every run. (Real CuPy's
streams differ from NumPy's: do not compare a CuPy draw with a NumPy draw.)"""
import numpy

from cupy._core import call, wrap

# the distributions of CuPy's reference ("Random sampling") that NumPy also has
_DRAWS = """rand randn random random_sample ranf sample uniform normal standard_normal randint random_integers
permutation choice binomial beta chisquare exponential f gamma geometric gumbel hypergeometric laplace
logistic lognormal logseries multinomial negative_binomial noncentral_chisquare noncentral_f pareto
poisson power rayleigh standard_cauchy standard_exponential standard_gamma standard_t triangular vonmises
wald weibull zipf integers""".split()


def _draw(f):
    def draw(*args, dtype=None, **kwargs):
        out = call(f, *args, **kwargs)
        return out if dtype is None else out.astype(dtype, copy=False)
    return draw


class RandomState:
    """CuPy's legacy generator (``cupy.random.RandomState``): every draw a device array."""

    def __init__(self, seed=None, method=None):
        self._rs = numpy.random.RandomState(seed)

    def seed(self, seed=None):
        self._rs.seed(seed)

    def shuffle(self, a):
        self._rs.shuffle(a._a)

    def __getattr__(self, name):
        if name not in _DRAWS or name == "integers":
            raise AttributeError(f"'RandomState' object has no attribute {name!r}")
        return _draw(getattr(self._rs, name))


class Generator:
    """``cupy.random.Generator`` (``default_rng``): every draw a device array."""

    def __init__(self, bit_generator=None):
        self._g = numpy.random.default_rng(bit_generator)

    def random(self, size=None, dtype=numpy.float64, out=None):
        return wrap(self._g.random(size, dtype=dtype))

    def standard_normal(self, size=None, dtype=numpy.float64, out=None):
        return wrap(self._g.standard_normal(size, dtype=dtype))

    def shuffle(self, a, axis=0):
        self._g.shuffle(a._a, axis=axis)

    def __getattr__(self, name):
        if name not in _DRAWS:
            raise AttributeError(f"'Generator' object has no attribute {name!r}")
        return _draw(getattr(self._g, name))


def default_rng(seed=None):
    return Generator(seed)


_state = RandomState(0)


def get_random_state():
    return _state


def set_random_state(rs):
    global _state
    _state = rs


def seed(seed=None):
    _state.seed(seed)


def reset_states():
    set_random_state(RandomState(0))


def shuffle(a):
    _state.shuffle(a)


def __getattr__(name):
    if name in _DRAWS and name != "integers":
        return getattr(_state, name)
    raise AttributeError(f"module 'cupy.random' has no attribute {name!r}")
