"""The workbench in a real browser: Debian's chromium driven by Selenium through chromium-driver.

The workbench runs in a thread on a free port of 127.0.0.1; chromium runs headless with a fresh
profile and nothing fetched from outside. These tests are skipped, saying why, only when chromium
or its driver is not installed (`make test` installs both).
"""
from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import warnings
from pathlib import Path

import pytest

from plancheck.cli import main
from plancheck.web.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are not "
                                "installed (apt-get install chromium chromium-driver; `make test` does it)")
WAIT = 180.0  # seconds: a deadline for waits that would otherwise never end, not a speed bound


@pytest.fixture
def workbench(served):
    """The workbench served by uvicorn in a thread; yields its address."""
    import uvicorn

    app = create_app([served["scores"].parent, served["triaged"]], corpus=served["corpus"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections queue here from now on, and are served once the server runs: no wait
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(WAIT)
    sock.close()


@pytest.fixture
def browser(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium's manager must not look anything up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def wait_for(browser, condition, what: str):
    """What ``condition()`` returns once it is true (pages here update in the browser, after load)."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT, poll_frequency=0.1).until(lambda _: condition(), f"gave up waiting for {what}")


def row_names(browser) -> list[str] | None:
    """The force names of the matrix's rows, or None while the page is being replaced."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return [r.find_element(By.CSS_SELECTOR, "th .force").text for r in browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")]
    except StaleElementReferenceException:
        return None


def text_of(browser, selector: str) -> str:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        found = browser.find_elements(By.CSS_SELECTOR, selector)
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def test_web_browser_national_picture_renders_the_matrix(workbench, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(workbench + "/")
    table = browser.find_element(By.ID, "matrix")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "th .force").text for r in rows] == ["Ashvale", "Brenford", "Corrin", "Dunmere",
                                                                      "Stourholme"]
    cell = table.find_element(By.CSS_SELECTOR, 'tr:nth-child(2) td[data-area="roads_policing"]')
    assert cell.text.startswith("flagged p=0.55") and "failing: actions, owner" in cell.get_attribute("title")
    assert "missing" in table.find_element(By.CSS_SELECTOR, 'tr:nth-child(3) td[data-area="roads_policing"]').text.lower()
    assert browser.find_element(By.ID, "plans-share").text == "25%"
    # The filter form submits itself when a choice changes (the page's own script).
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.NAME, "verdict")).select_by_value("needs_review")
    wait_for(browser, lambda: "verdict=needs_review" in browser.current_url, "the filtered page")
    wait_for(browser, lambda: row_names(browser) == ["Brenford", "Corrin", "Stourholme"], "the filtered matrix")
    shot = tmp_path / "national.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_web_browser_a_grade_is_saved_through_the_form(workbench, browser, served, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(workbench + "/")
    browser.find_element(By.LINK_TEXT, "Stourholme").click()
    wait_for(browser, lambda: "Stourholme: stourholme-2009.txt" in browser.title, "the plan page")
    form = browser.find_element(By.CSS_SELECTOR, 'form[aria-label="Review of major_crime"]')
    for criterion in ("assessment", "objectives", "actions", "owner", "timescales", "resources"):
        Select(form.find_element(By.NAME, criterion)).select_by_value("2")
    form.find_element(By.NAME, "note").send_keys("Owner and dates are in the table.")
    form.find_element(By.NAME, "reviewer").send_keys("J Smith")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    flash = wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".flash"), "the saved message")[0]
    assert "Saved version 1 of the major_crime grade by J Smith: sufficient" in flash.text
    assert "owner 0 -> 2" in flash.text
    labels = list(csv.DictReader(io.StringIO((served["corpus"] / "labels.csv").read_text(encoding="utf-8"))))
    assert [(r["document"], r["area"], r["owner"], r["label"], r["grader"]) for r in labels] == [
        ("stourholme-2009.txt", "major_crime", "2", "sufficient", "J Smith")]
    history = wait_for(browser, lambda: text_of(browser, 'form[aria-label="Review of major_crime"] ol.history'), "the history")
    assert "Version 1" in history and "Owner and dates are in the table." in history
    shot = tmp_path / "plan.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_web_browser_summary_file_filters_and_sorts_in_the_page(browser, served, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out = tmp_path / "national.html"
    assert main(["summary", str(served["scores"]), "-o", str(out)]) == 0
    browser.get(out.as_uri())

    def shown():
        return [r.find_element(By.CSS_SELECTOR, "th .force").text for r in browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")
                if r.is_displayed()]

    assert shown() == ["Ashvale", "Brenford", "Corrin", "Dunmere"]
    Select(browser.find_element(By.NAME, "area")).select_by_value("roads_policing")
    Select(browser.find_element(By.NAME, "state")).select_by_value("missing")
    assert shown() == ["Corrin"]
    assert not browser.find_element(By.CSS_SELECTOR, 'th[data-area="major_crime"]').is_displayed()
    Select(browser.find_element(By.NAME, "state")).select_by_value("")
    Select(browser.find_element(By.NAME, "area")).select_by_value("")
    browser.find_element(By.CSS_SELECTOR, 'a[data-sort="p"]').click()
    browser.find_element(By.CSS_SELECTOR, 'a[data-sort="p"]').click()
    assert shown() == ["Brenford", "Ashvale", "Corrin", "Dunmere"]  # highest p first, ties by force
