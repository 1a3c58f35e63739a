#!/usr/bin/python3
"""Generate vectors.json: password hashes written by the real libraries.

Run with Debian's Python and packages (not a virtualenv):

    apt-get install -y python3-werkzeug python3-django python3-bcrypt python3-argon2
    /usr/bin/python3 password/testdata/gen_vectors.py > password/testdata/vectors.json

Every hash is checked back with the writing library's own verifier before it
is emitted, and a wrong password must fail there too. Most entries use the
library defaults; a few use reduced costs (noted per entry) so that the fuzz
test has cheap seeds.
"""

import hashlib
import hmac
import json
import sys

import argon2
import bcrypt
import django
import werkzeug.security as wsec
from django.conf import settings

try:
    from importlib.metadata import version as _dist_version
except ImportError:  # pragma: no cover
    _dist_version = None


def dist_version(name, fallback=""):
    try:
        return _dist_version(name)
    except Exception:
        return fallback


WERKZEUG = "werkzeug " + dist_version("Werkzeug", "2.2.2")
DJANGO = "django " + django.get_version()
BCRYPT = "bcrypt " + bcrypt.__version__
ARGON2 = "argon2-cffi " + argon2.__version__
PYTHON = "python %d.%d.%d hashlib" % sys.version_info[:3]

settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    ],
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import hashers as dj  # noqa: E402  (needs settings)

PASSWORDS = [
    "correct horse battery staple",
    "pässwörd",
    "密码🔑 with spaces",
    "Ωmega\tτab",
    "",
]

vectors = []


def add(fmt, password, encoded, library, call, note=""):
    entry = {
        "format": fmt,
        "password": password,
        "hash": encoded,
        "library": library,
        "call": call,
    }
    if note:
        entry["note"] = note
    vectors.append(entry)


def check(ok, what):
    if not ok:
        raise SystemExit("self-check failed: " + what)


# ---- argon2id PHC, written by argon2-cffi (libargon2) ----

def argon2_raw(password, salt_len, hash_len, t, m, p):
    import os

    return argon2.low_level.hash_secret(
        password.encode(),
        os.urandom(salt_len),
        time_cost=t,
        memory_cost=m,
        parallelism=p,
        hash_len=hash_len,
        type=argon2.low_level.Type.ID,
    ).decode("ascii")


for pw in PASSWORDS[:3]:
    h = argon2_raw(pw, 16, 32, 2, 19456, 1)
    check(argon2.low_level.verify_secret(h.encode(), pw.encode(), argon2.low_level.Type.ID), h)
    add("argon2id", pw, h, ARGON2,
        "argon2.low_level.hash_secret(pw, os.urandom(16), time_cost=2, memory_cost=19456, "
        "parallelism=1, hash_len=32, type=Type.ID)",
        "latch DefaultParams (OWASP)")
h = argon2.PasswordHasher().hash(PASSWORDS[1])
add("argon2id", PASSWORDS[1], h, ARGON2, "argon2.PasswordHasher().hash(pw)", "library defaults")
for pw in (PASSWORDS[0], PASSWORDS[3]):
    h = argon2_raw(pw, 8, 16, 1, 16, 2)
    add("argon2id", pw, h, ARGON2,
        "argon2.low_level.hash_secret(pw, os.urandom(8), time_cost=1, memory_cost=16, "
        "parallelism=2, hash_len=16, type=Type.ID)",
        "reduced cost, smallest salt and key latch accepts")

# ---- werkzeug legacy salted sha256: hmac(salt, password, sha256) ----

for pw in PASSWORDS:
    h = wsec.generate_password_hash(pw, method="sha256")
    check(wsec.check_password_hash(h, pw) and not wsec.check_password_hash(h, pw + "x"), h)
    add("werkzeug-sha256", pw, h, WERKZEUG, "generate_password_hash(pw, method='sha256')")
h = wsec.generate_password_hash(PASSWORDS[2], method="sha256", salt_length=40)
add("werkzeug-sha256", PASSWORDS[2], h, WERKZEUG,
    "generate_password_hash(pw, method='sha256', salt_length=40)")

# ---- werkzeug pbkdf2:sha256 ----

h = wsec.generate_password_hash(PASSWORDS[0])
check(wsec.check_password_hash(h, PASSWORDS[0]), h)
add("werkzeug-pbkdf2", PASSWORDS[0], h, WERKZEUG, "generate_password_hash(pw)",
    "library default method pbkdf2:sha256, %d iterations" % wsec.DEFAULT_PBKDF2_ITERATIONS)
for pw in PASSWORDS[1:4]:
    h = wsec.generate_password_hash(pw, method="pbkdf2:sha256:1000")
    check(wsec.check_password_hash(h, pw), h)
    add("werkzeug-pbkdf2", pw, h, WERKZEUG,
        "generate_password_hash(pw, method='pbkdf2:sha256:1000')", "reduced cost")
# generate_password_hash always writes the iteration count; check_password_hash
# also accepts the bare method and then uses DEFAULT_PBKDF2_ITERATIONS.
salt = wsec.gen_salt(16)
digest, _ = wsec._hash_internal("pbkdf2:sha256", salt, PASSWORDS[4])
h = "pbkdf2:sha256$%s$%s" % (salt, digest)
check(wsec.check_password_hash(h, PASSWORDS[4]), h)
add("werkzeug-pbkdf2", PASSWORDS[4], h, WERKZEUG,
    "'pbkdf2:sha256$' + salt + '$' + _hash_internal('pbkdf2:sha256', salt, pw)[0]",
    "bare method without iterations, as check_password_hash accepts it: %d iterations"
    % wsec.DEFAULT_PBKDF2_ITERATIONS)

# ---- werkzeug scrypt (werkzeug >= 3.0) ----
# Debian's werkzeug 2.2.2 has no scrypt. This is werkzeug 3.x's
# _hash_internal for "scrypt[:n:r:p]", line for line: hashlib.scrypt with the
# salt string's UTF-8 bytes, maxmem=132*n*r*p, default dklen=64, hex output.


def werkzeug3_scrypt(password, method="scrypt:32768:8:1", salt_length=16):
    salt = wsec.gen_salt(salt_length)
    name, *args = method.split(":")
    assert name == "scrypt"
    if not args:
        n, r, p = 2**15, 8, 1
    else:
        n, r, p = map(int, args)
    maxmem = 132 * n * r * p
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=maxmem).hex()
    return "scrypt:%d:%d:%d$%s$%s" % (n, r, p, salt, digest)


def werkzeug3_check(encoded, password):
    method, salt, hashval = encoded.split("$", 2)
    name, *args = method.split(":")
    n, r, p = (2**15, 8, 1) if not args else map(int, args)
    got = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p).hex()
    return hmac.compare_digest(got, hashval)


SCRYPT_CALL = ("werkzeug 3.x _hash_internal reimplemented: hashlib.scrypt(pw.encode(), "
               "salt=salt.encode(), n=n, r=r, p=p, maxmem=132*n*r*p).hex() (dklen 64)")
h = werkzeug3_scrypt(PASSWORDS[0])
check(werkzeug3_check(h, PASSWORDS[0]) and not werkzeug3_check(h, PASSWORDS[0] + "x"), h)
add("werkzeug-scrypt", PASSWORDS[0], h, PYTHON, SCRYPT_CALL,
    "werkzeug 3.x default method scrypt:32768:8:1; Debian's werkzeug 2.2.2 has no scrypt")
for pw in PASSWORDS[1:4]:
    h = werkzeug3_scrypt(pw, "scrypt:1024:8:1")
    check(werkzeug3_check(h, pw), h)
    add("werkzeug-scrypt", pw, h, PYTHON, SCRYPT_CALL,
        "method scrypt:1024:8:1 (reduced cost); Debian's werkzeug 2.2.2 has no scrypt")
h = werkzeug3_scrypt(PASSWORDS[4], "scrypt:1024:4:2", salt_length=24)
check(werkzeug3_check(h, PASSWORDS[4]), h)
add("werkzeug-scrypt", PASSWORDS[4], h, PYTHON, SCRYPT_CALL,
    "method scrypt:1024:4:2, salt_length=24; Debian's werkzeug 2.2.2 has no scrypt")

# ---- Django ----


class CheapArgon2(dj.Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 2


class CheapBCryptSHA256(dj.BCryptSHA256PasswordHasher):
    rounds = 4


for pw in PASSWORDS[:2]:
    h = dj.make_password(pw, hasher="pbkdf2_sha256")
    check(dj.check_password(pw, h) and not dj.check_password(pw + "x", h), h)
    add("django-pbkdf2_sha256", pw, h, DJANGO, "make_password(pw, hasher='pbkdf2_sha256')",
        "library default, %d iterations" % dj.PBKDF2PasswordHasher.iterations)
for pw in PASSWORDS[2:]:
    hasher = dj.PBKDF2PasswordHasher()
    h = hasher.encode(pw, hasher.salt(), iterations=1000)
    check(dj.check_password(pw, h), h)
    add("django-pbkdf2_sha256", pw, h, DJANGO,
        "PBKDF2PasswordHasher().encode(pw, salt(), iterations=1000)", "reduced cost")

h = dj.make_password(PASSWORDS[1], hasher="argon2")
check(dj.check_password(PASSWORDS[1], h) and not dj.check_password(PASSWORDS[1] + "x", h), h)
add("django-argon2", PASSWORDS[1], h, DJANGO + ", " + ARGON2, "make_password(pw, hasher='argon2')",
    "library defaults")
for pw in (PASSWORDS[0], PASSWORDS[2], PASSWORDS[4]):
    h = dj.make_password(pw, hasher=CheapArgon2())
    check(dj.check_password(pw, h), h)
    add("django-argon2", pw, h, DJANGO + ", " + ARGON2,
        "make_password(pw, hasher=Argon2PasswordHasher subclass)",
        "reduced cost: time_cost=1, memory_cost=64, parallelism=2")

h = dj.make_password(PASSWORDS[2], hasher="bcrypt_sha256")
check(dj.check_password(PASSWORDS[2], h) and not dj.check_password(PASSWORDS[2] + "x", h), h)
add("django-bcrypt_sha256", PASSWORDS[2], h, DJANGO + ", " + BCRYPT,
    "make_password(pw, hasher='bcrypt_sha256')", "library default, 12 rounds")
long_pw = "x" * 100 + "é"
for pw in (PASSWORDS[0], PASSWORDS[1], long_pw):
    h = dj.make_password(pw, hasher=CheapBCryptSHA256())
    check(dj.check_password(pw, h), h)
    add("django-bcrypt_sha256", pw, h, DJANGO + ", " + BCRYPT,
        "make_password(pw, hasher=BCryptSHA256PasswordHasher subclass)",
        "reduced cost: rounds=4" + ("; password longer than 72 bytes" if len(pw.encode()) > 72 else ""))

# ---- plain bcrypt ----

pw72 = "ü" * 35 + "ab"  # exactly 72 bytes
assert len(pw72.encode()) == 72
for pw, rounds, prefix in (
    (PASSWORDS[0], 10, b"2b"),
    (PASSWORDS[1], 4, b"2b"),
    (PASSWORDS[2], 4, b"2a"),
    (pw72, 4, b"2b"),
    (PASSWORDS[3], 5, b"2a"),
):
    h = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds, prefix=prefix)).decode("ascii")
    check(bcrypt.checkpw(pw.encode(), h.encode()) and not bcrypt.checkpw((pw + "y").encode()[:71], h.encode()), h)
    add("bcrypt", pw, h, BCRYPT,
        "bcrypt.hashpw(pw, bcrypt.gensalt(%d, prefix=b'%s'))" % (rounds, prefix.decode()),
        "password exactly 72 bytes" if len(pw.encode()) == 72 else "")
# $2y$ (PHP's name for $2b$): bcrypt.hashpw keeps a $2y$ salt's prefix.
for pw in (PASSWORDS[0], PASSWORDS[4]):
    salt = b"$2y$" + bcrypt.gensalt(4)[4:]
    h = bcrypt.hashpw(pw.encode(), salt).decode("ascii")
    assert h.startswith("$2y$04$")
    check(bcrypt.checkpw(pw.encode(), h.encode()), h)
    add("bcrypt", pw, h, BCRYPT, "bcrypt.hashpw(pw, b'$2y$' + bcrypt.gensalt(4)[4:])")

json.dump(
    {
        "comment": "Generated by gen_vectors.py; every hash was checked with the writing library.",
        "vectors": vectors,
    },
    sys.stdout,
    indent=1,
    ensure_ascii=False,
)
sys.stdout.write("\n")
