"""Reading PDFs back as a person would: their text (pdftotext) and their first page (pdftoppm)."""

from __future__ import annotations

import subprocess


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def render(data: bytes, tmp_path, dpi: int = 150):
    from PIL import Image
    path = tmp_path / "page.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    with Image.open(next(tmp_path.glob("page-*.png"))) as image:
        image.load()
        return image.copy()
