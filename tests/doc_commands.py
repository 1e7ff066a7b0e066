"""The shell commands a generated repository's documents tell a person to run.

`doc_commands(project)` reads the README and every page under docs/: each fenced
bash/sh/shell/console block (comments, line continuations, pipes, `&&`, `;`, `&` and
`$(...)` handled) and each inline code span that starts with a command word, and returns
every simple command whose program is one of `programs`, with its placeholders (see
PLACEHOLDERS) replaced by sample values. tests/test_runbook_commands.py validates them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

# How the documents write a value the reader fills in, and the sample value the tests
# use. A placeholder is a word in capitals standing for one argument (or the value part
# of `--flag=VALUE`, `type/NAME`, `sha256:DIGEST`), or a shell variable the document
# sets first. An unknown one fails the test: add it here, with a value of its type.
PLACEHOLDERS = {
    "REVISION": "3",
    "$REVISION": "3",
    "JOB_NAME": "demo-manual-1",
    "DIGEST": "0" * 64,
    "N": "4",
    "POD": "pod/demo-0",
}
# The value a `$(...)` command substitution stands for (its commands are checked too).
SUBSTITUTED = "pod/demo-0"

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
INLINE = re.compile(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)?)`(?!`)")
OPERATORS = {"|", "||", "&&", ";", "&", ";;", "(", ")"}


@dataclass(frozen=True)
class Command:
    """One simple command of a document: where it is, as written, and as argv to check."""

    where: str
    text: str
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def _substitutions(text: str) -> tuple[str, list[str]]:
    """`text` with each `$(...)` replaced by SUBSTITUTED, and the inner command lines."""
    inner: list[str] = []
    out, i = [], 0
    while i < len(text):
        if text.startswith("$(", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            body, rest = _substitutions(text[i + 2 : j - 1])
            inner += [body, *rest]
            out.append(SUBSTITUTED)
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out), inner


def _simple_commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line (pipes, lists, background), as word lists."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def _fill(word: str) -> str:
    """A word with its placeholders replaced by sample values; unknown ones stay visible."""
    if word in PLACEHOLDERS:
        return PLACEHOLDERS[word]
    return re.sub(r"(?<=[=/:])([A-Z][A-Z_]*)$", lambda m: PLACEHOLDERS.get(m[1], m[1]), word)


def _shell_lines(block: str, lang: str) -> list[str]:
    """The command lines of a fenced block: continuations joined, console prompts kept."""
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = []
    for line in joined.splitlines():
        stripped = line.strip()
        if lang == "console":
            if not stripped.startswith("$ "):
                continue  # output, not a command
            stripped = stripped[2:]
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def _commands_of(where: str, line: str, programs: tuple[str, ...]) -> list[Command]:
    outer, inner = _substitutions(line)
    found = []
    for text in [outer, *inner]:
        for words in _simple_commands(text):
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words = words[1:]  # VAR=value before the program
            if words and words[0] in programs:
                found.append(Command(where, line, tuple(_fill(w) for w in words)))
    return found


def doc_commands(project: Path, programs: tuple[str, ...]) -> list[Command]:
    """Every command of `programs` that the README and docs/**.md of `project` tell to run."""
    pages = [project / "README.md", *sorted((project / "docs").rglob("*.md"))]
    found: list[Command] = []
    for page in pages:
        text = page.read_text()
        name = str(page.relative_to(project))
        prose = FENCE.sub(lambda block: "\n" * block[0].count("\n"), text)
        for block in FENCE.finditer(text):
            if block["lang"] in SHELL_LANGUAGES:
                start = text[: block.start("body")].count("\n") + 1
                for line in _shell_lines(block["body"], block["lang"]):
                    found += _commands_of(f"{name}:{start}", line, programs)
        for span in INLINE.finditer(prose):
            code = " ".join(span[1].split())
            if code.split(" ", 1)[0] in programs:
                number = prose[: span.start()].count("\n") + 1
                found += _commands_of(f"{name}:{number}", code, programs)
    return found


def notes_commands(where: str, notes: str, programs: tuple[str, ...]) -> list[Command]:
    """The commands of a rendered chart's NOTES.txt: each line's text from a program word on."""
    found: list[Command] = []
    for number, line in enumerate(notes.splitlines(), 1):
        start = re.search(rf"(?:^|\s)({'|'.join(map(re.escape, programs))})\s", line)
        if start:
            found += _commands_of(f"{where}:{number}", line[start.start(1) :].strip(), programs)
    return found
