"""The plain text format of modules and consent documents, read into blocks
a template renders (escaped like any text: nothing in a body is HTML).

Paragraphs are separated by a blank line; a paragraph starting with "## " is
a heading; lines starting with "- " are the items of a list (a following line
that does not start with "- " continues the item)."""

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "paragraph" or "list"
    text: str = ""
    items: list[str] = field(default_factory=list)


def blocks(body: str) -> list[Block]:
    result: list[Block] = []
    for chunk in re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            result.append(Block("heading", lines[0][3:].strip()))
            lines = lines[1:]
            if not lines:
                continue
        if lines[0].startswith("- "):
            items: list[str] = []
            for line in lines:
                if line.startswith("- ") or not items:
                    items.append(line.removeprefix("- ").strip())
                else:
                    items[-1] = f"{items[-1]} {line}"
            result.append(Block("list", items=items))
        else:
            result.append(Block("paragraph", " ".join(lines)))
    return result
