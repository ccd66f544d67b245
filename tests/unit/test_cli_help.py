"""The command line tells the truth: help texts carry no reST markup, and every ``lis`` command and option the
README names exists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from app.cli import cli

ROOT = Path(__file__).resolve().parents[2]
MARKUP = re.compile(r"``|:(class|mod|func|meth|data):`")


def _commands(command: Any, path: tuple[str, ...] = ("lis",)) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(typer.main.get_command(cli)))


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} | {"--help"}


def test_no_help_text_shows_rest_markup() -> None:
    marked = [" ".join(path) for path, command in COMMANDS.items()
              if any(MARKUP.search(text or "") for text in
                     [command.help, *(getattr(param, "help", "") for param in command.params)])]
    assert not marked, f"help with reST markup: {marked}"


def _readme_invocations() -> Iterator[list[str]]:
    text = (ROOT / "README.md").read_text()
    fenced = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    spans = [line.split(" #")[0] for block in fenced for line in block.splitlines()]
    spans += re.findall(r"`([^`\n]*)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for span in spans:
        for match in re.finditer(r"(?:^|[\s/])lis ((?:[^`|;&)\"]|\|(?=[a-z]))*)", span):
            yield match.group(1).split()


def test_every_command_and_option_the_readme_names_exists() -> None:
    problems = []
    for words in _readme_invocations():
        path: tuple[str, ...] = ("lis",)
        for word in words:
            if word.startswith("-") or (word not in {p[len(path)] for p in COMMANDS if len(p) > len(path)
                                                    and p[:len(path)] == path} and "|" not in word):
                break
            for choice in word.split("|"):  # `lis sandbox ttlock|salto|wiegand`
                if (*path, choice) not in COMMANDS:
                    problems.append(f"lis {' '.join(words)}: no command {' '.join((*path, choice))}")
            path = (*path, word.split("|")[0])
        if path == ("lis",) and words and not words[0].startswith("-"):
            problems.append(f"lis {' '.join(words)}: no command lis {words[0]}")
            continue
        command = COMMANDS[path]
        if getattr(command, "commands", None) and path != ("lis",) and len(words) == len(path) - 1:
            continue  # a group named alone: `lis dlq`
        unknown = [w.split("=")[0] for w in words if w.startswith("--") and w.split("=")[0] not in _options(command)
                   and w.split("=")[0] != "--debug"]
        if unknown:
            problems.append(f"lis {' '.join(words)}: {' '.join(path)} has no option {unknown}")
    assert not problems, "\n".join(problems)


def test_the_readme_invocations_are_found() -> None:
    invocations = list(_readme_invocations())
    assert len(invocations) > 20, invocations
    assert ["dev", "--keep", "--reservations", "40", "--seconds", "15"] in invocations
