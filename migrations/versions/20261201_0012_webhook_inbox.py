"""webhook inbox: queued and dead events, when to try next, which delivery to process

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import banter_payments.models.meta


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_EVENT_STATUSES = "status IN ('processed', 'ignored', 'failed', 'rejected')"
NEW_EVENT_STATUSES = ("status IN ('queued', 'processed', 'ignored', 'failed', 'rejected', "
                      "'dead')")
OLD_OUTCOMES = "outcome IN ('processed', 'duplicate', 'ignored', 'failed', 'rejected')"
NEW_OUTCOMES = ("outcome IN ('queued', 'processed', 'duplicate', 'ignored', 'failed', "
                "'rejected')")


def upgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery_id', sa.String(length=40), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_webhook_events_status_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_webhook_events_status_known'), NEW_EVENT_STATUSES)
        batch_op.create_index('ix_webhook_events_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_webhook_deliveries_outcome_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_webhook_deliveries_outcome_known'), NEW_OUTCOMES)


def downgrade() -> None:
    # Events still in the inbox are marked failed (a replay processes them), and
    # deliveries still queued likewise, so that the old constraints hold.
    op.execute("UPDATE webhook_events SET status = 'failed' WHERE status IN ('queued', 'dead')")
    op.execute("UPDATE webhook_deliveries SET outcome = 'failed' WHERE outcome = 'queued'")
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_webhook_deliveries_outcome_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_webhook_deliveries_outcome_known'), OLD_OUTCOMES)
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_status_next_attempt_at')
        batch_op.drop_constraint(batch_op.f('ck_webhook_events_status_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_webhook_events_status_known'), OLD_EVENT_STATUSES)
        batch_op.drop_column('delivery_id')
        batch_op.drop_column('next_attempt_at')
