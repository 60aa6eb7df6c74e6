"""The one way tests run the CLI: ``reconcile ARGS`` through ``reconcile.cli.main`` (so
exit-code mapping included) in click's ``CliRunner`` isolation, streams captured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from click.testing import CliRunner

from reconcile.cli import main
from tests.support import schemas


@dataclass(frozen=True)
class Run:
    """What one run printed and the exit code ``main`` chose."""

    code: int
    stdout: str
    stderr: str
    #: stdout and stderr interleaved as a terminal would show them.
    output: str

    @property
    def return_value(self) -> int:
        """The exit code, under the name click's ``Result`` gives a command's return value."""
        return self.code

    @property
    def exit_code(self) -> int:
        return self.code


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    stdin: str | None = None,
) -> Run:
    """Run ``reconcile ARGS``; colour variables are unset unless ``env`` sets them."""
    environ = {"NO_COLOR": None, "FORCE_COLOR": None, **(env or {})}
    before = schemas.stamps(list(schemas.files_written(args)))
    with CliRunner().isolation(input=stdin, env=environ) as (out, err, both):
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        else:
            code = 0
        printed = (out.getvalue().decode(), err.getvalue().decode(), both.getvalue().decode())
        result = Run(code, *printed)
    schemas.check_outputs(args, before, code, result.stdout)  # every plan written fits its schema
    return result
