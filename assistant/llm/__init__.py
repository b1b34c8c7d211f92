"""The LLM layer: the bundled model, the shared embedded server and the chat-model client.

Nothing heavy is imported here: xllamacpp loads only in the server process, langchain only on a
model's first call.

* :func:`make_chat_model` builds the :class:`ChatModel` that the settings ask for (``None`` in
  rules mode or when no embedded server can be had).
* :func:`ensure_server` finds (or starts) the shared embedded server; :func:`run_server` is
  ``shopassist llm serve``.
* :func:`ensure_model` assembles and verifies the bundled GGUF under ``<var_dir>/models/``.
"""

from __future__ import annotations

from assistant.llm.client import ChatModel, Message, OpenAIChatModel, Usage, make_chat_model
from assistant.llm.model import QWEN_0_5B, ModelSpec, ensure_model
from assistant.llm.server import ServerInfo, ensure_server, read_server_info, run_server

__all__ = [
    "QWEN_0_5B",
    "ChatModel",
    "Message",
    "ModelSpec",
    "OpenAIChatModel",
    "ServerInfo",
    "Usage",
    "ensure_model",
    "ensure_server",
    "make_chat_model",
    "read_server_info",
    "run_server",
]
