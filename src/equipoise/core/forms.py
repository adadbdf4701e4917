"""The one base for the application's forms: Bootstrap's classes on every widget, and every input
described for screen readers by its help text and, when invalid, its error message."""

from __future__ import annotations

from django import forms


class StyledForm(forms.Form):
    """Call :meth:`style` at the end of ``__init__``. After validation an invalid input is marked
    ``is-invalid`` and ``aria-describedby`` names its error (``<id>_error``) and its help text
    (``<id>_helptext``, where it has one), so a screen reader reads both with the field; the
    templates render the two with those ids."""

    def style(self) -> None:
        for form_field in self.fields.values():
            widget = form_field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.RadioSelect):
                css = ""  # each option is styled by its template
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            existing = widget.attrs.get("class", "")
            if css and css not in existing:
                widget.attrs["class"] = f"{css} {existing}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                bound, widget = self[name], self.fields[name].widget
                described = [f"{bound.auto_id}_error"]
                if self.fields[name].help_text:
                    described.append(f"{bound.auto_id}_helptext")
                widget.attrs["aria-describedby"] = " ".join(described)
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
