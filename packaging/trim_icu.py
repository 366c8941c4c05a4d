"""Rebuild Qt's ICU data library with only the locales the app ships (Linux bundles).

PySide6's wheels carry ICU's full data, `libicudata.so.<N>` (32 MB, 12% of the bundle): locale
data for 800 locales, 5 MB of legacy code-page converters, transliteration rules. Qt needs little
of it at run time (case mapping, normalization, collation and boundaries for the UI's languages),
and ICU falls back to its root locale for anything missing. This script reads the ICU "common
data" blob from the library (the `icudt<N>_dat` symbol), keeps every item that is not locale data
plus the locales of the languages given (and root), drops the converter tables (`*.cnv`: UTF-8/16
and Latin-1 are built into ICU's code), and links a new library with the same soname and symbol.

    python packaging/trim_icu.py SOURCE_LIB OUT_LIB --languages en,zh

Needs `nm` and `gcc` (binutils and a C toolchain). The ICU common-data layout: a header
(`headerSize`, magic 0xda 0x27, UDataInfo with data format "CmnD"), then a table of contents:
uint32 count, count x (uint32 name offset, uint32 data offset), both relative to the table, names
sorted (ICU binary-searches them), each item 16-byte aligned.
"""

from __future__ import annotations

import argparse
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# A locale ID as ICU names its resource bundles: language, optional script, region, variants.
LOCALE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z][a-z]{3})?(_(?:[A-Z]{2}|\d{3}))?(_[A-Z0-9]+)*$")
ALIGN = 16


@dataclass
class Item:
    name: str  # e.g. "icudt73l/coll/zh.res"
    data: bytes


def read_symbol(library: Path) -> tuple[str, int, int]:
    """(name, file offset, size) of the icudt*_dat symbol. The data sits in .rodata, whose virtual
    address equals its file offset in these libraries (checked against the section table)."""
    out = subprocess.run(["nm", "-D", "-S", str(library)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and re.fullmatch(r"icudt\d+_dat", parts[3]):
            address, size = int(parts[0], 16), int(parts[1], 16)
            sections = subprocess.run(
                ["readelf", "-S", "-W", str(library)], check=True, capture_output=True, text=True
            ).stdout
            for row in sections.splitlines():
                fields = row.replace("[", " ").replace("]", " ").split()
                if ".rodata" in fields:
                    i = fields.index(".rodata")
                    vaddr, offset = int(fields[i + 2], 16), int(fields[i + 3], 16)
                    return parts[3], address - vaddr + offset, size
            raise SystemExit(f"{library}: no .rodata section")
    raise SystemExit(f"{library}: no icudt*_dat symbol; is this ICU's data library?")


def parse_common_data(blob: bytes) -> tuple[bytes, list[Item]]:
    """(header bytes, items) of an ICU common-data blob."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    if (magic1, magic2) != (0xDA, 0x27) or blob[12:16] != b"CmnD":
        raise SystemExit("not ICU common data (magic or data format differs)")
    if blob[8] != 0:  # UDataInfo.isBigEndian
        raise SystemExit("big-endian ICU data is not supported")
    toc = header_size
    (count,) = struct.unpack_from("<I", blob, toc)
    entries = [struct.unpack_from("<II", blob, toc + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_offset, data_offset) in enumerate(entries):
        end = entries[i + 1][1] if i + 1 < count else len(blob) - toc
        name = blob[toc + name_offset : blob.index(b"\0", toc + name_offset)].decode("ascii")
        items.append(Item(name, blob[toc + data_offset : toc + end]))
    return blob[:header_size], items


def build_common_data(header: bytes, items: list[Item]) -> bytes:
    names = b"".join(item.name.encode("ascii") + b"\0" for item in items)
    table_size = 4 + 8 * len(items)
    data_start = -(-(table_size + len(names)) // ALIGN) * ALIGN
    name_offsets, data_offsets, body = [], [], bytearray()
    name_cursor = table_size
    for item in items:
        name_offsets.append(name_cursor)
        name_cursor += len(item.name) + 1
        data_offsets.append(data_start + len(body))
        body += item.data
        body += b"\0" * (-len(body) % ALIGN)
    table = struct.pack("<I", len(items))
    table += b"".join(struct.pack("<II", n, d) for n, d in zip(name_offsets, data_offsets, strict=True))
    padding = b"\0" * (data_start - table_size - len(names))
    return header + table + names + padding + bytes(body)


def keep_item(name: str, languages: set[str]) -> bool:
    """Keep non-locale items and the locales of `languages` (and root); drop converters."""
    path = name.split("/", 1)[1] if "/" in name else name
    leaf = path.rsplit("/", 1)[-1]
    stem, _, suffix = leaf.rpartition(".")
    if suffix == "cnv":
        return False
    if suffix != "res" or not LOCALE_RE.match(stem):
        return True  # rules, dictionaries, properties, pools, supplemental data, indexes
    return stem.split("_", 1)[0] in languages


def link_library(symbol: str, data: bytes, soname: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        blob = Path(tmp) / "icudata.bin"
        blob.write_bytes(data)
        source = Path(tmp) / "icudata.s"
        source.write_text(
            "\t.section .rodata\n"
            f"\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n"
            f'{symbol}:\n\t.incbin "{blob}"\n\t.size {symbol}, .-{symbol}\n'
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        subprocess.run(
            ["gcc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-Wl,-z,noexecstack", "-o", str(out),
             str(source)],
            check=True,
        )  # fmt: skip


def trim(source: Path, out: Path, languages: set[str]) -> dict[str, int]:
    symbol, offset, size = read_symbol(source)
    blob = source.read_bytes()[offset : offset + size]
    header, items = parse_common_data(blob)
    kept = [item for item in items if keep_item(item.name, languages | {"root"})]
    data = build_common_data(header, kept)
    # Round trip: the new blob must parse back to exactly the kept items.
    if [(i.name, i.data) for i in parse_common_data(data)[1]] != [
        (i.name, i.data + b"\0" * (-len(i.data) % ALIGN)) for i in kept
    ]:
        raise SystemExit("internal error: the rebuilt ICU data does not parse back")
    out.parent.mkdir(parents=True, exist_ok=True)
    link_library(symbol, data, source.name, out)
    return {"items": len(items), "kept": len(kept), "bytes_before": source.stat().st_size,
            "bytes_after": out.stat().st_size}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="libicudata.so.N to read")
    parser.add_argument("out", type=Path, help="trimmed library to write")
    parser.add_argument("--languages", default="en", help="comma-separated ICU language codes to keep")
    args = parser.parse_args()
    stats = trim(args.source, args.out, {x.strip() for x in args.languages.split(",") if x.strip()})
    print(
        f"trim_icu: kept {stats['kept']} of {stats['items']} ICU data items, "
        f"{stats['bytes_before'] / 1e6:.1f} MB -> {stats['bytes_after'] / 1e6:.1f} MB ({args.out})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
