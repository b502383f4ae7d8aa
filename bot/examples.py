"""Pictures for the face test: simple drawings made here by code (never a real patient, nothing
to license), a few KB each, drawn once per process.

"hold": how to hold the phone (at eye level, an arm's length away, light in front of the face);
"rest", "smile", "brows": the face to make. They must read without words at a chat's thumbnail
size (about 160 px): raised brows come with arrows, forehead lines and wide-open eyes, so they
cannot be mistaken for the resting face.
"""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageDraw

SIZE = 240
SKIN, INK, MOUTH, TEETH, BACK = "#e8b894", "#3b2a20", "#9c3030", "#ffffff", "#dfeef5"
HAIR, ARROW, PHONE, LIGHT = "#4a3426", "#1e6fd9", "#2b2b2b", "#ffd34d"
MAX_BYTES = 30_000  # slow networks: the picture must not delay the step
PICTURES = ("hold", "rest", "smile", "brows")


@cache
def example_png(picture: str) -> bytes:
    """One of PICTURES as PNG bytes."""
    image = Image.new("RGB", (SIZE, SIZE), BACK)
    draw = ImageDraw.Draw(image)
    if picture == "hold":
        _hold(draw)
    elif picture in PICTURES:
        _face(draw, picture)
    else:
        raise ValueError(f"no picture {picture!r}")
    out = io.BytesIO()
    image.quantize(colors=16).save(out, "PNG", optimize=True)
    data = out.getvalue()
    assert len(data) < MAX_BYTES, len(data)
    return data


def _face(draw: ImageDraw.ImageDraw, step: str) -> None:
    raised = step == "brows"
    draw.ellipse((40, 20, 200, 224), fill=SKIN, outline=INK, width=3)
    draw.chord((44, 14, 196, 90), 180, 360, fill=HAIR)  # hair: the forehead is below it
    if raised:
        for y in (70, 82, 94):  # forehead lines, bold enough to survive a thumbnail
            draw.arc((78, y, 162, y + 14), 200, 340, fill=INK, width=4)
    brow_y = 92 if raised else 112
    for x in (66, 132):
        draw.arc((x, brow_y, x + 42, brow_y + 22), 195, 345, fill=INK, width=6)
        eye_y = 126
        if raised:  # wide open: white above and below the iris
            draw.ellipse((x + 6, eye_y - 10, x + 36, eye_y + 14), fill=TEETH, outline=INK, width=2)
            draw.ellipse((x + 14, eye_y - 5, x + 28, eye_y + 9), fill=INK)
        elif step == "smile":  # smiling eyes narrow
            draw.arc((x + 6, eye_y - 4, x + 36, eye_y + 12), 200, 340, fill=INK, width=4)
        else:
            draw.ellipse((x + 8, eye_y - 5, x + 34, eye_y + 9), fill=TEETH, outline=INK, width=2)
            draw.ellipse((x + 15, eye_y - 4, x + 27, eye_y + 8), fill=INK)
    if raised:  # arrows up beside the face: "lift"
        for x in (22, 218):
            draw.line((x, 130, x, 72), fill=ARROW, width=6)
            draw.polygon([(x - 12, 78), (x + 12, 78), (x, 56)], fill=ARROW)
    draw.line((120, 134, 112, 166, 126, 166), fill=INK, width=3)
    if step == "smile":
        # Both mouth corners pulled up and out, teeth showing.
        draw.chord((74, 162, 166, 214), 0, 180, fill=MOUTH, outline=INK, width=3)
        draw.rectangle((86, 189, 154, 199), fill=TEETH)
    else:
        draw.line((94, 190, 146, 190), fill=INK, width=4)


def _hold(draw: ImageDraw.ImageDraw) -> None:
    """A person seen from the side, the phone held out at eye level, a lamp behind the phone."""
    draw.ellipse((182, 20, 226, 64), fill=LIGHT, outline=INK, width=2)  # the light, in front
    for dx, dy in ((-18, 0), (-14, 16), (-14, -16)):
        draw.line((186 + dx, 42 + dy, 176 + dx, 42 + dy * 1.4), fill=LIGHT, width=4)
    draw.rectangle((24, 176, 96, 240), fill=ARROW)  # shoulders
    draw.rectangle((50, 148, 70, 180), fill=SKIN)  # neck
    draw.ellipse((20, 60, 100, 160), fill=SKIN, outline=INK, width=3)  # head
    draw.chord((20, 56, 100, 120), 180, 360, fill=HAIR)
    draw.polygon([(98, 104), (112, 120), (98, 124)], fill=SKIN, outline=INK)  # nose
    draw.ellipse((80, 96, 90, 106), fill=INK)  # eye
    draw.line((86, 101, 150, 101), fill=INK, width=2)  # eye level: the line to the phone
    draw.line((80, 196, 128, 150, 150, 120), fill=SKIN, width=14, joint="curve")  # arm
    draw.rounded_rectangle((146, 76, 170, 128), radius=5, fill=PHONE, outline=INK, width=2)
    draw.rectangle((149, 82, 167, 120), fill="#9fd3ff")  # its screen faces the person
    draw.ellipse((138, 110, 158, 132), fill=SKIN, outline=INK, width=2)  # the hand
