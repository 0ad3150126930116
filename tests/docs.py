"""Reading the documentation the way the doc tests need it: a page, one section of it, its fenced code blocks.

Headings and fences are recognised as Markdown recognises them: a ``#`` line inside a fenced code block (a YAML
comment, a shell prompt) is not a heading, and a fence may be indented (a code block inside a list item).
"""

from __future__ import annotations

import re
import textwrap

from tests.conftest import ROOT

DOCS = ROOT / "docs"

_HEADING = re.compile(r"^(#{1,6}) \S")
_FENCE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")


def page(name: str) -> str:
    """The text of ``docs/<name>``."""
    path = DOCS / name
    assert path.is_file(), f"docs/{name} does not exist"
    return path.read_text(encoding="utf-8")


def readme() -> str:
    """The text of the top-level ``README.md``."""
    return (ROOT / "README.md").read_text(encoding="utf-8")


def pack_readme() -> str:
    """The text of ``policies/README.md``, the published policy pack's own page."""
    return (ROOT / "policies" / "README.md").read_text(encoding="utf-8")


def _closes(match: re.Match[str], fence: str) -> bool:
    """Whether the fence line ``match`` closes a block opened by ``fence``: the same character, at least as many,
    nothing after it."""
    return match.group(2).startswith(fence) and not match.group(3).strip()


def _outside_fences(lines: list[str]) -> list[bool]:
    """For each line, whether it is Markdown text (not inside, and not itself, a fence)."""
    text: list[bool] = []
    fence: str | None = None
    for line in lines:
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(2)
            text.append(False)
        elif fence is not None:
            if match and _closes(match, fence):
                fence = None
            text.append(False)
        else:
            text.append(True)
    return text


def headings(text: str) -> list[str]:
    """Every heading line of ``text``, in order."""
    lines = text.splitlines()
    return [line for line, prose in zip(lines, _outside_fences(lines), strict=True) if prose and _HEADING.match(line)]


def section(text: str, heading: str) -> str:
    """From the line ``heading`` (for example ``"## Errors"``) to the next heading of the same or a higher level
    (fewer ``#``), or the end of ``text``; the heading line included."""
    match = _HEADING.match(heading)
    assert match, f"{heading!r} is not a Markdown heading line"
    level = len(match.group(1))
    lines = text.splitlines(keepends=True)
    prose = _outside_fences([line.rstrip("\n") for line in lines])
    starts = [i for i, line in enumerate(lines) if prose[i] and line.rstrip("\n").rstrip() == heading]
    assert starts, f"no heading {heading!r}; the headings are: {headings(text)}"
    assert len(starts) == 1, f"the heading {heading!r} appears {len(starts)} times"
    start = starts[0]
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if prose[i] and (h := _HEADING.match(lines[i])) and len(h.group(1)) <= level
        ),
        len(lines),
    )
    return "".join(lines[start:end])


def blocks(text: str, info: str) -> list[str]:
    """The contents of the fenced code blocks of ``text`` whose info string is ``info`` (``yaml``, ``console``...),
    in order, with the fence's indentation removed."""
    found: list[str] = []
    lines = text.splitlines(keepends=True)
    at = 0
    while at < len(lines):
        match = _FENCE.match(lines[at].rstrip("\n"))
        if not match:
            at += 1
            continue
        fence, indent = match.group(2), match.group(1)
        body: list[str] = []
        at += 1
        while at < len(lines):
            close = _FENCE.match(lines[at].rstrip("\n"))
            if close and _closes(close, fence):
                break
            body.append(lines[at])
            at += 1
        at += 1
        if match.group(3).strip() == info:
            found.append(textwrap.dedent("".join(body)) if indent else "".join(body))
    return found
