"""webhook deliveries: body hash dedupe, refusal counters, retention index

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 14:30:00
"""
from alembic import op
import sqlalchemy as sa
import banter_payments.models.meta


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_refusals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_seen_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_refusals')),
    sa.UniqueConstraint('day', 'reason', 'source', name='uq_webhook_refusals_day_reason_source')
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_sha256', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_webhook_events_body_sha256'), ['body_sha256'])
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_received_at', ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_received_at')
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_webhook_events_body_sha256'), type_='unique')
        batch_op.drop_column('body_sha256')
    op.drop_table('webhook_refusals')
