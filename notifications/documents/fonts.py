"""The CJK fonts a PDF notice is set in, found on this machine or refused in one line.

The PDF embeds its fonts (fpdf2 subsets them), so what prints is what the
font holds: without a CJK font every character would be a box. The project
takes Debian's fonts-noto-cjk (the Noto Serif CJK collections: a serif close
to 仿宋 for the body and its bold for 小标宋-style titles), which `.ci/run` and a
deploy's setup install with apt; README says so. A machine without them gets
`Misconfigured` naming the package, never a PDF of boxes. The report charts'
PNGs (graphs.py) are drawn in the same face, named by `family`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from statemachine.errors import Misconfigured

__all__ = ["CjkFonts", "cjk_fonts", "FONT_DIRS"]

# where Debian/Ubuntu (fonts-noto-cjk), Fedora (google-noto-serif-cjk-fonts), Homebrew and a
# user's own font folder put them
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/google-noto-serif-cjk-fonts",
             "/usr/share/fonts/noto-cjk", "/usr/share/fonts/opentype", "/usr/share/fonts",
             "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts", "/Library/Fonts")
_NAMES = {"regular": ("NotoSerifCJK-Regular.ttc", "NotoSerifCJKsc-Regular.otf", "NotoSerifSC-Regular.otf"),
          "bold": ("NotoSerifCJK-Bold.ttc", "NotoSerifCJKsc-Bold.otf", "NotoSerifSC-Bold.otf")}


@dataclass(frozen=True)
class CjkFonts:
    regular: Path
    bold: Path
    regular_index: int  # the Simplified Chinese face inside a collection (.ttc)
    bold_index: int
    family: str = "Noto Serif CJK SC"  # that face's family name, as matplotlib and CSS ask for it


def _find(names: tuple[str, ...], dirs: tuple[str, ...]) -> Path | None:
    for d in dirs:
        base = Path(d).expanduser()
        if not base.is_dir():
            continue
        for name in names:
            direct = base / name
            if direct.is_file():
                return direct
        for name in names:
            found = next(iter(sorted(base.rglob(name))), None)
            if found is not None:
                return found
    return None


def _sc_face(path: Path) -> tuple[int, str]:
    """The Simplified Chinese face of a font file: its index and family name."""
    if path.suffix.lower() != ".ttc":
        from fontTools.ttLib import TTFont

        return 0, TTFont(str(path), lazy=True)["name"].getDebugName(1) or path.stem
    from fontTools.ttLib import TTCollection

    faces = TTCollection(str(path), lazy=True).fonts
    names = [f["name"].getDebugName(1) or "" for f in faces]
    index = next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)
    return index, names[index] or path.stem


@lru_cache(maxsize=4)
def cjk_fonts(dirs: tuple[str, ...] = FONT_DIRS) -> CjkFonts:
    regular, bold = _find(_NAMES["regular"], dirs), _find(_NAMES["bold"], dirs)
    if regular is None or bold is None:
        raise Misconfigured("PDF notices need the Noto Serif CJK fonts, which are not installed "
                            "(apt-get install fonts-noto-cjk)")
    (regular_index, family), (bold_index, _) = _sc_face(regular), _sc_face(bold)
    return CjkFonts(regular, bold, regular_index, bold_index, family)
