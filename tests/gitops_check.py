"""Static checks of the shell commands a CI workflow or pre-commit hook runs.

``reconcile_invocations`` finds every ``reconcile ...`` command in a ``run:`` script;
``check_invocation`` has click parse it against the real command tree without running it,
so a renamed command, a removed flag or a bad choice value fails a test.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import click

from reconcile.cli import cli

#: Tokens after which the shell expects a new command.
COMMAND_STARTERS = frozenset(
    {"|", "||", "&&", ";", "(", ")", "&", "{", "}", "!", "then", "do", "else", "elif", "if"}
)
#: Tokens that end a command's arguments.
ARGUMENT_ENDERS = frozenset({"|", "||", "&&", ";", "(", ")", "&", ">", ">>", "<", "}"})
REDIRECTIONS = frozenset({">", ">>", "<"})
PUNCTUATION = frozenset("();<>|&")
OPERATOR = re.compile(r"&&|\|\||>>|[();<>|&]")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
ASSIGNMENT = re.compile(r"^\w+=")


@dataclass(frozen=True)
class Invocation:
    """One ``reconcile`` command found in a script, with its arguments."""

    argv: tuple[str, ...]
    line: str

    @property
    def command_path(self) -> str:
        """``plan`` or ``sandbox serve``: the sub-commands named, without options."""
        return " ".join(resolve_command_path(self.argv))


def reconcile_invocations(script: str, env: Mapping[str, str]) -> Iterator[Invocation]:
    """Every ``reconcile`` command in a shell script, with ``env`` variables expanded.

    GitHub expressions ``${{ ... }}`` become the word ``EXPRESSION``; line continuations
    are joined; comments are dropped.
    """
    script = EXPRESSION.sub("EXPRESSION", script).replace("\\\n", " ")
    for line in script.splitlines():
        if line.strip().startswith("#") or "reconcile" not in line:
            continue
        tokens = _tokens(_expand(line, env))
        for start in _command_positions(tokens):
            if tokens[start] == "reconcile":
                yield Invocation(tuple(_arguments(tokens, start + 1)), line.strip())


def _expand(line: str, env: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return VARIABLE.sub(value, line)


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return [part for token in lexer for part in _operators(token)]


def _operators(token: str) -> list[str]:
    """shlex glues neighbouring punctuation (``);``); split it into shell operators."""
    if not token or not set(token) <= PUNCTUATION:
        return [token]
    return OPERATOR.findall(token)


def _command_positions(tokens: Sequence[str]) -> Iterator[int]:
    expect_command = True
    for index, token in enumerate(tokens):
        if token in COMMAND_STARTERS:
            expect_command = True
        elif expect_command and ASSIGNMENT.match(token) and not token.endswith("$"):
            continue  # `VAR=value command ...`
        elif expect_command:
            yield index
            expect_command = False


def _arguments(tokens: Sequence[str], start: int) -> Iterator[str]:
    for index in range(start, len(tokens)):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in ARGUMENT_ENDERS or (token.isdigit() and following in REDIRECTIONS):
            return
        yield token


def resolve_command_path(argv: Sequence[str]) -> list[str]:
    """The names of the (sub-)commands an argv selects, e.g. ``["sandbox", "serve"]``."""
    path: list[str] = []
    command: click.Command = cli
    for word in argv:
        if not isinstance(command, click.Group) or word.startswith("-"):
            break
        sub = command.commands.get(word)
        if sub is None:
            break
        path.append(word)
        command = sub
    return path


def check_invocation(argv: Sequence[str]) -> click.Context:
    """Have click parse ``reconcile *argv`` without invoking anything; raises on misuse.

    Group contexts are made leniently (they hold no options we use); the final command is
    parsed strictly: unknown commands or options, missing values, bad choices and
    unexpected extra arguments raise ``click.UsageError``. Parameter types are converted
    too, so paths must exist relative to the current directory when their type says so.
    """
    args = list(argv)
    command: click.Command = cli
    name = "reconcile"
    parent: click.Context | None = None
    while isinstance(command, click.Group):
        ctx = command.make_context(name, [], parent=parent, resilient_parsing=True)
        if not args or args[0] not in command.commands:
            raise click.UsageError(f"no such command {args[:1]} under {name!r}", ctx)
        name = args.pop(0)
        command, parent = command.commands[name], ctx
    return command.make_context(name, args, parent=parent)
