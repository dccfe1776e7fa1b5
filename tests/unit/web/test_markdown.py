"""Postmortem Markdown as console HTML: tables and emphasis render, nothing raw gets through,
and nothing the console's Content-Security-Policy would refuse is produced."""

from __future__ import annotations

from incident_response.web.console.markdown import render_markdown


def test_headings_tables_and_lists_render() -> None:
    html = render_markdown(
        "# Postmortem: X\n\n## Timeline (UTC)\n\n| Time | Event |\n|---|---|\n"
        "| 09:00 | Opened \\| paged |\n\n- one\n- ~~two~~\n"
    )
    assert "<h1>Postmortem: X</h1>" in html
    assert '<div class="table-wrap" tabindex="0" role="region" aria-label="Timeline (UTC)">' in html
    assert "<th>Time</th>" in html
    assert "<td>Opened | paged</td>" in html
    assert "<li><s>two</s></li>" in html


def test_raw_html_is_escaped_and_script_links_are_refused() -> None:
    html = render_markdown(
        '<script>alert(1)</script>\n\nTitle <b onclick="x()">bold</b>\n\n'
        "[click](javascript:alert(1)) [ok](https://grafana.example.com/d/1)"
    )
    assert "<script" not in html
    assert "<b " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert '<a href="https://grafana.example.com/d/1">ok</a>' in html


def test_nothing_needs_inline_styles_or_outside_images() -> None:
    html = render_markdown(
        "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n![x](https://e.com/t.png)"
    )
    assert "style=" not in html
    assert '<th class="align-left">a</th>' in html
    assert '<td class="align-center">2</td>' in html
    assert '<td class="align-right">3</td>' in html
    assert "<img" not in html
