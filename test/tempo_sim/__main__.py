"""Runs the simulator: python3 test/tempo_sim [options], or python3 -m tempo_sim from test/."""

import os
import sys

if __package__ in (None, ""):
    # run as a directory: import the package from its parent, not its modules from here
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.dirname(here))

from tempo_sim.server import main  # noqa: E402

sys.exit(main())
