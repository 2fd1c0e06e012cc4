#!/usr/bin/env python3
"""Derives the Jazzer seed corpus of every fuzz target from the captured sessions in captures/.

captures/NAME.client.bin is what a real client (psql, pgjdbc, pgbench) sent to PostgreSQL 15 in
one connection, captures/NAME.server.bin what the server answered (recorded with
io.pgrelay.testing.CaptureRelay, see docs/fuzzing.md). This script cuts them into the input
layout of each target and writes the seeds into the targets' Jazzer inputs directories
(src/test/resources/<package>/<TestClass>Inputs/<method>/). Run it from anywhere; it replaces only
the files named seed-*, so crash reproducers Jazzer wrote next to them stay.
"""
import glob
import hashlib
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTURES = os.path.join(ROOT, "fuzz", "captures")
PG = os.path.join(ROOT, "protocol-pg", "src", "test", "resources", "io", "pgrelay", "protocol")
CORE = os.path.join(ROOT, "proxy-core", "src", "test", "resources", "io", "pgrelay", "core")

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
# Start-up packets take pseudo types 0-3 in MessageDecodeFuzzTest.
PSEUDO_TYPES = {CANCEL_REQUEST: 1, SSL_REQUEST: 2, GSSENC_REQUEST: 3}
MAX_PER_TYPE = 12

# RFC 7677's SCRAM-SHA-256 exchange, which ScramFuzzTest's sessions are set up to complete.
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
RFC_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def i32(value):
    return struct.pack(">i", value)


def startup_packets(stream):
    """Splits off the untyped start-up packets; returns (packets, rest)."""
    packets, at = [], 0
    while at + 8 <= len(stream):
        length, code = struct.unpack(">ii", stream[at:at + 8])
        packets.append(stream[at:at + length])
        at += length
        if code not in (SSL_REQUEST, GSSENC_REQUEST):
            break
    return packets, stream[at:]


def typed_frames(stream):
    frames, at = [], 0
    while at + 5 <= len(stream):
        length = struct.unpack(">i", stream[at + 1:at + 5])[0]
        if at + 1 + length > len(stream):
            break
        frames.append(stream[at:at + 1 + length])
        at += 1 + length
    return frames


def startup_message(params, protocol=3 << 16):
    body = i32(protocol) + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params) + b"\0"
    return i32(len(body) + 4) + body


def frame(type_char, body):
    return type_char.encode() + i32(len(body) + 4) + body


class Corpus:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        for old in glob.glob(os.path.join(directory, "seed-*")):
            os.remove(old)
        self.seen = set()

    def add(self, name, data):
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        with open(os.path.join(self.directory, "seed-" + name), "wb") as out:
            out.write(data)


def load(kind):
    for path in sorted(glob.glob(os.path.join(CAPTURES, "*." + kind + ".bin"))):
        with open(path, "rb") as f:
            yield os.path.basename(path)[:-len("." + kind + ".bin")], f.read()


def main():
    clients = list(load("client"))
    # The server's stream starts with its 'N' answer to the SSLRequest.
    servers = [(name, data[1:] if data[:1] == b"N" else data) for name, data in load("server")]

    handmade = [
        ("gssenc-then-startup", i32(8) + i32(GSSENC_REQUEST)
         + startup_message([("user", "tom"), ("database", "shop")]) + frame("X", b"")),
        ("protocol-3.2-pq-option", startup_message([("user", "paul"), ("database", "shop"),
                                                    ("_pq_.compression", "on")], (3 << 16) | 2)
         + frame("p", b"secret\0") + frame("Q", b"select 1\0") + frame("X", b"")),
        ("replication", startup_message([("user", "alice"), ("replication", "database")])),
        ("console-refused", startup_message([("user", "tom"), ("database", "pgrelay")])),
        ("terminate-before-startup", frame("X", b"")),
        ("cancel", i32(16) + i32(CANCEL_REQUEST) + i32(1234) + i32(5678)),
        ("options-and-search-path", startup_message([("user", "tom"), ("database", "shop"),
                                                     ("options", "-c search_path=evil -c pgrelay.route=primary"),
                                                     ("search_path", "public")]) + frame("X", b"")),
    ]
    all_clients = clients + handmade

    startup = Corpus(os.path.join(PG, "codec", "StartupPacketDecoderFuzzTestInputs", "startupPackets"))
    connection = Corpus(os.path.join(CORE, "session", "ClientConnectionFuzzTestInputs", "connection"))
    for name, stream in all_clients:
        packets, rest = startup_packets(stream)
        opening = b"".join(packets) + b"".join(typed_frames(rest)[:1])
        for chunk in (0, 1, 8):
            startup.add("%s-c%d" % (name, chunk), bytes([chunk]) + opening)
        for chunk in (0, 8, 64):
            connection.add("%s-c%d" % (name, chunk), bytes([chunk]) + stream)

    frames = Corpus(os.path.join(PG, "codec", "FrameDecoderFuzzTestInputs", "frames"))
    scan = Corpus(os.path.join(PG, "codec", "FrameScannerFuzzTestInputs", "scan"))
    streams = [(name + "-client", startup_packets(stream)[1]) for name, stream in clients] \
        + [(name + "-server", stream) for name, stream in servers]
    for name, stream in streams:
        if not stream:
            continue
        for chunk in (0, 7, 200):
            frames.add("%s-c%d" % (name, chunk), bytes([chunk]) + stream)
        for chunk, decisions in ((0, 0), (3, 1), (64, 2), (0, 4), (5, 9), (0, 17)):
            scan.add("%s-c%d-d%d" % (name, chunk, decisions), bytes([chunk, decisions]) + stream)

    for direction, sources in (("frontend", clients + handmade), ("backend", servers)):
        corpus = Corpus(os.path.join(PG, "message", "MessageDecodeFuzzTestInputs", direction))
        per_type = {}
        for name, stream in sources:
            rest = stream
            if direction == "frontend":
                packets, rest = startup_packets(stream)
                for packet in packets:
                    code = struct.unpack(">i", packet[4:8])[0]
                    corpus.add("%s-startup-%d" % (name, code), bytes([PSEUDO_TYPES.get(code, 0)]) + packet[4:])
            for index, f in enumerate(typed_frames(rest)):
                count = per_type.get(f[0], 0)
                if count >= MAX_PER_TYPE:
                    continue
                before = len(corpus.seen)
                corpus.add("%s-%d-%s" % (name, index, "%02x" % f[0]), f[:1] + f[5:])
                if len(corpus.seen) > before:
                    per_type[f[0]] = count + 1

    server = Corpus(os.path.join(PG, "auth", "ScramFuzzTestInputs", "server"))
    client = Corpus(os.path.join(PG, "auth", "ScramFuzzTestInputs", "client"))
    server.add("rfc7677", b"SCRAM-SHA-256\0" + RFC_CLIENT_FIRST + b"\0" + RFC_CLIENT_FINAL)
    client.add("rfc7677", RFC_SERVER_FIRST + b"\0" + RFC_SERVER_FINAL)
    for name, stream in clients:
        sasl = [f for f in typed_frames(startup_packets(stream)[1]) if f[:1] == b"p"]
        if len(sasl) >= 2 and b"SCRAM" in sasl[0]:
            body = sasl[0][5:]
            mechanism, rest = body.split(b"\0", 1)
            first = rest[4:4 + struct.unpack(">i", rest[:4])[0]]
            server.add(name, mechanism + b"\0" + first + b"\0" + sasl[1][5:])
    for name, stream in servers:
        auth = [f for f in typed_frames(stream) if f[:1] == b"R" and struct.unpack(">i", f[5:9])[0] in (11, 12)]
        if len(auth) == 2:
            client.add(name, auth[0][9:] + b"\0" + auth[1][9:])


if __name__ == "__main__":
    main()
