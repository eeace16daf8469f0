#!/usr/bin/env python3
"""rspamd /checkv2 throughput for bench/filter (stdlib only): the same messages, the same
headers the gateway sends (From, Rcpt, IP, Helo, Hostname, Queue-Id), one connection per thread
(rspamd 3.4 closes it after each reply, so each request reconnects, as the gateway's curl does).

usage: checkv2.py URL CONCURRENCY @LISTFILE|FILES...    Last line: RESULT k=v ..."""
import collections, http.client, json, os, sys, threading, time
from urllib.parse import urlsplit


def main():
    url, conc, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    files = []
    for p in paths:
        files += [l.strip() for l in open(p[1:]) if l.strip()] if p.startswith("@") else [p]
    msgs = [open(f, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for f in files]
    u = urlsplit(url); n = len(msgs)
    lock = threading.Lock(); nxt = [0]; res = [None] * n

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
        while True:
            with lock:
                i = nxt[0]; nxt[0] += 1
            if i >= n:
                break
            hdrs = {"From": "sender@client.example.net", "Rcpt": "user@example.com",
                    "IP": "127.0.0.1", "Helo": "client.example.net", "Hostname": "unknown",
                    "Queue-Id": "%016X" % i, "Content-Type": "message/rfc822"}
            t0 = time.perf_counter()
            for attempt in (1, 2):
                try:
                    c.request("POST", "/checkv2", body=msgs[i], headers=hdrs)
                    r = c.getresponse(); body = r.read(); break
                except (http.client.HTTPException, OSError):
                    c.close(); r = None; body = b""
            dt = time.perf_counter() - t0
            try:
                res[i] = (r.status if r else 0, json.loads(body).get("action", "?"), dt)
            except ValueError:
                res[i] = (r.status if r else 0, "error", dt)
        c.close()

    th = [threading.Thread(target=worker) for _ in range(conc)]
    t0 = time.perf_counter()
    for t in th: t.start()
    for t in th: t.join()
    el = time.perf_counter() - t0
    lat = sorted(r[2] for r in res)
    pct = lambda p: lat[max(0, min(n - 1, int(round(p / 100.0 * n + 0.5)) - 1))] * 1000
    act = collections.Counter(r[1] for r in res)
    print("RESULT sent=%d http200=%d elapsed=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f %s" % (
        n, sum(1 for r in res if r[0] == 200), el, n / el, pct(50), pct(99),
        " ".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in sorted(act.items()))))


if __name__ == "__main__":
    main()
