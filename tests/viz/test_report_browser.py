"""Open the HTML report in headless Chromium: the page renders, its tables exist, every figure loads.

The page sets ``<body data-images-loaded="true">`` from an inline script once every ``<img>`` has
decoded (``naturalWidth > 0``); ``--dump-dom`` after a virtual-time budget shows the result. A control
page with a corrupt PNG must read "false", so the check cannot pass vacuously.
Skips when Chromium is not installed (Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from deepcourse.viz import load_runs, render_html


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found (looked for chromium, chromium-browser, google-chrome on PATH); "
    "install it with `apt-get install -y chromium` to run the browser check of the HTML report",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm
        "--hide-scrollbars", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def _dump_dom(tmp_path: Path, page: Path) -> str:
    proc = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri())
    assert proc.returncode == 0, f"chromium --dump-dom failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout


def _body_attr(dom: str, name: str) -> str | None:
    body = re.search(r"<body([^>]*)>", dom)
    assert body, f"no <body> in the dumped DOM: {dom[:500]}"
    match = re.search(rf'{name}="([^"]*)"', body.group(1))
    return match.group(1) if match else None


def test_report_in_headless_chromium(fake_runs, tmp_path):
    page = render_html(load_runs(fake_runs), tmp_path / "report.html")

    dom = _dump_dom(tmp_path, page)
    assert _body_attr(dom, "data-images-loaded") == "true", "a figure failed to load in the browser"
    assert _body_attr(dom, "data-image-count") == "3"
    assert len(re.findall(r'<section class="module"', dom)) == 4
    assert len(re.findall(r'<table class="runs">', dom)) >= 4  # one per module (+ details tables)
    assert dom.count('<tr class="run ') == 5

    shot = tmp_path / "report.png"
    proc = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000",
                     "--virtual-time-budget=5000", page.resolve().as_uri())
    assert proc.returncode == 0, f"chromium --screenshot failed ({proc.returncode}): {proc.stderr[-2000:]}"
    assert shot.exists() and shot.stat().st_size > 0
    pixels = imread(shot)[..., :3]  # (H, W, 3) floats in [0, 1]
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels.std() > 0.05, "the screenshot is blank"
    # The green "passed" badge (#d4f4dd) is drawn: styles applied, not just black text on white.
    green = np.array([0xD4, 0xF4, 0xDD]) / 255.0
    assert (np.abs(pixels - green).max(axis=-1) < 0.03).sum() > 50


def test_broken_figure_is_detected(tmp_path, make_summary):
    run_dir = tmp_path / "run"
    (run_dir / "figures").mkdir(parents=True)
    (run_dir / "figures" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (run_dir / "summary.json").write_text(json.dumps(make_summary("toy-xor", "0.1", figures=["figures/broken.png"])))
    page = render_html([run_dir], tmp_path / "broken.html")
    dom = _dump_dom(tmp_path, page)
    assert _body_attr(dom, "data-image-count") == "1"
    assert _body_attr(dom, "data-images-loaded") == "false"
