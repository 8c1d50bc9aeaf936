"""alerts: an episode counter per alert, and the history of alerts raised and resolved

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01 17:40:00
"""
from alembic import op
import sqlalchemy as sa
import banter_payments.models.meta


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('episode', sa.Integer(), server_default='0', nullable=False))

    op.create_table('alert_events',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('episode', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('threshold', sa.String(length=64), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('occurred_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('raised', 'resolved')", name=op.f('ck_alert_events_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events')),
    sa.UniqueConstraint('name', 'episode', 'kind', name='uq_alert_events_once')
    )


def downgrade() -> None:
    op.drop_table('alert_events')
    with op.batch_alter_table('alert_states', schema=None) as batch_op:
        batch_op.drop_column('episode')
