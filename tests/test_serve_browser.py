"""`imr-ml serve` in a real browser: the system Chromium (through the system chromedriver,
never a downloaded one) fills the form, submits it and reads the result as a user sees it.
Skips when Chromium or chromedriver is not installed (.ci/run installs them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import servers

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).parent.parent / "docs" / "serve.png"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} is absent (apt-get install chromium chromium-driver)",
                allow_module_level=True)
os.environ["SE_OFFLINE"] = "1"  # Selenium Manager must never fetch a driver
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from imr_ml.scoring.examples import EXAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def server():
    try:
        proc, url = servers.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    servers.stop(proc)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as exc:  # a broken install: say so rather than fail every test
        pytest.skip(f"Chromium does not start: {str(exc).splitlines()[0]}")
    yield driver
    driver.quit()


def _fill(driver, fields: dict) -> None:
    for name, value in fields.items():
        box = driver.find_element(By.ID, name)
        box.clear()
        box.send_keys(value)


def _after_submit(driver, element_id: str):
    """The result page's element, once the page submitted has loaded (a loaded machine is slow)."""
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, element_id)))


def test_fill_submit_and_read_the_result(server, browser, tmp_path):
    ex = EXAMPLES[0]
    browser.get(server + "/")
    _fill(browser, {k: ex[k] for k in ("item", "summary", "claims_admin_guideline", "date_of_injury")})
    browser.find_element(By.ID, "ur_decision").send_keys("denied")
    _fill(browser, {"ur_reason": "no documented functional improvement"})
    browser.find_element(By.ID, "score").click()
    p = _after_submit(browser, "p-overturned").text
    assert p.endswith("%") and 0 <= float(p[:-1]) < 5
    assert "likely upheld" in browser.find_element(By.ID, "verdict").text
    assert browser.find_element(By.ID, "flag").text.startswith("Not flagged")
    reasons = browser.find_element(By.ID, "reasons").text
    assert "Starting point" in reasons and "functional improvement" in reasons and "The model's estimate" in reasons
    hints = browser.find_elements(By.CSS_SELECTOR, "#hints li")
    assert hints and "acupuncture" in hints[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "#highlighted mark")
    assert browser.find_element(By.ID, "item").get_attribute("value") == ex["item"]  # kept for re-editing
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(tmp_path / "result.png"))
    if os.environ.get("IMR_ML_UPDATE_SCREENSHOT"):
        browser.set_window_size(1280, browser.execute_script("return document.body.scrollHeight") + 40)
        browser.save_screenshot(str(SCREENSHOT))
        browser.set_window_size(1280, 1400)


def test_script_in_the_summary_stays_text(server, browser, tmp_path):
    evil = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
    browser.get(server + "/?example=1")
    box = browser.find_element(By.ID, "summary")
    box.send_keys(" " + evil)
    browser.find_element(By.ID, "score").click()
    _after_submit(browser, "highlighted")
    assert browser.title != "pwned"
    assert evil in browser.find_element(By.ID, "highlighted").text  # shown as the text it is
    assert not browser.find_elements(By.CSS_SELECTOR, "#highlighted img, #highlighted script")
    browser.save_screenshot(str(tmp_path / "xss.png"))
