"""Errors the domain layer raises. Each carries a message a person can read, in their language."""


class DomainError(Exception):
    """A rule refused the action; nothing was written."""

    code = "refused"

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self):
        return str(self.message)


class NotAllowed(DomainError):
    """The acting person holds no post that allows this on this object."""

    code = "not_allowed"


class Conflict(DomainError):
    """The object changed under the request (e.g. settled by someone else a moment ago)."""

    code = "conflict"
