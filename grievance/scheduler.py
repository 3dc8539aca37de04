"""The worker: APScheduler in its own process (`flask --app wsgi grievance worker`),
never inside web workers. Its jobs only call services; the database holds every piece
of state (deadlines, notices, tasks), so a restart loses nothing and several workers
at once send nothing twice (see `grievance.services.sweep`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from grievance.config import Settings
from grievance.extensions import db, sqlite_writer
from grievance.http.context import app_services, current_settings, service_context
from grievance.services.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    run: Callable[[Context], object]
    #: A setting (of `Settings`) that gives the interval instead of `seconds`.
    interval_setting: str | None = None

    def interval(self, settings: Settings) -> int:
        if self.interval_setting is None:
            return self.seconds
        value = getattr(settings, self.interval_setting)
        assert isinstance(value, int)
        return value


def _sweep(ctx: Context) -> object:
    from grievance.services.sweep import sweep_deadlines

    return sweep_deadlines(ctx)


def _reviewer_loads(ctx: Context) -> object:
    from grievance.services import loads

    return loads.compact(ctx.session) or ""  # said (at INFO) only when it folded rows


def _retention(ctx: Context) -> object:
    from grievance.services.retention import erase_expired_identities

    return len(erase_expired_identities(ctx))


def _pending_uploads(ctx: Context) -> object:
    from grievance.services.attachments import purge_pending

    return purge_pending(ctx)


def _sign_in_throttles(ctx: Context) -> object:
    from grievance.services.accounts import purge_throttles

    return purge_throttles(ctx)


def _followup_sessions(ctx: Context) -> object:
    from grievance.services.followup_sessions import purge_sessions

    return purge_sessions(ctx)


def _sms(ctx: Context) -> object:
    """Inbound SMS through the dialogue, silences, then the outbox (its replies first)."""
    from flask import current_app

    from grievance.services.outbox import drain
    from intake.sms.conversations import (
        SmsSettings,
        forget_read_inbound,
        process_inbound,
        tick_conversations,
    )
    from intake.sms.twilio import TwilioGateway

    settings = current_settings()
    sms = SmsSettings.from_settings(settings)
    processed = process_inbound(ctx, sms)
    ticked = tick_conversations(ctx, sms)
    forget_read_inbound(ctx)
    gateway = current_app.extensions.get("grievance.sms_gateway") or TwilioGateway.from_settings(
        settings
    )
    if gateway is None:
        if processed.messages or ticked:
            return f"{processed.messages} read, {ticked} ticked; Twilio is not configured"
        return ""
    current_app.extensions["grievance.sms_gateway"] = gateway
    report = drain(ctx, gateway)
    if not (processed.messages or ticked or report.sent or report.retried or report.failed):
        return ""
    return (
        f"{processed.messages} read, {ticked} ticked, {report.sent} sent, "
        f"{report.retried} to retry, {report.failed} failed, {report.cancelled} cancelled"
    )


def _mail(ctx: Context) -> object:
    """The mail outbox: SMTP, files under instance/mail/ outside production, or nothing
    (production without SMTP_URL: mails wait)."""
    from flask import current_app

    from grievance.http.mail import MailRenderer, transport_for
    from grievance.services.mailbox import drain

    settings = current_settings()
    transport = current_app.extensions.get("grievance.mail_transport") or transport_for(settings)
    if transport is None:
        if not current_app.extensions.get("grievance.mail_unset_said"):
            log.warning("worker: SMTP_URL is not set: e-mails wait in the outbox")
            current_app.extensions["grievance.mail_unset_said"] = True
        return ""
    report = drain(ctx, transport, MailRenderer(current_app), sender=settings.mail_from)
    if not report:
        return ""
    return (
        f"{report.sent} sent, {report.retried} to retry, {report.failed} failed "
        f"({report.refused} refused), {report.cancelled} cancelled"
    )


def _digests(ctx: Context) -> object:
    from grievance.services.digests import queue_digests

    return queue_digests(ctx)


def _satisfaction(ctx: Context) -> object:
    from grievance.services.satisfaction import ask_due
    from intake.sms.conversations import ask_satisfaction

    return ask_due(ctx, ask_satisfaction)


def _remedy_plans(ctx: Context) -> object:
    from grievance.services.remedy_texts import text_due
    from intake.sms.conversations import ask_remedy_plan

    return text_due(ctx, ask_remedy_plan)


def _reviews(ctx: Context) -> object:
    from grievance.services.reviews import review_job

    return review_job(ctx)


def _transparency(ctx: Context) -> object:
    """New events into the transparency log's tree, and a signed checkpoint if it grew."""
    from grievance.services.transparency import catch_up, origin_for

    done = catch_up(ctx, origin_for(current_settings().public_base_url))
    if done is None:
        return "another worker is integrating"
    # every two minutes: says nothing ("") when there was nothing to integrate
    return str(done) if done.added or done.checkpoint else ""


JOBS = (
    Job("sms", 3, _sms, interval_setting="sms_poll_seconds"),
    Job("deadline sweep", 60, _sweep),
    Job("reviewer loads", 60, _reviewer_loads),
    Job("retention", 3600, _retention),
    Job("satisfaction checks", 3600, _satisfaction),
    Job("remedy plan questions", 300, _remedy_plans),
    Job("effectiveness reviews", 3600, _reviews),
    Job("pending uploads", 3600, _pending_uploads),
    Job("sign-in throttles", 3600, _sign_in_throttles),
    Job("follow-up sessions", 900, _followup_sessions),
    # every few minutes, and at start: the demo has a signed checkpoint at once
    Job("transparency log", 120, _transparency),
    # last: what the jobs above told people goes out in the same run
    Job("mail digests", 600, _digests),
    Job("mail", 10, _mail),
)


def run_job(app: Flask, job: Job) -> None:
    """One run of a job in a fresh app context; a failure is logged, never fatal."""
    with app.app_context(), sqlite_writer():
        try:
            outcome = job.run(service_context())
            db.session.commit()
            # The SMS and mail jobs run every few seconds: they say nothing when they did
            # nothing ("").
            level = logging.DEBUG if outcome == "" else logging.INFO
            log.log(level, "worker: %s done: %s", job.name, outcome)
        except Exception:
            db.session.rollback()
            log.exception("worker: %s failed", job.name)


def run_once(app: Flask) -> None:
    for job in JOBS:
        run_job(app, job)


def build_scheduler(app: Flask) -> BlockingScheduler:
    # APScheduler logs two lines per run at INFO; the SMS job runs every few seconds and
    # `run_job` already says what each run did.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BlockingScheduler(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            run_job,
            "interval",
            seconds=job.interval(app_services(app).settings),
            args=(app, job),
            id=job.name,
            max_instances=1,
            coalesce=True,
            next_run_time=None,
        )
    return scheduler


def run_forever(app: Flask) -> None:
    run_once(app)  # catch up at once: a worker back after days processes what it missed
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        job.resume()
    log.info("worker: started with %s", ", ".join(job.name for job in JOBS))
    scheduler.start()
