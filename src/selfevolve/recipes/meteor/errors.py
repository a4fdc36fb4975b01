"""What METEOR raises for problems the user can fix; every message names the problem and the fix."""


class MeteorError(ValueError):
    """A setting, model or directory METEOR cannot use as given."""


class RecordError(MeteorError):
    """Records that a stage cannot use: the message names the record, the field and the fix."""
