"""app/db.py's statements without SQLAlchemy's Connection: the text PyMySQL gets, and the answer."""

import pytest
from sqlalchemy.exc import MultipleResultsFound, NoResultFound

from app.db import Result, _compiled, _row_type


def test_named_parameters_become_placeholders_in_the_order_they_appear():
    compiled = _compiled("SELECT * FROM t WHERE a = :a AND (b < :c OR (b = :c AND id < :id))")
    assert compiled.sql == "SELECT * FROM t WHERE a = %s AND (b < %s OR (b = %s AND id < %s))"
    assert compiled.names == ("a", "c", "c", "id")
    assert compiled.prepare == "SELECT * FROM t WHERE a = ? AND (b < ? OR (b = ? AND id < ?))"
    assert compiled.execute == f"EXECUTE {compiled.id} USING %s, %s, %s, %s"


def test_each_text_is_its_own_prepared_statement_and_one_without_values_executes_without_using():
    first, second = _compiled("SELECT 1 FROM t"), _compiled("SELECT 2 FROM t")
    assert first.id != second.id and _compiled("SELECT 1 FROM t").id == first.id
    assert first.execute == f"EXECUTE {first.id}"


def test_a_literal_percent_sign_is_kept_through_pymysqls_formatting():
    compiled = _compiled("SELECT DATE_FORMAT(booked_at, '%Y-%m') FROM t WHERE x = :x")
    assert compiled.names == ("x",)
    assert compiled.sql % ("1",) == "SELECT DATE_FORMAT(booked_at, '%Y-%m') FROM t WHERE x = 1"
    assert compiled.prepare == "SELECT DATE_FORMAT(booked_at, '%Y-%m') FROM t WHERE x = ?"  # PREPARE's text is literal


def test_rows_are_read_by_name_and_by_position():
    row = _row_type(("id", "balance", "COUNT(*)"))
    result = Result([row._make((7, "1.00", 2))], 1)
    first = result.one()
    assert (first.id, first.balance, first[2]) == (7, "1.00", 2)
    assert result.scalar() == result.scalar_one() == 7
    assert [tuple(r) for r in result] == [(7, "1.00", 2)]


def test_one_insists_on_exactly_one_row():
    row = _row_type(("id",))
    with pytest.raises(NoResultFound):
        Result([], 0).one()
    with pytest.raises(MultipleResultsFound):
        Result([row._make((1,)), row._make((2,))], 2).scalar_one()
    assert Result([], 0).first() is None and Result([], 0).scalar() is None
