"""The report charts are drawn in the CJK face notifications/documents/fonts.py resolves
(the PDFs' face), never in whatever matplotlib would pick: a Chinese label must not
print as boxes in the .docx or the .pdf."""
from __future__ import annotations

import warnings
from io import BytesIO

import pytest
from matplotlib import font_manager

from notifications.documents.fonts import cjk_fonts
from notifications.documents.graphs import Series, cjk_font, png_for, rate_svg

SERIES = {"rate": Series("各单位整改率（%）", ("宁武县交通运输局", "静乐县交通运输局"), (("整改率", (88.9, 58.3)),)),
          "burn_down": Series("未办结问题数（按周）", ("3月17日", "3月24日"), (("未办结", (16, 14)),)),
          "weekly": Series("每周逾期与督办", ("3月17日", "3月24日"), (("新增逾期", (0, 2)),))}


def _missing_glyphs(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_charts_family_is_the_resolved_face_and_matplotlib_finds_its_file():
    fonts = cjk_fonts()
    assert cjk_font() == fonts.family and fonts.family.endswith(" SC")
    found = font_manager.findfont(font_manager.FontProperties(family=[fonts.family]), fallback_to_default=False)
    assert found == str(fonts.regular)


@pytest.mark.parametrize("kind", sorted(SERIES))
def test_chinese_labels_draw_without_a_missing_glyph(kind):
    png = []
    assert _missing_glyphs(lambda: png.append(png_for(kind, SERIES[kind]))) == []
    assert png[0].startswith(b"\x89PNG")


def test_the_check_would_see_boxes():
    """The same labels in matplotlib's own default face do warn: the test above can fail."""
    import matplotlib.pyplot
    from matplotlib.figure import Figure

    def draw():
        with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
            fig = Figure()
            fig.add_subplot().set_title("各单位整改率")
            fig.savefig(BytesIO(), format="png")

    assert _missing_glyphs(draw)


def test_the_svg_names_the_resolved_face_first():
    svg = rate_svg(SERIES["rate"])
    assert f"font-family:'{cjk_fonts().family}'," in svg.replace(": ", ":")
