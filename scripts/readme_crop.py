#!/usr/bin/python3
"""The README's picture: a crop of the demo photo as given, nearest-neighbour x2, and tessera x2.
Usage: scripts/readme_crop.py PHOTO UPSCALED OUT.png  (after make demo: coffee.png, out/demo/coffee_x2.png)"""
import sys

from PIL import Image, ImageDraw

photo, upscaled, out = sys.argv[1:4]
box = (250, 130, 410, 250)  # the cup's rim, foam and reflections in coffee.png
small = Image.open(photo).convert("RGB").crop(box)
w, h = small.size
nearest = small.resize((2 * w, 2 * h), Image.NEAREST)
ours = Image.open(upscaled).convert("RGB").crop(tuple(2 * v for v in box))
label_h = 22
canvas = Image.new("RGB", (w + 4 * w + 16, 2 * h + label_h), "white")
canvas.paste(small, (0, label_h + h // 2))
canvas.paste(nearest, (w + 8, label_h))
canvas.paste(ours, (3 * w + 16, label_h))
draw = ImageDraw.Draw(canvas)
for x, text in [(0, "input"), (w + 8, "nearest-neighbour x2"), (3 * w + 16, "tessera x2 (ESRGAN-slim)")]:
    draw.text((x + 2, 4), text, fill="black")
canvas.save(out, optimize=True)
