"""Synthetic cases in bulk, for load tests and benchmarks (`grievance generate`).

The demo loader (`grievance.demo`) takes thirty cases through the services; this package
writes a million straight into the tables, in batches, with what the services would
have left behind, built with the services' own pure functions:

- each case in a mechanism (`SYN01`, `SYN02`, …, created when missing), with a reference
  number taken from the mechanism's counter, so cases filed later do not collide;
- a language of the mechanism's policy (weighted towards bn, ta, hi, ur, en, tr, zh), a
  country that goes with it, one to three themes, a channel, an anonymous, confidential
  or open complainant (without a receipt code: nobody can follow these cases up);
- a stage reached along the lifecycle's usual path (`lifecycle.path_to`), mostly early
  (received, acknowledged, admissibility, investigation), a quarter ended; the time spent
  in each stage is drawn per stage, so some cases run past their time limits;
- a severity and a reprisal risk for most cases past admissibility, and `queue_rank` from
  `services.queue`; a few cases the filer called urgent;
- a lead and a second reviewer among the generated reviewers (`reviewer-0001@…`, with
  profiles): the lead reads the case's language where someone does, and both turn round
  the reviewers so that loads come out even (capacity is ignored); their scores and
  reasons are routing's (`routing_scores.score`); `needs_interpreter` says when neither
  reads the language;
- the deadlines open now, opened and closed stage by stage as `deadlines.entering_stage`
  says, and `next_due_at`, the earliest of them. A limit met by an event this package
  does not write (progress updates, feedback, the satisfaction check) counts as met on
  time. Reminders and escalations have not been sent: the worker's first sweep catches up;
- a hash-chained log per case whose events are built by `services.events` and hashed by
  `caselog.event_digest`, as the services write them (`case_filed`, two
  `reviewer_assigned`, the assessments, a `stage_changed` per move; a decision that needs
  four eyes is proposed by the lead, with its `decision_proposed` event and a confirmed
  `DecisionProposal` row, and confirmed by the second), so `grievance verify-log` passes.
  The messages that met progress updates are not written;
- a data key per case, wrapped by the key ring like any other, and the statement sealed
  under it (AES-GCM, the vault's format, a few microseconds a case): a fixed text that
  says the case is synthetic.

Speed: rows are built in Python as tuples of plain values (hashing the chains costs most)
and written per batch of `batch_size` cases: with `COPY … FROM STDIN` on PostgreSQL
(psycopg's `cursor.copy`), with the driver's executemany elsewhere. Case, data-key and
proposal ids are reserved per batch (from the sequences on PostgreSQL). The caller
commits after each batch (`after_batch`), so a run cut short leaves whole cases.

The modules: `spec` (what is asked and reported, the spread), `population` (mechanisms
and reviewers), `drafting` (each case's facts), `chain` (its log and deadlines), `rows`
(the rows as tuples), `writer` (bulk writes, `settle`), `run` (`generate`).
"""

from __future__ import annotations

from grievance.demo.generate.run import generate
from grievance.demo.generate.spec import (
    BATCH_SIZE,
    MECHANISM_PREFIX,
    REASON,
    REVIEWER_DOMAIN,
    REVIEWER_PASSWORD,
    STATEMENT,
    Report,
    Spec,
    reviewer_email,
)
from grievance.demo.generate.writer import settle

__all__ = [
    "BATCH_SIZE",
    "MECHANISM_PREFIX",
    "REASON",
    "REVIEWER_DOMAIN",
    "REVIEWER_PASSWORD",
    "STATEMENT",
    "Report",
    "Spec",
    "generate",
    "reviewer_email",
    "settle",
]
