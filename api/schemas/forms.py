"""Forms as the API shows them: a start event's or user task's fields, from the forms
file the version was deployed with."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.schemas.common import LOCAL_TEXT_SCHEMA

# A form is a designer's definition, checked at deploy only as far as running it
# needs (forms.registry.definition_problems). So the answer passes it on as written:
# the rules are documented with their intended types but not coerced (a coercion
# would change what the designer wrote, a refusal would turn a task into a 500),
# keys the API does not name still reach the client (extra="allow"), and routes
# that answer forms leave out the keys a field does not have
# (response_model_exclude_unset). What deploy does check stays typed: names, types,
# the fields list, required_if.


Text = Annotated[Any, WithJsonSchema(LOCAL_TEXT_SCHEMA)]
Flag = Annotated[Any, WithJsonSchema({"type": "boolean"})]
Number = Annotated[Any, WithJsonSchema({"type": "number"})]
Whole = Annotated[Any, WithJsonSchema({"type": "integer"})]
Scalar = Annotated[Any, WithJsonSchema({"type": ["string", "number", "integer", "boolean"]})]


class FormOption(BaseModel):
    """One choice of an enum or multi_enum field."""

    model_config = ConfigDict(extra="allow")

    value: Scalar
    label: Text = None


class RequiredIf(BaseModel):
    """The field is required when another field has this value."""

    model_config = ConfigDict(extra="allow")

    field: str
    equals: Scalar = None


class FormField(BaseModel):
    """One field of a form: its type, label and validation rules."""

    model_config = ConfigDict(extra="allow")

    # In the order the form files write them, so the answer reads like the file.
    name: str
    type: str = Field(
        description="string, text, boolean, integer, number, enum, multi_enum, date, mobile or user"
    )
    required: Flag = None
    required_if: RequiredIf | None = None
    default: Any = None
    department: Annotated[Any, WithJsonSchema({"type": "string"})] = Field(
        default=None, description="user fields: the user's department"
    )
    roles: Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "string"}})] = Field(
        default=None, description="user fields: the user's roles"
    )
    max_length: Whole = None
    min: Number = None
    max: Number = None
    exclusive_min: Number = None
    label: Text = None
    help: Text = None
    options: list[FormOption] | None = Field(default=None, description="enum and multi_enum fields")


class FormRead(BaseModel):
    """A form: which element it belongs to, its title and its fields."""

    model_config = ConfigDict(extra="allow")

    element_id: str
    title: Text = None
    fields: list[FormField]
