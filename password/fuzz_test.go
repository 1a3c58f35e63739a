package password

import (
	"context"
	"errors"
	"testing"
)

// cheap reports whether verifying s is fast enough for the fuzzer. Hashes
// with real-world costs are valid but would slow it to a crawl.
func cheap(s scheme) bool {
	switch s := s.(type) {
	case *argon2Hash:
		return uint64(s.params.Memory)*uint64(s.params.Time) <= 1024
	case *bcryptHash:
		return s.cost <= 5
	case *djangoPBKDF2:
		return s.iter <= 5000
	case *werkzeugHash:
		return s.iter <= 5000 && s.n*s.r*s.p <= 1<<13
	}
	return false
}

// hmacKeyedByPassword reports whether format runs PBKDF2-HMAC with the
// password as the HMAC key, where trailing NUL bytes do not change the key.
func hmacKeyedByPassword(format string) bool {
	switch format {
	case "werkzeug-pbkdf2", "werkzeug-scrypt", "django-pbkdf2_sha256":
		return true
	}
	return false
}

// FuzzVerify checks that no stored hash, however malformed, makes Verify
// panic or accept a second password, and that Verify accepts exactly the
// hashes Identify accepts.
func FuzzVerify(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Hash, v.Password)
	}
	f.Add("", "pw")
	f.Add("sha256$salt$", "")
	f.Add("pbkdf2:sha256:1$s$"+"00000000000000000000000000000000000000000000000000000000000000", "")
	f.Add("scrypt:2:1:1$s$00", "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")

	ctx := context.Background()
	// Tiny parameters keep the dummy verification for "" fast.
	h := NewHasher(Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, 1, 0)
	f.Fuzz(func(t *testing.T, encoded, password string) {
		s, parseErr := parse(encoded)
		if parseErr == nil && !cheap(s) {
			t.Skip("too costly to verify while fuzzing")
		}
		format, idErr := Identify(encoded)
		if (idErr == nil) != (parseErr == nil) || (idErr == nil && format != s.format()) {
			t.Fatalf("Identify(%q) = %q, %v; parse error %v", encoded, format, idErr, parseErr)
		}
		if idErr != nil && !errors.Is(idErr, ErrUnknownFormat) {
			t.Fatalf("Identify(%q) error = %v; want ErrUnknownFormat", encoded, idErr)
		}

		ok, rehash, err := h.Verify(ctx, encoded, password)
		switch {
		case len(password) > MaxLength:
			if ok || rehash || err != ErrTooLong {
				t.Fatalf("Verify(%q, %d bytes) = %v, %v, %v; want false, false, ErrTooLong", encoded, len(password), ok, rehash, err)
			}
			return
		case encoded == "":
			if ok || rehash || err != nil {
				t.Fatalf("Verify(%q, %q) = %v, %v, %v; want false, false, nil", encoded, password, ok, rehash, err)
			}
			return
		case idErr != nil:
			if ok || rehash || !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("Verify(%q, %q) = %v, %v, %v; want false, false, ErrUnknownFormat", encoded, password, ok, rehash, err)
			}
			return
		case err != nil:
			t.Fatalf("Verify(%q, %q) error = %v; Identify accepted it as %s", encoded, password, err, format)
		}
		if !ok {
			if rehash {
				t.Fatalf("Verify(%q, %q) = false, true; rehash without a match", encoded, password)
			}
			return
		}
		if want := format != "argon2id" || s.(*argon2Hash).params != h.params; rehash != want {
			t.Fatalf("Verify(%q, %q) rehash = %v; want %v", encoded, password, rehash, want)
		}
		// A hash matches one password, not its extensions. For plain
		// bcrypt this also holds: it refuses passwords past 72 bytes
		// instead of truncating them, and NUL bytes instead of stopping
		// there.
		for _, other := range []string{password + "x", "x" + password, password + "\x00"} {
			if len(other) > MaxLength {
				continue
			}
			if other == password+"\x00" && hmacKeyedByPassword(format) {
				// HMAC zero-pads its key: see the package doc.
				continue
			}
			if ok, _, err := h.Verify(ctx, encoded, other); ok || err != nil {
				t.Fatalf("Verify(%q, %q) = %v, %v after it matched %q; want false, nil", encoded, other, ok, err, password)
			}
		}
	})
}
