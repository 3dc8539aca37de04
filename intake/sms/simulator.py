"""The SMS dialogue in a terminal (`flask --app wsgi grievance sms-sim --from NUMBER`).

For demonstrations, training and trying things by hand, against the database the app
runs on: each line typed is one inbound message, recorded exactly as the Twilio webhook
records it (`record_inbound`, with a made-up `MessageSid`), read at once as the worker
would read it (`process_inbound`, for this number only), and what the outbox then holds
for the number is delivered to the terminal instead of Twilio (`TerminalGateway`), with
its encoding and number of segments: what the text would cost. A reviewer's reply queued
meanwhile for the number is shown with the next line.

Cases filed here are real cases of the database. `/wait 30m` (`2h`, `1d`, `1h30m`) lets
time pass on a clock of the simulator's own (`OffsetClock`), which every step of the
session then uses: the silences of the dialogue (`tick_conversations`, for this number
only) play out as they would, and what is filed afterwards carries the simulated time.
`/quit`, or the end of the input (Ctrl-D), ends the session; the conversation is kept,
so a later session from the same number continues it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from grievance.clock import Clock, SystemClock
from grievance.models import Channel, Mechanism, SmsConversation
from grievance.services import contacts, outbox
from grievance.services.context import Context
from grievance.services.outbox import Sent
from intake.sms.conversations import (
    SmsSettings,
    process_inbound,
    record_inbound,
    sms_mechanism,
    tick_conversations,
)
from intake.sms.segments import Measure, measure
from intake.sms.twilio import WHATSAPP_PREFIX, parse_address

WARNING = (
    "Warning: sms-sim writes to the database it runs against: every message is recorded "
    "and a complaint sent here is filed as a real case."
)
USAGE = "Commands: /wait 30m (or 2h, 1d) lets time pass; /quit (or Ctrl-D) ends."
_DURATION = re.compile(r"(\d+)\s*([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
#: Replies shown are prefixed with this; lines read from a pipe are echoed with "→ ".
REPLY_MARK = "← "
INPUT_MARK = "→ "

Output = Callable[[str], None]


def _plain(text: str) -> str:
    return text


class OffsetClock:
    """A clock running `offset` ahead of `base` (the system clock unless told)."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base: Clock = base or SystemClock()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def cost(measured: Measure) -> str:
    """'[ucs2, 2 segments]': what a text costs on the network."""
    plural = "" if measured.segments == 1 else "s"
    return f"[{measured.encoding.value}, {measured.segments} segment{plural}]"


class TerminalGateway:
    """An `outbox.SmsGateway` that shows each text instead of sending it (or, without
    `out`, just takes it: the demo data's texts to its fake numbers)."""

    def __init__(self, out: Output | None = None, dim: Callable[[str], str] = _plain) -> None:
        self.out = out
        self.dim = dim
        self.sent: list[str] = []

    def send(self, channel: Channel, to: str, body: str) -> Sent:
        measured = measure(body)
        self.sent.append(measured.text)
        if self.out is not None:
            shown = "\n  ".join(measured.text.splitlines() or [""])
            self.out(f"{REPLY_MARK}{shown} {self.dim(cost(measured))}")
        return Sent(
            provider_sid="SIM" + secrets.token_hex(16),
            encoding=measured.encoding.value,
            segments=measured.segments,
        )


def parse_duration(text: str) -> timedelta | None:
    """'30m', '2h', '1d', '1h30m' as a timedelta; None for anything else."""
    compact = text.replace(" ", "").lower()
    if not compact or _DURATION.sub("", compact):
        return None
    delta = timedelta(0)
    for amount, unit in _DURATION.findall(compact):
        delta += timedelta(**{_UNITS[unit]: int(amount)})
    return delta if delta > timedelta(0) else None


def _shown_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = ((days, "d"), (hours, "h"), (minutes, "m"))
    return "".join(f"{value}{unit}" for value, unit in parts if value) or "0m"


@dataclass
class SimReport:
    """What a simulated session did."""

    filed: list[str] = field(default_factory=list)
    received: int = 0
    shown: int = 0
    not_sent: int = 0


def deliver(
    ctx: Context, gateway: outbox.SmsGateway, handle: str, offset: timedelta = timedelta(0)
) -> outbox.DrainReport:
    """Deliver through `gateway` what the outbox holds for one number (a clock `offset`
    ahead of real time: a row another drainer has in `sending` is stale by real time)."""
    total = outbox.DrainReport()
    while True:
        report = outbox.drain(
            ctx, gateway, handle=handle, stale_after=timedelta(minutes=15) + offset
        )
        total.sent += report.sent
        total.cancelled += report.cancelled
        total.sent_ids += report.sent_ids
        if not (report.sent or report.cancelled):
            return total


def simulate(
    ctx: Context,
    sms: SmsSettings,
    number: str,
    lines: Iterable[str],
    out: Output,
    *,
    whatsapp: bool = False,
    to: str = "sms-sim",
    echo: bool = False,
    dim: Callable[[str], str] = _plain,
) -> SimReport:
    """Run a session: `lines` are what the person sends, `out` shows everything.

    `echo` repeats each line read ("→ …"), for input that does not come from a terminal.
    Raises ValueError when `number` is not a phone number in international form or when
    there is no mechanism to file with.
    """
    parsed = parse_address((WHATSAPP_PREFIX if whatsapp else "") + number)
    if parsed is None:
        raise ValueError(f"{number!r} is not a phone number in international form (+…)")
    channel, number = parsed
    mechanism = sms_mechanism(ctx, sms)
    if mechanism is None:
        wanted = f" {sms.mechanism_code}" if sms.mechanism_code else ""
        raise ValueError(f"there is no mechanism{wanted} to file with (load the demo data?)")
    clock = OffsetClock(ctx.clock)
    ctx = replace(ctx, clock=clock)
    handle = contacts.phone_handle(ctx, number)
    sender = (WHATSAPP_PREFIX if channel is Channel.WHATSAPP else "") + number
    gateway = TerminalGateway(out, dim)
    report = SimReport()
    out(WARNING)
    ongoing = ctx.session.scalar(select(SmsConversation).where(SmsConversation.handle == handle))
    if ongoing is None:
        where = f"a new conversation with mechanism {mechanism.code}"
    else:  # a conversation keeps the mechanism it began with
        code = ctx.session.get_one(Mechanism, ongoing.mechanism_id).code
        where = f"its conversation with mechanism {code} goes on (stage {ongoing.stage})"
    out(dim(f"Texting as {number} on {channel.value}: {where}. {USAGE}"))
    for raw in lines:
        line = raw.rstrip("\r\n")
        command = line.strip()
        if echo:
            out(f"{INPUT_MARK}{line}")
        if command.lower() in ("/quit", "/exit"):
            break
        if command.lower().startswith("/wait"):
            delta = parse_duration(command[len("/wait") :])
            if delta is None:
                out(dim(USAGE))
                continue
            clock.advance(delta)
            waited = command[len("/wait") :].strip()
            ahead = _shown_duration(clock.offset)
            out(dim(f"({waited} later: the simulated clock is {ahead} ahead)"))
            tick_conversations(ctx, sms, handle=handle)
        elif command.startswith("/"):
            out(dim(USAGE))
            continue
        elif command:
            record_inbound(
                ctx,
                provider_sid="SIM" + secrets.token_hex(16),
                sender=sender,
                to=to,
                body=line,
            )
            ctx.session.commit()  # as the webhook does: the message waits for the worker
            report.received += 1
            processed = process_inbound(ctx, sms, handles=[handle])
            report.filed.extend(processed.filed or [])
            for reference in processed.filed or []:
                out(dim(f"(case {reference} filed)"))
        delivered = deliver(ctx, gateway, handle, clock.offset)
        report.shown += delivered.sent
        if delivered.cancelled:
            report.not_sent += delivered.cancelled
            out(dim(f"({delivered.cancelled} text(s) not sent: this number said STOP)"))
    out(dim("(session ended; the conversation is kept: the same number continues it)"))
    return report
