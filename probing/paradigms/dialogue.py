"""The dialogue kind's design fields: named agents, messages and the generation prompt.

A dialogue stimulus is a list of messages, each sent by a chat role (``system, user,
assistant, tool``) or by a named agent that the file declares and maps onto one of those
roles (``agents: {alice: user}``): chat templates know only their roles, so an agent's
messages are rendered in its role with the agent's name in front of the text (see
:func:`speaker_label`). A message's content is a text per condition, exactly like a
factorial region's, with ``{slot}`` placeholders filled from the lexicon; an empty text
leaves the message out of that condition (a distractor turn present or absent).
"""

from __future__ import annotations

from probing.paradigms.spec import Message
from probing.paradigms.texts import check_texts
from probing.stimuli import CHAT_ROLES

MESSAGE_FIELDS = ("role", "content")


def speaker_label(role, agent):
    """How a message's sender is named in text: the agent's name, else the role.

    Examples
    --------
    >>> speaker_label("user", ""), speaker_label("user", "alice")
    ('User', 'Alice')
    """
    name = agent or role
    return name[:1].upper() + name[1:]


def render_plain(messages):
    """Join ``(role, agent, content)`` messages as ``Sender: content`` lines.

    Returns
    -------
    text : str
    spans : list of (start, end)
        Each message's content span in ``text``.

    Examples
    --------
    >>> render_plain([("user", "", "Hi."), ("assistant", "", "Hello!")])
    ('User: Hi.\\nAssistant: Hello!', [(6, 9), (21, 27)])
    """
    text, spans = "", []
    for role, agent, content in messages:
        if text:
            text += "\n"
        text += f"{speaker_label(role, agent)}: "
        spans.append((len(text), len(text) + len(content)))
        text += content
    return text, spans


def message_region_names(speakers):
    """Region names of a dialogue's messages: the sender and its running count.

    Parameters
    ----------
    speakers : sequence of str
        Each message's agent name, or its role when no agent sends it.

    Examples
    --------
    >>> message_region_names(["system", "user", "assistant", "user"])
    ['system_1', 'user_1', 'assistant_1', 'user_2']
    """
    seen, names = {}, []
    for speaker in speakers:
        seen[speaker] = seen.get(speaker, 0) + 1
        names.append(f"{speaker}_{seen[speaker]}")
    return names


def check_agents(ck):
    """``agents: {name: role}``: each agent a valid new name rendered in a chat role."""
    if "agents" not in ck.data:
        return ()
    agents = ck.typed("agents", ck.data["agents"], dict, "a mapping agent: chat role")
    for name, role in agents.items():
        ck.name(f"agents.{name}", name)
        if name in CHAT_ROLES:
            ck.fail(f"agents.{name}", f"{name!r} is a chat role already; an agent needs "
                    "a name of its own")
        if role not in CHAT_ROLES:
            ck.fail(f"agents.{name}", f"{role!r} is not a chat role; allowed: "
                    f"{', '.join(CHAT_ROLES)}")
    return tuple(agents.items())


def check_messages(ck, factors, slot_names, agents):
    """``messages:``, a list of ``{role, content}``; content as a factorial region's text."""
    messages = ck.typed("messages", ck.data["messages"], list, "a list of {role, content}")
    if not messages:
        ck.fail("messages", "must not be empty")
    senders = (*CHAT_ROLES, *(name for name, _ in agents))
    out = []
    for i, entry in enumerate(messages):
        field = f"messages.{i}"
        ck.typed(field, entry, dict, "a mapping with role and content")
        for key in entry:
            if key not in MESSAGE_FIELDS:
                ck.fail(f"{field}.{key}", f"unknown field; allowed: {', '.join(MESSAGE_FIELDS)}")
        for key in MESSAGE_FIELDS:
            if key not in entry:
                ck.fail(f"{field}.{key}", "missing required field")
        if entry["role"] not in senders:
            ck.fail(f"{field}.role", f"unknown role {entry['role']!r}; allowed: "
                    f"{', '.join(senders)} (declare other agents under agents:)")
        texts = check_texts(ck, f"{field}.content", entry["content"], factors, slot_names)
        out.append(Message(entry["role"], texts))
    clash = set(slot_names) & {f"{s}_{k}" for s in senders for k in range(1, len(out) + 1)}
    if clash:
        ck.fail("slots", f"slot {sorted(clash)[0]!r} has the name of a message region "
                "(sender_number); rename the slot")
    return tuple(out)


def check_generation_prompt(ck):
    """``generation_prompt: true`` ends a rendering with the assistant's opening header."""
    if "generation_prompt" not in ck.data:
        return False
    return ck.typed("generation_prompt", ck.data["generation_prompt"], bool, "true or false")
