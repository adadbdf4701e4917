"""The one base for the application's forms: Bootstrap's classes on every widget, and every input
described for screen readers by its help text and, when invalid, its error message."""

from __future__ import annotations

from typing import Any

from django import forms


class StyledForm(forms.Form):
    """Call :meth:`style` at the end of ``__init__``. An input with an error is marked ``is-invalid``
    and ``aria-describedby`` names its error (``<id>_error``) and its help text (``<id>_helptext``,
    where it has one), so a screen reader reads both with the field; the templates render the two
    with those ids."""

    def style(self) -> None:
        for form_field in self.fields.values():
            widget = form_field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.RadioSelect):
                css = "form-check-input"  # on each option's input; the template wraps each in a form-check
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            existing = widget.attrs.get("class", "")
            if css and css not in existing:
                widget.attrs["class"] = f"{css} {existing}".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        """Every error goes through here, found while cleaning or added after it (a service's
        ApplicationError shown on its field): its input is marked invalid either way."""
        super().add_error(field, error)
        for name in getattr(self, "_errors", None) or {}:  # not self.errors: that would clean the form
            if name in self.fields:
                self._mark_invalid(name)

    def _mark_invalid(self, name: str) -> None:
        widget, auto_id = self.fields[name].widget, self[name].auto_id
        described = [f"{auto_id}_error"] + ([f"{auto_id}_helptext"] if self.fields[name].help_text else [])
        widget.attrs["aria-describedby"] = " ".join(described)
        if "is-invalid" not in widget.attrs.get("class", "").split():
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
