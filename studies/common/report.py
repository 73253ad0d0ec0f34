"""A study's results as one self-contained HTML file: parameters, share link, takeaway, charts and
tables, with the Vega JavaScript inlined so it opens in any browser, offline, without the app."""
from __future__ import annotations

import functools
import html
import json
import re
from datetime import datetime, timezone

import vl_convert

from studies.common.charts import vega_lite
from studies.common.training import StudyResult

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}.chart{margin:1.5em 0}code{background:#f4f4f4;padding:2px 4px;word-break:break-all}
.takeaway{background:#eef6ee;border-left:4px solid #2a7;padding:.6em 1em}.chart{width:100%}
.look{color:#555;font-size:14px;margin-top:0}.wide{overflow-x:auto;max-width:100%}"""


@functools.lru_cache(maxsize=1)
def _vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script, assigned to window (about 1 MB)."""
    return vl_convert.javascript_bundle()


def _table(frame) -> str:
    """A table that scrolls inside the page (one row per trial is wider than a page), missing values
    blank: pandas' own ``na_rep`` leaves ``<NA>`` in columns of nullable types."""
    shown = frame.astype(object).where(frame.notna(), "")
    shown = shown.map(lambda v: f"{v:.4g}" if isinstance(v, float) else v)
    return shown.to_html(index=False)


def html_report(study, result: StudyResult, share_link: str = "") -> str:
    """``study`` is the study module (title, schema, charts_for, takeaway)."""
    specs = [vega_lite(chart) for chart in study.charts_for(result)]
    texts = study.SCHEMA.to_texts(result.params)
    params = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in texts.items())
    link = f'<p>Share link: <code>{html.escape(share_link)}</code></p>' if share_link else ""
    divs = "".join(f'<div class="chart" id="chart{i}"></div><p class="look">{html.escape(spec.get("description", ""))}</p>'
                   for i, spec in enumerate(specs))
    embeds = "".join(f"vegaEmbed('#chart{i}', {json.dumps(spec)}, {{actions: false}});" for i, spec in enumerate(specs))
    takeaway = "<br>".join(html.escape(line) for line in study.takeaway(result) if line)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # "</script" inside the inlined code or data would end the script element early; "<\/script"
    # means the same in JavaScript strings, regular expressions and JSON
    script = re.sub(r"</(script)", r"<\\/\1", _vega_bundle() + "\n" + embeds, flags=re.IGNORECASE)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(study.TITLE)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(study.TITLE)}</h1><p>Lecture {html.escape(study.FIGURES)} &middot; {html.escape(study.SUMMARY)}</p>
<p>Generated {stamp} by the MLP Study Explorer.</p>{link}
<p class="takeaway">{takeaway}</p>{divs}
<h2>Summary</h2><div class="wide">{_table(result.summary)}</div>
<h2>Parameters</h2><table>{params}</table>
<script>{script}</script></body></html>"""
