"""sandbox cards: the card entity behind the sandbox Checkout's card payments

Revision ID: 0017
Revises: 0004
Create Date: 2026-12-01 14:20:00
"""
from alembic import op
import sqlalchemy as sa
import banter_payments.models.meta


revision = '0017'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sandbox_cards',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('issuer', sa.String(length=16), nullable=True),
    sa.Column('international', sa.Boolean(), nullable=False),
    sa.Column('emi', sa.Boolean(), nullable=False),
    sa.Column('created_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(last4) = 4', name=op.f('ck_sandbox_cards_last4_length')),
    sa.CheckConstraint("type IN ('credit', 'debit', 'prepaid')", name=op.f('ck_sandbox_cards_type_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_cards'))
    )


def downgrade() -> None:
    op.drop_table('sandbox_cards')
