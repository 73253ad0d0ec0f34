import re

from studies import learning_rate
from studies.common import report
from studies.common.execution import run_study


def test_report_is_self_contained_and_holds_every_chart():
    values = learning_rate.SCHEMA.parse({"learning_rates": "0.1,1", "epochs": "3", "repeats": "1"})
    result = run_study(learning_rate, values, n_jobs=1)
    page = report.html_report(learning_rate, result, "http://localhost:8501/learning_rate?epochs=3")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)    # nothing fetched: all inline
    assert page.count("vegaEmbed('#chart") == len(learning_rate.charts_for(result))
    assert "epochs=3" in page and "Best learning rate" in page
    assert "</script" not in page.split("<script>", 1)[1][:-len("</script></body></html>")].lower()
