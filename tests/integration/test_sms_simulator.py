"""`grievance sms-sim`: the SMS dialogue in a terminal, against the database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grievance.models import (
    Case,
    Channel,
    Direction,
    InboundSms,
    Mechanism,
    Message,
    OutboundMessage,
    OutboxStatus,
    SmsConversation,
)
from grievance.services import messages
from grievance.services.actors import Actor
from intake.sms import simulator
from intake.sms.conversations import SmsSettings
from intake.sms.simulator import OffsetClock, TerminalGateway, parse_duration, simulate
from tests import factories
from tests.apps import patch_services

NUMBER = "+8801711000001"
RECEIPT = re.compile(r"রসিদ কোড: \d{4} \d{4} \d{4} \d{4}")
BENGALI = [
    "আমাকে তিন মাস ধরে বেতন দেওয়া হয়নি এবং ওভারটাইম বাধ্যতামূলক",
    "১",  # nobody may know who I am
    "1",  # a summary may be published
    "1",  # the statement is finished
    "গাজীপুর",
    "0",  # no company named
]


@pytest.fixture
def mechanism(ctx, session):
    mechanism = factories.make_mechanism(ctx)
    session.commit()
    return mechanism


def run(ctx, lines, number=NUMBER, **options):
    shown: list[str] = []
    report = simulate(ctx, SmsSettings(), number, lines, shown.append, echo=True, **options)
    return report, "\n".join(shown)


def test_a_bengali_session_files_a_case_and_shows_the_receipt_code(ctx, session, mechanism):
    report, output = run(ctx, BENGALI)

    case = session.scalars(select(Case)).one()
    assert report.filed == [case.reference]
    assert case.channel is Channel.SMS
    assert case.language == "bn"
    assert case.mechanism_id == mechanism.id
    assert output.splitlines()[0] == simulator.WARNING
    assert f"→ {BENGALI[0]}" in output  # piped input is echoed
    assert f"(case {case.reference} filed)" in output
    receipt = [line for line in output.splitlines() if RECEIPT.search(line)]
    assert len(receipt) == 1  # shown once, in the text that says the complaint is filed
    assert receipt[0].startswith("← অভিযোগ জমা হয়েছে। কেস নম্বর: " + case.reference)
    assert receipt[0].endswith(" [ucs2, 2 segments]")
    # the webhook's rows, as the worker leaves them: read, emptied
    inbound = session.scalars(select(InboundSms)).all()
    assert len(inbound) == len(BENGALI)
    assert all(row.provider_sid.startswith("SIM") and row.processed_at for row in inbound)
    assert all(row.body_enc == b"" for row in inbound)
    # every reply went to the terminal: nothing is left for Twilio
    rows = session.scalars(select(OutboundMessage)).all()
    assert rows
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.provider_sid.startswith("SIM") for row in rows)
    assert report.shown == len(rows) == output.count("← ")
    assert {row.encoding for row in rows} == {"ucs2"}


def test_each_text_shows_its_encoding_and_segments(ctx, mechanism):
    _report, output = run(ctx, ["hello"])
    replies = [line for line in output.splitlines() if line.startswith("← ")]
    assert replies[0].startswith("← Welcome to the complaints service.")
    assert replies[0].endswith("[gsm7, 1 segment]")
    # the language menu: one text over several lines, each language in its own script
    assert "  3 বাংলা" in output
    assert "አማርኛ [ucs2, 3 segments]" in output
    assert output.count(" segment]") + output.count(" segments]") == len(replies) == 2


def test_wait_lets_an_unfinished_conversation_expire(ctx, session, mechanism):
    report, output = run(ctx, ["hello", "1", "1", "/wait 25h", "/quit", "never read"])

    assert "(25h later: the simulated clock is 1d1h ahead)" in output
    assert "We did not hear from you for a long time" in output
    assert "Nothing was filed." in output
    assert "never read" not in output
    assert report.received == 3
    assert report.filed == []
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    conversation = session.scalars(select(SmsConversation)).one()
    assert conversation.stage == "start"
    assert conversation.due_at is None


def test_wait_ticks_only_the_simulated_number(ctx, session, mechanism):
    run(ctx, ["hello", "1"], number="+8801711000002")
    report, output = run(ctx, ["hello", "1", "/wait 1d"])
    assert "We did not hear from you" in output
    stages = {row.stage for row in session.scalars(select(SmsConversation))}
    assert stages == {"start", "anonymity"}  # the other number's intake is untouched
    assert report.filed == []


def test_a_statement_pause_moves_on_to_the_place(ctx, mechanism):
    _report, output = run(
        ctx, ["hello", "1", "1", "1", "The supervisor shouts at us every day.", "/wait 30m"]
    )
    lines = output.splitlines()
    assert lines[-3] == "(30m later: the simulated clock is 30m ahead)"
    assert lines[-2].startswith("← Where did it happen?")


def test_a_reviewers_reply_shows_with_the_next_line(ctx, session, mechanism):
    lead = factories.make_reviewer(ctx)
    factories.make_reviewer(ctx)
    session.commit()
    run(ctx, ["My wages have not been paid for three months.", "1", "1", "1", "1", "Gazipur", "0"])
    case = session.scalars(select(Case)).one()
    assert {assignment.reviewer_id for assignment in case.assignments} >= {lead.id}
    question = "Can you tell us the name of the factory?"
    messages.add_message(ctx, case, Actor.for_user(lead), question, Channel.SMS)
    session.commit()

    _report, output = run(ctx, ["Konabari unit 1"])
    replies = [line for line in output.splitlines() if line.startswith("← ")]
    assert replies[0].startswith(f"← {case.reference}: Can you tell us the name of the factory?")
    assert replies[1].startswith("← Your message was sent to the reviewers.")


def test_whatsapp(ctx, session, mechanism):
    run(ctx, ["hello"], whatsapp=True)
    conversation = session.scalars(select(SmsConversation)).one()
    assert conversation.channel is Channel.WHATSAPP
    assert {row.channel for row in session.scalars(select(OutboundMessage))} == {Channel.WHATSAPP}


def test_texts_to_a_number_that_said_stop_are_shown_as_not_sent(ctx, session, mechanism):
    factories.make_reviewer(ctx)
    factories.make_reviewer(ctx)
    run(ctx, ["My wages have not been paid for three months.", "1", "1", "1", "1", "0", "0"])
    case = session.scalars(select(Case)).one()
    _report, output = run(ctx, ["STOP"])
    assert "← You will get no more messages from us." in output
    lead = case.assignments[0].reviewer
    messages.add_message(ctx, case, Actor.for_user(lead), "Are you safe?", Channel.SMS)
    session.commit()

    report, output = run(ctx, ["The manager knows who complained."])
    assert "←" not in output  # the words go to the reviewers, silently
    assert "(1 text(s) not sent: this number said STOP)" in output
    assert report.not_sent == 1
    directions = session.scalars(select(Message.direction).where(Message.case_id == case.id))
    assert list(directions) == [Direction.TO_COMPLAINANT, Direction.FROM_COMPLAINANT]


def test_bad_number_and_no_mechanism_are_refused(ctx, session):
    with pytest.raises(ValueError, match="there is no mechanism to file with"):
        run(ctx, ["hello"])
    factories.make_mechanism(ctx)
    with pytest.raises(ValueError, match="there is no mechanism NST to file with"):
        simulate(ctx, SmsSettings(mechanism_code="NST"), NUMBER, ["hello"], print)
    with pytest.raises(ValueError, match="international form"):
        run(ctx, ["hello"], number="01711000001")


def test_durations():
    assert parse_duration(" 30m") == timedelta(minutes=30)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    for wrong in ("", "0m", "soon", "30", "3x", "-1h"):
        assert parse_duration(wrong) is None


def test_offset_clock(clock):
    shifted = OffsetClock(clock)
    assert shifted.now() == clock.now()
    shifted.advance(timedelta(hours=2))
    assert shifted.now() == clock.now() + timedelta(hours=2)


def test_terminal_gateway_measures_what_it_shows():
    shown: list[str] = []
    sent = TerminalGateway(shown.append).send(Channel.SMS, NUMBER, "আমি " * 30)
    assert sent.provider_sid.startswith("SIM")
    assert (sent.encoding, sent.segments) == ("ucs2", 2)
    assert shown[0].endswith("[ucs2, 2 segments]")
    silent = TerminalGateway()
    assert silent.send(Channel.SMS, NUMBER, "hi").encoding == "gsm7"
    assert silent.sent == ["hi"]


# -- the command ------------------------------------------------------------------------


def test_the_command_runs_a_session_from_its_input(app, session, mechanism):
    result = app.test_cli_runner().invoke(
        args=["grievance", "sms-sim", "--from", NUMBER], input="\n".join(BENGALI) + "\n"
    )
    assert result.exit_code == 0, result.output
    assert simulator.WARNING in result.output
    case = session.scalars(select(Case)).one()
    assert case.channel is Channel.SMS
    assert f"→ {BENGALI[-1]}" in result.output
    assert f"(case {case.reference} filed)" in result.output
    assert RECEIPT.search(result.output)


def test_the_command_on_whatsapp_with_a_mechanism(app, ctx, session, mechanism):
    factories.make_mechanism(ctx, "NST")
    session.commit()
    result = app.test_cli_runner().invoke(
        args=["grievance", "sms-sim", "--from", NUMBER, "--whatsapp", "--mechanism", "NST"],
        input="hello\n",
    )
    assert result.exit_code == 0, result.output
    conversation = session.scalars(select(SmsConversation)).one()
    assert conversation.channel is Channel.WHATSAPP
    nst = session.scalars(select(Mechanism).where(Mechanism.code == "NST")).one()
    assert conversation.mechanism_id == nst.id
    assert "on whatsapp: a new conversation with mechanism NST." in result.output

    again = app.test_cli_runner().invoke(
        args=["grievance", "sms-sim", "--from", NUMBER], input="1\n"
    )
    assert again.exit_code == 0, again.output
    assert "on sms: its conversation with mechanism NST goes on (stage language)." in again.output
    assert "← Welcome to the complaints service. It is free." in again.output


def test_the_command_refuses_a_bad_number(app, mechanism):
    result = app.test_cli_runner().invoke(
        args=["grievance", "sms-sim", "--from", "12345"], input="hello\n"
    )
    assert result.exit_code == 2
    assert "international form" in result.output


def test_the_command_refuses_production(app, session, settings, monkeypatch, mechanism):
    patch_services(monkeypatch, app, settings=replace(settings, env="production"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grievance", "sms-sim", "--from", NUMBER], input="hello\n")
    assert result.exit_code == 2
    assert "--yes-production" in result.output
    assert session.scalar(select(func.count()).select_from(InboundSms)) == 0

    result = runner.invoke(
        args=["grievance", "sms-sim", "--from", NUMBER, "--yes-production"], input="hello\n"
    )
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(InboundSms)) == 1
