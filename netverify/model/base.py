"""The base class of every model object: frozen, strict about unknown fields."""

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable value object; unknown fields are a programming error, not user input."""

    model_config = ConfigDict(frozen=True, extra="forbid")
