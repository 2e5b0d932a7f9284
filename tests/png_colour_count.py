#!/usr/bin/env python3
"""Prints how many pixels of a PNG screenshot have a colour (RRGGBB, within 8 per channel).

Reads the 8-bit RGB or RGBA, non-interlaced PNGs that Chromium writes, with the standard
library only (zlib), so the HTML report test needs no imaging package.
Usage: png_colour_count.py SHOT.png RRGGBB
"""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    at, idat, width = 8, b"", 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                sys.exit(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are read")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):  # undo the row's filter (PNG spec, section 9)
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 255
        yield from (line[i:i + 3] for i in range(0, stride, channels))
        previous = line


def main():
    path, hex_colour = sys.argv[1], sys.argv[2]
    want = bytes.fromhex(hex_colour)
    near = sum(1 for p in pixels(path) if all(abs(p[c] - want[c]) <= 8 for c in range(3)))
    print(near)


if __name__ == "__main__":
    main()
