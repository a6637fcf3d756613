"""The shared rate limiter against a real Redis: slots are spaced 1/rps apart across callers."""
import threading

from worker.rate_limit import RateLimiter


def test_slots_are_spaced_across_threads(redis_url):
    limiter = RateLimiter(redis_url, {"azure": 20.0}, prefix="test:rate:spaced")
    waits = []
    lock = threading.Lock()

    def take():
        waited = limiter.acquire("azure")
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    waits.sort()
    # six reservations at 20/s: the k-th waits about k * 50 ms (server clock), whoever asked first
    assert len(waits) == 6
    for k, waited in enumerate(waits):
        assert waited >= k * 0.05 - 0.02, waits


def test_off_for_unlisted_provider_and_without_redis(redis_url):
    assert RateLimiter(redis_url, {"azure": 1.0}).acquire("anthropic") == 0.0
    assert RateLimiter(None, {"azure": 1.0}).enabled_for("azure") is False


def test_several_requests_reserve_several_slots(redis_url):
    limiter = RateLimiter(redis_url, {"vertex_ai": 10.0}, prefix="test:rate:multi")
    assert limiter.acquire("vertex_ai", requests=3) < 0.05
    second = limiter.acquire("vertex_ai")
    assert second >= 0.25  # three slots of 100 ms were taken before it
