"""The chat completions response schema ``maas smoke`` holds an answer to (AZURE_FACTS.md section 1): the
documented fields of a ``chat.completion`` document and of a ``chat.completion.chunk`` event, strictly typed, other
fields allowed. Imported when a check reads an answer, so that parsing the command line needs no pydantic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FinishReason = Literal["stop", "length", "content_filter"]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class TokenUsage(_Schema):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class _Message(_Schema):
    role: Literal["assistant"]
    content: str


class _Choice(_Schema):
    index: int
    message: _Message
    finish_reason: FinishReason


class ChatCompletion(_Schema):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[_Choice] = Field(min_length=1)
    usage: TokenUsage


class _Delta(_Schema):
    role: str | None = None
    content: str | None = None


class _ChunkChoice(_Schema):
    index: int
    delta: _Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(_Schema):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[_ChunkChoice]
    usage: TokenUsage | None = None
