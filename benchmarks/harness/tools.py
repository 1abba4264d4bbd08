"""The tools being compared: how to call them, which commands they have, their versions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

DBT_REQUIREMENTS = ("dbt-core~=1.11.0", "dbt-duckdb~=1.11.0")
DBT_POSTGRES_REQUIREMENTS = ("dbt-core~=1.11.0", "dbt-postgres~=1.11.0")

# Keep both tools quiet and offline: no colours, no usage statistics, no version check.
QUIET_ENV = {
    "NO_COLOR": "1",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DBT_USE_COLORS": "false",
}


@dataclass
class Tool:
    """A command-line tool that reads dbt-format projects (modelkit or dbt-core)."""

    name: str
    exe: tuple[str, ...]  # the command, e.g. ("/path/to/modelkit",)
    python: str  # the interpreter of the tool's environment (runs the floor script with its duckdb)
    env: dict[str, str] = field(default_factory=dict)
    _has: dict[tuple[str, ...], bool] = field(default_factory=dict, repr=False)

    def command(self, *args: str) -> list[str]:
        """The tool's command line for ``args``, reading profiles.yml from the project folder."""
        return [*self.exe, *args, "--profiles-dir", "."]

    def has_command(self, words: tuple[str, ...]) -> bool:
        """Whether ``tool WORDS --help`` succeeds (e.g. ``("docs", "generate")``)."""
        if words not in self._has:
            done = subprocess.run(
                [*self.exe, *words, "--help"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            self._has[words] = done.returncode == 0
        return self._has[words]


# PYTHONDONTWRITEBYTECODE would make every measured command compile the modules edited since their
# byte code was last written: both tools run as they do once installed
DROPPED_ENV = ("DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "PYTHONDONTWRITEBYTECODE")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(QUIET_ENV)
    return env


def compile_package(python: str, package: str) -> None:
    """Write the byte code of ``package`` in ``python``'s environment (an editable install may have none)."""
    code = f"import compileall, os, {package}; compileall.compile_dir(os.path.dirname({package}.__file__), quiet=1)"
    subprocess.run([python, "-c", code], check=False, capture_output=True)


def modelkit_tool(command: str | None = None) -> Tool:
    """modelkit as installed beside the interpreter running the harness (or ``command``)."""
    if command:
        exe: tuple[str, ...] = tuple(command.split())
    else:
        script = Path(sys.executable).parent / "modelkit"
        exe = (str(script),) if script.exists() else (sys.executable, "-m", "modelkit.cli")
    compile_package(sys.executable, "modelkit")
    return Tool("modelkit", exe, sys.executable, _env())


def dbt_tool(venv: Path, log: Path, requirements: tuple[str, ...] = DBT_REQUIREMENTS) -> Tool:
    """dbt-core and an adapter (dbt-duckdb unless told) 1.11 in their own virtual environment, made on first use."""
    python = venv / "bin" / "python"
    dbt = venv / "bin" / "dbt"
    if not (dbt.exists() and _dbt_version_ok(python, requirements)):
        log.parent.mkdir(parents=True, exist_ok=True)
        print(f"installing {' '.join(requirements)} into {venv} ...", flush=True)
        with log.open("ab") as out:
            if not python.exists():
                shutil.rmtree(venv, ignore_errors=True)
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *requirements],
                check=True,
                stdout=out,
                stderr=out,
            )
    return Tool("dbt", (str(dbt),), str(python), _env())


def _dbt_version_ok(python: Path, requirements: tuple[str, ...]) -> bool:
    versions = package_versions(str(python), [r.split("~=")[0] for r in requirements])
    return all(v.startswith("1.11.") for v in versions.values())


def package_versions(python: str, packages: list[str]) -> dict[str, str]:
    """Installed versions of ``packages`` in the environment of ``python`` ("not installed" where absent)."""
    code = (
        "import importlib.metadata as m, sys\n"
        "for p in sys.argv[1:]:\n"
        "    try: print(p, m.version(p))\n"
        "    except m.PackageNotFoundError: print(p, 'not-installed')\n"
    )
    done = subprocess.run([python, "-c", code, *packages], capture_output=True, text=True, check=False)
    found = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return {p: found.get(p, "not-installed").replace("not-installed", "not installed") for p in packages}
