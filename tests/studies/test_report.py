import re

import pandas as pd

from studies import learning_rate
from studies.common import report
from studies.common.launch import run_study


def test_report_is_self_contained_and_holds_every_chart():
    values = learning_rate.SCHEMA.parse({"learning_rates": "0.1,1", "epochs": "3", "repeats": "1"})
    result = run_study(learning_rate, values, n_jobs=1)
    page = report.html_report(learning_rate, result, "http://localhost:8501/learning_rate?epochs=3")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)    # nothing fetched: all inline
    assert page.count("vegaEmbed('#chart") == len(learning_rate.charts_for(result))
    assert "epochs=3" in page and "Best learning rate" in page
    assert "</script" not in page.split("<script>", 1)[1][:-len("</script></body></html>")].lower()


def test_the_summary_table_scrolls_inside_the_page_and_shows_no_placeholder_for_missing_values():
    """Issue 19: the table was wider than the page and printed ``<NA>`` (a nullable column's missing
    value) in cells of trials that had none."""
    values = learning_rate.SCHEMA.parse({"learning_rates": "0.1,1", "epochs": "2", "repeats": "1"})
    result = run_study(learning_rate, values, n_jobs=1)
    result.summary["message"] = pd.array([None, "diverged at epoch 2"], dtype="string")
    result.summary["best_epoch"] = pd.array([2, None], dtype="Int64")
    page = report.html_report(learning_rate, result)
    table = page.split("<h2>Summary</h2>", 1)[1].split("<h2>", 1)[0]
    assert table.startswith('<div class="wide">') and ".wide{overflow-x:auto" in page
    assert "NA&gt;" not in table and "<NA>" not in table and "nan" not in table
    assert "diverged at epoch 2" in table
