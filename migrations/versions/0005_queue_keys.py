"""the reviewers' queue keys of the cases filed before routing kept them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:30:00.000000

Data only. `case.next_due_at` becomes the earliest due time of the case's open, running
deadlines; `case.queue_rank` follows the encoding of `grievance.services.queue` (kept by
the services from now on):

    band * 1000 + (15 - severity) * 10 + (5 - likelihood)

A migration must not read policy: the urgent themes are those of the default policy at
this revision. `needs_interpreter` stays false until the case's reviewers next change.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

URGENT_THEMES = "('child_labour', 'forced_labour', 'reprisal')"


def upgrade():
    op.execute(
        'UPDATE "case" SET next_due_at = ('
        " SELECT min(deadline.due_at) FROM deadline"
        ' WHERE deadline.case_id = "case".id'
        " AND deadline.state = 'open' AND deadline.paused_at IS NULL)"
    )
    op.execute(
        'UPDATE "case" SET queue_rank = CASE'
        " WHEN severity_scale IS NULL OR severity_scope IS NULL"
        " OR severity_irremediability IS NULL OR severity_likelihood IS NULL THEN"
        "  CASE WHEN urgent OR reprisal_risk = 'high' OR EXISTS ("
        '   SELECT 1 FROM case_theme WHERE case_theme.case_id = "case".id'
        f"   AND case_theme.theme IN {URGENT_THEMES})"
        "  THEN 0 ELSE 1000 END"
        " ELSE"
        "  CASE WHEN severity_irremediability >= 4 OR reprisal_risk = 'high' THEN 0 ELSE 2000 END"
        "  + (15 - (severity_scale + severity_scope + severity_irremediability)) * 10"
        "  + (5 - severity_likelihood)"
        " END"
    )


def downgrade():
    # The columns stay (0004 owns them); their values were derived, nothing to undo.
    pass
