"""``python -m admm``: the command line (see ``admm.cli``)."""
import sys

from admm.cli import main

sys.exit(main())
