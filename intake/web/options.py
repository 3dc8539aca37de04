"""The complaint form's country list, rendered once per locale (issue 17).

WTForms renders a `<select>` option by option, escaping each of about 250 country names,
on every request: most of the time `GET /complaint` spent. The HTML depends only on the
reader's locale, the field's name and id, the chosen value and the attributes the
template passes, so it is kept under those, per process, and rendered again only for a
combination not seen yet (at most `LIMIT` of them: 18 locales times the few values and
attributes in use stay far below). The choices themselves still come with the form
(`ComplaintForm`), which validates against them.
"""

from __future__ import annotations

import threading
from typing import Any

from flask_babel import get_locale
from markupsafe import Markup
from wtforms import Field
from wtforms.widgets import Select

#: How many renderings a process keeps at most; past that it renders without keeping.
LIMIT = 4096


class KeptSelect(Select):  # type: ignore[misc]  # WTForms is untyped
    """A `<select>` whose HTML is kept per locale, value and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self._kept: dict[tuple[object, ...], Markup] = {}
        self._lock = threading.Lock()

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        key = (
            str(get_locale() or "en"),
            field.id,
            field.name,
            "" if field.data is None else str(field.data),
            tuple(sorted((name, str(value)) for name, value in kwargs.items())),
        )
        found = self._kept.get(key)
        if found is None:
            found = super().__call__(field, **kwargs)
            with self._lock:
                if len(self._kept) < LIMIT:
                    self._kept[key] = found
        return found


#: One for the country field of every complaint form of the process.
COUNTRY_SELECT = KeptSelect()
