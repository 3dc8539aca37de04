"""The specific errors services raise. Channels turn them into translated messages."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every refusal by a service; nothing was written when it is raised."""


class NotAllowed(ServiceError):
    """The actor may not do this to this case (role, scope or assignment)."""


class ForbiddenTransition(NotAllowed):
    """The lifecycle has no such move, or not for this role."""

    def __init__(self, source: str, target: str, role: str, why: str = "") -> None:
        self.source, self.target, self.role = source, target, role
        message = f"{role} may not move a case from {source} to {target}"
        super().__init__(f"{message}: {why}" if why else message)


class FourEyesRequired(ServiceError):
    """This decision takes effect only when a second reviewer confirms it."""


class FourEyesViolation(NotAllowed):
    """The reviewer who proposed a decision cannot also confirm it."""


class ProposalPending(ServiceError):
    """The case already has a decision waiting for confirmation."""


class ReasonRequired(ServiceError):
    """This decision must give its reasons (R07, R12)."""


class ConflictOfInterest(NotAllowed):
    """The reviewer declared a conflict with a company or site of the case."""


class InvalidInput(ServiceError):
    """Input that breaks a rule of the domain; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
