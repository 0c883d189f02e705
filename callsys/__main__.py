"""``python -m callsys`` — what Briefcase runs (it always runs the module named after the app).

This launcher is the one file in ``callsys/`` allowed to reach ``ui``: it only hands over to the
composition root in ``ui.main``. ``tests/test_layering.py`` names it as the single exception.
"""

import sys

from ui.main import main

sys.exit(main())
