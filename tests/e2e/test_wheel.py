"""End to end: the built wheel, installed in a fresh virtualenv, routes and starts.

An editable install finds files through the source tree; a wheel finds only what it ships. This
builds the wheel from a copy of the project files, installs it (not editable) into a new
virtualenv, and runs the installed ``opstap`` from a directory outside the project with no
``PYTHONPATH``: ``opstap route 3010`` (the directory data) and ``opstap run`` until ``/healthz``
answers and the web chat greets in English (migrations, static files and the catalogs).
Dependencies come from the lock file through the pip cache; only PyPI is reached.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("bot", "flows", "storage", "locales", "pyproject.toml", "README.md")
LOCK = ROOT / "requirements.lock"
MESSAGE_ID = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def clean_env(home: Path) -> dict[str, str]:
    """No PYTHONPATH and no project on the path: only what the virtualenv holds."""
    keep = ("PATH", "HOME", "PIP_CACHE_DIR", "PIP_INDEX_URL", "PIP_TRUSTED_HOST", "LANG")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.setdefault("HOME", str(home))
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its ``bin`` folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.egg-info")
    for name in SHIPPED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    env = clean_env(work)
    dist = work / "dist"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "-w",
        dist,
        source,
        cwd=work,
        env=env,
    )
    wheels = list(dist.glob("opstap-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=work, env=env)
    pip = (
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    )
    if LOCK.exists():
        run(*pip, "--require-hashes", "-r", LOCK, cwd=work, env=env)
        run(*pip, "--no-deps", wheels[0], cwd=work, env=env)
    else:
        run(*pip, wheels[0], cwd=work, env=env)
    return venv / "bin"


def test_the_installed_package_is_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = run(
        installed / "python",
        "-c",
        "import bot, locales; print(bot.__file__); print(locales.__file__)",
        cwd=tmp_path,
        env=clean_env(tmp_path),
    )
    for line in where.split():
        assert "site-packages" in line, where
    catalogs = list((Path(where.split()[1]).parent).glob("*/LC_MESSAGES/*.po"))
    assert {p.parent.parent.name for p in catalogs} >= {"nl", "en", "fr", "ar", "tr", "uk"}


def test_the_installed_command_routes_a_postcode(installed: Path, tmp_path: Path) -> None:
    output = run(installed / "opstap", "route", "3010", cwd=tmp_path, env=clean_env(tmp_path))
    answer = json.loads(output)
    assert answer["status"] == "ok"
    assert answer["municipality"] == "Leuven"
    assert answer["partnership"] == "boest-your-future"


async def test_the_installed_service_starts_and_speaks(installed: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **clean_env(tmp_path),
        "OPSTAP_HTTP_PORT": str(port),
        "OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}",
    }
    log = (tmp_path / "opstap.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(installed / "opstap"), "run", cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            healthy = False
            while time.monotonic() < deadline and process.returncode is None:
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            healthy = True
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.3)
            output = (tmp_path / "opstap.log").read_text(errors="replace")
            assert healthy, f"opstap run did not become healthy:\n{output}"
            async with http.get(f"{base}/static/chat.js") as response:
                assert response.status == 200
            async with http.post(
                f"{base}/api/input", json={"kind": "open"}, headers={"Accept-Language": "en"}
            ) as response:
                assert response.status == 200
                body = await response.json()
        texts = [str(m.get("text", "")) for m in body["messages"]]
        assert texts, body
        # Rendered from the shipped catalogs: English words, not bare message ids.
        assert not any(MESSAGE_ID.match(t.strip()) for t in texts), texts
        assert "bot" in " ".join(texts).lower()
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=10)
        log.close()
