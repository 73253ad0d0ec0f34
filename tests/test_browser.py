"""One real-browser smoke test: `streamlit run app.py` on loopback, driven by Playwright in Debian's
chromium. Screenshots of the home page and of every study page after Run go to artifacts/."""
import pytest
from playwright.sync_api import sync_playwright

from studies import STUDIES, learning_rate
from studies.common.execution import run_study
from studies.common.report import html_report
from chart_audit import audit
from ui.local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, charts_drawn, serve

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("store")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


CHART_SIZES = """() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]')).map(el => {
    const column = el.closest('[data-testid="stColumn"]') || el.closest('[data-testid="stMainBlockContainer"]');
    const drawn = (el.querySelector('canvas, svg.marks') || el).getBoundingClientRect();
    const style = getComputedStyle(column);
    const inner = column.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {height: drawn.height, width: drawn.width, column: inner};
})"""
VIEWPORTS = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}


def assert_charts_readable(page, label):
    """Every chart tall and wide enough, every legend label drawn in full inside it, every series colour
    at 3:1 contrast with the page's background (``chart_audit``)."""
    sizes = page.evaluate(CHART_SIZES)
    assert sizes, label
    for size in sizes:
        assert size["height"] >= 200, (label, size)
        assert size["width"] >= 0.9 * size["column"], (label, size)
    problems, charts = audit(page)
    assert not problems, (label, problems[:5])
    assert any(chart["labels"] for chart in charts) and all(chart["colours"] for chart in charts), label


def test_every_page_runs_in_a_real_browser(app_url, browser):
    """Run every page at desktop size, then reopen its link at phone size and in the dark theme, and
    on a phone in the dark theme: every chart at least 200 px tall and 90 % of its column wide, its
    legends in full and its colours readable. Screenshots go to artifacts/ (each chart on its own too:
    Streamlit scrolls inside the page, so a full-page shot holds only the first screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    page.goto(app_url)
    page.get_by_text("Open the study").first.wait_for(timeout=30_000)
    assert page.get_by_text("Open the study").count() == len(STUDIES)
    assert page.get_by_text("Deploy", exact=True).count() == 0            # toolbarMode = viewer
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    links = {}
    for name in STUDIES:
        page.goto(f"{app_url}/{name}")
        run = page.get_by_role("button", name="Run")
        assert run.bounding_box()["y"] + run.bounding_box()["height"] < VIEWPORTS["desktop"]["height"]
        run.click()
        page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
        charts_drawn(page, page.locator('[data-testid="stVegaLiteChart"]').count())
        page.wait_for_timeout(500)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert_charts_readable(page, f"{name} desktop")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        links[name] = page.locator(".st-key-share code").inner_text().strip()
    page.goto(app_url)
    page.get_by_text("Recent runs").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "home-after-runs.png"), full_page=True)
    last = list(STUDIES)[-1]
    page.get_by_text(f"{STUDIES[last].TITLE} (defaults)").click()            # a recent run reopens at once
    charts_drawn(page, 3)
    assert page.get_by_text("not stored").count() == 0
    context.close()
    for viewport, scheme in (("phone", "light"), ("desktop", "dark"), ("phone", "dark")):
        context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme)
        page = context.new_page()
        for name, link in links.items():
            page.goto(link)
            page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
            charts_drawn(page, page.locator('[data-testid="stVegaLiteChart"]').count())
            page.wait_for_timeout(300)
            assert_charts_readable(page, f"{name} {viewport} {scheme}")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{viewport}-{scheme}.png"), full_page=True)
            for i, chart in enumerate(page.locator('[data-testid="stVegaLiteChart"]').all()):
                chart.screenshot(path=str(ARTIFACTS / f"{name}-{viewport}-{scheme}-chart{i}.png"))
        context.close()


def test_one_person_stopping_and_leaving_never_harms_another(app_url, browser):
    """Two people on one server: A stops a long run and closes the tab; B's run finishes unharmed;
    A's link reopened shows what A's run had finished."""
    a_link = f"{app_url}/learning_rate?epochs=400&repeats=6"
    a_context, b_context = browser.new_context(), browser.new_context()
    a, b = a_context.new_page(), b_context.new_page()
    a.goto(a_link)
    b.goto(f"{app_url}/hidden_units?epochs=15")
    a.get_by_role("button", name="Run").click()
    b.get_by_role("button", name="Run").click()
    a.get_by_text("trials finished").wait_for(timeout=30_000)
    a.wait_for_function("document.body.innerText.match(/[1-9][0-9]* \\/ 30 trials finished/)", timeout=60_000)
    a.get_by_role("button", name="Stop").click()
    a.get_by_text("trials finished; the others were cancelled").wait_for(timeout=30_000)
    a_context.close()
    b.get_by_role("button", name="HTML report").wait_for(timeout=90_000)
    charts_drawn(b, 3)
    assert b.locator('[data-testid="stException"]').count() == 0
    assert b.locator('[data-testid="stAlertContentError"]').count() == 0
    assert b.get_by_text("Traceback").count() == 0 and b.get_by_text("has been shutdown").count() == 0
    b.screenshot(path=str(ARTIFACTS / "two-users-b-finished.png"), full_page=True)
    b_context.close()
    again = browser.new_page()
    again.goto(a_link)
    again.get_by_text("trials finished; the others were cancelled").wait_for(timeout=30_000)
    charts_drawn(again, 2)
    again.screenshot(path=str(ARTIFACTS / "two-users-a-reopened.png"), full_page=True)
    again.close()


def test_share_link_shows_stored_results_in_the_browser(app_url, browser):
    page = browser.new_page()
    page.goto(f"{app_url}/bias_variance?datasets=30&max_degree=12")
    page.get_by_role("button", name="Run").click()
    page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
    link = page.locator(".st-key-share code").inner_text().strip()
    assert "datasets=30" in link and "max_degree=12" in link
    fresh = browser.new_page()
    fresh.goto(link)
    charts_drawn(fresh, 3)                      # drawn without pressing Run
    assert fresh.get_by_text("not stored").count() == 0
    page.close()
    fresh.close()


def test_link_opened_first_on_a_fresh_server_gets_the_apps_navigation(browser, tmp_path):
    """A share link is often the first request a server sees; it must still run through app.py."""
    with serve(tmp_path) as url:
        page = browser.new_page()
        page.goto(f"{url}/kfold?k=3")
        page.get_by_role("button", name="Run").wait_for(timeout=30_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.get_by_text("Home", exact=True).count() == 1
        assert nav.get_by_text(STUDIES["kfold"].TITLE, exact=True).count() == 1
        assert page.title() == "MLP Study Explorer"         # app.py set_page_config ran
        page.close()


def test_html_report_renders_offline(browser, tmp_path):
    values = learning_rate.SCHEMA.parse({"epochs": "3", "repeats": "1"})
    path = tmp_path / "report.html"
    path.write_text(html_report(learning_rate, run_study(learning_rate, values, n_jobs=1), "http://x/learning_rate"))
    context = browser.new_context(offline=True)
    page = context.new_page()
    page.route("http*://**", lambda route: route.abort())   # nothing may come from a network
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.chart canvas, .chart svg').length >= 3", timeout=30_000)
    context.close()


def test_decision_boundaries_play_over_the_epochs_in_the_browser(app_url, browser):
    """Each setting's regions are an animated picture: the browser itself plays it (no rerun, no
    slider), so the drawn chart changes while nobody touches the page."""
    page = browser.new_page(viewport=VIEWPORTS["desktop"])
    page.goto(f"{app_url}/decision_boundary?hidden_units=0,8&epochs=40")
    page.get_by_role("button", name="Run").click()
    page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
    charts_drawn(page, 2)
    assert page.locator('[data-testid="stVegaLiteChart"] svg.marks image').count() == 2
    chart = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
    chart.scroll_into_view_if_needed()
    shots = set()
    for _ in range(8):
        shots.add(chart.screenshot())
        page.wait_for_timeout(450)
    assert len(shots) >= 3                                  # several distinct frames were on screen
    page.screenshot(path=str(ARTIFACTS / "decision_boundary-playing.png"), full_page=True)
    page.close()


def test_a_lecture_preset_fills_the_form_in_the_browser_and_run_runs_it(app_url, browser):
    """Issue 19: the preset changed the address bar but the browser's form kept the old values, and
    Run sent them (AppTest, which has no front end, saw the form filled)."""
    page = browser.new_page(viewport=VIEWPORTS["desktop"])
    page.goto(f"{app_url}/learning_rate")
    sidebar = page.locator("[data-testid='stSidebar']")
    field = lambda name: sidebar.locator(f".st-key-learning_rate-{name} input")  # noqa: E731
    field("epochs").wait_for(timeout=30_000)
    assert field("learning_rates").input_value() == "0.01,0.1,0.5,2,10"
    sidebar.locator("[data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="Fig. 55/56: generalised perceptron, rates 0.1, 0.5 and 2").click()
    page.wait_for_function("() => document.querySelector('.st-key-learning_rate-epochs input').value === '50'",
                           timeout=30_000)
    assert field("learning_rates").input_value() == "0.1,0.5,2" and field("classes").input_value() == "1,7"
    sidebar.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
    link = page.locator(".st-key-share code").inner_text().strip()
    assert "learning_rates=0.1%2C0.5%2C2" in link and "epochs=50" in link and "classes=1%2C7" in link
    page.close()
