"""The two course models against SPEC's expected rows, and the comparator itself."""

import keras
from keras import layers

from cnnapp.models.catalog import HAPPY_ROWS, SIGNS_ROWS
from cnnapp.models.course import INPUT_SHAPE, convolutional_model, happy_model
from cnnapp.models.summary import comparator, parameter_counts, summary, verdict

from clirun import cnnapp


def test_happy_model_matches_the_expected_rows():
    model = happy_model()
    assert summary(model) == HAPPY_ROWS
    assert comparator(summary(model), HAPPY_ROWS) == []
    assert isinstance(model, keras.Sequential)


def test_happy_model_parameters():
    model = happy_model()
    assert model.count_params() == 37_633
    assert parameter_counts(model) == (37_633, 37_569, 64)


def test_signs_model_matches_the_expected_rows():
    model = convolutional_model(INPUT_SHAPE)
    assert summary(model) == SIGNS_ROWS
    assert model.count_params() == 1_310
    assert parameter_counts(model) == (1_310, 1_310, 0)
    assert not isinstance(model, keras.Sequential)


def test_signs_model_grows_its_last_layer_with_the_classes():
    model = convolutional_model(INPUT_SHAPE, classes=10)
    assert summary(model)[-1] == ["Dense", (None, 10), 650, "softmax"]


def test_comparator_names_each_differing_layer():
    inputs = keras.Input(shape=INPUT_SHAPE)
    x = layers.Conv2D(8, (4, 4), padding="valid")(inputs)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(pool_size=(8, 8), strides=(8, 8), padding="same")(x)
    x = layers.Flatten()(x)
    wrong = keras.Model(inputs, layers.Dense(6, activation="softmax")(x))
    problems = comparator(summary(wrong), SIGNS_ROWS)
    assert problems[0] == "the model has 6 layers, expected 9"
    assert any(p.startswith("layer 1 (Conv2D): expected") and "'valid'" in p for p in problems)
    assert verdict(problems) != verdict([])
    assert verdict([]) == "All checks passed."


def test_dropout_rows_carry_the_rate():
    model = keras.Sequential([keras.Input((4,)), layers.Dropout(0.25)])
    assert summary(model) == [["Dropout", (None, 4), 0, 0.25]]


def test_summary_command_prints_rows_counts_and_verdict():
    result = cnnapp("summary", "happy")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[: len(HAPPY_ROWS)] == [str(row) for row in HAPPY_ROWS]
    assert "37,633 parameters (37,569 trainable, 64 non-trainable)" in lines
    assert lines[-1] == "All checks passed."


def test_summary_of_a_model_without_expected_rows_says_there_is_nothing_to_check():
    result = cnnapp("summary", "smile-net")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Nothing to check: smile-net has no expected rows (happy and signs do)."
    assert "All checks passed" not in result.stdout


def test_exit_codes_are_documented_with_their_own_code_for_a_failed_check():
    result = cnnapp("--help")
    codes = " ".join(result.stdout.split("Exit codes:")[1].split("Example:")[0].split())
    assert "0 success, 1 something unexpected, 2 bad usage or data, 3 an architecture check found differences" in codes
