"""``python -m sknnloss``: cross-validate activation/loss pairs on a table and rank them.

A thin wrapper around :mod:`sknnloss._cli` (the ``sknnloss`` console script calls
:func:`main` too); ``python -m sknnloss --help`` lists the options.
"""

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
