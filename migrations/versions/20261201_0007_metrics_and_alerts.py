"""metrics: webhook timings, alert states, indexes for the report's range queries

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import banter_payments.models.meta


revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metrics_webhook_timings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('lag_ms', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics_webhook_timings'))
    )
    with op.batch_alter_table('metrics_webhook_timings', schema=None) as batch_op:
        batch_op.create_index('ix_metrics_webhook_timings_received_at', ['received_at'], unique=False)

    op.create_table('alert_states',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=True),
    sa.Column('changed_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('evaluated_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('ok', 'firing')", name=op.f('ck_alert_states_state_known')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_alert_states'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_orders_paid_at', ['paid_at'], unique=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_created_at')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_created_at')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_paid_at')
        batch_op.drop_index('ix_orders_created_at')
    op.drop_table('alert_states')
    with op.batch_alter_table('metrics_webhook_timings', schema=None) as batch_op:
        batch_op.drop_index('ix_metrics_webhook_timings_received_at')
    op.drop_table('metrics_webhook_timings')
