"""Saved conversations, kept in the browser (gr.BrowserState): list, search, rename, delete with
undo. Pure functions over a plain dict so the app and the tests share them.

Store shape: {"current": id | None, "conversations": [conv, ...] newest first, "trash": conv | None}
conv: {"id", "title", "created", "updated" (epoch seconds), "messages": [page messages]}.
In the browser a conv carries "z" (its messages, zlib-compressed) instead of "messages": the whole
store travels with every save, and uncompressed ~30 chats of a few answers each (~12 kB an answer)
would pass the server's 512 kB request limit and every save would then fail (for_browser).
Nothing here removes a conversation for good except a later delete replacing the one in the trash,
and the oldest chats beyond MAX_SAVED or the SAVED_BYTES budget.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
import zlib
from datetime import datetime, timezone

from assistant.markdown import unescape

MAX_SAVED = 30
MAX_TITLE = 80
# Packed bytes of saved chats sent with every save: with the chat on screen (sent unpacked) it stays
# under ui/security.MAX_BODY_BYTES (512 kB). Thirty chats of four answers fit; older chats beyond go.
SAVED_BYTES = 320 * 1024
MAX_PACKED = 2 * 1024 * 1024  # a "z" that inflates past this is not ours: dropped, not decoded


def pack(messages: list[dict]) -> str:
    raw = json.dumps(messages, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def unpack(z) -> list | None:
    """The messages of a packed chat, or None when it is not one (edited, truncated, foreign)."""
    try:
        d = zlib.decompressobj()
        raw = d.decompress(base64.b64decode(str(z), validate=True), MAX_PACKED)
        if d.unconsumed_tail:
            return None
        messages = json.loads(raw)
    except (ValueError, zlib.error, TypeError):
        return None
    return messages if isinstance(messages, list) else None


def _unpacked(conv):
    """A chat as the handlers use it: its messages unpacked. The packed form it came in stays as
    "_z" (valid while its messages are not replaced: upsert drops it), so a save re-packs only the
    chat that changed, not all thirty."""
    if isinstance(conv, dict) and "z" in conv and "messages" not in conv:
        messages = unpack(conv["z"])
        if messages is None:
            return None
        conv = {k: v for k, v in conv.items() if k != "z"} | {"messages": messages, "_z": conv["z"]}
    return conv


def packed_of(conv: dict) -> str:
    """The chat's messages packed, computed once per chat and request."""
    if "_z" not in conv:
        conv["_z"] = pack(conv.get("messages") or [])
    return conv["_z"]


def within_budget(conversations: list[dict], current) -> list[dict]:
    """Newest first, as many as fit in MAX_SAVED and SAVED_BYTES packed; the current chat stays."""
    out, used = [], 0
    for c in conversations:
        used += len(packed_of(c))
        if (len(out) >= MAX_SAVED or used > SAVED_BYTES) and c["id"] != current and out:
            continue
        out.append(c)
    return out


def for_browser(store: dict) -> dict:
    """The store as the browser keeps it: each chat's messages packed."""
    def packed(c):
        return {k: v for k, v in c.items() if k not in ("messages", "_z")} | {"z": packed_of(c)}
    trash = store.get("trash")
    return {**store, "conversations": [packed(c) for c in store.get("conversations") or []],
            "trash": packed(trash) if isinstance(trash, dict) else None}


def empty() -> dict:
    return {"current": None, "conversations": [], "trash": None, "migrated": False}


def clean(store) -> dict:
    """A usable store from whatever the browser sent (old, hand-edited or missing)."""
    if not isinstance(store, dict) or not isinstance(store.get("conversations"), list):
        return empty() | ({"migrated": True} if isinstance(store, dict) and store.get("migrated") else {})
    convs = [c for c in map(_unpacked, store["conversations"]) if isinstance(c, dict) and c.get("id")
             and isinstance(c.get("messages", []), list)]
    trash = _unpacked(store.get("trash"))
    trash = trash if isinstance(trash, dict) and trash.get("id") else None
    current = store.get("current") if any(c["id"] == store.get("current") for c in convs) else None
    return {"current": current, "conversations": convs, "trash": trash, "migrated": bool(store.get("migrated"))}


def find(store: dict, conv_id) -> dict | None:
    return next((c for c in store["conversations"] if c["id"] == conv_id), None) if conv_id else None


def when(ts) -> str:
    try:
        return datetime.fromtimestamp(float(ts), tz=timezone.utc).strftime("%-d %b %Y, %H:%M UTC")
    except (TypeError, ValueError, OverflowError, OSError):
        return "undated"


def title_of(messages: list[dict]) -> str:
    first = next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")
    title = " ".join(first.split())
    return (title[: MAX_TITLE - 1] + "…") if len(title) > MAX_TITLE else (title or "Conversation")


def choices(store: dict, query: str = "") -> list[tuple[str, str]]:
    """(label, id) for the list: title and date; filtered by words in the title or the questions."""
    words = [w for w in str(query or "").lower().split() if w]
    out = []
    for c in store["conversations"]:
        text = " ".join([str(c.get("title", ""))] + [str(m.get("content", "")) for m in c.get("messages", [])
                                                      if isinstance(m, dict) and m.get("role") == "user"]).lower()
        if all(w in text for w in words):
            out.append((f"{c.get('title') or 'Conversation'} — {when(c.get('updated'))}", c["id"]))
    return out


def savable(messages: list[dict]) -> list[dict]:
    return [m for m in messages or [] if isinstance(m, dict) and m.get("role") in ("user", "assistant")
            and not m.get("pending")]


def upsert(store: dict, conv_id, messages: list[dict], now: float | None = None) -> tuple[dict, str | None]:
    """Save the chat on screen (a new conversation if it has none yet); newest first."""
    store = clean(store)
    messages = savable(messages)
    if not messages:
        return store, conv_id
    now = time.time() if now is None else now
    conv = find(store, conv_id)
    if conv is None:
        conv = {"id": uuid.uuid4().hex[:12], "title": title_of(messages), "created": now}
    conv = {k: v for k, v in conv.items() if k != "_z"} | {"messages": messages, "updated": now}
    others = [c for c in store["conversations"] if c["id"] != conv["id"]]
    store["conversations"] = within_budget([conv] + others, conv["id"])
    store["current"] = conv["id"]
    return store, conv["id"]


def rename(store: dict, conv_id, title: str) -> dict:
    store = clean(store)
    title = " ".join(str(title or "").split())[:MAX_TITLE]
    conv = find(store, conv_id)
    if conv is not None and title:
        conv["title"] = title
    return store


def delete(store: dict, conv_id) -> dict:
    """Move the conversation to the trash (one slot: Undo brings it back)."""
    store = clean(store)
    conv = find(store, conv_id)
    if conv is None:
        return store
    store["conversations"] = [c for c in store["conversations"] if c["id"] != conv_id]
    store["trash"] = conv
    if store["current"] == conv_id:
        store["current"] = None
    return store


def undo(store: dict) -> tuple[dict, str | None]:
    """Put the deleted conversation back where it sorts by date, and make it current."""
    store = clean(store)
    conv = store["trash"]
    if conv is None:
        return store, store["current"]
    convs = [c for c in store["conversations"] if c["id"] != conv["id"]] + [conv]
    store["conversations"] = within_budget(sorted(convs, key=lambda c: -float(c.get("updated") or 0)), conv["id"])
    store["trash"] = None
    store["current"] = conv["id"]
    return store, conv["id"]


def migrate(store: dict, legacy) -> dict:
    """Bring in the chats an earlier version saved (storage key ..._v1: user turns as escaped
    markdown, answers as linked markdown, sources of the latest answer only). Once: a later delete
    must not bring them back."""
    store = clean(store)
    if store["migrated"]:
        return store
    store["migrated"] = True
    if not isinstance(legacy, dict) or not isinstance(legacy.get("conversations"), list):
        return store
    have = {c["id"] for c in store["conversations"]}
    for old in legacy["conversations"][:MAX_SAVED]:
        if not isinstance(old, dict) or not old.get("id") or old["id"] in have:
            continue
        messages = []
        for m in old.get("messages") or []:
            if isinstance(m, dict) and m.get("role") == "user":
                messages.append({"role": "user", "content": unescape(str(m.get("content") or ""))})
            elif isinstance(m, dict) and m.get("role") == "assistant":
                messages.append({"role": "assistant", "content": str(m.get("content") or ""), "done": True})
        latest = old.get("latest") if isinstance(old.get("latest"), dict) else {}
        if messages and messages[-1]["role"] == "assistant" and isinstance(latest.get("sources"), list):
            messages[-1]["sources"] = [s for s in latest["sources"] if isinstance(s, dict)]
            messages[-1]["refused"] = bool(latest.get("refused"))
        if messages:
            store["conversations"].append({"id": str(old["id"]), "title": str(old.get("title") or title_of(messages)),
                                           "created": old.get("updated"), "updated": old.get("updated"),
                                           "messages": messages})
    store["conversations"] = within_budget(sorted(store["conversations"], key=lambda c: -float(c.get("updated") or 0)),
                                           store["current"])
    return store


def new_id() -> str:
    return uuid.uuid4().hex[:12]
