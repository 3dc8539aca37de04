"""Words of the notifications, translatable (DESIGN invariant 7): what each kind says in
the inbox and in e-mails, the e-mail choices, and what a complainant's notice says.
None of them holds case content: only what happened (and, beside it, the reference)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from grievance.models import EmailMode
from grievance.services import mailbox
from grievance.services import notifications as n

#: What happened, one sentence per kind of notification.
NOTICE_TEXTS = {
    n.CASE_ASSIGNED: _l("You were put on a case as a reviewer."),
    n.URGENT_CASE: _l("You were put on an urgent case: someone may be in danger."),
    n.REVIEWER_NEEDED: _l("A case needs a reviewer: nobody eligible is free."),
    n.DEADLINE_REMINDER: _l("A time limit is near."),
    n.DEADLINE_ESCALATED: _l("A time limit was missed."),
    n.MESSAGE_FROM_COMPLAINANT: _l("The complainant wrote to the reviewers."),
    n.COMPANY_REPORTED: _l("A company reported on a remedy action."),
    n.DECISION_WAITING: _l("A decision waits for your confirmation."),
    n.COMPANY_CASE: _l("Your company was named in a case."),
    n.COMPANY_DEADLINE: _l("Your company has a remedy action with a due date."),
    n.CASE_CONTESTED: _l("A decision was appealed."),
    n.REMEDY_DISPUTED: _l("The complainant disputes a remedy action."),
    n.EFFECTIVENESS_REVIEW: _l("The yearly effectiveness review of your mechanism is due."),
    n.PASSWORD_CHANGED: _l("Your password was changed."),
    n.PASSWORD_RESET: _l("An administrator reset your password."),
    n.SECOND_FACTOR_ADDED: _l("An authenticator app was set up for your account."),
    n.SECOND_FACTOR_REMOVED: _l(
        "An administrator removed the authenticator app from your account."
    ),
    n.RECOVERY_CODE_USED: _l("A recovery code was used to sign in to your account."),
    n.RECOVERY_CODES_RENEWED: _l(
        "New recovery codes were made for your account: the old ones no longer work."
    ),
    n.NEW_DEVICE: _l("Someone signed in to your account from a new browser or device."),
}
#: Said after a security notice.
IF_NOT_YOU = _l("If this was not you, tell your administrator at once.")

#: The e-mail choices of a staff user.
MODE_NAMES = {
    EmailMode.IMMEDIATE: _l("At once: one e-mail for each notification"),
    EmailMode.DIGEST: _l("Once a day: a summary of the day's notifications, the next morning"),
    EmailMode.URGENT_ONLY: _l("Only for urgent cases: read the rest in your inbox"),
}
ALWAYS_AT_ONCE = _l(
    "Urgent cases and security notices (your password, your second factor, a sign-in from a new browser) are always e-mailed at once."
)

#: What a complainant who chose e-mail is told (never what was written).
COMPLAINANT_TEXTS = {
    mailbox.MESSAGE: _l("The reviewers wrote to you."),
    mailbox.INFORMATION_REQUESTED: _l("The reviewers ask you for more information."),
    mailbox.ACKNOWLEDGED: _l("Your complaint was received, and the reviewers are handling it."),
    mailbox.REMEDY_QUESTION: _l("The reviewers ask whether the harm was put right."),
}
