"""What a run holds at its memory peak: a memray capture summarised by allocating call path.

Usage::

    python -m memray run -o RUN.bin -m policytopics run CONFIG --set ...   # capture (single process:
        # set clean.workers=1 tokenize.workers=1 selection.workers=1 so that every stage is seen)
    python benchmarks/memory_peak.py RUN.bin [--top 25] [--out FILE]

Prints the heap's high-water mark and the bytes still allocated at that moment, grouped by
the innermost ``policytopics`` frame (with the frame that allocated) and by the last three
``policytopics`` frames of the call path. Needs memray (``pip install memray``; not a
dependency). Heap bytes are what Python and the libraries allocated, so they are less than the
process's RSS (which adds the interpreter, shared libraries and the allocator's slack).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path


def _where(frame: tuple) -> str:
    function, path, line = frame[0], frame[1], frame[2]
    return f"{function} {path.split('/src/')[-1] if '/src/' in path else Path(path).name}:{line}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path, help="a memray capture file (memray run -o FILE)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None, help="also write the summary here")
    args = parser.parse_args(argv)
    try:
        from memray import FileReader
    except ImportError:
        raise SystemExit("memory_peak needs memray: pip install memray") from None
    reader = FileReader(str(args.capture))
    by_site: dict[str, int] = defaultdict(int)
    by_path: dict[str, int] = defaultdict(int)
    total = 0
    for record in reader.get_high_watermark_allocation_records(merge_threads=True):
        stack = record.stack_trace(max_stacks=60)
        ours = [_where(frame) for frame in stack if "/policytopics/" in frame[1]]
        allocator = _where(stack[0]) if stack else "?"
        by_site[(ours[0] if ours else "-") + "  <=  " + allocator] += record.size
        by_path[" > ".join(reversed(ours[:3])) if ours else allocator] += record.size
        total += record.size
    lines = [
        f"memray capture {args.capture.name}: heap peak {reader.metadata.peak_memory / 1e6:,.1f} MB "
        f"({total / 1e6:,.1f} MB in the records at the peak); command: {' '.join(reader.metadata.command_line.split()[:3])} ...",
    ]
    for title, table in (("by innermost policytopics frame  <=  the allocating frame", by_site),
                         ("by policytopics call path (last three frames)", by_path)):
        lines += ["", title]
        for key, size in sorted(table.items(), key=lambda item: -item[1])[: args.top]:
            lines.append(f"{size / 1e6:9.1f} MB  {key}")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
