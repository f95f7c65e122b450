"""The HTML report: parsed with html.parser, and rendered in headless Chromium (skipped without it)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from listenkit import wording
from listenkit.cli import main
from listenkit.errors import OutputError
from listenkit.report import render_report_html, write_report
from test_chart import empty_session, four_speaker_session, hour_session, two_speaker_session

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Page(HTMLParser):
    """Collects tags, attributes, text, and the text of chosen elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.by_tag: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag not in ("meta", "br", "img", "input", "link", "path", "use", "rect", "circle"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())
            for tag in set(self.stack):
                self.by_tag.setdefault(tag, []).append(data.strip())


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def test_report_is_complete_self_contained_and_responsive():
    text = render_report_html(two_speaker_session())
    page = _parse(text)
    assert text.startswith("<!DOCTYPE html>")
    assert page.tags.count("svg") == 1 and page.tags.count("style") >= 1
    assert "script" not in page.tags and "iframe" not in page.tags and "link" not in page.tags
    metas = {(k, v) for tag, k, v in page.attrs if tag == "meta"}
    assert ("name", "viewport") in metas
    csp = [v for tag, k, v in page.attrs if tag == "meta" and k == "content" and "default-src" in (v or "")]
    assert csp and "default-src 'none'" in csp[0]
    # nothing is fetched: no attribute points outside the file
    for tag, key, value in page.attrs:
        if key in ("src", "href", "xlink:href", "action"):
            assert value is None or value.startswith("#") or value.startswith("data:"), (tag, key, value)
    namespaces = {v for _, k, v in page.attrs if k.startswith("xmlns")}  # names, never fetched
    for ns in namespaces:
        text = text.replace(f'"{ns}"', '""')
    assert "http://" not in text and "https://" not in text
    assert "url(" not in text.replace("url(#", "")
    svg = [a for a in page.attrs if a[0] == "svg"]
    assert ("svg", "viewbox", svg[[k for _, k, _ in svg].index("viewbox")][2]) in svg
    assert not any(k in ("width", "height") for _, k, _ in svg)  # scales with the page


def test_report_shows_numbers_speakers_and_feedback():
    page = _parse(render_report_html(two_speaker_session()))
    dts, dds = page.by_tag["dt"], page.by_tag["dd"]
    numbers = dict(zip(dts, dds))
    assert numbers["Length"] == "0:20"
    assert numbers["Interruptions"] == "1  (you made 0)"
    assert numbers["Silences"] == "1  (4 s in all)"
    assert numbers["Talking at once"] == "0:02"
    rows = page.by_tag["tr"]
    assert "You" in rows and "S2" in rows and "77%" in rows and "23%" in rows
    assert page.by_tag["li"] == ["You gave S2 room to talk.", "Try <pausing> & waiting"]
    assert page.by_tag["h1"] == [wording.CHART_TITLE]


def test_all_text_is_escaped():
    session = two_speaker_session()
    session.source = '/tmp/<script>alert("x")&.wav'
    session.feedback = ["<b onmouseover=alert(1)>hi</b> & 'quotes'"]
    session.speakers[1].label = "<img src=x>"
    text = render_report_html(session)
    page = _parse(text)
    assert "script" not in page.tags and "img" not in page.tags and "b" not in page.tags
    assert "<script>" not in text and "<img" not in text
    assert page.by_tag["li"] == ["<b onmouseover=alert(1)>hi</b> & 'quotes'"]
    assert any('<script>alert("x")&.wav' in t for t in page.by_tag["title"])
    assert any('<script>alert("x")&.wav' in t for t in page.by_tag["p"])


def test_empty_session_report_says_no_conversation():
    page = _parse(render_report_html(empty_session()))
    assert wording.CHART_EMPTY_TITLE in page.by_tag["h2"]
    assert "table" not in page.tags
    assert wording.REPORT_NO_FEEDBACK in page.text


def test_four_speakers_table_has_a_row_each():
    page = _parse(render_report_html(four_speaker_session()))
    assert page.tags.count("tr") == 1 + 4
    assert page.by_tag["th"][len(wording.REPORT_SPEAKER_COLUMNS)] == "You"  # you first


def test_write_report_private_and_atomic(tmp_path):
    out = write_report(two_speaker_session(), tmp_path / "r.html")
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    with pytest.raises(OutputError):
        write_report(two_speaker_session(), tmp_path / "missing" / "r.html")
    with pytest.raises(OutputError):
        write_report(two_speaker_session(), tmp_path)


def test_cli_report_from_file_and_history(tmp_path, capsys):
    from listenkit.history import save_session

    src = tmp_path / "s.json"
    two_speaker_session().write_json(src)
    assert main(["report", str(src), "-o", str(tmp_path / "a.html")]) == 0
    sid = save_session(four_speaker_session())
    assert main(["report", str(sid), "-o", str(tmp_path / "b.html")]) == 0
    assert "four.wav" in (tmp_path / "b.html").read_text(encoding="utf-8")
    assert main(["report", "12345", "-o", str(tmp_path / "c.html")]) == 2
    assert "no saved session with id 12345" in capsys.readouterr().err
    assert not (tmp_path / "c.html").exists()


# ---------------------------------------------------------------------------------------------------
# Rendering in a real browser
# ---------------------------------------------------------------------------------------------------


def _screenshot(html_path: Path, shot: Path, size: str, profile: Path) -> np.ndarray:
    from PIL import Image

    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--screenshot={shot}", f"--window-size={size}", html_path.as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)


def _near(pixels: np.ndarray, hex_colour: str, tol: int = 24) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=-1) <= tol).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("size", ["1280,1000", "412,900"])
def test_report_renders_in_chromium(tmp_path, size):
    html_path = write_report(hour_session(), tmp_path / "report.html")
    pixels = _screenshot(html_path, tmp_path / "shot.png", size, tmp_path / "profile")
    width = int(size.split(",")[0])
    assert pixels.shape[1] == width
    # not blank: many colours, plenty of dark text, and the speakers' colours from the chart
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100
    assert (pixels.max(axis=-1) < 90).sum() > 2000
    assert _near(pixels, "#0072B2") > 500  # "you" (S2 here) in blue
    assert _near(pixels, "#E69F00") > 500  # the next speaker in orange
    # the chart is not wider than the screen on a laptop: no colour in the right margin
    if width >= 1000:
        margin = pixels[:, -40:]
        assert _near(margin, "#0072B2") == 0
