"""Named limits shared by the loaders, the engine and the adapters."""

MAX_MESSAGE_CHARS = 4096  # Telegram's hard limit for one message
ANSWER_CHARS_TARGET = 900  # an answer must fit a small screen without scrolling far
MAX_CALLBACK_DATA_BYTES = 64  # Telegram's limit on inline button callback_data
MAX_BUTTONS_PER_ROW = 2  # wider rows truncate labels on small phones
MAX_BUTTON_LABEL_CHARS = 40  # longer labels are cut off on small phones
MAX_SUGGESTIONS = 3  # "did you mean" buttons at most (the matcher offers no more)
MAX_TEXT_CHARS = 1000  # text she sends beyond this is cut before matching
REVIEW_STALE_DAYS = 365  # an answer reviewed longer ago is a soft issue
VERIFIED_STALE_DAYS = 183  # a directory entry verified longer ago is a soft issue
MESSAGE_ID_TTL_HOURS = 48  # Telegram lets bots delete messages only this long
SESSION_TTL_DAYS = 30  # idle sessions are purged after this by default
DELETE_BATCH = 100  # deleteMessages takes at most this many ids a call
SERVICES_PER_PAGE = 5  # cards per page of a directory list
CASE_LINK_MAX_DAYS = 7  # an open hand-over case keeps her chat link at most this long
# What Telegram marks as a bot command: a slash, 1-32 Latin letters, digits or underscores,
# perhaps "@botname", then a space or the end ("/помогите он не дышит" is text, not one)
BOT_COMMAND = r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?=\s|$)"
