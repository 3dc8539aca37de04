"""What `grievance generate` is asked for (`Spec`), what it made (`Report`), and the
spread it draws cases from: weights, not shares (a policy's language or theme missing
here weighs 1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from grievance.models import Anonymity, Channel, ComplainantKind, ReprisalRisk, Stage

MECHANISM_PREFIX = "SYN"
REVIEWER_DOMAIN = "synthetic.example.org"
#: The password of every generated reviewer (they enrol a second factor at first sign-in).
REVIEWER_PASSWORD = "synthetic-password"  # noqa: S105 - synthetic accounts, never production
STATEMENT = (
    "Synthetic case made by `grievance generate` for load tests and benchmarks. "
    "Nobody wrote this; no person is behind it."
)
REASON = "Synthetic case: no reasons were written."
#: What the lead logs of hearing the complainant before the investigation ends (R08).
HEARD_NOTE = "Synthetic case: heard by phone; no conversation took place."
#: The last reason routing would give, which it did not: `grievance generate` chose.
ROUTING_NOTE = "synthetic: assigned in turn by `grievance generate`, capacity ignored"
BATCH_SIZE = 10_000


def reviewer_email(number: int) -> str:
    return f"reviewer-{number:04d}@{REVIEWER_DOMAIN}"


# -- the spread ------------------------------------------------------------------------

LANGUAGE_WEIGHTS = {
    "bn": 20, "ta": 11, "hi": 11, "ur": 9, "en": 10, "tr": 8, "zh": 7,
    "vi": 3, "km": 3, "my": 3, "id": 3, "sw": 2, "am": 2, "es": 2, "ar": 2,
    "pt": 1.5, "fr": 1.5, "nl": 0.5,
}  # fmt: skip
COUNTRIES = {
    "bn": ["BD"], "ta": ["IN", "LK"], "hi": ["IN"], "ur": ["PK"],
    "en": ["IN", "BD", "PK", "KE", "GH", "PH", "LK"], "tr": ["TR"], "zh": ["CN"],
    "vi": ["VN"], "km": ["KH"], "my": ["MM"], "id": ["ID"], "sw": ["KE", "TZ"], "am": ["ET"],
    "es": ["GT", "HN", "PE", "MX"], "ar": ["EG", "JO", "MA"], "pt": ["BR", "MZ"],
    "fr": ["MA", "MG", "TN"], "nl": ["NL"],
}  # fmt: skip
OTHER_COUNTRIES = ["BD", "IN", "PK"]
THEME_WEIGHTS = {
    "living_wage": 20, "health_and_safety": 16, "working_hours": 14,
    "freedom_of_association": 10, "discrimination_gender": 9, "gender_based_violence": 6,
    "environment": 6, "land_rights": 5, "other": 5, "child_labour": 3, "forced_labour": 3,
    "reprisal": 3,
}  # fmt: skip
THEME_COUNTS = {1: 55, 2: 32, 3: 13}
STAGE_WEIGHTS = {
    Stage.RECEIVED: 12, Stage.ACKNOWLEDGED: 17, Stage.ADMISSIBILITY: 20,
    Stage.INVESTIGATION: 17, Stage.DIALOGUE: 4, Stage.FINDINGS: 3, Stage.REMEDY_PLAN: 3,
    Stage.REMEDY_IMPLEMENTATION: 3, Stage.REMEDY_VERIFICATION: 2, Stage.APPEAL: 1,
    Stage.INADMISSIBLE: 7, Stage.REFERRED: 3, Stage.WITHDRAWN: 3, Stage.CLOSED: 5,
}  # fmt: skip
#: The stages a withdrawn case was withdrawn from.
WITHDRAWN_FROM = (Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INVESTIGATION)
#: Days a case spent in a stage it has left (from, to). The current stage has lasted up
#: to OVERRUN times the longest, so some cases run past their time limits.
STAGE_DAYS = {
    Stage.RECEIVED: (0.05, 6.0), Stage.ACKNOWLEDGED: (1.0, 14.0),
    Stage.ADMISSIBILITY: (7.0, 80.0), Stage.DIALOGUE: (30.0, 170.0),
    Stage.INVESTIGATION: (20.0, 85.0), Stage.FINDINGS: (5.0, 30.0),
    Stage.REMEDY_PLAN: (10.0, 55.0), Stage.REMEDY_IMPLEMENTATION: (30.0, 150.0),
    Stage.REMEDY_VERIFICATION: (10.0, 40.0), Stage.APPEAL: (10.0, 55.0),
    Stage.INADMISSIBLE: (10.0, 60.0),
}  # fmt: skip
OVERRUN = 1.15
#: Days since an ended case ended.
ENDED_DAYS = (1.0, 540.0)
CHANNEL_WEIGHTS = {
    Channel.WEB: 40, Channel.SMS: 22, Channel.WHATSAPP: 16, Channel.API: 6, Channel.PHONE: 6,
    Channel.IN_PERSON: 4, Channel.LETTER: 3, Channel.EMAIL: 3,
}  # fmt: skip
KIND_WEIGHTS = {
    ComplainantKind.AFFECTED: 70, ComplainantKind.UNION: 12, ComplainantKind.REPRESENTATIVE: 8,
    ComplainantKind.CSO: 7, ComplainantKind.NOTIFIER: 3,
}  # fmt: skip
ANONYMITY_WEIGHTS = {Anonymity.CONFIDENTIAL: 55, Anonymity.ANONYMOUS: 35, Anonymity.OPEN: 10}
URGENT_SHARE = 0.03
SEVERITY_WEIGHTS = {1: 15, 2: 30, 3: 30, 4: 17, 5: 8}
LIKELIHOOD_WEIGHTS = {1: 10, 2: 25, 3: 35, 4: 20, 5: 10}
REPRISAL_WEIGHTS = {ReprisalRisk.LOW: 72, ReprisalRisk.MEDIUM: 20, ReprisalRisk.HIGH: 8}
#: Shares of cases assessed: past admissibility, and still in it; with a reprisal risk.
ASSESSED_PAST, ASSESSED_DURING, REPRISAL_ASSESSED = 0.85, 0.45, 0.9
SECTORS = ("textile", "agriculture", "electronics", "mining", "toys")
#: How long before a decision taken with four eyes the lead proposed it (at most half the
#: time the case spent in the stage it leaves).
PROPOSED_HOURS_BEFORE = 20


# -- what was asked, what was made -----------------------------------------------------


@dataclass(frozen=True)
class Spec:
    cases: int
    mechanisms: int = 3
    reviewers: int = 50
    seed: int = 1
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if self.cases < 1 or self.mechanisms < 1 or self.batch_size < 1:
            raise ValueError("cases, mechanisms and the batch size must be at least 1")
        if self.mechanisms > 99:
            raise ValueError("at most 99 mechanisms (SYN01 to SYN99)")
        if self.reviewers < 2:
            raise ValueError("every case has two reviewers: give at least 2")


@dataclass
class Report:
    cases: int = 0
    first_case_id: int | None = None
    last_case_id: int | None = None
    mechanisms: list[str] = field(default_factory=list)
    mechanisms_created: list[str] = field(default_factory=list)
    reviewers: int = 0
    reviewers_created: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    #: Open cases per reviewer id, among the cases of this run.
    loads: Counter[int] = field(default_factory=Counter)
    open_cases: int = 0
    overdue: int = 0
    first_band: int = 0
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        def shares(counts: Counter[str], top: int | None = None) -> str:
            return ", ".join(
                f"{name} {count / self.cases:.0%}" for name, count in counts.most_common(top)
            )

        rate = self.cases / self.seconds if self.seconds else 0.0
        tables = ", ".join(f"{count:,} {name}" for name, count in sorted(self.rows.items()))
        loads = sorted(self.loads.values()) or [0]
        return "\n".join(
            [
                f"Generated {self.cases:,} synthetic cases (ids {self.first_case_id} to "
                f"{self.last_case_id}) in {self.seconds:.1f} s ({rate:,.0f} cases/s).",
                f"Mechanisms: {', '.join(self.mechanisms)} "
                f"(created: {', '.join(self.mechanisms_created) or 'none'}).",
                f"Reviewers: {self.reviewers} (created: {self.reviewers_created}), "
                f"{reviewer_email(1)} to {reviewer_email(self.reviewers)}, password "
                f"{REVIEWER_PASSWORD!r} (a second factor is enrolled at the first sign-in); "
                f"open cases each: {loads[0]:,} to {loads[-1]:,}.",
                f"Rows written: {tables}.",
                f"Stages: {shares(self.stages)}.",
                f"Languages: {shares(self.languages, 8)}, …",
                f"Open cases: {self.open_cases:,}, {self.overdue:,} of them overdue, "
                f"{self.first_band:,} in the queue's first band (irremediable or urgent).",
            ]
        )
