"""Errors of model preparation; each message names the problem and the command that fixes it."""

from __future__ import annotations


class PrepareError(RuntimeError):
    """A registry model could not be prepared."""


class PackageMissingError(PrepareError):
    """A registry package holding (part of) the GGUF is not installed, or lacks the file."""


class ChecksumError(PrepareError):
    """The installed GGUF bytes are not the ones the registry table pins."""
