"""The web layer: REST API, dashboard pages and their security.

It parses requests, checks who may see what (:mod:`dualcontrol.web.access`), calls
the library and formats the answer; it computes nothing of its own.
"""

from dualcontrol.web.app import create_app
from dualcontrol.web.server import serve

__all__ = ["create_app", "serve"]
