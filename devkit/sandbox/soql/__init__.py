"""A SOQL subset: parse (:mod:`.parser`) and evaluate (:mod:`.engine`) over in-memory rows.

Anything outside the subset is refused with ``MALFORMED_QUERY`` / ``INVALID_FIELD`` /
``INVALID_TYPE`` rather than answered wrongly.
"""

from devkit.sandbox.soql.ast import Query, SoqlError
from devkit.sandbox.soql.parser import parse

__all__ = ["Query", "SoqlError", "parse"]
