"""Example pictures for the face test's steps: simple drawings made here by code (never a real
patient, nothing to license), a few KB each, drawn once per process."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageDraw

SIZE = 240
SKIN, INK, MOUTH, TEETH, BACK = "#e8b894", "#3b2a20", "#9c3030", "#ffffff", "#dfeef5"
MAX_BYTES = 30_000  # slow networks: the picture must not delay the step


@cache
def example_png(step: str) -> bytes:
    """A face making the expression of `step` ("rest", "smile" or "brows"), as PNG bytes."""
    image = Image.new("RGB", (SIZE, SIZE), BACK)
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 20, 200, 220), fill=SKIN, outline=INK, width=3)
    brow_y = 62 if step == "brows" else 78  # raised brows sit higher, with forehead lines
    for x in (70, 130):
        draw.arc((x, brow_y, x + 40, brow_y + 24), 200, 340, fill=INK, width=5)
        draw.ellipse((x + 12, 96, x + 28, 112), fill=INK)
    if step == "brows":
        for y in (38, 48):
            draw.arc((85, y, 155, y + 16), 200, 340, fill=INK, width=2)
    draw.line((120, 110, 114, 146, 124, 146), fill=INK, width=3)
    if step == "smile":
        # Both mouth corners pulled up and out, teeth showing.
        draw.chord((78, 140, 162, 196), 0, 180, fill=MOUTH, outline=INK, width=3)
        draw.rectangle((88, 168, 152, 178), fill=TEETH)
    else:
        draw.line((92, 172, 148, 172), fill=INK, width=4)
    out = io.BytesIO()
    image.quantize(colors=16).save(out, "PNG", optimize=True)
    data = out.getvalue()
    assert len(data) < MAX_BYTES, len(data)
    return data
