"""The one set of location and contact checks (web/validators.py) that the report form and
Open311 word each in their own language (tests/test_reporting.py and
tests/test_open311_post.py show the words)."""

from __future__ import annotations

import pytest

from web import validators
from web.validators import Coordinates, coordinates


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        ("", "", Coordinates()),
        ("-6.1754", "106.8272", Coordinates(-6.1754, 106.8272)),
        ("-12", "94", Coordinates(-12.0, 94.0)),
        ("7", "142", Coordinates(7.0, 142.0)),
        ("utara", "", Coordinates(problem="not_a_number")),
        ("", "timur", Coordinates(problem="not_a_number")),
        ("-6.2", "", Coordinates(problem="half")),
        ("", "106.8", Coordinates(problem="half")),
        ("nan", "", Coordinates(problem="half")),
        ("nan", "106.8", Coordinates(problem="not_finite")),
        ("-6.2", "-inf", Coordinates(problem="not_finite")),
        ("106.8272", "-6.1754", Coordinates(problem="outside")),
        ("-12.01", "106.8", Coordinates(problem="outside")),
        ("-6,2", "106,8", Coordinates(problem="not_a_number")),
    ],
)
def test_coordinates_are_a_point_in_indonesia_or_a_problem_code(
    lat: str, lon: str, expected: Coordinates
) -> None:
    found = coordinates(lat, lon)
    assert found == expected
    assert found.problem is None or found.problem in validators.COORDINATE_PROBLEMS


def test_a_decimal_comma_is_read_only_where_people_type_it() -> None:
    assert coordinates("-6,2001", "106,8001", decimal_comma=True) == Coordinates(-6.2001, 106.8001)
    assert coordinates("-6,2001", "106,8001").problem == "not_a_number"


@pytest.mark.parametrize(
    ("typed", "mobile"),
    [
        ("0812 3456 7890", True),
        ("+62 812-3456-7890", True),
        ("62 (812) 3456.7890", True),
        ("0812-345", False),  # too short
        ("(021) 345-6789", False),  # a Jakarta landline
        ("+44 20 7946 0958", False),
        ("", False),
    ],
)
def test_the_form_takes_indonesian_mobile_numbers_whatever_their_punctuation(
    typed: str, mobile: bool
) -> None:
    assert validators.is_mobile_number(validators.normalise_phone(typed)) is mobile


@pytest.mark.parametrize(
    ("typed", "telephone"),
    [
        ("(021) 345-6789", True),
        ("+44 20 7946 0958", True),
        ("0812 3456 7890", True),
        ("12345", False),
        ("telepon saya", False),
        ("0812.3456.7890", False),  # dots are not in the standard's answer
    ],
)
def test_open311_takes_any_telephone_number_as_written(typed: str, telephone: bool) -> None:
    assert validators.is_telephone_number(typed) is telephone


@pytest.mark.parametrize(
    ("typed", "email"),
    [
        ("siti@contoh.id", True),
        ("a.b+c@sub.contoh.co.id", True),
        ("siti@contoh", False),
        ("siti contoh@contoh.id", False),
        ("@contoh.id", False),
        ("siti@@contoh.id", False),
    ],
)
def test_an_email_address_has_one_at_and_a_dot_in_its_domain(typed: str, email: bool) -> None:
    assert validators.is_email(typed) is email
