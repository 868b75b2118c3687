"""``torch.nn.functional``'s path: ``import minigrad.nn.functional as F`` gives the module
``minigrad.functional`` itself (not a copy), so both spellings name one set of functions.

The module puts ``minigrad.functional`` in its own place in ``sys.modules``; the import
system then hands that out for ``minigrad.nn.functional`` (the documented way for a
module to stand for another).
"""
import sys

from minigrad import functional

sys.modules[__name__] = functional
