#!/usr/bin/env python3
"""check_png.py: advc's PNG writer checked by an independent decoder.

Encodes test pictures with advc_png_write (bench/png/png_encode.c, built
here against build/libadvc.a) and decodes every file with Python's zlib
(a bench tool, never a dependency of advc): chunk CRCs, the zlib stream
and its Adler-32, the five PNG row filters; the pixels must come back
exactly.  PNG files named on the command line (e.g. make run's
build/run/attack/grid.png) are decoded and their sizes reported too.

    python3 bench/png/check_png.py [--lib build/libadvc.a] [--raw OUT]
                                   [FILE.png ...]
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib


def decode(data):
    """(width, height, channels, pixel bytes, zlib stream bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "bad signature"
    pos, idat, ihdr, ended = 8, b"", None, False
    while pos < len(data):
        assert not ended, "bytes after IEND"
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, "CRC of %r" % kind
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            ended = True
        pos += 12 + n
    assert ihdr and ended, "IHDR or IEND missing"
    w, h, depth, ctype, comp, filt, inter = ihdr
    assert depth == 8 and ctype in (0, 2) and comp == filt == inter == 0
    ch = 1 if ctype == 0 else 3
    d = zlib.decompressobj()
    raw = d.decompress(idat)  # checks the Adler-32 at the end
    assert d.eof and not d.unused_data, "zlib stream not complete"
    row = w * ch
    assert len(raw) == h * (row + 1), "wrong amount of image data"
    px, prev = bytearray(), bytearray(row)
    for y in range(h):
        ftype = raw[y * (row + 1)]
        line = bytearray(raw[y * (row + 1) + 1:(y + 1) * (row + 1)])
        for i in range(row):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if ftype == 0:
                p = 0
            elif ftype == 1:
                p = a
            elif ftype == 2:
                p = b
            elif ftype == 3:
                p = (a + b) // 2
            elif ftype == 4:
                e = a + b - c
                pa, pb, pc = abs(e - a), abs(e - b), abs(e - c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                raise AssertionError("filter type %d" % ftype)
            line[i] = (line[i] + p) & 255
        px += line
        prev = line
    return w, h, ch, bytes(px), idat


def pictures():
    """(name, w, h, channels, pixels): noise, a blown-up grid, tiny."""
    rnd = random.Random(1)
    yield "noise-rgb", 97, 61, 3, bytes(rnd.getrandbits(8)
                                        for _ in range(97 * 61 * 3))
    yield "one-pixel", 1, 1, 1, b"\x80"
    w, h, s = 336, 448, 4  # 28x28 cells blown up 4x, like advc attack
    px = bytearray()
    for y in range(h):
        for x in range(w):
            cx, cy = x // s, y // s
            v = (cx * 37 + cy * 11) % 251 if (cx // 28) % 2 else \
                (0 if (cx ^ cy) & 4 else 255)
            px += bytes((v, (v * 3) & 255, 255 - v))
    yield "grid-rgb", w, h, 3, bytes(px)
    yield "two-level-gray", 640, 480, 1, bytes(rnd.choice((96, 160))
                                               for _ in range(640 * 480))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", default="build/libadvc.a")
    ap.add_argument("--raw", help="write the first FILE's decompressed "
                    "scanlines (filter bytes included) here")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        enc = os.path.join(tmp, "png_encode")
        subprocess.run(["cc", "-O2", "-I" + os.path.join(root, "include"),
                        os.path.join(here, "png_encode.c"), args.lib, "-lm",
                        "-pthread", "-o", enc], check=True)
        for name, w, h, ch, px in pictures():
            pnm = os.path.join(tmp, name + ".pnm")
            png = os.path.join(tmp, name + ".png")
            with open(pnm, "wb") as f:
                f.write(b"P%d %d %d 255\n" % (5 if ch == 1 else 6, w, h) + px)
            subprocess.run([enc, pnm, png], check=True)
            data = open(png, "rb").read()
            got = decode(data)
            ok = got[:4] == (w, h, ch, px)
            fails += not ok
            print("png=%s w=%d h=%d raw=%d file=%d status=%s"
                  % (name, w, h, h * (w * ch + 1), len(data),
                     "PASS" if ok else "FAIL"))
    for path in args.files:
        data = open(path, "rb").read()
        w, h, ch, px, idat = decode(data)
        if args.raw:
            with open(args.raw, "wb") as f:
                f.write(zlib.decompress(idat))
            args.raw = None
        print("png=%s w=%d h=%d raw=%d file=%d zlib9=%d status=PASS"
              % (path, w, h, h * (w * ch + 1), len(data),
                 len(zlib.compress(zlib.decompress(idat), 9))))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
