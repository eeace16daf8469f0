#!/usr/bin/env python3
"""SMTP corpus replay for bench/filter (stdlib only).

usage: replay.py HOST:PORT CONCURRENCY @LISTFILE|FILES... [--to ADDR] [--from ADDR]
One transaction per message (CRLF-normalised, dot-stuffed) over CONCURRENCY persistent
connections, RSET between messages. Latency: last byte of <CRLF>.<CRLF> written -> end-of-DATA
reply. Messages are loaded and encoded before the clock starts. Last line: RESULT k=v ..."""
import argparse, os, re, smtplib, sys, threading, time


def load(paths):
    out = []
    for p in paths:
        if p.startswith("@"):
            out += [l.strip() for l in open(p[1:]) if l.strip()]
        elif os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".eml"))
        else:
            out.append(p)
    return out


def encode(raw):
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    raw = re.sub(rb"(?m)^\.", b"..", raw)
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return raw + b".\r\n"


def pct(v, p):
    return v[max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server"); ap.add_argument("concurrency", type=int); ap.add_argument("files", nargs="+")
    ap.add_argument("--from", dest="sender", default="sender@client.example.net")
    ap.add_argument("--to", dest="rcpt", default="user@example.com")
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    msgs = [encode(open(f, "rb").read()) for f in load(a.files)]
    n = len(msgs)
    lock = threading.Lock(); nxt = [0]
    res = [None] * n  # (code, latency or None)

    def worker():
        c = None
        while True:
            with lock:
                i = nxt[0]; nxt[0] += 1
            if i >= n:
                break
            try:
                if c is None:
                    c = smtplib.SMTP(host, int(port), local_hostname="client.example.net", timeout=300)
                    c.ehlo()
                else:
                    c.rset()
                code, _ = c.mail(a.sender, ["BODY=8BITMIME"])
                if code == 250:
                    code, _ = c.rcpt(a.rcpt)
                if code == 250:
                    c.putcmd("data")
                    code, _ = c.getreply()
                    if code == 354:
                        c.send(msgs[i])
                        t0 = time.perf_counter()
                        code, _ = c.getreply()
                        res[i] = (code, time.perf_counter() - t0)
                        continue
                res[i] = (code, None)
            except (smtplib.SMTPException, OSError):
                res[i] = (0, None)
                c = None
        if c is not None:
            try:
                c.quit()
            except Exception:
                pass

    th = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    t0 = time.perf_counter()
    for t in th: t.start()
    for t in th: t.join()
    el = time.perf_counter() - t0
    cls = {"2": 0, "4": 0, "5": 0, "0": 0}
    for code, _ in res:
        cls[str(code)[0] if code else "0"] = cls.get(str(code)[0] if code else "0", 0) + 1
    lat = sorted(l for _, l in res if l is not None)
    print("RESULT sent=%d ok2xx=%d tf4xx=%d rej5xx=%d disc=%d elapsed=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f" % (
        n, cls["2"], cls["4"], cls["5"], cls["0"], el, n / el, pct(lat, 50) * 1000, pct(lat, 99) * 1000))
    return 0 if cls["0"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
