"""Amounts for the reader: integer minor units in, ``₹4,500.00`` out (Babel).

The number of minor digits comes from the currency (Babel's CLDR data: 2 for INR, 0 for
JPY), the symbol, grouping and order from the reader's locale; the arithmetic is
``Decimal``, never a float.
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision

FALLBACK_LOCALE = "en_IN"


def locale_or_default(locale: str | None, default: str = FALLBACK_LOCALE) -> str:
    """``locale`` when Babel knows it (``en-IN`` and ``en_IN`` alike), else ``default``."""
    for candidate in (locale, default, FALLBACK_LOCALE):
        if not candidate:
            continue
        try:
            return str(Locale.parse(str(candidate).replace("-", "_")))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return FALLBACK_LOCALE


def format_money(amount: int, currency: str, locale: str | None = None) -> str:
    digits = get_currency_precision(currency)
    value = Decimal(int(amount)).scaleb(-digits)
    return format_currency(value, currency, locale=locale_or_default(locale),
                           currency_digits=True)


def format_quantity(amount: int, locale: str | None = None) -> str:
    from babel.numbers import format_decimal

    return format_decimal(int(amount), locale=locale_or_default(locale))
