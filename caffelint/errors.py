"""Errors that stop a run: printed by the CLI as one line, exit status 2."""

from __future__ import annotations


class CaffelintError(Exception):
    """Base class: the message is one line, already naming the file and place."""


class InputError(CaffelintError):
    """A path that cannot be read, a file that is not text proto at all."""


class UsageError(CaffelintError):
    """Options or configuration that make no sense."""


class ConfigError(UsageError):
    """A bad .caffelint.yaml: unknown key, unknown rule, wrong value type."""
