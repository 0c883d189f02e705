"""callsys — the Qt-free core: call model and state machine, numbers, CRM clients, storage, server.

Nothing in this package imports Qt (``ui``) or a concrete telephony provider (``providers``);
``tests/test_layering.py`` checks that.
"""

__version__ = "0.1.0"
