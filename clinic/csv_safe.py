"""CSV files a spreadsheet opens as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`,
`-` or `@` as a formula (and a leading tab or carriage return can hide one),
so a value a person typed, an e-mail address or a page path, could run in
the privacy officer's spreadsheet (OWASP "CSV Injection", CWE-1236). Every
CSV the app writes goes through `writer()`: such a cell is prefixed with a
single quote, which spreadsheets show as text. scripts/check_unsafe.py
refuses `csv.writer` anywhere else."""

import csv
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The cell as written: text that would start a formula gets a leading
    quote. Numbers are left alone (the app's own, not typed text)."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)  # lazy translations (column titles) included
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Writer:
    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row):
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(file, **options) -> _Writer:
    """`csv.writer`, with every cell neutralised."""
    return _Writer(file, **options)
