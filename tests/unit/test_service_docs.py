"""The service docs (docs/standards/SERVICE_TEMPLATE.md) exist and cite only what the code has.

Every Markdown file under docs/ is read for code spans (inline backticks and fenced blocks). In them:

- a setting ``LIS_…`` must be one the code reads: the settings' and the ingress settings' env-name maps, a CLI
  option's ``envvar``, or an environment read (``os.environ.get("LIS_…")`` and the like) in the code or the tests;
- a metric ``lis_…`` must be exported by the worker (app/metrics.py) or the ingress (app/ingress/guards.py), under
  its exposition name (a counter's ``_total``; a histogram's ``_bucket``, ``_sum``, ``_count``); the other ``lis_``
  names of the code are PostgreSQL roles (migrations) and ops-token claims (app/security/);
- a name in a topic's namespace (``pms.``, ``lock.``, ``vendor.``, ``ops.``) must be a topic the code declares
  (app/streams.py, app/infra/topics.py), a schema subject (schemas/) or a record type the domain declares;
- ``lis <command> [sub]`` must be a command of the typer app (app/cli/).

Something not built is named in plain text, never in a code span, so the check holds without exceptions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401  # registers the worker's metrics
from app.cli import cli
from app.infra.topics import TABLES, TOPICS
from app.ingress import guards
from app.settings import _ENV as SERVICE_ENV
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TEMPLATE = DOCS / "standards" / "SERVICE_TEMPLATE.md"
CODE_DIRS = ("app", "adapters", "agents", "tables", "tests")
SUFFIXES = {"counter": ("", "_total"), "gauge": ("",), "histogram": ("", "_bucket", "_sum", "_count"),
            "summary": ("", "_sum", "_count")}
WORD = r"[a-z][a-z0-9_-]*"
DOTTED = re.compile(rf"^{WORD}(?:\.{WORD})+$")
SETTING = re.compile(r"(?<![A-Za-z0-9_])(LIS_[A-Z0-9_]+)(\*?)")
METRIC = re.compile(r"(?<![\w./:-])(lis_[a-z0-9_]+)")
COMMAND = re.compile(r"(?:^|(?<=[\s/(\[`\"']))lis +(.+)")


# What the code has.

def python_sources() -> Iterator[Path]:
    for folder in CODE_DIRS:
        yield from (path for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts)


def string_constants(paths: Iterable[Path]) -> set[str]:
    """Every string literal in these Python files (docstrings included)."""
    return {node.value for path in paths for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def environment_reads() -> set[str]:
    """``LIS_…`` names the code reads from an environment mapping: ``X.get("LIS_…")``, ``getenv("LIS_…")``,
    ``X.setdefault("LIS_…", …)`` or ``X["LIS_…"]``."""
    names: set[str] = set()
    for path in python_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            argument: ast.expr | None = None
            if isinstance(node, ast.Call) and node.args:
                function = node.func
                called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
                argument = node.args[0] if called in ("get", "getenv", "setdefault") else None
            elif isinstance(node, ast.Subscript):
                argument = node.slice
            if isinstance(argument, ast.Constant) and re.fullmatch(r"LIS_[A-Z0-9_]+", str(argument.value)):
                names.add(str(argument.value))
    return names


def cli_commands() -> dict[tuple[str, ...], Any]:
    """Every command and group of ``lis``, by its path of names (``("lis", "audit", "verify")``)."""
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    return dict(walk(typer.main.get_command(cli), ("lis",)))


def known_settings() -> set[str]:
    envvars = {name for command in cli_commands().values() for param in command.params
               for name in ([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])}
    return {*SERVICE_ENV, *guards._ENV, *envvars, *environment_reads()}


def known_metrics() -> set[str]:
    """Exposition names of every ``lis_`` metric of the worker and the ingress."""
    names: set[str] = set()
    for registry in (REGISTRY, guards.IngressMetrics(()).registry):
        for family in registry.collect():
            if family.name.startswith("lis_"):
                names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def other_lis_names() -> set[str]:
    """``lis_`` names that are not metrics: PostgreSQL roles and ops-token claims."""
    migrations = " ".join(path.read_text() for path in (ROOT / "adapters" / "postgres").rglob("*.sql"))
    roles = set(re.findall(r"\bCREATE ROLE (lis_\w+)", migrations))
    roles |= {value for value in string_constants((ROOT / "adapters" / "postgres").glob("*.py"))
              if re.fullmatch(r"lis_[a-z_]+", value)}
    claims = {value for value in string_constants((ROOT / "app" / "security").glob("*.py"))
              if re.fullmatch(r"lis_[a-z_]+", value)}
    return roles | claims


def declared_topics() -> set[str]:
    """The topics app/infra/topics.py creates and app/streams.py declares (``_topic("…")``)."""
    tree = ast.parse((ROOT / "app" / "streams.py").read_text())
    streams = {str(node.args[0].value) for node in ast.walk(tree)
               if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_topic"
               and node.args and isinstance(node.args[0], ast.Constant)}
    app_id = Settings.model_fields["app_id"].default
    return {*TOPICS, *streams, *(f"{app_id}-{table}-changelog" for table in TABLES)}


def known_dotted_names() -> set[str]:
    """Topics, schema subjects (``schemas/<subject>.v<N>.json``) and the record types the domain declares."""
    subjects = {re.sub(r"\.v\d+\.json$", "", path.name) for path in (ROOT / "schemas").glob("*.v*.json")}
    domain = {value for value in string_constants((ROOT / "app" / "domain").glob("*.py")) if DOTTED.match(value)}
    return declared_topics() | subjects | domain


# What the docs cite.

def code_spans(text: str) -> list[str]:
    """The fenced blocks and the inline code spans of a Markdown text."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return fenced + re.findall(r"`([^`\n]+)`", prose)


def unknown_settings(span: str, known: set[str]) -> list[str]:
    found = []
    for name, star in SETTING.findall(span):
        if star and not any(setting.startswith(name) for setting in known):
            found.append(f"{name}*")
        elif not star and name not in known:
            found.append(name)
    return found


def unknown_metrics(span: str, known: set[str]) -> list[str]:
    return [name for name in METRIC.findall(span) if name not in known]


def unknown_topics(span: str, known: set[str], namespaces: set[str]) -> list[str]:
    pattern = rf"(?<![\w./$<-])((?:{'|'.join(sorted(namespaces))})(?:\.{WORD})+)(?![\w/-])"
    return [name.rstrip("._-") for name in re.findall(pattern, span)
            if name.rstrip("._-") not in known and not name.endswith(".json")]


def unknown_commands(span: str, commands: dict[tuple[str, ...], Any]) -> list[str]:
    """``lis …`` invocations naming a command or group the app does not have. Words are read while they can be
    command names; an option, a placeholder or punctuation ends the invocation; ``a|b`` names alternatives."""
    found = []
    for line in span.splitlines():
        for match in COMMAND.finditer(line):
            path: tuple[str, ...] = ("lis",)
            for raw in match.group(1).split():
                word = raw.rstrip(",;:.)'\"`")
                if not re.fullmatch(r"[a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*", word):
                    break
                if not getattr(commands[path], "commands", None):
                    break  # a command that takes arguments, not subcommands
                missing = [choice for choice in word.split("|") if (*path, choice) not in commands]
                if missing:
                    found += [" ".join((*path, choice)) for choice in missing]
                    break
                path = (*path, word.split("|")[0])
                if word != raw:
                    break
    return found


class Known:
    """Everything the code has, collected once."""

    def __init__(self) -> None:
        self.settings = known_settings()
        self.metrics = known_metrics()
        self.lis_names = self.metrics | other_lis_names()
        self.dotted = known_dotted_names()
        self.namespaces = {topic.split(".")[0] for topic in TOPICS}
        self.commands = cli_commands()

    def problems(self, text: str) -> list[str]:
        """``kind token`` for every citation in ``text`` the code does not have."""
        found = []
        for span in code_spans(text):
            found += [f"setting {name}" for name in unknown_settings(span, self.settings)]
            found += [f"metric {name}" for name in unknown_metrics(span, self.lis_names)]
            found += [f"topic {name}" for name in unknown_topics(span, self.dotted, self.namespaces)]
            found += [f"command {name}" for name in unknown_commands(span, self.commands)]
        return sorted(set(found))


KNOWN = Known()
DOC_FILES = sorted(DOCS.rglob("*.md"))


def template_paths() -> list[str]:
    """The paths in the third column of SERVICE_TEMPLATE.md's table of documents."""
    rows = [line.split("|") for line in TEMPLATE.read_text().splitlines() if re.match(r"\| *\d+ *\|", line)]
    return [path for row in rows for path in re.findall(r"`([^`]+)`", row[3])]


# The tests.

def test_the_template_lists_the_service_documents_and_each_one_exists() -> None:
    paths = template_paths()
    assert len(paths) >= 17, f"SERVICE_TEMPLATE.md lists only {len(paths)} documents"
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"SERVICE_TEMPLATE.md lists documents that do not exist: {missing}"


def test_the_template_covers_the_readiness_bundle() -> None:
    bundle = ["SERVICE_OVERVIEW", "SECURITY_MODEL", "OBSERVABILITY", "TESTING_STRATEGY", "FAILURE_MODES",
              "DEPLOYMENT_TOPOLOGY"]
    listed = " ".join(template_paths())
    assert not [name for name in bundle if f"docs/{name}.md" not in listed]


@pytest.mark.parametrize("doc", DOC_FILES, ids=[str(path.relative_to(DOCS)) for path in DOC_FILES])
def test_a_doc_cites_only_settings_metrics_topics_and_commands_the_code_has(doc: Path) -> None:
    problems = KNOWN.problems(doc.read_text())
    assert not problems, f"{doc.relative_to(ROOT)} cites what the code does not have: {', '.join(problems)}"


def test_the_check_finds_made_up_citations() -> None:
    text = ("`LIS_NO_SUCH_SETTING` `LIS_NOPE_*` `lis_no_such_metric_total` `lis_lock_events_total_bucket` "
            "`lock.no-such-topic` `lis no-such-command` and\n```\nlis audit no-such-sub --tenant T\n```\n")
    assert KNOWN.problems(text) == [
        "command lis audit no-such-sub", "command lis no-such-command", "metric lis_lock_events_total_bucket",
        "metric lis_no_such_metric_total", "setting LIS_NOPE_*", "setting LIS_NO_SUCH_SETTING",
        "topic lock.no-such-topic"]


def test_the_check_accepts_what_the_code_has() -> None:
    text = ("`LIS_RETRY_CAP_S` `LIS_INGRESS_*` `LIS_ADMIN_DATABASE_URL=… lis migrate` `lis_app` `lis_role` "
            "`lis_pms_to_lock_event_seconds_bucket{le=\"60\"}` `lis:key_issue_slow:ratio_rate5m` "
            "`lis_webhook_responses_total` `lock.audit-anchors` `lock.reconciled` `lock.events.lock-status` "
            "`schemas/lock.events.v1.json` `lis sandbox ttlock|salto|wiegand --port P` `lis dev --keep` "
            "`.venv/bin/lis ops token issue --role read-only`")
    assert KNOWN.problems(text) == []


def test_the_runbooks_index_lists_every_runbook() -> None:
    index = (DOCS / "RUNBOOKS.md").read_text()
    runbooks = sorted((ROOT / "runbooks").rglob("*.md"))
    missing = [str(path.relative_to(ROOT)) for path in runbooks if str(path.relative_to(ROOT)) not in index]
    assert not missing, f"docs/RUNBOOKS.md does not list: {missing}"


def test_the_on_call_map_names_every_alert_with_its_runbook() -> None:
    rules = yaml.safe_load((ROOT / "observability" / "prometheus" / "rules.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    cells = [[cell.strip().strip("`") for cell in line.split("|")[1:-1]]
             for line in (DOCS / "ON_CALL.md").read_text().splitlines() if line.startswith("| `")]
    rows = {row[0]: (row[1], row[-1]) for row in cells}
    wrong = [alert["alert"] for alert in alerts
             if rows.get(alert["alert"]) != (alert["labels"]["severity"], alert["annotations"]["runbook_url"])]
    assert not wrong, f"docs/ON_CALL.md lacks these alerts, or their severity or runbook: {wrong}"


def test_the_adr_index_lists_every_adr() -> None:
    index = (DOCS / "adr" / "README.md").read_text()
    missing = [path.name for path in sorted((DOCS / "adr").glob("[0-9]*.md")) if path.name not in index]
    assert not missing, f"docs/adr/README.md does not list: {missing}"
