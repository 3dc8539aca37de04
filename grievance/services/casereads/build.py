"""Building each audience's view of a case from the database, checked against who asks.

Each builder reads every kind of row it needs once (the events in one query, the
messages in one, the staff names in one ...), whatever the length of the log or the
conversation: no query per event or per message. Sealed words are opened only for the
audiences that read them (the complainant, the assigned reviewers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from types import MappingProxyType

from sqlalchemy import func, select

from grievance.models import Case, Company, Complainant, Direction, Role, User
from grievance.services import satisfaction, translations, transparency
from grievance.services.actors import Actor, acts_on_case
from grievance.services.casereads import parts
from grievance.services.casereads.audiences import (
    COMPLAINANT,
    PUBLIC,
    REVIEWER,
    SECRETARIAT,
    Audience,
    CompanyScope,
)
from grievance.services.casereads.log import case_events, event_views
from grievance.services.casereads.views import (
    AssignmentView,
    CompanyCaseView,
    ComplainantCaseView,
    EventView,
    MessageView,
    PartyMessage,
    PartyTranslation,
    ProposalView,
    PublicCaseView,
    ReviewerCaseView,
    SecretariatCaseView,
    SiteView,
    TranslationView,
)
from grievance.services.context import Context
from grievance.services.errors import NotAllowed
from grievance.services.messages import read_message

# -- the views -------------------------------------------------------------------------


def public_view(ctx: Context, case: Case) -> PublicCaseView:
    """A published case as anyone may see it: its public facts and `public` events with
    their `public` fields, nobody named. Published is `transparency.is_published`, the one
    rule of every public surface (the older `Case.published` flag is not read)."""
    if not transparency.is_published(ctx, case):
        raise NotAllowed("the case is not published")
    return PublicCaseView(parts.facts(ctx, case), event_views(case_events(ctx, case), PUBLIC))


def complainant_view(ctx: Context, case: Case, complainant: Complainant) -> ComplainantCaseView:
    """The case as one of its complainants follows it: the `parties` log, the open time
    limits, the companies and remedy, and their conversation with the reviewers (in a
    collective case, messages to and from another complainant are not theirs)."""
    if complainant.case_id != case.id:
        raise NotAllowed("not this complainant's case")
    erased = case.identities_erased_at is not None
    conversation: list[PartyMessage] = []
    reasons: dict[int, tuple[PartyTranslation, ...]] = {}
    raw = case_events(ctx, case)
    if not erased:
        rows = parts.messages_of(ctx, case)
        theirs = {row.id for row in rows if row.direction is not Direction.FROM_COMPLAINANT}
        translated: dict[int, list[PartyTranslation]] = {}
        if theirs or any(translations.reasons_given(case, event) for event in raw):
            translated, reasons = _translations_for_parties(ctx, case, theirs)
        for row in rows:
            mine = row.direction is Direction.FROM_COMPLAINANT
            if row.complainant_id not in ((complainant.id,) if mine else (None, complainant.id)):
                continue
            body = read_message(ctx, row)
            attached = () if mine else tuple(translated.get(row.id, ()))
            conversation.append(PartyMessage(row.id, row.created_at, mine, body, attached))
    time_limits = parts.time_limits(ctx, case)
    return ComplainantCaseView(
        facts=parts.facts(ctx, case),
        waiting=case.clock_paused_at is not None,
        erased=erased,
        time_limits=time_limits,
        events=event_views(raw, COMPLAINANT),
        messages=tuple(conversation),
        files=() if erased else parts.files(ctx, case, {m.id for m in conversation}),
        companies=tuple(parts.company(row) for row in parts.involvements(ctx, case)),
        remedy_actions=parts.remedy_views(parts.remedy_actions(ctx, case)),
        satisfaction_open=any(limit.code == satisfaction.CODE for limit in time_limits),
        # their own words: the filer's (in a collective case, another complainant who
        # joined did not write them)
        words=None if erased or not _filed_it(ctx, case, complainant) else parts.words(ctx, case),
        language=case.language,
        anonymity=complainant.anonymity,
        contact_channel=complainant.contact_channel,
        site=_site(case),
        reason_translations=MappingProxyType(reasons),
    )


def _translations_for_parties(
    ctx: Context, case: Case, ids: set[int]
) -> tuple[dict[int, list[PartyTranslation]], dict[int, tuple[PartyTranslation, ...]]]:
    """The translations reviewers attached for the complainant: to these messages (theirs,
    to the complainant), and to the reasons of events (by `seq`)."""
    found: dict[int, list[PartyTranslation]] = defaultdict(list)
    reasons: dict[int, list[PartyTranslation]] = defaultdict(list)
    for row in translations.translations_of(ctx, case):
        if row.event_seq is not None:
            text = translations.read_translation(ctx, row)
            reasons[row.event_seq].append(PartyTranslation(row.language, text))
        elif row.message_id in ids:
            text = translations.read_translation(ctx, row)
            found[row.message_id].append(PartyTranslation(row.language, text))
    return found, {seq: tuple(rows) for seq, rows in reasons.items()}


def _filed_it(ctx: Context, case: Case, complainant: Complainant) -> bool:
    first = ctx.session.scalar(
        select(func.min(Complainant.id)).where(Complainant.case_id == case.id)
    )
    return first == complainant.id


def _site(case: Case) -> SiteView | None:
    site = case.site
    return SiteView(site.name, site.company.name, site.country) if site is not None else None


def company_view(ctx: Context, case: Case, company: Company) -> CompanyCaseView:
    """The case as a company in it sees it: the case's stages, decisions and time limits,
    and what concerns this company (its involvement, obligations, remedy actions and
    their time limits). Never an identity, the complainant's words, messages or files,
    nor anything of another company."""
    own = next((row for row in parts.involvements(ctx, case) if row.company_id == company.id), None)
    if own is None:
        raise NotAllowed("the company is not in this case")
    actions = parts.remedy_actions(ctx, case)
    scope = CompanyScope({row.id: row.company_id for row in actions})
    return CompanyCaseView(
        facts=parts.facts(ctx, case),
        company_id=company.id,
        waiting=case.clock_paused_at is not None,
        time_limits=parts.time_limits(ctx, case, lambda code: scope.keeps_code(code, company.id)),
        events=event_views(case_events(ctx, case), Audience.company(company.id), scope),
        company=parts.company(own),
        remedy_actions=parts.remedy_views(row for row in actions if row.company_id == company.id),
    )


def _staff_ids(
    events: Sequence[EventView],
    reviewers: Sequence[AssignmentView],
    proposal: ProposalView | None,
) -> list[int | None]:
    ids: list[int | None] = [event.actor_id for event in events]
    ids += [event.fields.get("reviewer_id") for event in events]
    ids += [row.reviewer_id for row in reviewers]
    if proposal is not None:
        ids.append(proposal.proposed_by_id)
    return ids


def secretariat_view(ctx: Context, case: Case, user: User) -> SecretariatCaseView:
    """The case as the secretariat of its mechanism oversees it: the `reviewers` log,
    facts and assessments, parties and reviewers; not the complainant's words."""
    if user.role is not Role.SECRETARIAT or not acts_on_case(
        ctx.session, Actor.for_user(user), case
    ):
        raise NotAllowed("not a secretariat user of the case's mechanism")
    events = event_views(case_events(ctx, case), SECRETARIAT)
    reviewers = parts.reviewers(ctx, case)
    proposal = parts.proposal(ctx, case)
    return SecretariatCaseView(
        facts=parts.facts(ctx, case),
        staff=parts.staff_facts(case),
        waiting=case.clock_paused_at is not None,
        time_limits=parts.time_limits(ctx, case),
        events=events,
        companies=tuple(parts.company(row) for row in parts.involvements(ctx, case)),
        remedy_actions=parts.remedy_views(parts.remedy_actions(ctx, case)),
        complainants=parts.complainants(ctx, case),
        reviewers=reviewers,
        proposal=proposal,
        staff_names=parts.staff_names(ctx, _staff_ids(events, reviewers, proposal)),
    )


def reviewer_view(ctx: Context, case: Case, reviewer: User) -> ReviewerCaseView:
    """The case as one of its assigned reviewers works on it: the secretariat's view and
    the complainant's words, messages (with the reviewers' translations) and files."""
    if reviewer.role is not Role.REVIEWER or not acts_on_case(
        ctx.session, Actor.for_user(reviewer), case
    ):
        raise NotAllowed("not a reviewer of this case now")
    raw = case_events(ctx, case)
    events = event_views(raw, REVIEWER)
    reviewers = parts.reviewers(ctx, case)
    proposal = parts.proposal(ctx, case)
    erased = case.identities_erased_at is not None
    rows = [] if erased else parts.messages_of(ctx, case)
    kept = [] if erased else translations.translations_of(ctx, case)
    translated: dict[int | None, list[TranslationView]] = defaultdict(list)
    reasons: dict[int, list[TranslationView]] = defaultdict(list)
    for row in kept:  # the statement's (no message), each message's, each reasons'
        text = translations.read_translation(ctx, row)
        made = TranslationView(row.language, text, row.translator_id, row.created_at)
        if row.event_seq is not None:
            reasons[row.event_seq].append(made)
        else:
            translated[row.message_id].append(made)
    feedback = {e.payload.get("message_id") for e in raw if e.kind == "feedback_given"}
    conversation = tuple(
        MessageView(
            id=row.id,
            created_at=row.created_at,
            from_complainant=row.direction is Direction.FROM_COMPLAINANT,
            author_id=row.author_id,
            channel=row.channel,
            feedback=row.id in feedback,
            body=read_message(ctx, row),
            translations=tuple(translated.get(row.id, ())),
        )
        for row in rows
    )
    ids = _staff_ids(events, reviewers, proposal)
    ids += [row.author_id for row in rows] + [t.translator_id for t in kept]
    site = case.site
    return ReviewerCaseView(
        facts=parts.facts(ctx, case),
        staff=parts.staff_facts(case),
        waiting=case.clock_paused_at is not None,
        erased=erased,
        time_limits=parts.time_limits(ctx, case),
        events=events,
        companies=tuple(parts.company(row) for row in parts.involvements(ctx, case)),
        remedy_actions=parts.remedy_views(parts.remedy_actions(ctx, case)),
        site=SiteView(site.name, site.company.name, site.country) if site is not None else None,
        complainants=parts.complainants(ctx, case),
        reviewers=reviewers,
        proposal=proposal,
        staff_names=parts.staff_names(ctx, ids),
        words=None if erased else parts.words(ctx, case),
        statement_translations=tuple(translated.get(None, ())),
        messages=conversation,
        files=() if erased else parts.files(ctx, case),
        reason_translations=MappingProxyType({seq: tuple(t) for seq, t in reasons.items()}),
    )
