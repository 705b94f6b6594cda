"""Issue 10: the HTML report in headless Chromium at 1,400 and 800 px wide.

The page never scrolls sideways (wide tables scroll inside their own box), and every chart's
text stays inside its SVG (margins hold the labels), measured by the browser's layout. Skipped
where no Chromium is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connector.report.html import render_html

FIXTURE = Path(__file__).parent / "data" / "report_example.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Appended to a copy of the page (the report itself has no script): measures the layout.
PROBE = """<script>
document.addEventListener("DOMContentLoaded", () => {
  const outside = [];
  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll("text")) {
      const r = text.getBoundingClientRect();
      if (!text.textContent) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
          r.bottom > box.bottom + 1) {
        outside.push(svg.querySelector("title").textContent + ": " + text.textContent);
      }
    }
  }
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    outside: outside,
  });
  document.body.appendChild(probe);
});
</script>"""


def _measure(page: str, width: int, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / f"report-{width}.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--window-size={width},1000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found is not None, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
    return result


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
@pytest.mark.parametrize("width", [1400, 800])
def test_report_fits_the_window_and_charts_hold_their_labels(width: int, tmp_path: Path) -> None:
    with FIXTURE.open(encoding="utf-8") as f:
        report: dict[str, Any] = json.load(f)
    long = "batch-2026-11-23-vendor-acme-rerun-after-guideline-fix"
    by_batch = report["dimensions"]["overall"]["by_batch"]
    by_batch.append({**by_batch[0], "key": long})
    layout = _measure(render_html(report), width, tmp_path)
    assert layout["scroll"] <= layout["client"], layout
    assert layout["outside"] == []
