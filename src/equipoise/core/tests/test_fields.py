"""TextCodeField: text in the ORM, a small integer in the table."""

from equipoise.core.fields import TextCodeField


def test_text_goes_in_as_its_position_and_comes_back_as_text():
    field = TextCodeField(values=("expansion", "new", "renewal"))
    assert [field.get_prep_value(value) for value in ("expansion", "new", "renewal")] == [0, 1, 2]
    assert [field.from_db_value(code, None, None) for code in (0, 1, 2)] == ["expansion", "new", "renewal"]
    assert field.to_python(2) == "renewal" and field.to_python("new") == "new"
    assert field.get_prep_value(None) is None and field.from_db_value(None, None, None) is None


def test_text_that_is_not_a_value_matches_no_row():
    assert TextCodeField(values=("D", "M")).get_prep_value("W") == -1


def test_the_values_survive_a_migration_round_trip():
    _name, path, args, kwargs = TextCodeField(values=("D", "M", "O")).deconstruct()
    assert path == "equipoise.core.fields.TextCodeField"
    assert TextCodeField(*args, **kwargs).values == ("D", "M", "O")
