"""Talk to a person, the Bot API side: carry out cases in the staff group and in her chat.

Theory of operation. The engine decides: when a case opens, when her words go
to the consultants and when the case ends (``HandOver`` replies of
``bot.engine.step``), and what she and the staff group are told at each moment
(``bot.engine.handover.step``). This module only performs. It opens and closes
cases in the store, posts to the staff group, sends to her chat and deletes
messages; each time something has happened it reports the fact to
``handover.step`` and sends the ``CaseStep`` it gets back, as it is.

Opening a case seals her chat id with ``PODRUGA_CASE_KEY`` (AES-GCM) and stores
only that sealed link under her HMAC key and a short number (``K-4821``); the
staff group sees the number, her language and country and her words, never her
id, name, username or profile. A consultant answers by replying to a message of
the case: the store maps that staff message back to the case, the link is
opened, and the answer goes to her from the bot. Closing, leaving, quick exit
and ``/forget`` destroy the link; the store also drops it after 7 days. Quick
exit and ``/forget`` withdraw her case whatever her session says
(``withdraw``): the case's messages, whose ids are in the store whichever
instance posted them, are deleted from the staff group.

A consultant's answer goes out under her per-key lock and is remembered for
quick exit only while the case is still open, in one statement; if she left
while it was on its way (quick exit on another instance), it is taken back.
Long texts are split, never cut: hers (the engine reads only the first 1,000
characters, the consultants get all of them) and the consultant's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.render import (
    Blocked,
    GaveUp,
    call,
    delete_messages,
    html_chunks,
    inline,
)
from bot.engine import World, handover
from bot.engine.handover import (
    AnswerLost,
    CaseEnded,
    CaseGone,
    CaseOpened,
    CaseStep,
    Desk,
    HerWords,
    Lost,
    StaffAction,
    StaffAnswer,
    StaffBlocked,
    StaffClosed,
    StaffPost,
    ToStaff,
    after_staff_closed,
    pace,
)
from bot.engine.replies import HandOver, HandOverKind, Say
from bot.engine.state import State
from bot.limits import MAX_MESSAGE_CHARS
from bot.store import CaseCipher, SessionKey, Store

log = logging.getLogger("podruga.handover")

HEADER_ROOM = 80  # characters kept free for the heading of each part of her words


@dataclass
class StaffChat:
    """Hand-over on Telegram for one running bot: the staff group, the case cipher, the desk."""

    chat_id: int
    cipher: CaseCipher
    world: Callable[[], World]  # the current content (it changes on /reload)
    desk: Desk = field(default_factory=Desk)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    recent: dict[str, tuple[float, ...]] = field(default_factory=dict)  # her pace, per case
    hinted: float | None = None  # when the staff hint was last given (monotonic seconds)

    def decide(self, event: handover.CaseEvent, now: datetime) -> CaseStep:
        return handover.step(self.world(), self.desk, event, now)

    # -- her side ----------------------------------------------------------------------
    async def carry_out(self, bot: Any, store: Store, key: SessionKey, chat_id: int,
                        state: State, reply: HandOver, now: datetime) -> list[int]:
        """Carry out one HandOver reply; return the ids of messages sent to her chat."""
        if reply.kind is HandOverKind.OPEN:
            return await self.open(bot, store, key, chat_id, state, now)
        number = await store.case_for(key)
        if reply.kind is HandOverKind.TO_CONSULTANT:
            if number is None:  # expired after 7 days, or closed by staff: open a fresh one
                told = await self.open(bot, store, key, chat_id, state, now, quiet=True)
                if told:
                    return told  # the staff group cannot be reached, and she knows it now
                number = await store.case_for(key)
            if number is None:
                return []
            return await self.pass_on(bot, store, number, chat_id, state, reply.text, now)
        if number is not None:
            await self.close(bot, store, number, now,
                             withdrawn=reply.kind is HandOverKind.WITHDRAW)
        return []

    async def open(self, bot: Any, store: Store, key: SessionKey, chat_id: int, state: State,
                   now: datetime, quiet: bool = False) -> list[int]:
        existing = await store.case_for(key)
        number = await store.open_case(key, self.cipher.seal(chat_id), now)
        if existing == number:
            return []  # a second tap on "talk to a person": the case is open already
        log.info("case_opened lang=%s country=%s", state.lang or "-", state.country or "-")
        opened = self.decide(CaseOpened(number, state.lang, state.country, quiet=quiet), now)
        ids, _ = await self.perform(bot, store, opened, chat_id, number, now)
        return ids

    async def pass_on(self, bot: Any, store: Store, number: str, chat_id: int, state: State,
                      text: str, now: datetime) -> list[int]:
        """Her words to the staff group, at the pace the engine allows."""
        case = await store.get_case(number)
        if case is None or case.blocked:
            log.info("relay_dropped reason=%s", "blocked" if case else "closed")
            return []
        paced = pace(self.recent.get(number, ()), time.monotonic(), state.lang)
        self.recent[number] = paced.recent
        if paced.too_fast is not None:
            log.info("relay_dropped reason=rate_limit")
            ids, _ = await self.perform(bot, store, self.decide(paced.too_fast, now), chat_id,
                                        None, now)
            return ids
        words = self.decide(HerWords(number, state.lang, state.country, text), now)
        ids, reached = await self.perform(bot, store, words, chat_id, number, now)
        if reached:
            log.info("relayed to=staff")
        return ids

    async def withdraw(self, bot: Any, store: Store, key: SessionKey) -> None:
        """Quick exit, /forget or she blocked the bot: withdraw her open case, if any."""
        number = await store.case_for(key)
        if number is not None:
            await self.close(bot, store, number, self.clock(), withdrawn=True)

    async def close(self, bot: Any, store: Store, number: str, now: datetime, *,
                    withdrawn: bool) -> None:
        """Destroy the link; when withdrawn, also remove the case from the staff group."""
        ids = await store.staff_messages(number) if withdrawn else []
        self.recent.pop(number, None)
        if not await store.close_case(number):
            return  # closed meanwhile (by a consultant, or by another instance)
        if withdrawn:
            await self.delete(bot, self.chat_id, ids)
        await self.perform(bot, store, self.decide(CaseEnded(number, withdrawn), now), None,
                           None, now)
        if withdrawn:
            log.info("case_withdrawn deleted=%d", len(ids))
        else:
            log.info("case_left")

    async def perform(self, bot: Any, store: Store, step: CaseStep, her_chat: int | None,
                      number: str | None, now: datetime) -> tuple[list[int], bool]:
        """Post the step's messages to the staff group, then send hers.

        ``number``: the posts belong to this case (a consultant may reply to them).
        Returns the ids sent to her chat, and whether every staff post went out;
        when one does not, she gets the step's ``unreachable`` messages instead.
        """
        for post in step.staff:
            for text in self.staff_texts(post):
                sent = await self.to_staff(bot, text)
                if sent is None:
                    if her_chat is None:
                        return [], False
                    log.warning("relay_failed reason=staff_chat_unreachable")
                    return await self.tell_her(bot, her_chat, step.unreachable), False
                if number is not None:
                    await store.note_staff_message(number, sent.message_id, now)
        if her_chat is None:
            return [], True
        return await self.tell_her(bot, her_chat, step.her), True

    @staticmethod
    def staff_texts(post: ToStaff) -> list[str]:
        """A post as staff group messages: her words split when long, each part headed."""
        if post.words is None:
            return [post.text]
        parts = html_chunks(post.words, MAX_MESSAGE_CHARS - HEADER_ROOM)
        return [f"{post.text}{f' · {i + 1}/{len(parts)}' if len(parts) > 1 else ''}\n{part}"
                for i, part in enumerate(parts)]

    async def tell_her(self, bot: Any, chat_id: int, says: Sequence[Say]) -> list[int]:
        """The engine's messages to her during a case; Telegram failing drops the rest."""
        ids: list[int] = []
        for say in says:
            try:
                await self.send_her(bot, chat_id, say, ids)
            except (GaveUp, BadRequest) as exc:
                # call() logged a give-up; a refused message is logged here. Nothing to retry:
                # the next thing she does gets a fresh answer.
                log.warning("tell_her_failed error=%s", type(exc).__name__)
                break
        return ids

    @staticmethod
    async def send_her(bot: Any, chat_id: int, say: Say, sent: list[int]) -> None:
        """One message to her, split if long, the buttons under the last part; the id of
        each part that went out is added to ``sent`` at once, so a failure loses none."""
        parts = html_chunks(say.text)
        for i, part in enumerate(parts):
            keyboard = inline(say.buttons) if i == len(parts) - 1 else None
            message: Message = await call("sendMessage", lambda p=part, k=keyboard:  # type: ignore[misc]
                                          bot.send_message(chat_id, p, reply_markup=k))
            sent.append(message.message_id)

    async def to_staff(self, bot: Any, text: str) -> Message | None:
        """Post to the staff group; None when it cannot be reached."""
        try:
            message: Message = await call("sendMessage", lambda: bot.send_message(
                self.chat_id, text))
            return message
        except (GaveUp, Blocked):
            log.warning("staff_chat_unreachable")
            return None
        except TelegramError as exc:
            # A wrong PODRUGA_STAFF_CHAT ("chat not found"), a group that became a supergroup:
            # her turn must go on, and she is told her words reached nobody.
            log.warning("staff_chat_unreachable error=%s", type(exc).__name__)
            return None

    @staticmethod
    async def delete(bot: Any, chat_id: int, ids: list[int]) -> None:
        """Delete messages in batches; a chat that blocked the bot is logged and left."""
        try:
            await delete_messages(bot, chat_id, ids)
        except Blocked:
            log.warning("delete_failed count=%d", len(ids))  # call() logged why

    # -- the consultants' side ------------------------------------------------------------
    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                               rt: Any) -> None:
        """A message in the staff group: an answer, /close or /block, or anything else."""
        message = update.effective_message
        if message is None:
            return
        bot = context.bot
        store: Store = rt.live_store()
        now = rt.clock()
        target = message.reply_to_message
        number = await store.case_of_staff_message(target.message_id) \
            if target is not None else None
        user = update.effective_user
        consultant = user is not None and user.id in rt.settings.staff_ids
        moment = time.monotonic()
        text = (message.text or "").strip()
        decided = self.decide(StaffPost(
            number, reply=target is not None, consultant=consultant, text=text,
            since_hint=moment - self.hinted if self.hinted is not None else float("inf")), now)
        if decided.action is StaffAction.HINTED:
            self.hinted = moment
        if number is not None and not consultant:
            log.info("staff_reply_refused reason=not_staff")
        await self.perform(bot, store, decided, None, None, now)
        if decided.action in (StaffAction.NOTHING, StaffAction.HINTED) or number is None:
            return
        case = await store.get_case(number)
        if case is None:
            return
        if decided.action is StaffAction.BLOCK:
            await store.set_blocked(number, True)
            await self.perform(bot, store, self.decide(StaffBlocked(number), now), None, None,
                               now)
            log.info("case_blocked")
            return
        # Her turns and this answer, one at a time: a quick exit cannot run in between.
        async with rt.serial(case.key):
            if await store.get_case(number) is None:
                await self.perform(bot, store, self.decide(CaseGone(), now), None, None, now)
                return
            chat_id = self.cipher.open(case.link)
            state = await store.load_session(case.key) or State()
            if decided.action is StaffAction.CLOSE:
                await store.update_session(case.key, after_staff_closed, now)
                self.recent.pop(number, None)
                await store.close_case(number)
                closed = self.decide(StaffClosed(number, state.lang), now)
                ids = await self.answer_her(bot, store, case.key, chat_id, closed.her, now)
                if ids:
                    await store.remember_messages(case.key, ids, now)
                await self.perform(bot, store, CaseStep(closed.staff), None, None, now)
                log.info("case_closed by=staff")
                return
            answer = self.decide(StaffAnswer(state.lang, text), now)
            ids = await self.answer_her(bot, store, case.key, chat_id, answer.her, now)
            if ids and not await store.remember_case_messages(number, ids, now):
                # She left while it was on its way (quick exit on another instance): nothing
                # may stay on her screen, and nothing is written under her key.
                await self.delete(bot, chat_id, ids)
                await self.perform(bot, store, self.decide(AnswerLost(Lost.SHE_LEFT), now),
                                   None, None, now)
                return
            if ids:
                log.info("relayed to=her parts=%d", len(ids))

    async def answer_her(self, bot: Any, store: Store, key: SessionKey, chat_id: int,
                         says: Sequence[Say], now: datetime) -> list[int]:
        """A consultant's answer (or the end of the case) to her; the ids that reached her."""
        ids: list[int] = []
        for say in says:
            try:
                await self.send_her(bot, chat_id, say, ids)
            except Blocked:
                await store.forget(key)
                await self.perform(bot, store, self.decide(AnswerLost(Lost.SHE_BLOCKED), now),
                                   None, None, now)
                return []
            except (GaveUp, BadRequest) as exc:
                log.warning("answer_failed error=%s", type(exc).__name__)
                await self.perform(bot, store, self.decide(AnswerLost(Lost.NOT_DELIVERED), now),
                                   None, None, now)
                break
        return ids
