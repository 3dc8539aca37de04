#!/usr/bin/env python3
"""Check a published case's log against the grievance mechanism's transparency log.

Needs only Python 3.10+ and `cryptography`. Every byte it checks is described in
docs/transparency.md; this script is one reading of it, not the only one possible.

    python docs/verify_case.py https://grievance.example TEX-2026-00042 \\
        --key 'grievance.example/transparency+1a2b3c4d+AXXX...' \\
        --saved-checkpoint earlier-checkpoint.txt

It checks, from the public endpoints only:
1. the case's chain: each event's fields against their digests, each event's hash, each
   event pointing to the hash before it, and the head;
2. the checkpoint's signature (C2SP signed note, Ed25519) with the verifier key you
   trust (without --key, the one the server publishes: trust on first use);
3. the inclusion of the case's head in that checkpoint (RFC 9162 inclusion proof);
4. with --saved-checkpoint: that the log only grew since the checkpoint you saved
   (RFC 9162 consistency proof), so that a rewritten history cannot hide.
Exit status 0 when everything holds, 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import sys
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
FORM = 2
ED25519 = b"\x01"


class Failed(Exception):
    """Something does not verify; the message says what."""


# -- RFC 8785 (JSON Canonicalization Scheme) ------------------------------------------


def _number(value: float) -> str:
    """ECMAScript's Number.prototype.toString for a finite double (RFC 8785 §3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise Failed("NaN and infinity have no canonical form")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    # repr gives the shortest digits that read back as the same double, as ECMAScript
    # chooses them; value = 0.DIGITS * 10**n
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    n = len(whole) + int(exponent or 0)
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    k = len(digits)
    sign = "-" if value < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + exp


def _string(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20:
            short = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
            out.append(short.get(char, f"\\u{code:04x}"))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def jcs(value: Any) -> bytes:
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise Failed("an integer beyond 2**53 - 1 has no canonical form")
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))  # UTF-16 code units
        return "{" + ",".join(_string(key) + ":" + _jcs(value[key]) for key in keys) + "}"
    raise Failed(f"not a JSON value: {type(value).__name__}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the chain ----------------------------------------------------------------------


def field_digest(name: str, value: Any, salt: str) -> str:
    return sha256_hex(jcs({"name": name, "salt": salt, "value": value}))


def event_hash(reference: str, event: dict[str, Any]) -> str:
    fields = {}
    for name, field in event["fields"].items():
        if "salt" in field:
            digest = field_digest(name, field["value"], field["salt"])
            if digest != field["digest"]:
                raise Failed(f"event #{event['seq']}: field {name} does not match its digest")
        fields[name] = field["digest"]
    body = {
        "actor_role": event["actor_role"],
        "case": reference,
        "created_at": event["created_at"],
        "fields": fields,
        "form": FORM,
        "kind": event["kind"],
        "prev": event["prev"],
        "seq": event["seq"],
        "stage_from": event["stage_from"],
        "stage_to": event["stage_to"],
        "visibility": event["visibility"],
    }
    return sha256_hex(jcs(body))


def check_chain(document: dict[str, Any]) -> str:
    """Check the case's chain; returns the hash of its last event."""
    reference = document["reference"]
    previous = GENESIS
    hashes: dict[int, str] = {}
    for expected_seq, event in enumerate(document["events"], 1):
        if event["seq"] != expected_seq:
            raise Failed(f"event #{event['seq']} where #{expected_seq} was expected")
        if "kind" in event:  # shown: recompute its hash; else only its hash is given
            if event["prev"] != previous:
                raise Failed(f"event #{event['seq']} does not point to the event before it")
            if event_hash(reference, event) != event["hash"]:
                raise Failed(f"event #{event['seq']} does not match its hash (altered)")
        previous = event["hash"]
        hashes[event["seq"]] = previous
    head_seq = document.get("head_seq")
    if head_seq is not None and hashes.get(head_seq) != document["head_hash"]:
        raise Failed("the head is not the chain's event it names")
    return previous


# -- RFC 9162 -------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if not 0 <= index < size:
        raise Failed("the head is not within the checkpoint's tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Failed("the inclusion proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Failed("the case's head is not in the checkpoint (inclusion proof fails)")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if not 0 <= old <= new:
        raise Failed("the saved checkpoint is larger than the latest: the log shrank")
    if old == new:
        if proof or old_root != new_root:
            raise Failed("two checkpoints of one size with different roots: the log forked")
        return
    if old == 0:
        return
    if not proof:
        raise Failed("empty consistency proof")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failed("the consistency proof is too long")
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise Failed("the log is not an extension of the saved checkpoint (history rewritten)")


# -- signed notes -----------------------------------------------------------------------


def open_checkpoint(note: str, vkey: str) -> tuple[str, int, bytes]:
    """Verify a C2SP signed checkpoint; its origin, tree size and root hash."""
    name, key_hash_hex, encoded = vkey.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[:1] != ED25519:
        raise Failed("the verifier key is not an Ed25519 key")
    public = raw[1:]
    key_hash = hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]
    if key_hash.hex() != key_hash_hex:
        raise Failed("the verifier key's hash does not match its name and key")
    text, separator, signatures = note.partition("\n\n")
    if not separator:
        raise Failed("the checkpoint has no signature")
    text += "\n"
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != name:
            continue
        blob = base64.b64decode(parts[2], validate=True)
        if blob[:4] != key_hash:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise Failed("the checkpoint's signature does not verify") from None
        lines = text.split("\n")
        if lines[0] != name:
            raise Failed("the checkpoint's origin is not the key's name")
        return lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    raise Failed("the checkpoint is not signed by this key")


# -- from the endpoints -------------------------------------------------------------


Fetch = Callable[[str], bytes]


def http_fetch(base_url: str) -> Fetch:
    def fetch(path: str) -> bytes:
        with urllib.request.urlopen(base_url.rstrip("/") + path, timeout=30) as response:  # noqa: S310
            return bytes(response.read())

    return fetch


def verify(
    fetch: Fetch, reference: str, vkey: str | None = None, saved: str | None = None
) -> list[str]:
    """Check a case from the endpoints; the lines of a report, or Failed."""
    report = []
    if vkey is None:
        vkey = fetch("/api/v1/transparency/key").decode()
        report.append("verifier key taken from the server (pin it with --key next time)")
    note = fetch("/api/v1/transparency/checkpoint").decode()
    origin, size, root = open_checkpoint(note, vkey)
    report.append(f"checkpoint of {origin}: {size} events, signature valid")
    document = json.loads(fetch(f"/api/v1/transparency/cases/{reference}"))
    last = check_chain(document)
    report.append(f"chain of {reference}: {len(document['events'])} events, ending {last[:16]}")
    if document["tree_size"] != size:
        raise Failed("the case was answered against another checkpoint; try again")
    if document["head_hash"] is None:
        report.append("the case's events are not in a checkpoint yet")
    else:
        proof = [bytes.fromhex(node) for node in document["inclusion_proof"]]
        leaf = leaf_hash(bytes.fromhex(document["head_hash"]))
        verify_inclusion(document["head_index"], size, leaf, proof, root)
        report.append(
            f"event #{document['head_seq']} is leaf {document['head_index']} of the checkpoint"
        )
    if saved is not None:
        _, old_size, old_root = open_checkpoint(saved, vkey)
        answer = json.loads(fetch(f"/api/v1/transparency/consistency?from={old_size}&to={size}"))
        proof = [bytes.fromhex(node) for node in answer["proof"]]
        verify_consistency(old_size, size, old_root, root, proof)
        report.append(f"the log grew from {old_size} to {size} without rewriting")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("reference")
    parser.add_argument("--key", help="the verifier key you trust (name+hash+base64)")
    parser.add_argument("--saved-checkpoint", help="a file holding a checkpoint you saved before")
    args = parser.parse_args(argv)
    saved = None
    if args.saved_checkpoint:
        with open(args.saved_checkpoint, encoding="utf-8") as handle:
            saved = handle.read()
    try:
        for _line in verify(http_fetch(args.base_url), args.reference, args.key, saved):
            pass
    except Failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
