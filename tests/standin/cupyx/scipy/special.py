"""``cupyx.scipy.special`` stood in: the functions of the C library's ``math`` module,
element by element on the wrapped array, in its dtype."""
import math

import numpy

from cupy import _core


def _elementwise(f):
    vectorised = numpy.frompyfunc(f, 1, 1)

    def special(x):
        def compute(a):
            return numpy.asarray(vectorised(a), dtype=a.dtype if a.dtype.kind == "f" else numpy.float64)
        return _core.call(compute, x)
    special.__name__ = f.__name__
    return special


erf = _elementwise(math.erf)
erfc = _elementwise(math.erfc)
gammaln = _elementwise(math.lgamma)
gamma = _elementwise(math.gamma)


def expit(x):
    return _core.call(lambda a: 1 / (1 + numpy.exp(-a)), x)


def logit(x):
    return _core.call(lambda a: numpy.log(a / (1 - a)), x)
