"""Printable fairness report: a self-contained HTML page (every value escaped)."""

from __future__ import annotations

from html import escape

import pandas as pd

from worker.store.queries.fairness import FairnessReport

_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}
th{background:#eee}td:first-child{text-align:left}@media print{body{margin:0}}"""


def fairness_html(
    report: FairnessReport, reps: pd.DataFrame, service: pd.DataFrame, *, generated: str
) -> str:
    jain = "–" if report.jain is None else f"{report.jain:.3f}"
    p = "–" if report.p_value is None else f"{report.p_value:.4f}"
    rep_table = reps[["name", "actual", "target", "deviation", "caps_hit"]].to_html(
        index=False, float_format="%.1f", escape=True
    )
    svc_table = service.drop(columns=["owner_id"]).to_html(
        index=False, float_format="%.1f", escape=True, na_rep="–"
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Fairness audit {escape(report.pool)}</title><style>{_CSS}</style></head><body>
<h1>Fairness audit: pool {escape(report.pool)}</h1>
<p>Period {escape(report.start.date().isoformat())} to {escape(report.end.date().isoformat())} (end exclusive, UTC).
Generated {escape(generated)}.</p>
<p><strong>{escape(report.verdict)}</strong></p>
<p>Routed leads audited: {report.decisions:,}. Jain's index: {jain}. Chi-square p-value: {p}.</p>
<h2>Actual vs eligibility-adjusted target</h2>{rep_table}
<h2>Service per rep</h2>{svc_table}
</body></html>"""
