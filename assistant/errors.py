"""Errors a user can fix. The CLI prints their message as one line and exits non-zero."""


class PaperchatError(Exception):
    exit_code = 2


class IndexMissing(PaperchatError):
    pass


class IndexLocked(PaperchatError):
    pass


class IndexDamaged(PaperchatError):
    pass


class ModelMismatch(PaperchatError):
    pass


class BadInput(PaperchatError):
    pass


class BadSettings(BadInput):
    pass
