"""Every key of the single table, built here and nowhere else.

The access-pattern table in docs/DATA.md lists what each key serves.
"""

from __future__ import annotations

PROFILE = "PROFILE"
META = "META"
RECORD = "RECORD"


def user(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", PROFILE


def email_claim(email: str) -> tuple[str, str]:
    key = f"EMAIL#{email.lower()}"
    return key, key


def username_claim(username: str) -> tuple[str, str]:
    key = f"USERNAME#{username.lower()}"
    return key, key


def users_index() -> str:
    """GSI1 partition listing every user, sorted by lower-cased username."""
    return "USERS"


def revoked_token(jti: str) -> tuple[str, str]:
    return f"REVOKED#{jti}", "REVOKED"


def login_failures(identifier: str, window_bucket: int) -> tuple[str, str]:
    return f"LOGINFAIL#{identifier.lower()}", f"WINDOW#{window_bucket}"


def event(event_id: str) -> tuple[str, str]:
    return f"EVENT#{event_id}", META


def event_partition(event_id: str) -> str:
    return f"EVENT#{event_id}"


def section(event_id: str, code: str) -> tuple[str, str]:
    return f"EVENT#{event_id}", f"SECTION#{code}"


def section_shard(event_id: str, code: str, index: int) -> tuple[str, str]:
    """Shard ``index`` (≥ 1) of a section's capacity: a partition of its own, so a hot section's
    writes spread over K partitions (shard 0 is the section item itself)."""
    return f"SHARD#{event_id}#{code}#{index}", "SHARD"


SECTION_PREFIX = "SECTION#"


def events_by_month(yyyy_mm: str) -> str:
    """GSI1 partition of events starting in that month (sort key `<starts_at>#<id>`)."""
    return f"EVENTS#{yyyy_mm}"


def event_month_sort(starts_at_iso: str, event_id: str) -> str:
    return f"{starts_at_iso}#{event_id}"


def event_month_range(start_iso: str, end_iso: str) -> tuple[str, str]:
    """GSI1 sort-key bounds for events starting between two instants ("~" sorts after "#<id>")."""
    return start_iso, end_iso + "~"


def user_sort(username: str, user_id: str) -> str:
    return f"{username.lower()}#{user_id}"


def events_by_organizer(user_id: str) -> str:
    return f"ORGANIZER#{user_id}"


def order(order_id: str) -> tuple[str, str]:
    return f"ORDER#{order_id}", META


def ticket(order_id: str, n: int) -> tuple[str, str]:
    return f"ORDER#{order_id}", f"TICKET#{n:03d}"


def orders_by_user(user_id: str) -> str:
    return f"USER#{user_id}#ORDERS"


def orders_by_event(event_id: str) -> str:
    return f"EVENT#{event_id}#ORDERS"


def created_sort(created_at_iso: str, item_id: str) -> str:
    return f"{created_at_iso}#{item_id}"


def idempotency(user_id: str, key: str) -> tuple[str, str]:
    return f"IDEMPOTENCY#{user_id}#{key}", RECORD


def health() -> tuple[str, str]:
    return "HEALTH", "HEALTH"


def invoice(invoice_id: str) -> tuple[str, str]:
    return f"INVOICE#{invoice_id}", META


def invoice_id_for(order_id: str) -> str:
    """An order's invoice id: derived from the order, so a replayed record finds it."""
    return f"{order_id}-INV"


def credit_note_id_for(order_id: str) -> str:
    return f"{order_id}-CN"


def invoice_counter(organizer_id: str, kind: str) -> tuple[str, str]:
    return f"COUNTER#{kind.upper()}#{organizer_id}", "COUNTER"


def invoices_by_user(user_id: str) -> str:
    return f"USER#{user_id}#INVOICES"


def invoices_by_organizer(organizer_id: str) -> str:
    return f"ORGANIZER#{organizer_id}#INVOICES"


def invoice_number_sort(kind: str, number: int) -> str:
    return f"{kind}#{number:012d}"


def notifications(user_id: str) -> str:
    return f"NOTIFICATIONS#{user_id}"


def notification(user_id: str, notification_id: str) -> tuple[str, str]:
    return notifications(user_id), f"NOTIF#{notification_id}"


NOTIFICATION_PREFIX = "NOTIF#"


def sales_reports(date: str) -> str:
    return f"REPORT#SALES#{date}"


def sales_report(date: str, event_id: str) -> tuple[str, str]:
    return sales_reports(date), f"EVENT#{event_id}"


def seats(event_id: str) -> str:
    """The partition of an event's taken seats (held or sold); a free seat has no item."""
    return f"EVENT#{event_id}#SEATS"


def seat(event_id: str, section: str, row: int, number: int) -> tuple[str, str]:
    return seats(event_id), seat_sort(section, row, number)


def seat_sort(section: str, row: int, number: int) -> str:
    return f"{section}#{row:03d}#{number:04d}"


def seat_section_prefix(section: str) -> str:
    return f"{section}#"


def hold(hold_id: str) -> tuple[str, str]:
    return f"HOLD#{hold_id}", META


def holds_expiring(minute: str) -> str:
    """GSI1 partition of the live holds that expire in one minute (``yyyy-mm-ddThh:mm``)."""
    return f"HOLDS#{minute}"


def holds_by_user(user_id: str) -> str:
    """GSI2 partition of a user's holds and of the hold seats assigned to them."""
    return f"USER#{user_id}#HOLDS"


def hold_claim(event_id: str, user_id: str) -> tuple[str, str]:
    """One live hold per user per event: the claim names it (and is free again once it expires)."""
    return f"EVENT#{event_id}#HOLDERS", f"USER#{user_id}"


def hold_assignment(hold_id: str, seat_id: str) -> tuple[str, str]:
    return f"HOLD#{hold_id}", f"ASSIGN#{seat_id}"


def sweep_checkpoint() -> tuple[str, str]:
    return "SWEEP#HOLDS", "CHECKPOINT"


def tickets_by_event(event_id: str) -> str:
    """GSI2 partition of an event's tickets (the attendee list)."""
    return f"EVENT#{event_id}#TICKETS"


def ticket_key(event_id: str, kid: str) -> tuple[str, str]:
    """An event's ticket-signing key pair (the private half never leaves the table)."""
    return f"TICKETKEY#{event_id}", f"KEY#{kid}"


def ticket_keys(event_id: str) -> str:
    return f"TICKETKEY#{event_id}"


def waitlist_entry(event_id: str, user_id: str) -> tuple[str, str]:
    return f"EVENT#{event_id}#WAITLIST", f"USER#{user_id}"


def waitlist_queue(event_id: str, section: str) -> str:
    """GSI1 partition of a section's waiting entries, in order of joining."""
    return f"EVENT#{event_id}#WAITLIST#{section}"


# --- social: friends -------------------------------------------------------------------------
def pair(a: str, b: str) -> tuple[str, str]:
    """The two users of a pair in a fixed order: one key whichever side acts."""
    return (a, b) if a < b else (b, a)


def friend_pair(a: str, b: str) -> tuple[str, str]:
    """The pair's one state item (pending request or friends): uniqueness whichever side sent first."""
    lo, hi = pair(a, b)
    return f"PAIR#{lo}#{hi}", "PAIR"


def friend_request(request_id: str) -> tuple[str, str]:
    return f"FRIENDREQ#{request_id}", META


def friend_requests_to(user_id: str) -> str:
    """GSI1 partition of the pending requests a user received."""
    return f"USER#{user_id}#FRIENDREQ#IN"


def friend_requests_from(user_id: str) -> str:
    """GSI2 partition of the pending requests a user sent."""
    return f"USER#{user_id}#FRIENDREQ#OUT"


def friends(user_id: str) -> str:
    return f"FRIENDS#{user_id}"


def friend(user_id: str, friend_id: str) -> tuple[str, str]:
    """One direction of a friendship; a friendship is both edges, written in one transaction."""
    return friends(user_id), f"USER#{friend_id}"


FRIEND_PREFIX = "USER#"


# --- social: posts, comments, likes, feeds ---------------------------------------------------------
def post(post_id: str) -> tuple[str, str]:
    return f"POST#{post_id}", META


def post_partition(post_id: str) -> str:
    return f"POST#{post_id}"


def feed(user_id: str) -> str:
    """GSI1 partition of a user's feed: their own posts and their friends' (entries written on post)."""
    return f"FEED#{user_id}"


def feed_entry(post_id: str, reader_id: str) -> tuple[str, str]:
    """A post's copy in one friend's feed (lives in the post's partition, indexed into the reader's feed)."""
    return post_partition(post_id), f"FEED#{reader_id}"


FEED_ENTRY_PREFIX = "FEED#"


def posts_by_author(user_id: str) -> str:
    """GSI2 partition of a user's own posts, newest last by sort key (``<created_at>#<post>``)."""
    return f"USER#{user_id}#POSTS"


def like(post_id: str, user_id: str) -> tuple[str, str]:
    return post_partition(post_id), f"LIKE#{user_id}"


LIKE_PREFIX = "LIKE#"


def like_notice(post_id: str, user_id: str) -> tuple[str, str]:
    """Marks that this user's like of this post was told: a re-like after an unlike tells nobody."""
    return post_partition(post_id), f"NOTICE#LIKE#{user_id}"


def comment(comment_id: str) -> tuple[str, str]:
    return f"COMMENT#{comment_id}", META


def comments_of(post_id: str) -> str:
    """GSI1 partition of a post's comments, oldest first."""
    return f"POST#{post_id}#COMMENTS"


# --- social: messages and conversations ------------------------------------------------------
def conversation(a: str, b: str) -> str:
    lo, hi = pair(a, b)
    return f"CONVO#{lo}#{hi}"


def message(a: str, b: str, message_id: str) -> tuple[str, str]:
    return conversation(a, b), f"MSG#{message_id}"


MESSAGE_PREFIX = "MSG#"


def conversation_entry(user_id: str, other_id: str) -> tuple[str, str]:
    """A user's view of one conversation (latest message, unread count): the activity consumer keeps it."""
    return f"CONVOS#{user_id}", f"WITH#{other_id}"


def conversations_of(user_id: str) -> str:
    """GSI1 partition of a user's conversations, by the time of their latest message."""
    return f"CONVOS#{user_id}"


# --- social: bookmarks (followers of an event) ---------------------------------------------------
def bookmark(user_id: str, event_id: str) -> tuple[str, str]:
    return f"BOOKMARKS#{user_id}", f"EVENT#{event_id}"


def bookmarks_of(user_id: str) -> str:
    """GSI2 partition of a user's bookmarks, newest first by sort key ``<created_at>#<event>``."""
    return f"USER#{user_id}#BOOKMARKS"


def followers(event_id: str) -> str:
    """GSI1 partition of the users who bookmarked an event (they follow its changes)."""
    return f"EVENT#{event_id}#FOLLOWERS"


# --- search: n-gram postings -------------------------------------------------------------------
def search_postings(kind: str, gram: str) -> str:
    return f"SEARCH#{kind}#{gram}"


def search_posting(kind: str, gram: str, sort: str) -> tuple[str, str]:
    return search_postings(kind, gram), sort


def search_gram_count(kind: str, gram: str) -> tuple[str, str]:
    """How many postings a gram has (approximate): the query reads the rarest gram's postings.

    One partition per gram: every insert bumps dozens of counters, and one partition per kind
    would take all of those writes."""
    return f"SEARCHCOUNT#{kind}#{gram}", "COUNT"


# --- places -------------------------------------------------------------------------------------
def places_in(cell: str) -> str:
    """The places of one geohash cell (precision 5, about 5 km x 5 km)."""
    return f"PLACE#{cell}"


def place(cell: str, kind: str, place_id: str) -> tuple[str, str]:
    return places_in(cell), f"PLACE#{kind}#{place_id}"


def place_kind_prefix(kind: str) -> str:
    return f"PLACE#{kind}#"


# --- support desk (issue 9) --------------------------------------------------------------------
def support_ticket(ticket_id: str) -> tuple[str, str]:
    return support_partition(ticket_id), META


def support_partition(ticket_id: str) -> str:
    """The ticket and its history entries (``HISTORY#<version>``)."""
    return f"SUPPORT#{ticket_id}"


HISTORY_PREFIX = "HISTORY#"


def support_history(ticket_id: str, version: int) -> tuple[str, str]:
    """One change of a ticket, by the version it made: history reads in the order the changes landed."""
    return support_partition(ticket_id), f"{HISTORY_PREFIX}{version:08d}"


def support_listing(listing: str) -> str:
    """A list of tickets (``all``, ``status=open``, ``assignee=<id>&status=open``...): one entry per ticket."""
    return f"SUPPORTLIST#{listing}"


def support_listing_sort(rank: int, created_at_iso: str, ticket_id: str) -> str:
    """Most urgent first (rank 0 = emergency), then oldest: a list is one ascending Query."""
    return f"{rank}#{created_at_iso}#{ticket_id}"


def support_rank_prefix(rank: int) -> str:
    return f"{rank}#"


def support_comment(comment_id: str) -> tuple[str, str]:
    return f"SUPPORTCOMMENT#{comment_id}", META


def support_comments(ticket_id: str) -> str:
    """GSI2 partition of every comment of a ticket, internal notes included (staff)."""
    return f"SUPPORT#{ticket_id}#COMMENTS"


def support_public_comments(ticket_id: str) -> str:
    """GSI1 partition of a ticket's public comments only: what its creator reads, nothing to filter out."""
    return f"SUPPORT#{ticket_id}#COMMENTS#PUBLIC"


# --- fan-out: bounded work items ---------------------------------------------------------------
def fanout_step(job_id: str, n: int) -> tuple[str, str]:
    """One bounded step of a fan-out (notify followers, fill feeds); step n+1 is written by step n."""
    return f"FANOUT#{job_id}", f"STEP#{n:06d}"


# --- users by role (issue 9) ---
def users_by_role(role: str) -> str:
    """GSI2 partition of the accounts with one role, sorted by ``user_sort`` (lower-cased username)."""
    return f"ROLE#{role}"


# --- google sign-in (issue 10) ----------------------------------------------------------------
def google_claim(sub: str) -> tuple[str, str]:
    """Holds a Google subject for one user: one Google account, one Boxoffice account."""
    key = f"GOOGLE#{sub}"
    return key, key
