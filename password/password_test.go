package password

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// testParams make hashing cheap where its cost does not matter.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// vector is one entry of testdata/vectors.json, written by gen_vectors.py
// with the real Python libraries.
type vector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Library  string `json:"library"`
	Call     string `json:"call"`
	Note     string `json:"note"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		tb.Fatalf("testdata/vectors.json: %v", err)
	}
	return file.Vectors
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0, 0)
	for _, pw := range []string{"", "hunter2", "pässwörd", "密码🔑", "a\x00b", strings.Repeat("é", MaxLength/2)} {
		encoded, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q) error: %v", pw, err)
		}
		if !phcRE.MatchString(encoded) {
			t.Errorf("Hash(%q) = %q; want match for %s", pw, encoded, phcRE)
		}
		if got, err := Identify(encoded); got != "argon2id" || err != nil {
			t.Errorf("Identify(%q) = %q, %v; want argon2id, nil", encoded, got, err)
		}
		ok, rehash, err := h.Verify(ctx, encoded, pw)
		if !ok || rehash || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want true, false, nil", encoded, pw, ok, rehash, err)
		}
		for _, wrong := range []string{pw + "x", "x" + pw, strings.ToUpper(pw) + "!"} {
			if len(wrong) > MaxLength {
				continue
			}
			ok, rehash, err := h.Verify(ctx, encoded, wrong)
			if ok || rehash || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v, %v; want false, false, nil", encoded, wrong, ok, rehash, err)
			}
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0, 0)
	seen := make(map[string]bool)
	for range 5 {
		encoded, err := h.Hash(ctx, "same password")
		if err != nil {
			t.Fatal(err)
		}
		salt := strings.Split(encoded, "$")[4]
		if seen[salt] {
			t.Fatalf("Hash repeated salt %q", salt)
		}
		seen[salt] = true
	}
}

func TestVerifyRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(testParams, 0, 0)
	encoded, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", testParams, false},
		{"memory", Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"time", Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"threads", Params{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32}, true},
		{"key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, true},
	}
	for _, tt := range tests {
		h := NewHasher(tt.p, 0, 0)
		ok, rehash, err := h.Verify(ctx, encoded, "pw")
		if !ok || rehash != tt.want || err != nil {
			t.Errorf("%s: Verify = %v, %v, %v; want true, %v, nil", tt.name, ok, rehash, err, tt.want)
		}
	}
}

func TestParams(t *testing.T) {
	if got := NewHasher(DefaultParams, 0, 0).Params(); got != DefaultParams {
		t.Errorf("Params() = %+v; want %+v", got, DefaultParams)
	}
	want := Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if DefaultParams != want {
		t.Errorf("DefaultParams = %+v; want %+v", DefaultParams, want)
	}
}

func TestNewHasherBadParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 7, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		{Memory: 1 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1, 0)
		}()
	}
}

func TestNewHasherLimits(t *testing.T) {
	h := NewHasher(testParams, 0, -5)
	if got, want := cap(h.slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("NewHasher(p, 0, -5) concurrency = %d; want %d", got, want)
	}
	if h.queue != 0 {
		t.Errorf("NewHasher(p, 0, -5) queue = %d; want 0", h.queue)
	}
}

func TestTooLong(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1, 0)
	max := strings.Repeat("é", MaxLength/2) // multi-byte: the limit is in bytes
	encoded, err := h.Hash(ctx, max)
	if err != nil {
		t.Fatalf("Hash(%d bytes) error: %v", len(max), err)
	}
	if ok, _, err := h.Verify(ctx, encoded, max); !ok || err != nil {
		t.Errorf("Verify(%d bytes) = %v, %v; want true, nil", len(max), ok, err)
	}
	long := max + "a"
	if _, err := h.Hash(ctx, long); err != ErrTooLong {
		t.Errorf("Hash(%d bytes) error = %v; want ErrTooLong", len(long), err)
	}
	// Refused before the pool: even a hasher with no free slot says ErrTooLong.
	release := holdSlots(t, h, 1)
	defer release()
	for _, enc := range []string{encoded, "", "garbage"} {
		if ok, _, err := h.Verify(ctx, enc, long); ok || err != ErrTooLong {
			t.Errorf("Verify(%q, %d bytes) = %v, %v; want false, ErrTooLong", enc, len(long), ok, err)
		}
	}
}

// TestVectors checks hashes written by the real libraries (see
// testdata/gen_vectors.py).
func TestVectors(t *testing.T) {
	ctx := context.Background()
	vectors := loadVectors(t)
	h := NewHasher(DefaultParams, 0, len(vectors))
	formats := make(map[string]int)
	for i, v := range vectors {
		formats[v.Format]++
		t.Run(fmt.Sprintf("%s/%d", v.Format, i), func(t *testing.T) {
			t.Parallel()
			if got, err := Identify(v.Hash); got != v.Format || err != nil {
				t.Errorf("Identify(%q) = %q, %v; want %q, nil", v.Hash, got, err, v.Format)
			}
			wantRehash := !(v.Format == "argon2id" && strings.HasPrefix(v.Hash, "$argon2id$v=19$m=19456,t=2,p=1$") &&
				len(v.Hash) == len("$argon2id$v=19$m=19456,t=2,p=1$")+22+1+43)
			ok, rehash, err := h.Verify(ctx, v.Hash, v.Password)
			if !ok || rehash != wantRehash || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v, %v; want true, %v, nil (%s: %s)",
					v.Hash, v.Password, ok, rehash, err, wantRehash, v.Library, v.Call)
			}
			wrong := v.Password + "x"
			if ok, rehash, err := h.Verify(ctx, v.Hash, wrong); ok || rehash || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v, %v; want false, false, nil", v.Hash, wrong, ok, rehash, err)
			}
		})
	}
	for _, f := range []string{"argon2id", "werkzeug-sha256", "werkzeug-pbkdf2", "werkzeug-scrypt",
		"django-pbkdf2_sha256", "django-argon2", "django-bcrypt_sha256", "bcrypt"} {
		if formats[f] < 3 {
			t.Errorf("testdata/vectors.json has %d vectors for %s; want at least 3", formats[f], f)
		}
	}
}

// TestBcryptLong checks that plain bcrypt, which reads only 72 bytes, never
// accepts a longer password or one with a NUL byte, while Django's
// bcrypt_sha256 has no such limit.
func TestBcryptLong(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0, 0)
	pw72 := strings.Repeat("ü", 36)
	hash, err := bcrypt.GenerateFromPassword([]byte(pw72), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{pw72, true},
		{pw72 + "x", false},
		{pw72 + pw72, false},
		{pw72[:71], false},
		{pw72[:70] + "\x00", false},
	}
	for _, tt := range tests {
		if ok, _, err := h.Verify(ctx, string(hash), tt.pw); ok != tt.want || err != nil {
			t.Errorf("Verify(%q, %d bytes) = %v, %v; want %v, nil", hash, len(tt.pw), ok, err, tt.want)
		}
	}
	// Go's bcrypt NUL-terminates the password, so "" and "\x00" would give
	// the same hash; C implementations stop at the first NUL.
	empty, err := bcrypt.GenerateFromPassword(nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"\x00", "\x00\x00", "a\x00"} {
		if ok, _, err := h.Verify(ctx, string(empty), pw); ok || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v; want false, nil", empty, pw, ok, err)
		}
	}
	for _, v := range loadVectors(t) {
		if v.Format == "django-bcrypt_sha256" && len(v.Password) > 72 {
			if ok, _, err := h.Verify(ctx, v.Hash, v.Password); !ok || err != nil {
				t.Errorf("Verify(%q, %d bytes) = %v, %v; want true, nil", v.Hash, len(v.Password), ok, err)
			}
			if ok, _, err := h.Verify(ctx, v.Hash, v.Password[:72]); ok || err != nil {
				t.Errorf("Verify(%q, 72 bytes) = %v, %v; want false, nil", v.Hash, ok, err)
			}
			return
		}
	}
	t.Error("no django-bcrypt_sha256 vector with a password longer than 72 bytes")
}

// Valid hashes from testdata/vectors.json: the first three of "correct horse
// battery staple", then "密码🔑 with spaces" and "pässwörd".
const (
	goodArgon2   = "$argon2id$v=19$m=16,t=1,p=2$BXmjq7XwZNw$cVh6ogV7kpnhmrBqfeA1WA"
	goodWzSHA    = "sha256$3sPkpo0bJmIpEqZO$63822098a826bb4c2cf8bdaf5d87dfdea89105b1b9f5b380c39220553aaa7a35"
	goodBcrypt   = "$2b$04$wAM5u8y6tA9crmztS.2kwe8J5ILuZjRjSdEqXBfEJzOoTI6UKG9Am"
	goodDjPBKDF2 = "pbkdf2_sha256$1000$6Q4qOVawjssSKO2Hq1GthA$dURL0fFu+No2f6kd9WG3C/Yt7vFflvnSwAk5wi7ePTw="
)

func TestIdentify(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	hex128 := strings.Repeat("cd", 64)
	tests := []struct {
		in   string
		want string // "" means ErrUnknownFormat
	}{
		{goodArgon2, "argon2id"},
		{"argon2" + goodArgon2, "django-argon2"},
		{goodWzSHA, "werkzeug-sha256"},
		{"pbkdf2:sha256:1000$salt$" + hex64, "werkzeug-pbkdf2"},
		{"pbkdf2:sha256$salt$" + hex64, "werkzeug-pbkdf2"},
		{"scrypt:32768:8:1$salt$" + hex128, "werkzeug-scrypt"},
		{"scrypt$salt$" + hex128, "werkzeug-scrypt"},
		{goodDjPBKDF2, "django-pbkdf2_sha256"},
		{"bcrypt_sha256$" + goodBcrypt, "django-bcrypt_sha256"},
		{goodBcrypt, "bcrypt"},
		{strings.Replace(goodBcrypt, "$2b$", "$2a$", 1), "bcrypt"},
		{strings.Replace(goodBcrypt, "$2b$", "$2y$", 1), "bcrypt"},
		{strings.Replace(goodBcrypt, "$04$", "$16$", 1), "bcrypt"},
		{"$argon2id$v=19$m=262144,t=10,p=16$BXmjq7XwZNw$cVh6ogV7kpnhmrBqfeA1WA", "argon2id"},
		{"scrypt:1048576:2:2$s$" + hex128, "werkzeug-scrypt"},
		{"pbkdf2_sha256$2000000$s$" + goodDjPBKDF2[len(goodDjPBKDF2)-44:], "django-pbkdf2_sha256"},

		{"", ""},
		{"plain$$secret", ""},
		{"md5$salt$" + strings.Repeat("ab", 16), ""},
		{"sha1$salt$" + strings.Repeat("ab", 20), ""},
		{" " + goodArgon2, ""},
		{goodArgon2 + "\n", ""},
		{"sha256$sälz$" + hex64, ""},
		{strings.Repeat("a", 2000), ""},

		// argon2id
		{strings.Replace(goodArgon2, "argon2id", "argon2i", 1), ""},
		{strings.Replace(goodArgon2, "argon2id", "argon2d", 1), ""},
		{strings.Replace(goodArgon2, "v=19", "v=16", 1), ""},
		{strings.Replace(goodArgon2, "$v=19", "", 1), ""},
		{strings.Replace(goodArgon2, "m=16", "m=262145", 1), ""},
		{strings.Replace(goodArgon2, "m=16", "m=4294967296", 1), ""},
		{strings.Replace(goodArgon2, "m=16", "m=15", 1), ""}, // < 8*p
		{strings.Replace(goodArgon2, "m=16", "m=016", 1), ""},
		{strings.Replace(goodArgon2, "m=16", "m=+16", 1), ""},
		{strings.Replace(goodArgon2, "t=1", "t=0", 1), ""},
		{strings.Replace(goodArgon2, "t=1", "t=11", 1), ""},
		{strings.Replace(goodArgon2, "p=2", "p=0", 1), ""},
		{strings.Replace(goodArgon2, "p=2", "p=17", 1), ""},
		{strings.Replace(goodArgon2, "m=16,t=1,p=2", "t=1,m=16,p=2", 1), ""},
		{strings.Replace(goodArgon2, "p=2", "p=2,data=AA", 1), ""},
		{strings.Replace(goodArgon2, "BXmjq7XwZNw", "BXmjq7XwZNw=", 1), ""}, // padding
		{strings.Replace(goodArgon2, "BXmjq7XwZNw", "BXmjq7XwZNx", 1), ""},  // stray bits
		{strings.Replace(goodArgon2, "BXmjq7XwZNw", "BXmjqw", 1), ""},       // 4-byte salt
		{strings.Replace(goodArgon2, "BXmjq7XwZNw", "", 1), ""},
		{strings.Replace(goodArgon2, "cVh6ogV7kpnhmrBqfeA1WA", "cVh6ogV7kpk", 1), ""}, // 8-byte key
		{strings.Replace(goodArgon2, "$cVh6ogV7kpnhmrBqfeA1WA", "$", 1), ""},
		{goodArgon2 + "$", ""},
		{"argon2" + strings.Replace(goodArgon2, "argon2id", "argon2i", 1), ""},
		{"argon2$" + goodArgon2, ""},

		// werkzeug
		{"sha256$$" + hex64, ""},
		{"sha256$salt$" + strings.ToUpper(hex64), ""},
		{"sha256$salt$" + hex64[:62], ""},
		{"sha256$salt$", ""},
		{"sha256$salt$" + hex64 + "$x", ""},
		{"sha256:1$salt$" + hex64, ""},
		{"sha256$" + strings.Repeat("s", 257) + "$" + hex64, ""},
		{"pbkdf2:sha256:$salt$" + hex64, ""},
		{"pbkdf2:sha256:0$salt$" + hex64, ""},
		{"pbkdf2:sha256:2000001$salt$" + hex64, ""},
		{"pbkdf2:sha256:01000$salt$" + hex64, ""},
		{"pbkdf2:sha256:-1$salt$" + hex64, ""},
		{"pbkdf2:sha1:1000$salt$" + strings.Repeat("ab", 20), ""},
		{"pbkdf2:sha512:1000$salt$" + hex128, ""},
		{"pbkdf2$salt$" + hex64, ""},
		{"pbkdf2:sha256:1000:1$salt$" + hex64, ""},
		{"pbkdf2:sha256:1000$salt$" + hex128, ""},
		{"scrypt:32768:8:1$salt$" + hex64, ""}, // werkzeug's scrypt key is 64 bytes
		{"scrypt:32768:8$salt$" + hex128, ""},
		{"scrypt:3:8:1$salt$" + hex128, ""},
		{"scrypt:1:8:1$salt$" + hex128, ""},
		{"scrypt:0:8:1$salt$" + hex128, ""},
		{"scrypt:2097152:1:1$salt$" + hex128, ""},
		{"scrypt:1048576:8:1$salt$" + hex128, ""}, // 1 GiB
		{"scrypt:32768:0:1$salt$" + hex128, ""},
		{"scrypt:32768:8:0$salt$" + hex128, ""},
		{"scrypt:32768:8:17$salt$" + hex128, ""},
		{"scrypt:32768:33:1$salt$" + hex128, ""},
		{"scrypt:262144:8:16$salt$" + hex128, ""}, // N*r*p too large

		// Django
		{"pbkdf2_sha256$0$salt$" + goodDjPBKDF2[len(goodDjPBKDF2)-44:], ""},
		{"pbkdf2_sha256$2000001$salt$" + goodDjPBKDF2[len(goodDjPBKDF2)-44:], ""},
		{"pbkdf2_sha256$1000$$" + goodDjPBKDF2[len(goodDjPBKDF2)-44:], ""},
		{strings.TrimSuffix(goodDjPBKDF2, "="), ""},
		{goodDjPBKDF2[:len(goodDjPBKDF2)-8] + "=", ""},
		{"pbkdf2_sha256$1000$salt$", ""},
		{"pbkdf2_sha1$1000$salt$" + goodDjPBKDF2[len(goodDjPBKDF2)-44:], ""},
		{"bcrypt_sha256$" + goodBcrypt[1:], ""},
		{"bcrypt_sha256$$" + goodBcrypt, ""},
		{"bcrypt$" + goodBcrypt, ""},

		// bcrypt
		{strings.Replace(goodBcrypt, "$2b$", "$2x$", 1), ""},
		{strings.Replace(goodBcrypt, "$2b$", "$2$", 1), ""},
		{strings.Replace(goodBcrypt, "$2b$", "$1b$", 1), ""},
		{strings.Replace(goodBcrypt, "$04$", "$03$", 1), ""},
		{strings.Replace(goodBcrypt, "$04$", "$17$", 1), ""},
		{strings.Replace(goodBcrypt, "$04$", "$31$", 1), ""},
		{strings.Replace(goodBcrypt, "$04$", "$4$", 1), ""},
		{goodBcrypt[:59], ""},
		{goodBcrypt + "A", ""},
		{goodBcrypt[:59] + "+", ""},
		{goodBcrypt[:59] + "$", ""},
	}
	for _, tt := range tests {
		got, err := Identify(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("Identify(%q) = %q, %v; want ErrUnknownFormat", tt.in, got, err)
			}
			continue
		}
		if got != tt.want || err != nil {
			t.Errorf("Identify(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestVerifyUnknownFormat(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1, 0)
	for _, enc := range []string{"x", "plain$$pw", "sha256$salt$", "$2b$04$", "$argon2id$v=19$m=16,t=1,p=2$BXmjq7XwZNw$"} {
		ok, rehash, err := h.Verify(ctx, enc, "pw")
		if ok || rehash || !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, ErrUnknownFormat", enc, ok, rehash, err)
		}
	}
	// Error text names the format but never repeats the hash.
	_, _, err := h.Verify(ctx, "pbkdf2:sha256:0$SECRETSALT$"+strings.Repeat("ab", 32), "pw")
	if err == nil || strings.Contains(err.Error(), "SECRETSALT") || !strings.Contains(err.Error(), "werkzeug-pbkdf2") {
		t.Errorf("Verify error = %v; want werkzeug-pbkdf2 detail without the salt", err)
	}
}

// TestVerifyNoUser checks that an empty hash means a full dummy verification
// at the hasher's own cost, through the pool, and never a match.
func TestVerifyNoUser(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1, 0)
	if h.dummy.params != h.params {
		t.Errorf("dummy params = %+v; want %+v", h.dummy.params, h.params)
	}
	var runs atomic.Int32
	h.inSlot = func() { runs.Add(1) }
	for _, pw := range []string{"", "pw", "anything"} {
		ok, rehash, err := h.Verify(ctx, "", pw)
		if ok || rehash || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want false, false, nil", "", pw, ok, rehash, err)
		}
	}
	if got := runs.Load(); got != 3 {
		t.Errorf("dummy verifications through the pool = %d; want 3", got)
	}
	release := holdSlots(t, h, 1)
	defer release()
	if _, _, err := h.Verify(ctx, "", "pw"); err != ErrBusy {
		t.Errorf("Verify(%q) with pool full: err = %v; want ErrBusy", "", err)
	}
}

// holdSlots occupies n of h's slots until release is called, and fails the
// test if that takes too long.
func holdSlots(t *testing.T, h *Hasher, n int) (release func()) {
	t.Helper()
	entered := make(chan struct{})
	done := make(chan struct{})
	prev := h.inSlot
	h.inSlot = func() {
		// Only the first n calls hold a slot; later ones (say, a caller that
		// was queued) pass straight through once released.
		select {
		case entered <- struct{}{}:
			<-done
		case <-done:
		}
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Errorf("holdSlots: Hash error: %v", err)
			}
		})
		<-entered
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			h.inSlot = prev
		})
	}
	t.Cleanup(release)
	return release
}

// waitFor polls cond until it holds or the test has waited too long.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPoolLimit starts many hashes at once against a pool of one slot and a
// queue of one. Each admitted hash blocks in the slot until every other call
// has been turned away, so the outcome does not depend on scheduling: exactly
// two succeed, the rest get ErrBusy, and no two ever run together.
func TestPoolLimit(t *testing.T) {
	const calls = 8
	h := NewHasher(DefaultParams, 1, 1)
	var running, maxRunning atomic.Int32
	var busy atomic.Int32
	release := make(chan struct{})
	h.inSlot = func() {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
	}
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			_, err := h.Hash(context.Background(), "pw")
			if err == ErrBusy {
				busy.Add(1)
			}
			errs <- err
		})
	}
	waitFor(t, "callers to be turned away", func() bool { return busy.Load() == calls-2 })
	close(release)
	wg.Wait()
	close(errs)
	var ok int
	for err := range errs {
		switch err {
		case nil:
			ok++
		case ErrBusy:
		default:
			t.Errorf("Hash error = %v; want nil or ErrBusy", err)
		}
	}
	if ok != 2 || busy.Load() != calls-2 {
		t.Errorf("Hash results: %d ok, %d ErrBusy; want 2 ok, %d ErrBusy", ok, busy.Load(), calls-2)
	}
	if got := maxRunning.Load(); got != 1 {
		t.Errorf("max concurrent hashes = %d; want 1", got)
	}
}

func TestPoolCancelWhileQueued(t *testing.T) {
	h := NewHasher(testParams, 1, 1)
	release := holdSlots(t, h, 1)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(ctx, goodWzSHA, "pw")
		errc <- err
	}()
	waitFor(t, "Verify to queue", func() bool { return h.waiting.Load() == 1 })
	// The queue is full now.
	if _, err := h.Hash(context.Background(), "pw"); err != ErrBusy {
		t.Errorf("Hash with queue full: err = %v; want ErrBusy", err)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Errorf("Verify canceled while queued: err = %v; want context.Canceled", err)
	}
	if n := h.waiting.Load(); n != 0 {
		t.Errorf("waiting after cancel = %d; want 0", n)
	}
	release()

	// A done context is reported even when a slot is free.
	if _, err := h.Hash(ctx, "pw"); err != context.Canceled {
		t.Errorf("Hash with canceled ctx: err = %v; want context.Canceled", err)
	}
	// And the slot was given back.
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Errorf("Hash after release: err = %v; want nil", err)
	}
}

func TestPoolDeadlineWhileQueued(t *testing.T) {
	h := NewHasher(testParams, 1, 4)
	holdSlots(t, h, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); err != context.DeadlineExceeded {
		t.Errorf("Hash past deadline: err = %v; want context.DeadlineExceeded", err)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 1, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, 1, 0)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, encoded, "correct horse battery staple"); !ok || err != nil {
			b.Fatalf("Verify = %v, %v; want true, nil", ok, err)
		}
	}
}

// TestUseArgon2 checks that a Hasher given an Argon2Func computes every
// argon2id key with it, for new hashes, checks and unknown users, keeps
// verifying legacy formats itself, and reports the function's errors.
func TestUseArgon2(t *testing.T) {
	h := NewHasher(testParams, 1, 0)
	var calls atomic.Int64
	var fail atomic.Bool
	h.UseArgon2(func(ctx context.Context, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
		calls.Add(1)
		if fail.Load() {
			return nil, errors.New("worker gone")
		}
		return argon2.IDKey(password, salt, time, memory, threads, keyLen), nil
	})
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatalf("Hash error = %v; want nil", err)
	}
	// The hash is the one argon2.IDKey gives: any argon2id library reads it.
	if ok, _, err := NewHasher(testParams, 1, 0).Verify(ctx, encoded, "correct horse"); !ok || err != nil {
		t.Fatalf("hash made through the function does not verify in process: %v, %v", ok, err)
	}
	for _, tt := range []struct {
		encoded, password string
		want              bool
	}{
		{encoded, "correct horse", true},
		{encoded, "wrong horse", false},
		{"", "anything", false}, // unknown user: the dummy hash
	} {
		if ok, _, err := h.Verify(ctx, tt.encoded, tt.password); ok != tt.want || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v; want %v, nil", tt.encoded, tt.password, ok, err, tt.want)
		}
	}
	if got := calls.Load(); got != 4 {
		t.Errorf("the function computed %d keys; want 4 (hash, 2 checks, dummy)", got)
	}
	bc, _ := bcrypt.GenerateFromPassword([]byte("legacy"), bcrypt.MinCost)
	if ok, _, err := h.Verify(ctx, string(bc), "legacy"); !ok || err != nil || calls.Load() != 4 {
		t.Errorf("Verify(bcrypt) = %v, %v with %d calls; want true, nil in process", ok, err, calls.Load())
	}
	fail.Store(true)
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Errorf("Hash with a failing function: nil error; want one")
	}
	if ok, _, err := h.Verify(ctx, encoded, "correct horse"); ok || err == nil {
		t.Errorf("Verify with a failing function = %v, %v; want false and an error", ok, err)
	}
}

// TestWaitingAndObserveWait checks what the operator's metrics read: the
// queue's depth while a hash waits, and the wait reported once it gets a
// slot.
func TestWaitingAndObserveWait(t *testing.T) {
	h := NewHasher(testParams, 1, 4)
	waits := make(chan time.Duration, 4)
	h.ObserveWait = func(d time.Duration) { waits <- d }
	h.slots <- struct{}{} // the one slot, taken
	release := func() { <-h.slots }
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "pw")
		done <- err
	}()
	for i := 0; h.Waiting() != 1; i++ {
		if i > 5000 {
			t.Fatalf("Waiting() = %d with a hash queued; want 1", h.Waiting())
		}
		time.Sleep(time.Millisecond)
	}
	if len(waits) != 0 {
		t.Errorf("ObserveWait called %d times while the hash still waits; want 0", len(waits))
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if h.Waiting() != 0 {
		t.Errorf("Waiting() = %d after the hash ran; want 0", h.Waiting())
	}
	if len(waits) != 1 {
		t.Errorf("ObserveWait called %d times; want 1, for the hash that waited", len(waits))
	}
}

// TestVerifySpellings checks that a password typed as composed or
// decomposed characters, or full-width, is one password; that hashes made
// elsewhere over the bytes as typed still match those bytes; and that an
// argon2id hash of the bytes as typed, from before normalisation, matches
// and asks to be rehashed.
func TestVerifySpellings(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0, 0)
	nfc, nfd, wide := "caf\u00e9 cr\u00e8me", "cafe\u0301 cre\u0300me", "ｃａｆé crème"
	encoded, err := h.Hash(ctx, nfd)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{nfc, nfd, wide} {
		if ok, rehash, err := h.Verify(ctx, encoded, pw); !ok || rehash || err != nil {
			t.Errorf("Verify(Hash(NFD), %q) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
	}
	if ok, _, _ := h.Verify(ctx, encoded, "cafe crème"); ok {
		t.Error("Verify matched a password without the accent")
	}

	// A werkzeug hash of the decomposed bytes, as Python made it.
	mac := hmac.New(sha256.New, []byte("salt"))
	mac.Write([]byte(nfd))
	legacy := "sha256$salt$" + hex.EncodeToString(mac.Sum(nil))
	if ok, rehash, err := h.Verify(ctx, legacy, nfd); !ok || !rehash || err != nil {
		t.Errorf("Verify(werkzeug hash of NFD bytes, NFD) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}

	// An argon2id hash of the decomposed bytes, made before normalisation.
	a := &argon2Hash{params: testParams, salt: []byte("0123456789abcdef")}
	a.key = a.derive(nfd, testParams.KeyLen)
	if ok, rehash, err := h.Verify(ctx, a.String(), nfd); !ok || !rehash || err != nil {
		t.Errorf("Verify(argon2id of NFD bytes, NFD) = %v, %v, %v; want true, true (to store the NFKC form), nil", ok, rehash, err)
	}
}
