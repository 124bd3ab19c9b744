"""Reference data: what every signed-in user may read whatever their jurisdiction.

The one place that says so. The cross-jurisdiction gate (tests/gates/test_matrix.py) lets a persona of
another street see the objects of these operations; every other list of the API is jurisdiction data,
whose objects a persona outside the jurisdiction must neither list nor open (404).

Only shared vocabulary belongs here: code tables (字典) and public categories. The jurisdiction tree
itself is *not* reference data (a community worker sees their own nodes, not another street's), nor are
departments (a street's judicial office is that street's business).
"""

from __future__ import annotations

# "METHOD /api/v1/path" as the OpenAPI document spells the operation.
REFERENCE_OPERATIONS: frozenset[str] = frozenset(
    {
        "GET /api/v1/codes",
        "GET /api/v1/codes/{key}",
    }
)
