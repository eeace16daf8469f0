# Owns the seed corpus in fuzz/corpus/<target>/: writes a few small valid inputs per target, laid
# out as each target's FuzzedDataProvider reads them. Fails (exception) when a source file is gone.
"""Regenerate with: python3 fuzz/make_corpus.py (from the repository root).

FuzzedDataProvider reads strings from the front (ConsumeRandomLengthString: a backslash escapes a
backslash, a backslash + any other byte ends the string) and integers/bools from the back, one
byte for a small range. Fdp below builds both ends in the order a target consumes them.
"""
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


class Fdp:
    def __init__(self):
        self.front = b""
        self.back = b""  # in consumption order; stored reversed at the end of the input

    def string(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.front += s.replace(b"\\", b"\\\\") + b"\\|"

    def byte(self, v):
        self.back += bytes([v & 0xFF])

    def boolean(self, v):
        self.byte(1 if v else 0)

    def int64(self, v):
        # ConsumeIntegral<int64_t>: 8 bytes from the end, most significant consumed first,
        # offset from the type's minimum.
        u = (v - (-(1 << 63))) & ((1 << 64) - 1)
        for b in struct.pack(">Q", u):
            self.byte(b)

    def uint32(self, v):
        for b in struct.pack(">I", v):
            self.byte(b)

    def data(self, rest=b""):
        if isinstance(rest, str):
            rest = rest.encode()
        return self.front + rest + self.back[::-1]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(target, name, src):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(os.path.join(ROOT, src), os.path.join(d, name))


def smtp_command():
    t = "smtp_command_fuzz"
    write(t, "session.txt",
          "EHLO client.example\r\nMAIL FROM:<alice@example.net> SIZE=1000 BODY=8BITMIME\r\n"
          "RCPT TO:<bob@example.com>\r\nDATA\r\nQUIT\r\n")
    write(t, "quoted.txt",
          'HELO [192.0.2.1]\r\nMAIL FROM:<> BODY=7BIT\r\n'
          'RCPT TO:<"john \\"q\\" doe"@Example.COM.>\r\n'
          "RCPT TO:<postmaster@[192.0.2.1]>\r\nRCPT TO:<@a.example,@b.example:bob@example.com>\r\n")
    write(t, "utf8.txt",
          "EHLO [IPv6:2001:db8::1]\r\nMAIL FROM:<j\u00f6rg@b\u00fccher.example> SMTPUTF8\r\n"
          "RCPT TO:<\u7528\u6237@\u4f8b\u5b50.example>\r\nEHLO win_host.example.\r\n"
          "HELO 2001:db8::2\r\n")
    # Regression: an escaped CR in a quoted local part (tests/gateway/smtp_command_test.cc).
    write(t, "escaped_cr.txt", 'RCPT TO:<"\\\rX-Injected: yes"@example.com>\r\n')
    write(t, "errors.txt",
          "MAIL FROM: <a@b.example> SIZE=x\r\nRCPT TO:<a@b>junk\r\nRCPT TO:<>\r\nVRFY bob\r\n"
          "AUTH PLAIN\r\nEHLO bad host\r\nRCPT TO:<a@b.example> NOTIFY=NEVER\r\n"
          "mail from:<x@y.z>\r\n")


def data_reader():
    t = "data_reader_fuzz"

    def seed(name, stream, limit=0xFF, seed=0x01020304, discard=16):
        f = Fdp()
        f.byte(limit)
        f.uint32(seed)
        f.byte(discard)
        write(t, name, f.data(stream))

    seed("simple", "Subject: hi\r\n\r\nbody\r\n.\r\n")
    seed("stuffed",
         "From: a@b\r\n\r\n..leading dot\r\n.\r\n..\r\n.\r\nMAIL FROM:<next@x.example>\r\n")
    seed("bare", "a\nb\rc\r\n\n.\n\r.\r\r\n.\r\n", discard=2)
    seed("smuggle", "x\r\n\x00.\r\n\r\n.\x00\r\n\r.\r\n\n.\r\ny\r\n.\r\nRSET\r\n")
    seed("small", "0123456789abcdef\r\n\xe4\xf6\r\n.\r\n", limit=10)
    seed("empty", ".\r\n")


def message_edit():
    t = "message_edit_fuzz"
    msg = ("From: Alice <alice@example.net>\r\nSubject: hello\r\nX-Spam: yes\r\n"
           "X-Spam: maybe\r\n folded\r\n\r\nbody\r\n")
    # adds, (bool kind, name idx | name), value; removes, ...; subject flags; as_stored.
    f = Fdp()
    f.byte(2)
    f.boolean(True)
    f.byte(1)  # X-Spam
    f.string("Yes, score=7.6")
    f.boolean(False)
    f.string("X-Spamd-Bar")
    f.string("+++++++\r\n\tline two")
    f.byte(1)
    f.boolean(True)
    f.byte(1)
    f.byte(4)  # index 0: every X-Spam
    f.boolean(True)
    f.string("***SPAM***")
    f.boolean(False)
    f.boolean(True)  # stored
    write(t, "tag", f.data(msg))

    f = Fdp()
    f.byte(0)
    f.byte(1)
    f.boolean(True)
    f.byte(0)  # Subject
    f.byte(7)  # index -1: the last one
    f.boolean(False)
    f.boolean(True)
    f.string("rewritten subject")
    f.boolean(False)  # raw
    write(t, "rewrite", f.data("Received: x\r\nSubject: a\r\nSubject: b\n\nbody"))
    for src in ("gtube", "ham", "spammy"):
        f = Fdp()
        f.byte(0)
        f.byte(0)
        f.boolean(True)
        f.string("[SPAM]")
        f.boolean(False)
        f.boolean(True)
        with open(os.path.join(ROOT, "tests", "fixtures", "checkv2", src + ".eml"), "rb") as e:
            write(t, src, f.data(e.read()))


def dsn():
    t = "dsn_fuzz"

    def seed(name, failed, sender, arrival, rcpts, original, raw=False):
        f = Fdp()
        f.boolean(failed)
        f.string(sender)
        f.int64(arrival)
        f.byte(len(rcpts))
        for r in rcpts:
            for part in r:
                f.string(part)
        f.boolean(original is not None)
        f.boolean(raw)
        write(t, name, f.data(original or ""))

    seed("failed", True, "alice@example.net", 1700000000000,
         [("bob@example.com", "5.1.1", "550 5.1.1 <bob@example.com>: no such user",
           "mail.example.com")],
         "Received: from x\r\nFrom: alice@example.net\r\nSubject: hi\r\n\r\nbody\r\n")
    seed("delayed", False, "", 0,
         [("a@example.com", "4.4.1", "connect to [192.0.2.10]:25: Connection refused", ""),
          ("\u00fc@\u00e9.example", "4.7.0", "421 4.7.0 try\r\n again later", "mx.example")],
         None)
    seed("hostile", True, "x\r\nBcc: victim@example.org", -1,
         [("b@x\rInjected: yes", "5.0.0\n", "550 \x00\x1b[31m" + "A" * 1200, "m\u2028x")],
         "Subject: no blank line\r\nX: y", raw=True)


def config():
    t = "config_fuzz"
    copy(t, "spamweeder.yaml", "config/spamweeder.yaml")
    copy(t, "production.yaml", "contrib/spamweeder.production.yaml")
    write(t, "domains.yaml",
          "server:\n  hostname: mx.example.net\n  listen: [\"127.0.0.1:2525\", \"[::1]:2525\"]\n"
          "  max_message_size: 25MiB\n  command_timeout: 5m\n"
          "queue:\n  path: /tmp/q\n  max_age: 30d\n"
          "domains:\n  - name: example.com\n"
          "    destinations: [\"[192.0.2.10]:25\", mail.example.com]\n"
          "    filtering: true\n"
          "    spam: {tag_score: 6, reject_score: 15, subject_tag: \"[SPAM]\"}\n"
          "    tls: required\n    recipients: [bob, \"alice@example.com\"]\n")
    write(t, "bad.yaml", "server:\n\thostname: x\nqueue: [1, 2\n---\n, x\n")


def rspamd_response():
    t = "rspamd_response_fuzz"
    for src in ("gtube", "ham", "spammy"):
        copy(t, src + ".json", os.path.join("tests", "fixtures", "checkv2", src + ".json"))
    write(t, "milter.json",
          '{"score":12.5,"required_score":15,"action":"rewrite subject","subject":"[SPAM] %s",'
          '"is_skipped":false,"symbols":{"A":{"score":1e308},"B":{"name":"B2","score":-2}},'
          '"milter":{"add_headers":{"X-Spamd-Bar":"++++","X-Spam-Status":{"value":"Yes\\r\\n'
          'X-Injected: 1","order":0},"X-Multi":[{"value":"a"},"b\\u0000c"]},'
          '"remove_headers":{"X-Spam":0,"Subject":-1,"To":1}}}')
    write(t, "error.json", '{"error":"Message has no body","score":null}')


def provisioning():
    t = "provisioning_json_fuzz"
    domain = ('{"name":"shop.example","customer":"c_0123456789abcdef",'
              '"destinations":["[192.0.2.10]:25","mail.shop.example:2525"],"filtering":true,'
              '"spam":{"tag_score":6,"reject_score":15.5,"subject_tag":"[SPAM]"},'
              '"virus":"reject","tls":"verify","recipients":["bob","alice@shop.example"],'
              '"recipient_verification":"off"}')
    write(t, "domain_create", b"\x00" + domain.encode())
    write(t, "domain_patch",
          b"\x01" + b'{"name":"example.com","filtering":false,"spam":{"tag_score":null},'
          b'"tls":"opportunistic","version":3,"state":"active"}')
    write(t, "domain_stored", b"\x02" + domain.encode())
    write(t, "reseller",
          b"\x03" + b'{"name":"Acme MSP","plan":{"max_domains":500},"branding":{'
          b'"product_name":"Acme Mail","logo_url":"https://acme.example/logo.png",'
          b'"primary_color":"#1a2b3c","support_email":"help@acme.example"}}')
    write(t, "customer",
          b"\x04" + b'{"name":"Shop Ltd","reseller":"r_0123456789abcdef","contacts":[{'
          b'"name":"Ops","email":"ops@shop.example","phone":"+1 555","webhook":'
          b'"https://hooks.shop.example/sw","webhook_secret":"s3cret","events":["down","up"]}]}')
    write(t, "customer_reseller_view", b"\x05" + b'{"name":"Direct","contacts":[]}')
    # Regression: a uint64 above INT64_MAX used to throw (tests/control/record_json_test.cc).
    write(t, "reseller_huge_plan",
          b"\x03" + b'{"name":"Big","plan":{"max_domains":18446744073709551615}}')


def smtp_reply():
    t = "smtp_reply_fuzz"
    # byte order: text from the front; the chunk size, then the EHLO flag, from the back.
    def seed(name, text, ehlo, chunk):
        write(t, name, text.encode() + bytes([chunk, 1 if ehlo else 0]))
    seed("ehlo", "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
         "250-8BITMIME\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n", True, 8)
    seed("rcpt_refused", "550 5.1.1 <bob@example.com>: Recipient address rejected\r\n", False, 1)
    seed("multi", "451-4.3.0 first\r\n451-second\r\n451 4.3.0 third\r\n", False, 0)
    seed("mismatch", "250-a\r\n251 b\r\n", False, 3)
    seed("dots", ".\r\n..x\r\nbody\r\n.", False, 5)


def admin_route():
    t = "admin_route_fuzz"
    # a random-length target (backslash-terminated), then raw bytes for the ID round trip.
    def seed(name, target, raw=b""):
        write(t, name, target.replace("\\", "\\\\").encode() + b"\\|" + raw)
    seed("queue", "/api/v1/queue?domain=example.com&limit=10", b"0006ABC")
    seed("action", "/api/v1/queue/0006ABC/hold", b"a/b%c")
    seed("domain_action", "/api/v1/domains/Example.COM./bounce", b" +")
    seed("domain_status", "/api/v1/domains/shop.example/status")
    seed("contacts", "/api/v1/customers/c_0123/contacts/test?x=%2")
    seed("cluster", "/api/v1/cluster/nodes/", b"summary")
    seed("healthz", "/healthz?a+b=c%20d#frag")


if __name__ == "__main__":
    for f in (smtp_command, data_reader, message_edit, dsn, config, rspamd_response,
              provisioning, smtp_reply, admin_route):
        f()
