"""A SOQL subset: parse (:mod:`.parser`) and evaluate (:mod:`.engine`) over in-memory rows.

Anything outside the subset is refused with ``MALFORMED_QUERY`` / ``INVALID_FIELD`` /
``INVALID_TYPE`` rather than answered wrongly.
"""

from worker.sfdc.sandbox.soql.ast import Query, SoqlError
from worker.sfdc.sandbox.soql.parser import parse

__all__ = ["Query", "SoqlError", "parse"]
