"""Per-model and per-provider request limits, enforced on the HTTP requests the model clients send.

A model's `limits` (and its provider's, `llm.provider_limits`) bound the requests in flight and the requests
started per minute. They are counted by a Limiter: in this process (`LocalLimiter`), or in Redis
(`RedisLimiter`) so that the app and every worker on every machine share one count: four workers against one
OpenAI account at 500 requests a minute start 500 requests a minute between them, not 2,000.

The counting happens in `limited_transport`, an httpx transport under the model clients: a request waits for its
slots before it is sent and gives its concurrency slots back when its (streamed) response is closed. Limits are a
courtesy to a provider and a share of a local model's slots, not a security boundary: when the Redis that counts
them is away, requests go ahead (logged), since the provider's own 429s are retried anyway.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from workbench.config.llm import ModelSpec, Provider, RequestLimits

if TYPE_CHECKING:
    from limits.storage import Storage

log = logging.getLogger(__name__)

_POLL_S = 0.05  # how often a waiting request looks again for a free slot


@dataclass(frozen=True, slots=True)
class Limit:
    """One counted quantity: `key` names it ("model:gpt-4o-mini", "provider:openai")."""

    key: str
    limits: RequestLimits

    @classmethod
    def of_model(cls, spec: ModelSpec) -> Limit:
        return cls(f"model:{spec.id}", spec.limits)

    @classmethod
    def of_provider(cls, provider: str, limits: RequestLimits) -> Limit:
        return cls(f"provider:{provider}", limits)


class Permit(Protocol):
    def release(self) -> None: ...


class Limiter(Protocol):
    where: str  # where the counts live, for the Admin page

    def acquire(self, limits: Sequence[Limit], timeout_s: float) -> Permit:
        """Wait until every limit allows one more request (at most timeout_s), count it, and return the permit
        whose release() gives its concurrency slots back. Raises LimitWaitTimeout when the wait runs out."""
        ...

    def in_flight(self, key: str) -> int:
        """Requests holding a slot of `key` now (all processes that share the counts)."""
        ...


@dataclass(frozen=True, slots=True)
class LimitUse:
    """One configured limit and its use now, as the Admin page shows it."""

    limit: Limit
    in_flight: int | None  # None: the counts could not be read


def configured_limits(models: Sequence[ModelSpec], provider_limits: Mapping[Provider, RequestLimits]) -> list[Limit]:
    found = [Limit.of_model(spec) for spec in models if spec.limits.any]
    found += [Limit.of_provider(name, limits) for name, limits in sorted(provider_limits.items()) if limits.any]
    return found


def limits_in_use(limiter: Limiter, limits: Sequence[Limit]) -> list[LimitUse]:
    uses = []
    for limit in limits:
        try:
            in_flight: int | None = limiter.in_flight(limit.key)
        except Exception:  # noqa: BLE001 - Redis away: the page says the count is unknown
            in_flight = None
        uses.append(LimitUse(limit, in_flight))
    return uses


class LimitWaitTimeout(Exception):
    """No slot came free within the wait; the transport answers the request as a provider would: HTTP 429."""


class _Slots:
    """Concurrency slots taken so far; released in reverse, once."""

    def __init__(self) -> None:
        self._releases: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def add(self, release: Callable[[], None]) -> None:
        self._releases.append(release)

    def release(self) -> None:
        with self._lock:
            releases, self._releases = self._releases, []
        for release in reversed(releases):
            release()


class _CountingLimiter:
    """The waiting shared by both limiters: concurrency first (a slot is held while the rate is waited for), in
    key order so that two requests never wait on each other's slots, then one start per minute window."""

    _rate_limiter: Any
    _storage: Storage

    def _take_slot(self, key: str, limit: int) -> Callable[[], None] | None:
        raise NotImplementedError

    def acquire(self, limits: Sequence[Limit], timeout_s: float) -> Permit:
        from limits import RateLimitItemPerMinute

        deadline = time.monotonic() + timeout_s
        permit = _Slots()
        try:
            for limit in sorted(limits, key=lambda each: each.key):
                if limit.limits.max_concurrency is not None:
                    wait = self._wait(deadline, limit, "max_concurrency", limit.limits.max_concurrency)
                    while (release := self._take_slot(limit.key, limit.limits.max_concurrency)) is None:
                        wait()
                    permit.add(release)
            for limit in sorted(limits, key=lambda each: each.key):
                if limit.limits.requests_per_minute is not None:
                    item = RateLimitItemPerMinute(limit.limits.requests_per_minute)
                    wait = self._wait(deadline, limit, "requests_per_minute", limit.limits.requests_per_minute)
                    while not self._hit(item, limit.key):
                        wait()
        except BaseException:
            permit.release()
            raise
        return permit

    def _hit(self, item: Any, key: str) -> bool:
        return bool(self._rate_limiter.hit(item, key))

    def _wait(self, deadline: float, limit: Limit, name: str, value: int) -> Callable[[], None]:
        def wait() -> None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LimitWaitTimeout(f"no request slot came free: {limit.key} allows {name}={value} (llm settings)")
            time.sleep(min(_POLL_S, left))

        return wait


class LocalLimiter(_CountingLimiter):
    """Counts in this process only: the default with no Redis (one machine, one worker beside the app)."""

    where = "in each process (no Redis configured)"

    def __init__(self) -> None:
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self._storage = MemoryStorage()
        self._rate_limiter = MovingWindowRateLimiter(self._storage)
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}

    def _take_slot(self, key: str, limit: int) -> Callable[[], None] | None:
        with self._lock:
            if self._in_flight.get(key, 0) >= limit:
                return None
            self._in_flight[key] = self._in_flight.get(key, 0) + 1

        def release() -> None:
            with self._lock:
                self._in_flight[key] -= 1

        return release

    def in_flight(self, key: str) -> int:
        with self._lock:
            return self._in_flight.get(key, 0)


# A slot is a member of a sorted set scored by when it lapses, by the Redis server's clock (the machines' clocks
# may differ): a worker killed mid-request loses its slot after `slot_ttl_s`, not never.
_TAKE_SLOT = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_s)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_s + tonumber(ARGV[2]), ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
  return 1
end
return 0
"""


class RedisLimiter(_CountingLimiter):
    """Counts in Redis, shared by every process and machine pointed at it; `namespace` keeps deployments sharing
    one Redis (or test runs) apart, as the queue's name does for its tasks."""

    def __init__(self, url: str, namespace: str, *, slot_ttl_s: float = 900.0) -> None:
        import redis
        from limits.storage import RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        host = self._redis.connection_pool.connection_kwargs
        self.where = f"in Redis at {host.get('host', '?')}:{host.get('port', '?')}, for every process"
        self._prefix = f"workbench:{namespace}:limits"
        self._slot_ttl_s = slot_ttl_s
        self._take = self._redis.register_script(_TAKE_SLOT)
        self._storage = RedisStorage(url, key_prefix=self._prefix, socket_timeout=2, socket_connect_timeout=2)
        self._rate_limiter = MovingWindowRateLimiter(self._storage)
        self._warned_at = 0.0

    def _slot_key(self, key: str) -> str:
        return f"{self._prefix}:slots:{key}"

    def _take_slot(self, key: str, limit: int) -> Callable[[], None] | None:
        token = uuid.uuid4().hex
        try:
            taken = self._take(keys=[self._slot_key(key)], args=[limit, self._slot_ttl_s, token])
        except Exception as exc:  # noqa: BLE001 - redis' errors, whichever: the request goes ahead uncounted
            self._unreachable(exc)
            return lambda: None
        if not taken:
            return None

        def release() -> None:
            try:
                self._redis.zrem(self._slot_key(key), token)
            except Exception as exc:  # noqa: BLE001 - the slot lapses by itself after slot_ttl_s
                self._unreachable(exc)

        return release

    def _hit(self, item: Any, key: str) -> bool:
        try:
            return super()._hit(item, key)
        except Exception as exc:  # noqa: BLE001
            self._unreachable(exc)
            return True

    def in_flight(self, key: str) -> int:
        now = float(self._redis.time()[0])
        return int(self._redis.zcount(self._slot_key(key), now, "+inf"))

    def _unreachable(self, exc: Exception) -> None:
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning("the Redis that counts the request limits does not answer (%s); requests go uncounted", exc)

    def close(self) -> None:
        self._redis.close()


def limited_transport(
    inner: Any, limiter: Limiter, limits: Sequence[Limit], wait_s: float, *, http: types.ModuleType = httpx
) -> Any:
    """A transport that sends through `inner` (a shared connection pool) once the limiter allows. `http` is the
    httpx module the client is built on: httpx, or httpx2 (a fork with the same API that the anthropic SDK uses)."""
    return _transport_class(http)(inner, limiter, tuple(limits), wait_s)


@functools.cache
def _transport_class(http: types.ModuleType) -> type:
    class ReleasingStream(http.SyncByteStream):  # type: ignore[name-defined,misc]
        """A response body that gives the request's slots back when it is closed (read through, or abandoned)."""

        def __init__(self, inner: Any, permit: Permit) -> None:
            self._inner = inner
            self._permit = permit

        def __iter__(self) -> Iterator[bytes]:
            yield from self._inner

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._permit.release()

    class LimitedTransport(http.BaseTransport):  # type: ignore[name-defined,misc]
        """Closing it leaves the shared transport open: the runtime that owns that closes it."""

        def __init__(self, inner: Any, limiter: Limiter, limits: tuple[Limit, ...], wait_s: float) -> None:
            self._inner = inner
            self._limiter = limiter
            self._limits = limits
            self._wait_s = wait_s

        def handle_request(self, request: Any) -> Any:
            try:
                permit = self._limiter.acquire(self._limits, self._wait_s)
            except LimitWaitTimeout as exc:
                # What a provider's own limit answers, so the clients report it as one ("rate limited: ..."); the
                # wait was the request's whole budget, so the client is asked not to retry (x-should-retry).
                body = {"error": {"message": str(exc), "type": "rate_limit"}}
                headers = {"retry-after": "1", "x-should-retry": "false"}
                return http.Response(429, json=body, headers=headers, request=request)
            try:
                response = self._inner.handle_request(request)
            except BaseException:
                permit.release()
                raise
            return http.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=ReleasingStream(response.stream, permit),
                extensions=response.extensions,
                request=request,
            )

        def close(self) -> None:
            pass

    return LimitedTransport


def limits_of(spec: ModelSpec, provider_limits: Mapping[Provider, RequestLimits]) -> list[Limit]:
    """The limits one model's requests count against (none: its requests go straight out)."""
    found = [Limit.of_model(spec)] if spec.limits.any else []
    shared = provider_limits.get(spec.provider)
    if shared is not None and shared.any:
        found.append(Limit.of_provider(spec.provider, shared))
    return found
