"""``python -m sim``: the same as the ``tagsim`` command."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
