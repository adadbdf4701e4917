from equipoise.planning.admin import SeasonalityProfileForm


def test_admin_seasonality_weights_are_validated_and_normalised(db):
    form = SeasonalityProfileForm(data={"name": "Q4", "kind": "manual", "weights": "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["weights"] == ["1.0000"] * 12
    short = SeasonalityProfileForm(data={"name": "Bad", "kind": "manual", "weights": "[1, 2]"})
    assert not short.is_valid()
    assert "12 monthly weights" in short.errors["weights"][0]
    negative = SeasonalityProfileForm(data={"name": "Neg", "kind": "manual", "weights": "[1, 1, -1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"})
    assert not negative.is_valid()
    assert "month 3" in negative.errors["weights"][0]
