import numpy as np
import pytest

from tunefleet.tabular import TabularError, feature_matrix, read_csv, training_matrix


@pytest.mark.parametrize(
    "data,message",
    [
        ("", "data is empty"),
        ("   \n", "data is empty"),
        ("just some words", "header but no rows"),
        ("a,b\n", "header but no rows"),
        ("a,a\n1,2", "duplicate column names: a"),
        ("a,,c\n1,2,3", "a column name is empty"),
        ("a,b\n1,2,3\n", "more fields than the header"),
        ("a,b\n1,2\n1,2,3\n", "Expected 2 fields in line 3"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_read_csv_rejects_what_is_not_a_table(data, message):
    with pytest.raises(TabularError, match=message):
        read_csv(data)


@pytest.mark.parametrize(
    "data,message",
    [
        ("b,c\n1,2", "target column 'a' is not in the data"),
        ("a\n1\n2", "no feature columns"),
        ("a,b,c\n1,x,2\n", "non-numeric columns: b"),
        ("a,b\n1,true\n", "non-numeric columns: b"),
        ("a,b\n1,\n2,3", r"NaN or infinite values in column\(s\) b \(first at data row 1\)"),
        ("a,b\n1,2\n2,inf", r"column\(s\) b \(first at data row 2\)"),
        ("a,b\nnan,2", r"column\(s\) a"),
    ],
)
def test_training_matrix_rejects_unusable_columns(data, message):
    with pytest.raises(TabularError, match=message):
        training_matrix(read_csv(data), "a")


def test_training_matrix_splits_target_and_features():
    X, y, features = training_matrix(read_csv(" a , b ,c\n1, 2,3\n4,5,6\n"), "b")
    assert features == ["a", "c"]
    np.testing.assert_array_equal(X, [[1, 3], [4, 6]])
    np.testing.assert_array_equal(y, [2, 5])


def test_feature_matrix_reorders_columns_by_name():
    X = feature_matrix(read_csv("c,extra,b\n3,9,2\n6,9,5\n"), ["b", "c"])
    np.testing.assert_array_equal(X, [[2, 3], [5, 6]])


def test_feature_matrix_names_missing_columns():
    with pytest.raises(TabularError, match="lacks the model's feature columns: b, d"):
        feature_matrix(read_csv("c\n1\n"), ["b", "c", "d"])
