"""Posts, re-shares, comments, likes and the feed (issue 8).

Who may see a post is decided in one place, :func:`may_read`: its author, the author's friends,
and ``can_view_all``. Everything hanging off a post (its comments, its likes, a re-share's view of
it) is visible exactly when the post is; anyone else gets 404, as if it did not exist.

The feed is written on post (fan-out on write): a post sits in its author's feed at once; the
activity consumer then copies it into each friend's feed in bounded steps. A feed page is one
Query of the reader's feed and one BatchGetItem of the page's posts, the reader's likes of them,
the posts they re-share, and the friend edges that say whether the reader may still see each
author: what was deleted or is no longer visible is dropped, so a page may be short (its
``next_cursor`` still leads on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.permissions import Permission
from chalicelib.domain import fanout
from chalicelib.domain import users as user_domain
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Forbidden, Invalid, NotFound
from chalicelib.domain.fanout import Next
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.domain.notifications import notify
from chalicelib.store import events as event_store
from chalicelib.store import friends as friend_store
from chalicelib.store import keys
from chalicelib.store import posts as store
from chalicelib.store.fanout import FanoutStep
from chalicelib.store.friends import Friend
from chalicelib.store.pagination import Page
from chalicelib.store.posts import Comment, FeedEntry, Like, Post
from chalicelib.store.table import Item, write_batch
from chalicelib.streams.processor import Reactions
from chalicelib.streams.records import Change

BACKFILL = 20  # a new friend's latest posts copied into the other's feed
FEED_JOB, CLEANUP_JOB = "post_feed", "post_cleanup"
FRIENDS, PARTITION, COMMENTS = "friends", "partition", "comments"
IsFriend = Callable[[str], bool]


# --- who may see a post: the one rule ---------------------------------------------------------


def may_read(caller: Caller, author_id: str, is_friend: IsFriend) -> bool:
    """A post (and its comments and likes) is visible to its author, the author's friends, and
    ``can_view_all``. ``is_friend(author)`` is asked only when the first two do not decide."""
    return caller.id == author_id or caller.can(Permission.VIEW_ALL) or is_friend(author_id)


def _friend_of(caller: Caller) -> IsFriend:
    return lambda author_id: friend_store.are_friends(caller.id, author_id)


def readable(caller: Caller, post_id: str) -> Post:
    """The post if the caller may see it now; NotFound otherwise (strangers learn nothing)."""
    post = store.find(post_id)
    if post is None or not may_read(caller, post.author_id, _friend_of(caller)):
        raise NotFound("No such post.")
    return post


# --- views ---------------------------------------------------------------------------------------


def short_view(post: Post) -> dict[str, Any]:
    return {
        "id": post.post_id,
        "author_id": post.author_id,
        "body": post.body or "",
        "event_id": post.event_id,
        "created_at": post.created_at,
    }


def view(post: Post, shared: dict[str, Any] | None, liked: bool) -> dict[str, Any]:
    return {
        **short_view(post),
        "shared_post_id": post.shared_post_id,
        "shared_post": shared,  # null when the reader may not see it (or it was deleted)
        "like_count": int(post.like_count),
        "comment_count": int(post.comment_count),
        "liked_by_me": liked,
        "version": int(post.version),
        "updated_at": post.updated_at,
    }


@dataclass(frozen=True)
class _Ref:
    """A post to show: its ids (from a feed entry), or the post itself when already read."""

    post_id: str
    author_id: str
    shared_post_id: str | None
    shared_author_id: str | None
    post: Post | None = None

    @classmethod
    def of(cls, item: Post | FeedEntry) -> _Ref:
        post = item if isinstance(item, Post) else None
        return cls(item.post_id, item.author_id, item.shared_post_id, item.shared_author_id, post)


def _render(caller: Caller, refs: Sequence[_Ref], consistent: bool = False) -> list[dict[str, Any]]:
    """Views of the posts the caller may see now, in order: one BatchGetItem of the posts not yet
    read, the caller's likes, the shared posts and the friend edges to every author involved."""
    wanted: list[tuple[str, str]] = []
    authors: set[str] = set()
    for ref in refs:
        if ref.post is None:
            wanted.append(keys.post(ref.post_id))
        wanted.append(keys.like(ref.post_id, caller.id))
        authors.add(ref.author_id)
        if ref.shared_post_id and ref.shared_author_id:
            wanted.append(keys.post(ref.shared_post_id))
            authors.add(ref.shared_author_id)
    if not caller.can(Permission.VIEW_ALL):
        wanted += [keys.friend(caller.id, a) for a in sorted(authors - {caller.id})]
    found = store.batch(wanted, consistent)
    friends = {item.friend_id for item in found.values() if isinstance(item, Friend)}
    out = []
    for ref in refs:
        post = ref.post or _post(found, ref.post_id)
        if post is None or not may_read(caller, post.author_id, friends.__contains__):
            continue
        shared = _post(found, ref.shared_post_id) if ref.shared_post_id else None
        visible = shared is not None and may_read(caller, shared.author_id, friends.__contains__)
        liked = keys.like(ref.post_id, caller.id) in found
        out.append(view(post, short_view(shared) if shared is not None and visible else None, liked))
    return out


def _post(found: dict[tuple[str, str], Item], post_id: str | None) -> Post | None:
    item = found.get(keys.post(post_id)) if post_id else None
    return item if isinstance(item, Post) else None


def present(caller: Caller, post: Post) -> dict[str, Any]:
    """The full view of one post for the caller (NotFound if they may not see it)."""
    views = _render(caller, [_Ref.of(post)], consistent=True)
    if not views:
        raise NotFound("No such post.")
    return views[0]


# --- posts ---------------------------------------------------------------------------------------


def create(caller: Caller, body: str | None, event_id: str | None, shared_post_id: str | None) -> Post:
    """Post about an event, share one, or re-share a post the caller can see (else NotFound)."""
    if event_id is not None:
        event_store.load_event(event_id)  # NotFound for an event that does not exist
    shared = readable(caller, shared_post_id) if shared_post_id is not None else None
    now = iso(utcnow())
    post = Post(
        post_id=new_id(),
        author_id=caller.id,
        body=body or None,
        event_id=event_id,
        shared_post_id=shared_post_id,
        shared_author_id=shared.author_id if shared else None,
        created_at=now,
        updated_at=now,
    )
    return store.create(post)


def get(caller: Caller, post_id: str) -> dict[str, Any]:
    post = store.find(post_id)
    if post is None:
        raise NotFound("No such post.")
    return present(caller, post)


def _owned(caller: Caller, post_id: str, permission: Permission) -> Post:
    """The post for its author or a moderator; 403 for others who see it, 404 for the rest."""
    post = readable(caller, post_id)
    if caller.id != post.author_id and not caller.can(permission):
        raise Forbidden("Only the author may change this post.")
    return post


def edit(caller: Caller, post_id: str, changes: dict[str, str | None], version: int | None) -> Post:
    """Change ``body`` and/or ``event_id`` (None clears). PATCH passes the fields given, PUT all of
    them. With ``version`` the edit applies only to that version (409 StaleVersion otherwise);
    without, the last edit wins."""
    post = _owned(caller, post_id, Permission.EDIT_ALL)
    if not changes:
        return post
    new_event = changes.get("event_id")
    if new_event is not None and new_event != post.event_id:
        event_store.load_event(new_event)
    after = {"body": post.body, "event_id": post.event_id, **changes}
    if not (after["body"] or after["event_id"] or post.shared_post_id):
        message = "A post needs a body, an event_id or a shared post."
        raise Invalid(message, code="EmptyPost", details=[{"field": "body", "message": message}])
    store.edit(post, {name: value or None for name, value in changes.items()}, version, iso(utcnow()))
    return readable(caller, post_id)


def delete(caller: Caller, post_id: str) -> None:
    """Delete a post; the activity consumer then removes its feed entries, likes and comments."""
    store.delete(_owned(caller, post_id, Permission.DELETE_ALL), None)


def feed(caller: Caller, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's and their friends' posts, newest first; what the caller may no longer see is dropped."""
    entries: Page[Item] = store.feed_page(caller.id, limit, cursor)
    refs = [_Ref.of(item) for item in entries.items if isinstance(item, (Post, FeedEntry))]
    return _render(caller, refs), entries.next_cursor


# --- likes ---------------------------------------------------------------------------------------


def like(caller: Caller, post_id: str) -> dict[str, Any]:
    """Like once (repeating changes nothing); the post as it is now."""
    store.like(readable(caller, post_id), caller.id, iso(utcnow()))
    return get(caller, post_id)


def unlike(caller: Caller, post_id: str) -> None:
    readable(caller, post_id)
    store.unlike(post_id, caller.id)


# --- comments --------------------------------------------------------------------------------------


def comment_view(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.comment_id,
        "post_id": comment.post_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "version": int(comment.version),
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


def add_comment(caller: Caller, post_id: str, body: str) -> Comment:
    post = readable(caller, post_id)
    now = iso(utcnow())
    comment = Comment(
        comment_id=new_id(),
        post_id=post.post_id,
        post_author_id=post.author_id,
        author_id=caller.id,
        body=body,
        created_at=now,
        updated_at=now,
    )
    store.add_comment(comment)
    return comment


def comments(caller: Caller, post_id: str, limit: int, cursor: str | None) -> Page[Comment]:
    readable(caller, post_id)
    return store.comments_page(post_id, limit, cursor)


def get_comment(caller: Caller, comment_id: str) -> Comment:
    """A comment, for its author and for whoever may see its post; NotFound for anyone else."""
    comment = store.find_comment(comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    post = store.find(comment.post_id)
    if post is None:
        raise NotFound("No such comment.")  # its post is gone: the clean-up job removes it
    if caller.id != comment.author_id and not may_read(caller, post.author_id, _friend_of(caller)):
        raise NotFound("No such comment.")
    return comment


def _own_comment(caller: Caller, comment_id: str, permission: Permission) -> Comment:
    comment = get_comment(caller, comment_id)
    if caller.id != comment.author_id and not caller.can(permission):
        raise Forbidden("Only the author may change this comment.")
    return comment


def edit_comment(caller: Caller, comment_id: str, body: str | None, version: int | None) -> Comment:
    comment = _own_comment(caller, comment_id, Permission.EDIT_ALL)
    if body is not None:
        store.edit_comment(comment, body, version, iso(utcnow()))
    return get_comment(caller, comment_id)


def delete_comment(caller: Caller, comment_id: str) -> None:
    store.delete_comment(_own_comment(caller, comment_id, Permission.DELETE_ALL), None)


# --- the activity consumer: feeds, clean-up, notifications ------------------------------------------


def post_written(change: Change) -> None:
    """A new post: copy it into every friend's feed, a page of friends per fan-out step."""
    if isinstance(change.new, Post):
        fanout.start(change, FEED_JOB, {"post_id": change.new.post_id}, FRIENDS)


@fanout.handler(FEED_JOB)
def _fill_feeds(change: Change, step: FanoutStep, size: int) -> Next | None:
    post = store.find(step.params["post_id"])
    if post is None:
        return None  # deleted meanwhile: its clean-up job has the rest
    friends = friend_store.list_friends(post.author_id, size, step.cursor)
    write_batch(puts=[store.entry_for(post, f.friend_id) for f in friends.items])
    return Next(FRIENDS, friends.next_cursor) if friends.next_cursor else None


def post_deleted(change: Change) -> None:
    """A deleted post: remove its feed entries, likes and comments, a page per fan-out step."""
    if isinstance(change.old, Post):
        fanout.start(change, CLEANUP_JOB, {"post_id": change.old.post_id}, PARTITION)


@fanout.handler(CLEANUP_JOB)
def _clean_up(change: Change, step: FanoutStep, size: int) -> Next | None:
    post_id = step.params["post_id"]
    if step.phase == PARTITION:
        items = store.partition_page(post_id, size, step.cursor)
        write_batch(deletes=[i for i in items.items if not isinstance(i, Post)])
        return Next(PARTITION, items.next_cursor) if items.next_cursor else Next(COMMENTS, None)
    found = store.comments_page(post_id, size, step.cursor)
    write_batch(deletes=found.items)
    return Next(COMMENTS, found.next_cursor) if found.next_cursor else None


def friendship_made(change: Change) -> None:
    """A new friend's latest posts go into the other's feed (the other edge does the other way)."""
    edge = change.new
    if not isinstance(edge, Friend):
        return
    latest = store.by_author(edge.friend_id, BACKFILL)
    write_batch(puts=[store.entry_for(post, edge.user_id) for post in latest])


def comment_written(change: Change) -> None:
    comment = change.new
    if not isinstance(comment, Comment) or comment.author_id == comment.post_author_id:
        return
    who = user_domain.display_name(comment.author_id)
    notify(
        change,
        comment.post_author_id,
        "post_commented",
        f"{who} commented on your post",
        comment.body[:200],
        {"post_id": comment.post_id, "comment_id": comment.comment_id, "user_id": comment.author_id},
    )


def like_written(change: Change) -> None:
    """The author hears of a user's like of a post once: a like after an unlike tells nobody."""
    like_ = change.new
    if not isinstance(like_, Like) or like_.user_id == like_.post_author_id:
        return
    if not store.note_like(like_.post_id, like_.user_id, change.sequence_number):
        return
    who = user_domain.display_name(like_.user_id)
    notify(
        change,
        like_.post_author_id,
        "post_liked",
        f"{who} liked your post",
        f"{who} liked your post {like_.post_id}.",
        {"post_id": like_.post_id, "user_id": like_.user_id},
    )


REACTIONS: Reactions = {
    ("post", "INSERT"): [post_written],
    ("post", "REMOVE"): [post_deleted],
    ("comment", "INSERT"): [comment_written],
    ("like", "INSERT"): [like_written],
    ("friend", "INSERT"): [friendship_made],
}
