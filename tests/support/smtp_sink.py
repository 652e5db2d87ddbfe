#!/usr/bin/env python3
"""A tiny SMTP sink for the integration tests.

Usage: python smtp_sink.py --port PORT --dir DIR   (PORT 0 picks a free port)

It listens on 127.0.0.1 and, once listening, prints one line ``READY <port>`` to
stdout, then one line ``MAIL <file>`` for each message once its file is in place. Every accepted message is written to DIR as
``<6-digit counter>-<first recipient>.eml`` (the raw bytes received), and a line
``{"file": ..., "mail_from": ..., "rcpt_tos": [...]}`` is appended to
``DIR/envelopes.jsonl`` before the .eml file appears (it is written under a
``.tmp`` name first and renamed into place).

Recipients whose local part starts with ``reject`` are refused at RCPT TO with
``550 5.1.1 mailbox unavailable``; those starting with ``tempfail`` with
``451 4.3.0 try again later``. SIGTERM or SIGINT stops the sink with exit code 0.

Needs the aiosmtpd package (pip install aiosmtpd).
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys

from aiosmtpd.smtp import SMTP

ENVELOPES = "envelopes.jsonl"
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")
_NUMBERED = re.compile(r"^(\d{6,})-")


class SinkHandler:
    def __init__(self, directory):
        self.directory = directory
        # Continue after any messages already in DIR so that nothing is overwritten.
        self.counter = 0
        for name in os.listdir(directory):
            m = _NUMBERED.match(name)
            if m:
                self.counter = max(self.counter, int(m.group(1)))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].strip('"').lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not envelope.rcpt_tos:
            return "554 5.5.1 no valid recipients"
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")

        self.counter += 1
        recipient = _UNSAFE.sub("_", envelope.rcpt_tos[0]) or "unknown"
        name = f"{self.counter:06d}-{recipient}.eml"
        final = os.path.join(self.directory, name)
        tmp = final + ".tmp"

        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        record = {
            "file": name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
        }
        with open(os.path.join(self.directory, ENVELOPES), "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        # Tell the test at once: it waits on these lines instead of polling the folder.
        print(f"MAIL {name}", flush=True)
        return f"250 2.0.0 OK: queued as {name}"


async def serve(port, directory):
    loop = asyncio.get_running_loop()
    handler = SinkHandler(directory)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", enable_SMTPUTF8=True),
        "127.0.0.1",
        port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"READY {bound}\n")
    sys.stdout.flush()

    await stop.wait()
    server.close()
    if hasattr(server, "close_clients"):  # Python 3.13+
        server.close_clients()
    try:
        # Since Python 3.12 this also waits for open client connections.
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass


def main():
    parser = argparse.ArgumentParser(description="SMTP sink for integration tests")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--dir", required=True, help="directory for the received .eml files")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(serve(args.port, os.path.abspath(args.dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
