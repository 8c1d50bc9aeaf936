"""The one declarative base, its naming convention, and the column types every model uses.

Plugins define their tables on this same ``Base`` so that one Alembic history covers the
core and every plugin.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite and MySQL/MariaDB (DATETIME(6), UTC sessions) have no time zones: values are
    stored as naive UTC and come back aware, so application code only ever sees aware UTC
    datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use banter_payments.clock.utcnow()")
        value = value.astimezone(dt.UTC)
        if dialect.name in ("sqlite", "mysql", "mariadb"):
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# A 64-bit autoincrementing key. SQLite only autoincrements INTEGER PRIMARY KEY (which is
# 64-bit there anyway), so the variant keeps both databases happy.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")

# Amounts in minor units. 64-bit everywhere: a balance of 25,000 coins bought a million
# times still fits.
Money = BigInteger


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict: JSON(),
        list: JSON(),
    }
