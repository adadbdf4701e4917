"""The application's form base: Bootstrap classes, and invalid inputs described by error and help."""

from __future__ import annotations

from django import forms

from equipoise.core.forms import StyledForm


class _Form(StyledForm):
    amount = forms.IntegerField(help_text="In whole euros.")
    note = forms.CharField()
    agree = forms.BooleanField(required=False)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    mode = forms.ChoiceField(choices=[("x", "X")], widget=forms.RadioSelect)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.style()


def test_widgets_get_bootstrap_classes_once() -> None:
    form = _Form()
    form.style()  # twice: no class doubled
    assert form.fields["amount"].widget.attrs["class"] == "form-control form-control-sm"
    assert form.fields["agree"].widget.attrs["class"] == "form-check-input"
    assert form.fields["kind"].widget.attrs["class"] == "form-select form-select-sm"
    assert form.fields["mode"].widget.attrs["class"] == "form-check-input"
    assert 'class="form-check-input"' in str(form["mode"])  # on every option's input


def test_an_invalid_input_is_described_by_its_error_and_its_help_text() -> None:
    form = _Form(data={"amount": "lots", "note": "", "kind": "a", "mode": "x"})
    assert not form.is_valid()
    amount, note = form.fields["amount"].widget.attrs, form.fields["note"].widget.attrs
    assert amount["aria-describedby"] == "id_amount_error id_amount_helptext"
    assert note["aria-describedby"] == "id_note_error"  # no help text to name
    assert amount["class"].endswith("is-invalid") and note["class"].endswith("is-invalid")
    assert "aria-describedby" not in form.fields["kind"].widget.attrs  # valid: nothing to describe


def test_an_error_added_after_cleaning_marks_its_input_too() -> None:
    """A service refuses a value the form accepted: the view adds its error, and the input is
    marked as if the form had found it."""
    form = _Form(data={"amount": "12", "note": "n", "kind": "a", "mode": "x"})
    assert form.is_valid()
    form.add_error("amount", "That amount is too large for this plan.")
    attrs = form.fields["amount"].widget.attrs
    assert attrs["aria-describedby"] == "id_amount_error id_amount_helptext"
    assert attrs["class"].split().count("is-invalid") == 1
    form.add_error("amount", "And another thing.")  # twice: the class is not doubled
    assert form.fields["amount"].widget.attrs["class"].split().count("is-invalid") == 1
