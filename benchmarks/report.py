"""Where a benchmark's results go: a marked section of docs/benchmarks.md, replaced in place
on every run, and a JSON file under benchmarks/results/ — both written with minigrad's
atomic writer, so an interrupted run leaves the old file, never half a new one."""
from pathlib import Path

from minigrad.checkpoint import write_atomically


def write_section(path, begin, end, section, heading=None):
    """Put ``section`` between the marker lines ``begin`` and ``end`` of the Markdown file
    ``path``, replacing what stood there; where the markers are missing, append the block
    at the end (under ``## heading`` when one is given)."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + (f"\n\n## {heading}" if heading else "") + f"\n\n{block}\n"
    write_atomically(path, text)


def cpu_name():
    """The processor's model name from /proc/cpuinfo (Linux), or None where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return None
