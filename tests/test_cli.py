"""The shared command-line mechanism: values parsed by the field's type, nested fields,
errors that name the field, the value and what is allowed."""

import dataclasses

import pytest

from experiments import cli
from prd_jax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Toy:
    widths: tuple[int, ...] = (1, 2)  # the widths
    rate: float = 0.5  # a rate in (0, 1)
    name: str = "x"
    flag: bool = False
    radius: float | None = None
    train: TrainConfig = TrainConfig()

    def __post_init__(self):
        if not 0 < self.rate < 1:
            raise ValueError(f"Toy.rate must be in (0, 1), got {self.rate!r}")


def test_values_are_parsed_by_the_field_type():
    cfg = cli.apply_overrides(
        Toy(),
        ["widths=4,8,16", "rate=0.25", "flag=true", "radius=2", "train.steps=7", "name=y"],
    )
    assert cfg.widths == (4, 8, 16) and cfg.rate == 0.25 and cfg.flag is True
    assert cfg.radius == 2.0 and cfg.train.steps == 7 and cfg.name == "y"
    assert cli.apply_overrides(cfg, ["radius=none"]).radius is None


@pytest.mark.parametrize(
    "item, words",
    [
        ("widths=4,x", ["widths", "'4,x'", "int"]),
        ("widths=1.5", ["widths", "int"]),
        ("rate=2", ["Toy.rate", "(0, 1)"]),
        ("flag=maybe", ["flag", "true, false"]),
        ("train.steps=-3", ["TrainConfig.steps", "-3"]),
        ("train.lr=nan", ["TrainConfig.lr"]),
        ("steps=3", ["unknown field", "did you mean train.steps"]),
        ("rate", ["field=value"]),
    ],
)
def test_errors_name_the_field_the_value_and_what_is_allowed(item, words):
    with pytest.raises(cli.CliError) as err:
        cli.apply_overrides(Toy(), [item])
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_help_lists_fields_defaults_preset_values_and_comments():
    text = cli.fields_help({"quick": Toy(), "tiny": Toy(widths=(3,))})
    assert "  widths (tuple[int, ...]) = [1, 2]  [tiny: [3]]" in text
    assert "the widths" in text and "  train.steps (int) = 1000" in text


def test_description_is_the_whole_first_paragraph():
    doc = "One sentence that goes on\nover two lines.\n\nDetails."
    assert cli.description(doc) == "One sentence that goes on over two lines."
