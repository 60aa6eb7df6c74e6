"""Shell completion: `reconcile completion SHELL` prints click's script, and it works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile.cli import COMPLETE_VAR, cli, main
from tests.support.cli import run

BIN_DIR = Path(sys.executable).parent


def completion_script(shell: str) -> str:
    result = run(["completion", shell])
    assert result.exit_code == 0, result.output
    assert result.return_value == 0
    return result.stdout


def complete_in_bash(words: list[str], cwd: Path | None = None) -> list[str]:
    """Load the bash script into a real bash and ask it to complete the last word."""
    script = (
        'eval "$(reconcile completion bash)"\n'
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_reconcile_completion reconcile\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "--norc", "-c", script],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


class TestCompletionScripts:
    """The printed scripts are click's own, wired to the `reconcile` program."""

    def test_bash_script_registers_the_completion_function(self) -> None:
        """The bash script defines a function and registers it for `reconcile`."""
        script = completion_script("bash")
        assert "_reconcile_completion()" in script
        assert "complete -o nosort -F _reconcile_completion reconcile" in script
        assert f"{COMPLETE_VAR}=bash_complete" in script

    def test_zsh_script_is_a_compdef_for_reconcile(self) -> None:
        """The zsh script starts with the compdef line zsh's autoloader looks for."""
        script = completion_script("zsh")
        assert script.startswith("#compdef reconcile")
        assert f"{COMPLETE_VAR}=zsh_complete" in script

    def test_fish_script_registers_a_complete_command(self) -> None:
        """The fish script registers completions for the `reconcile` command."""
        script = completion_script("fish")
        assert "complete --no-files --command reconcile" in script
        assert f"{COMPLETE_VAR}=fish_complete" in script

    def test_script_equals_clicks_environment_variable_output(self) -> None:
        """`reconcile completion bash` prints what `_RECONCILE_COMPLETE=bash_source` prints."""
        env = {**os.environ, COMPLETE_VAR: "bash_source"}
        done = subprocess.run(
            [str(BIN_DIR / "reconcile")],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0
        assert done.stdout.strip() == completion_script("bash").strip()

    def test_unknown_shell_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unsupported shell exits 64 and lists the supported ones."""
        with pytest.raises(SystemExit) as exited:
            main(["completion", "tcsh"])
        assert exited.value.code == 64
        err = capsys.readouterr().err
        assert "'bash', 'zsh', 'fish'" in err


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to run the script")
class TestCompletionInBash:
    """The bash script, loaded into a real bash, completes commands and arguments."""

    def test_completes_a_command_name(self) -> None:
        """A command prefix completes to the command."""
        assert complete_in_bash(["reconcile", "complet"]) == ["completion"]

    def test_completes_every_top_level_command(self) -> None:
        """An empty word offers every visible registered command."""
        offered = set(complete_in_bash(["reconcile", ""]))
        assert offered == {name for name, command in cli.commands.items() if not command.hidden}

    def test_completes_a_choice_argument(self) -> None:
        """The SHELL argument of `completion` completes to the supported shells."""
        assert complete_in_bash(["reconcile", "completion", ""]) == ["bash", "zsh", "fish"]

    def test_env_completes_the_catalogs_environments(self, tmp_path: Path) -> None:
        """--env offers the environments of the catalog named on the line, built-ins too."""
        catalog = tmp_path / "catalog"
        catalog.mkdir()
        settings = "client_id: C1\nenvironments:\n  staging:\n    base_url: https://pb.example\n"
        (catalog / "reconcile.yaml").write_text(settings)
        offered = complete_in_bash(["reconcile", "plan", "catalog", "--env", ""], cwd=tmp_path)
        assert offered == ["local", "production", "sandbox", "staging"]
        assert complete_in_bash(["reconcile", "plan", "catalog", "--env", "st"], cwd=tmp_path) == [
            "staging"
        ]

    def test_env_completion_survives_a_broken_catalog(self, tmp_path: Path) -> None:
        """A catalog whose reconcile.yaml is invalid still offers the built-in environments."""
        (tmp_path / "reconcile.yaml").write_text("client_id: [unclosed\n")
        offered = complete_in_bash(["reconcile", "import", "--env", ""], cwd=tmp_path)
        assert offered == ["local", "production", "sandbox"]

    def test_env_completion_prefers_the_named_catalog(self, tmp_path: Path) -> None:
        """The catalog named on the line wins over one in the current directory."""
        (tmp_path / "reconcile.yaml").write_text("client_id: C0\n")
        catalog = tmp_path / "other"
        catalog.mkdir()
        settings = "client_id: C1\nenvironments:\n  qa:\n    base_url: https://pb.example\n"
        (catalog / "reconcile.yaml").write_text(settings)
        words = ["reconcile", "import", "--from", "other", "--env", "q"]
        assert complete_in_bash(words, cwd=tmp_path) == ["qa"]
