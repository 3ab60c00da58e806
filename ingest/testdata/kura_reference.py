"""Writes the reference outputs of Python Kura for the export fixtures.

Usage: python3 kura_reference.py KURA_CHECKOUT
(KURA_CHECKOUT: a checkout of github.com/567-labs/kura; needs pydantic 2.)

It loads kura/types/conversation.py from the checkout (tqdm, used only for
progress bars there, is stubbed when absent) and writes, one
model_dump_json() per line:
  claude-export.kura.jsonl       <- Conversation.from_claude_conversation_dump(
                                     "claude-export.json", metadata_fn=...)
  kura-conversations.kura.jsonl  <- Conversation.from_conversation_dump(
                                     "kura-conversations.json")
metadata_fn adds what package ingest adds: source "claude" and the title.
"""
import importlib.util
import sys
import types

if importlib.util.find_spec("tqdm") is None:
    sys.modules["tqdm"] = types.SimpleNamespace(tqdm=lambda x, **k: x)

spec = importlib.util.spec_from_file_location(
    "kura_conversation", sys.argv[1] + "/kura/types/conversation.py"
)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
Conversation = mod.Conversation


def meta(c):
    m = {"source": "claude"}
    if c.get("name"):
        m["title"] = c["name"]
    return m


def write(path, convs):
    with open(path, "w") as f:
        for c in convs:
            f.write(c.model_dump_json() + "\n")


write(
    "claude-export.kura.jsonl",
    Conversation.from_claude_conversation_dump("claude-export.json", metadata_fn=meta),
)
write("kura-conversations.kura.jsonl", Conversation.from_conversation_dump("kura-conversations.json"))
