"""The domain model (DESIGN §3), one module per aggregate."""

from grievance.models.base import Base
from grievance.models.case import (
    Anonymity,
    Assignment,
    AssignmentRole,
    Case,
    CaseTheme,
    Channel,
    Complainant,
    ComplainantKind,
    Consent,
    ContactChannel,
    DecisionProposal,
    ProposalState,
    ReferenceCounter,
    ReprisalRisk,
    Stage,
)
from grievance.models.company import Company, CompanyKind, Site
from grievance.models.deadline import Deadline, DeadlineNotice, DeadlineState, NoticeKind
from grievance.models.event import CaseEvent, Visibility
from grievance.models.involvement import (
    ComplainantResponse,
    Involvement,
    InvolvementKind,
    Obligation,
    ObligationStatus,
    RemedyAction,
    RemedyStatus,
)
from grievance.models.mechanism import Mechanism, MechanismPolicy
from grievance.models.message import Attachment, Direction, Message, OutboundMessage, OutboxStatus
from grievance.models.user import STAFF_ROLES, Conflict, ReviewerProfile, Role, User
from grievance.models.vault import DataKey

__all__ = [
    "STAFF_ROLES",
    "Anonymity",
    "Assignment",
    "AssignmentRole",
    "Attachment",
    "Base",
    "Case",
    "CaseEvent",
    "CaseTheme",
    "Channel",
    "Company",
    "CompanyKind",
    "Complainant",
    "ComplainantKind",
    "ComplainantResponse",
    "Conflict",
    "Consent",
    "ContactChannel",
    "DataKey",
    "Deadline",
    "DeadlineNotice",
    "DeadlineState",
    "DecisionProposal",
    "Direction",
    "Involvement",
    "InvolvementKind",
    "Mechanism",
    "MechanismPolicy",
    "Message",
    "NoticeKind",
    "Obligation",
    "ObligationStatus",
    "OutboundMessage",
    "OutboxStatus",
    "ProposalState",
    "ReferenceCounter",
    "RemedyAction",
    "RemedyStatus",
    "ReprisalRisk",
    "ReviewerProfile",
    "Role",
    "Site",
    "Stage",
    "User",
    "Visibility",
]
