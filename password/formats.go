package password

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Bounds on what a stored hash may ask for. A hash can come from an import
// file or a compromised database row, so its parameters are checked before
// any work: none may make a single verification allocate more than 256 MiB or
// run for more than a few seconds. They are generous enough for every library
// default this package knows about.
const (
	maxEncodedLen = 1024

	maxArgon2Memory  = 256 * 1024 // KiB
	maxArgon2Time    = 10
	maxArgon2Threads = 16
	minArgon2Salt    = 8
	maxArgon2Salt    = 64
	minArgon2Key     = 16
	maxArgon2Key     = 128

	maxPBKDF2Iter = 2_000_000

	maxScryptN      = 1 << 20
	maxScryptR      = 32
	maxScryptP      = 16
	maxScryptMemory = 256 << 20 // bytes: 128*N*r
	maxScryptWork   = 1 << 22   // N*r*p, 16 times werkzeug's default

	minBcryptCost = 4
	maxBcryptCost = 16

	// bcryptMaxPassword is the number of password bytes bcrypt uses; it
	// silently ignores the rest.
	bcryptMaxPassword = 72

	maxLegacySalt = 256

	// Werkzeug before 2.3 hashed with this many iterations when a
	// pbkdf2:sha256 method string left the count out (DEFAULT_PBKDF2_ITERATIONS
	// in werkzeug 2.2's security.py). Werkzeug always writes the count, so
	// such hashes come only from hand-made or older imports.
	werkzeugPBKDF2DefaultIter = 260000

	// Werkzeug 3's defaults for a bare "scrypt" method.
	werkzeugScryptN = 1 << 15
	werkzeugScryptR = 8
	werkzeugScryptP = 1
)

// A scheme is a parsed stored hash whose parameters are within bounds.
type scheme interface {
	// format is the name Identify reports.
	format() string
	// verify reports whether password matches, comparing digests in
	// constant time.
	verify(password string) bool
}

// parse recognises encoded and validates all of its fields. It does no
// hashing. Errors wrap ErrUnknownFormat and never quote the hash, which may
// end up in logs.
func parse(encoded string) (scheme, error) {
	if encoded == "" {
		return nil, fmt.Errorf("empty hash: %w", ErrUnknownFormat)
	}
	if len(encoded) > maxEncodedLen {
		return nil, fmt.Errorf("hash of %d bytes: %w", len(encoded), ErrUnknownFormat)
	}
	// Every supported format is printable ASCII without spaces. Checking it
	// here also stops encoding/base64 from skipping \r and \n, so that each
	// hash has exactly one spelling.
	for i := 0; i < len(encoded); i++ {
		if c := encoded[i]; c < '!' || c > '~' {
			return nil, fmt.Errorf("hash has a byte outside printable ASCII: %w", ErrUnknownFormat)
		}
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2(encoded, "argon2id")
	case strings.HasPrefix(encoded, "$2"):
		return parseBcrypt(encoded, "bcrypt")
	case strings.HasPrefix(encoded, "argon2$"):
		return parseArgon2(encoded[len("argon2"):], "django-argon2")
	case strings.HasPrefix(encoded, "bcrypt_sha256$"):
		return parseBcrypt(encoded[len("bcrypt_sha256$"):], "django-bcrypt_sha256")
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		return parseDjangoPBKDF2(encoded)
	case strings.HasPrefix(encoded, "sha256$"),
		strings.HasPrefix(encoded, "pbkdf2:"),
		strings.HasPrefix(encoded, "scrypt$"),
		strings.HasPrefix(encoded, "scrypt:"):
		return parseWerkzeug(encoded)
	}
	return nil, fmt.Errorf("unrecognised prefix: %w", ErrUnknownFormat)
}

// parseUint parses a canonical decimal number: digits only, no sign, no
// leading zero, at most max. Real libraries write numbers this way, and
// accepting only that keeps one spelling per hash.
func parseUint(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

// argon2Hash is an argon2id hash, from this package, libargon2 or Django.
type argon2Hash struct {
	name   string
	params Params // SaltLen and KeyLen are those of salt and key
	salt   []byte
	key    []byte
}

// argonB64 is the PHC string format's base64: standard alphabet, no padding,
// and (Strict) no stray bits in the last character.
var argonB64 = base64.RawStdEncoding.Strict()

// parseArgon2 parses the PHC string $argon2id$v=19$m=M,t=T,p=P$salt$key.
// Only version 19 (0x13) exists in golang.org/x/crypto/argon2 and in any
// library of the last decade.
func parseArgon2(s, name string) (*argon2Hash, error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return nil, fmt.Errorf("%s: not a PHC argon2id string: %w", name, ErrUnknownFormat)
	}
	if f[2] != "v=19" {
		return nil, fmt.Errorf("%s: unsupported version: %w", name, ErrUnknownFormat)
	}
	var m, t, p uint64
	var ok bool
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 || !strings.HasPrefix(kv[0], "m=") || !strings.HasPrefix(kv[1], "t=") || !strings.HasPrefix(kv[2], "p=") {
		return nil, fmt.Errorf("%s: parameters not m=,t=,p=: %w", name, ErrUnknownFormat)
	}
	if m, ok = parseUint(kv[0][2:], maxArgon2Memory); !ok {
		return nil, fmt.Errorf("%s: memory out of range: %w", name, ErrUnknownFormat)
	}
	if t, ok = parseUint(kv[1][2:], maxArgon2Time); !ok {
		return nil, fmt.Errorf("%s: time out of range: %w", name, ErrUnknownFormat)
	}
	if p, ok = parseUint(kv[2][2:], maxArgon2Threads); !ok {
		return nil, fmt.Errorf("%s: parallelism out of range: %w", name, ErrUnknownFormat)
	}
	salt, err := argonB64.DecodeString(f[4])
	if err != nil {
		return nil, fmt.Errorf("%s: bad salt encoding: %w", name, ErrUnknownFormat)
	}
	key, err := argonB64.DecodeString(f[5])
	if err != nil {
		return nil, fmt.Errorf("%s: bad key encoding: %w", name, ErrUnknownFormat)
	}
	a := &argon2Hash{
		name: name,
		params: Params{
			Memory:  uint32(m),
			Time:    uint32(t),
			Threads: uint8(p),
			SaltLen: uint32(len(salt)),
			KeyLen:  uint32(len(key)),
		},
		salt: salt,
		key:  key,
	}
	if err := checkArgon2Params(a.params); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrUnknownFormat)
	}
	return a, nil
}

// checkArgon2Params reports whether p is within the bounds that both
// NewHasher and parsing enforce.
func checkArgon2Params(p Params) error {
	switch {
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return fmt.Errorf("threads %d not in [1, %d]", p.Threads, maxArgon2Threads)
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("time %d not in [1, %d]", p.Time, maxArgon2Time)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory:
		// Argon2 needs 8 KiB per lane; golang.org/x/crypto/argon2 would
		// silently raise a smaller value, libargon2 refuses it.
		return fmt.Errorf("memory %d KiB not in [%d, %d]", p.Memory, 8*uint32(p.Threads), maxArgon2Memory)
	case p.SaltLen < minArgon2Salt || p.SaltLen > maxArgon2Salt:
		return fmt.Errorf("salt length %d not in [%d, %d]", p.SaltLen, minArgon2Salt, maxArgon2Salt)
	case p.KeyLen < minArgon2Key || p.KeyLen > maxArgon2Key:
		return fmt.Errorf("key length %d not in [%d, %d]", p.KeyLen, minArgon2Key, maxArgon2Key)
	}
	return nil
}

func (a *argon2Hash) format() string {
	if a.name == "" {
		return "argon2id"
	}
	return a.name
}

func (a *argon2Hash) derive(password string, keyLen uint32) []byte {
	return argon2.IDKey([]byte(password), a.salt, a.params.Time, a.params.Memory, a.params.Threads, keyLen)
}

func (a *argon2Hash) verify(password string) bool {
	return subtle.ConstantTimeCompare(a.derive(password, uint32(len(a.key))), a.key) == 1
}

// String returns a in the PHC string format.
func (a *argon2Hash) String() string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		a.params.Memory, a.params.Time, a.params.Threads,
		argonB64.EncodeToString(a.salt), argonB64.EncodeToString(a.key))
}

// bcryptHash is a bcrypt hash, alone or inside Django's bcrypt_sha256.
type bcryptHash struct {
	name    string
	encoded []byte // with $2y$ rewritten to $2b$
	cost    int
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// parseBcrypt parses $2a$, $2b$ or $2y$, a two-digit cost, then 22
// characters of salt and 31 of digest. golang.org/x/crypto/bcrypt reads more
// than that (any minor version letter, $1$, a shorter string), so the shape
// is checked here first.
func parseBcrypt(s, name string) (*bcryptHash, error) {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return nil, fmt.Errorf("%s: not a bcrypt hash: %w", name, ErrUnknownFormat)
	}
	switch s[2] {
	case 'a', 'b':
	case 'y':
		// PHP's name for the same algorithm as $2b$.
		s = "$2b" + s[3:]
	default:
		return nil, fmt.Errorf("%s: unsupported bcrypt version: %w", name, ErrUnknownFormat)
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return nil, fmt.Errorf("%s: bad cost: %w", name, ErrUnknownFormat)
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < minBcryptCost || cost > maxBcryptCost {
		return nil, fmt.Errorf("%s: cost %d not in [%d, %d]: %w", name, cost, minBcryptCost, maxBcryptCost, ErrUnknownFormat)
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return nil, fmt.Errorf("%s: bad salt or digest encoding: %w", name, ErrUnknownFormat)
		}
	}
	return &bcryptHash{name: name, encoded: []byte(s), cost: cost}, nil
}

func (b *bcryptHash) format() string { return b.name }

func (b *bcryptHash) verify(password string) bool {
	pw := []byte(password)
	if b.name == "django-bcrypt_sha256" {
		// Django hashes first so that bcrypt sees 64 bytes whatever the
		// password's length.
		sum := sha256.Sum256(pw)
		pw = []byte(hex.EncodeToString(sum[:]))
	} else if len(pw) > bcryptMaxPassword || bytes.IndexByte(pw, 0) >= 0 {
		// bcrypt would ignore the bytes past 72, so this password could be
		// a different one that happens to share a prefix with the real one.
		// Likewise C implementations (and so PHP, Python's bcrypt, most
		// hashes one imports) stop at a NUL byte, and Go's bcrypt treats
		// the password as NUL-terminated, so "" and "\x00" would match the
		// same hash.
		return false
	}
	// CompareHashAndPassword compares in constant time.
	return bcrypt.CompareHashAndPassword(b.encoded, pw) == nil
}

// djangoPBKDF2 is Django's pbkdf2_sha256$ITER$SALT$B64, the key being
// 32 bytes of PBKDF2-HMAC-SHA256 in standard base64 with padding.
type djangoPBKDF2 struct {
	iter int
	salt string
	key  []byte
}

func parseDjangoPBKDF2(s string) (*djangoPBKDF2, error) {
	const name = "django-pbkdf2_sha256"
	f := strings.Split(s, "$")
	if len(f) != 4 {
		return nil, fmt.Errorf("%s: want 4 fields: %w", name, ErrUnknownFormat)
	}
	iter, ok := parseUint(f[1], maxPBKDF2Iter)
	if !ok || iter < 1 {
		return nil, fmt.Errorf("%s: iterations out of range: %w", name, ErrUnknownFormat)
	}
	if f[2] == "" || len(f[2]) > maxLegacySalt {
		return nil, fmt.Errorf("%s: bad salt length: %w", name, ErrUnknownFormat)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(f[3])
	if err != nil || len(key) != sha256.Size {
		return nil, fmt.Errorf("%s: bad key: %w", name, ErrUnknownFormat)
	}
	return &djangoPBKDF2{iter: int(iter), salt: f[2], key: key}, nil
}

func (d *djangoPBKDF2) format() string { return "django-pbkdf2_sha256" }

func (d *djangoPBKDF2) verify(password string) bool {
	got, err := pbkdf2.Key(sha256.New, password, []byte(d.salt), d.iter, len(d.key))
	return err == nil && subtle.ConstantTimeCompare(got, d.key) == 1
}

// werkzeugHash is one of Werkzeug's METHOD$SALT$HEX hashes. The salt is an
// ASCII string whose bytes are used as is; the digest is lower-case hex.
type werkzeugHash struct {
	name    string
	salt    string
	digest  []byte
	iter    int // pbkdf2
	n, r, p int // scrypt
}

// parseWerkzeug parses:
//
//	sha256$SALT$HEX              werkzeug < 2.3: HMAC-SHA256 keyed by the salt
//	pbkdf2:sha256[:ITER]$SALT$HEX  PBKDF2-HMAC-SHA256, 32-byte key
//	scrypt[:N:R:P]$SALT$HEX      werkzeug >= 3.0: scrypt, 64-byte key
func parseWerkzeug(s string) (*werkzeugHash, error) {
	f := strings.Split(s, "$")
	if len(f) != 3 {
		return nil, fmt.Errorf("werkzeug: want 3 fields: %w", ErrUnknownFormat)
	}
	method, salt, digestHex := f[0], f[1], f[2]
	w := &werkzeugHash{salt: salt}
	digestLen := sha256.Size
	args := strings.Split(method, ":")
	switch args[0] {
	case "sha256":
		w.name = "werkzeug-sha256"
		if len(args) != 1 {
			return nil, fmt.Errorf("%s: bad method: %w", w.name, ErrUnknownFormat)
		}
	case "pbkdf2":
		w.name = "werkzeug-pbkdf2"
		if len(args) < 2 || len(args) > 3 || args[1] != "sha256" {
			return nil, fmt.Errorf("%s: only pbkdf2:sha256[:ITER] is supported: %w", w.name, ErrUnknownFormat)
		}
		w.iter = werkzeugPBKDF2DefaultIter
		if len(args) == 3 {
			iter, ok := parseUint(args[2], maxPBKDF2Iter)
			if !ok || iter < 1 {
				return nil, fmt.Errorf("%s: iterations out of range: %w", w.name, ErrUnknownFormat)
			}
			w.iter = int(iter)
		}
	case "scrypt":
		w.name = "werkzeug-scrypt"
		digestLen = 64
		w.n, w.r, w.p = werkzeugScryptN, werkzeugScryptR, werkzeugScryptP
		if len(args) != 1 {
			if len(args) != 4 {
				return nil, fmt.Errorf("%s: want scrypt:N:R:P: %w", w.name, ErrUnknownFormat)
			}
			n, okN := parseUint(args[1], maxScryptN)
			r, okR := parseUint(args[2], maxScryptR)
			p, okP := parseUint(args[3], maxScryptP)
			if !okN || !okR || !okP {
				return nil, fmt.Errorf("%s: parameters out of range: %w", w.name, ErrUnknownFormat)
			}
			w.n, w.r, w.p = int(n), int(r), int(p)
		}
		n, r, p := uint64(w.n), uint64(w.r), uint64(w.p)
		if n < 2 || n&(n-1) != 0 || r < 1 || p < 1 || 128*n*r > maxScryptMemory || n*r*p > maxScryptWork {
			return nil, fmt.Errorf("%s: parameters out of range: %w", w.name, ErrUnknownFormat)
		}
	default:
		return nil, fmt.Errorf("werkzeug: unsupported method: %w", ErrUnknownFormat)
	}
	if salt == "" || len(salt) > maxLegacySalt {
		return nil, fmt.Errorf("%s: bad salt length: %w", w.name, ErrUnknownFormat)
	}
	// Werkzeug compares hex strings, and hashlib writes lower case only.
	if len(digestHex) != 2*digestLen || strings.ToLower(digestHex) != digestHex {
		return nil, fmt.Errorf("%s: bad digest: %w", w.name, ErrUnknownFormat)
	}
	digest, err := hex.DecodeString(digestHex)
	if err != nil {
		return nil, fmt.Errorf("%s: bad digest: %w", w.name, ErrUnknownFormat)
	}
	w.digest = digest
	return w, nil
}

func (w *werkzeugHash) format() string { return w.name }

func (w *werkzeugHash) verify(password string) bool {
	var got []byte
	var err error
	switch w.name {
	case "werkzeug-sha256":
		m := hmac.New(sha256.New, []byte(w.salt))
		m.Write([]byte(password))
		got = m.Sum(nil)
	case "werkzeug-pbkdf2":
		got, err = pbkdf2.Key(sha256.New, password, []byte(w.salt), w.iter, len(w.digest))
	case "werkzeug-scrypt":
		got, err = scrypt.Key([]byte(password), []byte(w.salt), w.n, w.r, w.p, len(w.digest))
	}
	return err == nil && len(got) == len(w.digest) && subtle.ConstantTimeCompare(got, w.digest) == 1
}
