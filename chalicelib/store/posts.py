"""Posts, their feed entries, likes and comments: items and access patterns (issue 8).

A post's partition ``POST#<id>`` holds the post (``META``), its copies in friends' feeds
(``FEED#<reader>``), its likes (``LIKE#<user>``) and like-notice markers, so deleting a post is
one Query of that partition page by page. Comments live in their own partitions (edited and
deleted by id) and are listed per post through GSI1.

Feeds are written on post (fan-out on write): the post itself sits in its author's feed (GSI1
``FEED#<author>``), and the activity consumer copies it into each friend's feed as a feed entry.
A feed page is one Query of GSI1 and one BatchGetItem (see domain/posts.py).

Counters move with what they count: a like (``attribute_not_exists``) and ``like_count + 1`` are
one transaction, so are a comment and ``comment_count + 1``, and their removals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.domain.errors import NotFound, StaleVersion
from chalicelib.store import keys, table
from chalicelib.store.pagination import Page, decode_cursor, page
from chalicelib.store.table import Item
from chalicelib.store.tx import ConditionFailed, Tx

Key = tuple[str, str]
LIKE_ATTEMPTS = 20  # a popular post is one hot item: every like of it conflicts with the others


class Post(Item, discriminator="post"):
    post_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    body = UnicodeAttribute(null=True)  # absent for a bare share of an event or a post
    event_id = UnicodeAttribute(null=True)
    shared_post_id = UnicodeAttribute(null=True)
    shared_author_id = UnicodeAttribute(null=True)  # never changes: visibility of the shared post without reading it
    like_count = NumberAttribute(default=0)
    comment_count = NumberAttribute(default=0)
    version = NumberAttribute(default=1)  # bumped by edits only, not by likes or comments
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def set_keys(self) -> Post:
        self.pk, self.sk = keys.post(self.post_id)
        self.gsi1pk, self.gsi1sk = keys.feed(self.author_id), keys.created_sort(self.created_at, self.post_id)
        self.gsi2pk, self.gsi2sk = keys.posts_by_author(self.author_id), self.gsi1sk
        return self


class FeedEntry(Item, discriminator="feed_entry"):
    """A post in one friend's feed: what the feed needs to fetch the post and check who may see it."""

    post_id = UnicodeAttribute()
    reader_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    shared_post_id = UnicodeAttribute(null=True)
    shared_author_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    def set_keys(self) -> FeedEntry:
        self.pk, self.sk = keys.feed_entry(self.post_id, self.reader_id)
        self.gsi1pk, self.gsi1sk = keys.feed(self.reader_id), keys.created_sort(self.created_at, self.post_id)
        return self


class Like(Item, discriminator="like"):
    post_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    post_author_id = UnicodeAttribute()  # whom the activity consumer tells
    created_at = UnicodeAttribute()

    def set_keys(self) -> Like:
        self.pk, self.sk = keys.like(self.post_id, self.user_id)
        return self


class LikeNotice(Item, discriminator="like_notice"):
    """The author was told of this user's like of the post (by the stream record ``record``)."""

    record = UnicodeAttribute()


class Comment(Item, discriminator="comment"):
    comment_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    post_author_id = UnicodeAttribute()  # whom the activity consumer tells
    author_id = UnicodeAttribute()
    body = UnicodeAttribute()
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def set_keys(self) -> Comment:
        self.pk, self.sk = keys.comment(self.comment_id)
        self.gsi1pk = keys.comments_of(self.post_id)
        self.gsi1sk = keys.created_sort(self.created_at, self.comment_id)
        return self


# --- posts ---------------------------------------------------------------------------------


def find(post_id: str, consistent: bool = True) -> Post | None:
    return table.find(Post, keys.post(post_id), consistent)


def create(post: Post) -> Post:
    post.set_keys().save(Post.pk.does_not_exist())
    return post


def edit(post: Post, changes: dict[str, Any], version: int | None, now_iso: str) -> None:
    """Set the changed fields (None removes) and bump the version; the post must still exist, and
    be at ``version`` when one is given (optimistic edit) — else StaleVersion or NotFound."""
    actions: list[Any] = [Post.version.add(1), Post.updated_at.set(now_iso)]
    for name, value in changes.items():
        attribute = getattr(Post, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if not table.update_if(post, actions, table.at_version(Post, version)):
        raise _refused(post.post_id, version)


def _refused(post_id: str, version: int | None) -> Exception:
    """A failed condition on the post: gone (NotFound) or changed since ``version`` (StaleVersion)."""
    if version is not None and find(post_id) is not None:
        return StaleVersion("The post changed meanwhile; read it again and retry.")
    return NotFound("No such post.")


def delete(post: Post, version: int | None) -> None:
    """Delete the post (its feed entries, likes and comments go in the clean-up job)."""
    if not table.delete_if(post, table.at_version(Post, version)):
        raise _refused(post.post_id, version)


def by_author(user_id: str, limit: int) -> list[Post]:
    """A user's latest posts, newest first (GSI2)."""
    results = Item.gsi2.query(keys.posts_by_author(user_id), scan_index_forward=False, limit=limit)
    return [p for p in results if isinstance(p, Post)][:limit]


def batch(wanted: Iterable[Key], consistent: bool = False) -> dict[Key, Item]:
    """Items by key, of any type (one BatchGetItem per 100 keys); absent keys are absent."""
    unique = list(dict.fromkeys(wanted))
    if not unique:
        return {}
    return {(i.pk, i.sk): i for i in Item.batch_get(unique, consistent_read=consistent)}


# --- feeds -----------------------------------------------------------------------------------


def feed_page(reader_id: str, limit: int, cursor: str | None) -> Page[Item]:
    """One page of a feed, newest first: the reader's own posts and feed entries (one Query of GSI1)."""
    scope = keys.feed(reader_id)
    results = Item.gsi1.query(
        scope, scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    return page(results, limit, Item, scope)


def entry_for(post: Post, reader_id: str) -> FeedEntry:
    return FeedEntry(
        post_id=post.post_id,
        reader_id=reader_id,
        author_id=post.author_id,
        shared_post_id=post.shared_post_id,
        shared_author_id=post.shared_author_id,
        created_at=post.created_at,
    ).set_keys()


def partition_page(post_id: str, limit: int, cursor: str | None) -> Page[Item]:
    """What is left in a deleted post's partition (feed entries, likes, notices), a page at a time."""
    scope = keys.post_partition(post_id)
    results = Item.query(scope, limit=limit, last_evaluated_key=decode_cursor(cursor, scope))
    return page(results, limit, Item, scope)


# --- likes -----------------------------------------------------------------------------------


def like(post: Post, user_id: str, now_iso: str) -> bool:
    """Like once: the like (absent) and ``like_count + 1`` in one transaction. False if already liked."""
    item = Like(post_id=post.post_id, user_id=user_id, post_author_id=post.author_id, created_at=now_iso)
    tx = Tx()
    tx.put("like", item.set_keys(), Like.pk.does_not_exist())
    tx.update("post", _ref(post.post_id), [Post.like_count.add(1)], Post.pk.exists())
    return _commit_counted(tx)


def unlike(post_id: str, user_id: str) -> bool:
    """Remove the like (present) and ``like_count - 1`` in one transaction. False if not liked."""
    pk, sk = keys.like(post_id, user_id)
    tx = Tx()
    tx.delete("like", Like(pk, sk), Like.pk.exists())
    tx.update("post", _ref(post_id), [Post.like_count.add(-1)], Post.pk.exists() & (Post.like_count > 0))
    return _commit_counted(tx)


def _commit_counted(tx: Tx) -> bool:
    try:
        tx.commit(attempts=LIKE_ATTEMPTS)
    except ConditionFailed as e:
        if "post" in e and "like" not in e:
            raise NotFound("No such post.") from e
        return False
    return True


def note_like(post_id: str, user_id: str, record: str) -> bool:
    """Mark the like of (post, user) as told, by this record. False if another record told it."""
    pk, sk = keys.like_notice(post_id, user_id)
    try:
        LikeNotice(pk, sk, record=record).save(LikeNotice.pk.does_not_exist() | (LikeNotice.record == record))
    except PutError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _ref(post_id: str) -> Post:
    pk, sk = keys.post(post_id)
    return Post(pk, sk)


# --- comments ----------------------------------------------------------------------------------


def find_comment(comment_id: str) -> Comment | None:
    return table.find(Comment, keys.comment(comment_id))


def add_comment(comment: Comment) -> None:
    """The comment and ``comment_count + 1`` in one transaction; NotFound if the post is gone."""
    tx = Tx()
    tx.put("comment", comment.set_keys(), Comment.pk.does_not_exist(), fresh=True)
    tx.update("post", _ref(comment.post_id), [Post.comment_count.add(1)], Post.pk.exists())
    try:
        tx.commit()
    except ConditionFailed as e:
        raise NotFound("No such post.") from e


def edit_comment(comment: Comment, body: str, version: int | None, now_iso: str) -> None:
    actions: list[Any] = [Comment.body.set(body), Comment.version.add(1), Comment.updated_at.set(now_iso)]
    if not table.update_if(comment, actions, table.at_version(Comment, version)):
        if version is not None and find_comment(comment.comment_id) is not None:
            raise StaleVersion("The comment changed meanwhile; read it again and retry.")
        raise NotFound("No such comment.")


def delete_comment(comment: Comment, version: int | None) -> None:
    """The comment and ``comment_count - 1`` in one transaction."""
    tx = Tx()
    tx.delete("comment", comment, table.at_version(Comment, version))
    tx.update(
        "post",
        _ref(comment.post_id),
        [Post.comment_count.add(-1)],
        Post.pk.exists() & (Post.comment_count > 0),
    )
    try:
        tx.commit()
    except ConditionFailed as e:
        if "comment" in e and version is not None and find_comment(comment.comment_id) is not None:
            raise StaleVersion("The comment changed meanwhile; read it again and retry.") from e
        raise NotFound("No such comment.") from e


def comments_page(post_id: str, limit: int, cursor: str | None) -> Page[Comment]:
    """A post's comments, oldest first (GSI1)."""
    scope = keys.comments_of(post_id)
    results = Item.gsi1.query(scope, limit=limit, last_evaluated_key=decode_cursor(cursor, scope))
    return page(results, limit, Comment, scope)
