"""PDF documents for printing (fpdf2) with the shipped CJK font subset, and QR codes as vectors.

Every PDF the office prints starts from :func:`new_document`, so the Chinese font is embedded
(subset) and nothing depends on the fonts of the PC that prints it. QR codes are drawn as
vector rectangles from ``segno.make_qr`` (never ``segno.make``, which may choose Micro QR that
zbar cannot read), so they stay sharp at any printer resolution.
"""

from __future__ import annotations

import segno
from fpdf import FPDF
from fpdf.fonts import FontFace

import assets

FONTS = assets.path("fonts")
FONT = "noto"


class Document(FPDF):
    """An A4 document with a running footer (title and page number)."""

    footer_text = ""

    def footer(self):
        if not self.footer_text:
            return
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(110)
        self.cell(0, 6, f"{self.footer_text}  第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0)


def new_document(title: str, *, footer: str = "", orientation: str = "P") -> Document:
    pdf = Document(orientation=orientation, unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONTS / "NotoSansSC-Subset.otf"))
    pdf.add_font(FONT, "B", str(FONTS / "NotoSansSC-Subset-Bold.otf"))
    for face in pdf.fonts.values():
        # Recomputing every CFF glyph's bounds when the subset is saved took half of a posting's
        # build time; the font's own (larger) bounding box is still valid for the subset.
        face.ttfont.recalcBBoxes = False
    pdf.set_title(title)
    pdf.set_creator("龙海社区道德积分银行")
    pdf.footer_text = footer
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    return pdf


def draw_qr(pdf: FPDF, text: str, x: float, y: float, size: float, *, error: str = "m") -> None:
    """Draw ``text`` as a QR code (with its 4-module quiet zone) in a ``size`` mm square."""
    qr = segno.make_qr(text, error=error)
    rows = list(qr.matrix_iter(scale=1, border=4))
    module = size / len(rows)
    pdf.set_fill_color(255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # one rectangle per dark run; a hair of overlap hides seams between rows
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module + 0.01, style="F")
            else:
                c += 1


def para(pdf: FPDF, height: float, text: str, align: str = "L") -> None:
    """A wrapped paragraph across the full width; the next one starts at the left margin."""
    pdf.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")


def table(pdf: FPDF, headers: list[str], widths: list[float], rows: list[list], *,
          aligns: str | None = None, size: float = 9, line: float = 6.0) -> None:
    """A ruled table from the left margin (fpdf2's own: the headings repeat on every page, a long
    cell wraps within its column instead of running into the next)."""
    aligns = aligns or "L" * len(headers)
    pdf.set_font(FONT, "", size)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=line,
                   text_align=tuple(_ALIGN[a] for a in aligns), padding=(0, 1),
                   headings_style=FontFace(emphasis="BOLD", fill_color=235)) as grid:
        for values in [headers, *rows]:
            cells = grid.row()
            for value in values:
                cells.cell(str(value))


_ALIGN = {"L": "LEFT", "R": "RIGHT", "C": "CENTER"}
