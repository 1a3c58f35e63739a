package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch/mailer"
	"github.com/latchauth/latch/password"
)

// config is every setting of `latch serve`. Each has a flag and an
// environment variable; the flag wins.
type config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	RedisURL    string
	SecretKey   string
	// keyOrigin says where the secret key came from, for the start-up
	// log; openServer sets it.
	keyOrigin         string
	SecureCookies     bool
	LogLevel          slog.Level
	LogFormat         string
	MinPasswordLength int
	TrustedProxies    []netip.Prefix
	HashConcurrency   int
	HashMemory        int
	HashQueue         int
	HashInProcess     bool
	ShutdownTimeout   time.Duration
	// BaseURL is the site's address for links in mails; empty: http://Addr.
	BaseURL              string
	RequireVerifiedEmail bool
	SMTPURL              string // empty: mail goes to DATA_DIR/outbox
	MailFrom             string
	MetricsAddr          string // empty: no metrics listener
	TwoFactorResetDelay  time.Duration
	// GOMAXPROCSSet reports that the GOMAXPROCS environment variable is
	// set: latch then leaves the Go runtime's processors as the operator
	// chose (see processorGovernor).
	GOMAXPROCSSet bool
}

// setting describes one flag and its environment variable.
type setting struct {
	flag, env, def, help string
}

var settings = []setting{
	{"addr", "LATCH_ADDR", "localhost:8080", "address to listen on (host:port)"},
	{"data-dir", "LATCH_DATA_DIR", "./data", "folder for the SQLite database and the generated secret key"},
	{"database-url", "LATCH_DATABASE_URL", "", "database to use: empty for SQLite in the data folder, sqlite:PATH for another SQLite file, postgres://USER:PASSWORD@HOST:PORT/DB for PostgreSQL"},
	{"redis-url", "LATCH_REDIS_URL", "", "optional Redis (redis://HOST:PORT/DB) for login-throttling counters shared by instances; empty: kept in the database"},
	{"secret-key", "LATCH_SECRET_KEY", "", "secret key (at least 32 characters) for signing cookies; empty: generated on first start and kept in DATA_DIR/secret.key (mode 0600)"},
	{"secure-cookies", "LATCH_SECURE_COOKIES", "false", "mark cookies Secure and send HSTS: set to true when users reach latch over HTTPS"},
	{"log-level", "LATCH_LOG_LEVEL", "info", "log level: debug, info, warn or error"},
	{"log-format", "LATCH_LOG_FORMAT", "text", "log format: text or json"},
	{"min-password-length", "LATCH_MIN_PASSWORD_LENGTH", "8", "shortest password accepted at sign-up"},
	{"trusted-proxies", "LATCH_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For is believed"},
	{"hash-concurrency", "LATCH_HASH_CONCURRENCY", "0", "password hashes computed at once (argon2id, 19 MiB each); 0: one per CPU, within -hash-memory"},
	{"hash-memory", "LATCH_HASH_MEMORY", "256", "memory budget in MiB for password hashes running at once; bounds the default -hash-concurrency"},
	{"hash-queue", "LATCH_HASH_QUEUE", "64", "password hashes allowed to wait for a free slot; beyond it logins get 503"},
	{"hash-in-process", "LATCH_HASH_IN_PROCESS", "false", "compute password hashes in the server process instead of in worker processes at a lower CPU priority (nice 10), which keep page loads fast during a flood of logins"},
	{"shutdown-timeout", "LATCH_SHUTDOWN_TIMEOUT", "30s", "how long to let requests in flight finish on SIGINT/SIGTERM"},
	{"base-url", "LATCH_BASE_URL", "", "the site's address as users reach it (https://example.com): links in mails are built from it, requests for another host get 400, and https:// turns -secure-cookies on unless it is set to false; empty: links use http://ADDR"},
	{"require-verified-email", "LATCH_REQUIRE_VERIFIED_EMAIL", "false", "users must confirm their email address by a mailed link before they reach their profile; sign-up then answers alike for addresses that have an account"},
	{"smtp-url", "LATCH_SMTP_URL", "", "SMTP server for outgoing mail: smtp://USER:PASSWORD@HOST:PORT (STARTTLS required), smtps://USER:PASSWORD@HOST:PORT (TLS), or smtp://HOST:PORT?tls=none (no TLS, for a relay on this machine); empty: mail is written as .eml files into DATA_DIR/outbox"},
	{"mail-from", "LATCH_MAIL_FROM", "latch <noreply@localhost>", "sender of outgoing mail, such as latch <noreply@example.com>"},
	{"metrics-addr", "LATCH_METRICS_ADDR", "", "address (host:port) of a separate listener serving Prometheus metrics at /metrics, for the monitoring network only; empty: no metrics"},
	{"two-factor-reset-delay", "LATCH_TWO_FACTOR_RESET_DELAY", "72h", "wait between a removal of two-step sign-in asked for by email and the removal, during which any logged-in session of the user may cancel it"},
}

// boolean reports whether the setting is true or false: its flag may then
// be given alone (-secure-cookies), as Go's boolean flags are.
func (s setting) boolean() bool { return s.def == "false" }

// define adds the setting's flag to fset, its default taken from the
// environment variable when that is set.
func (s setting) define(fset *flag.FlagSet, getenv func(string) string) *string {
	v := s.def
	if e := getenv(s.env); e != "" {
		v = e
	}
	if s.boolean() {
		fset.Var(boolString{&v}, s.flag, s.help+" ($"+s.env+")")
	} else {
		fset.StringVar(&v, s.flag, v, s.help+" ($"+s.env+")")
	}
	return &v
}

// boolString is a flag kept as the string given, for parseConfig to check,
// that may be given without a value for true.
type boolString struct{ s *string }

func (b boolString) String() string {
	if b.s == nil {
		return ""
	}
	return *b.s
}

func (b boolString) Set(v string) error { *b.s = v; return nil }

// IsBoolFlag tells package flag that -name alone means -name=true.
func (b boolString) IsBoolFlag() bool { return true }

// describe writes the setting's line of the help.
func (s setting) describe(w io.Writer) {
	def := s.def
	if def == "" {
		def = `""`
	}
	fmt.Fprintf(w, "  -%s  $%s  (default %s)\n      %s\n", s.flag, s.env, def, s.help)
}

// unexpectedArgument is the error for arg, left over after the flags of
// args. A true or false there most likely followed a boolean flag, which
// takes its value after "=".
func unexpectedArgument(arg string, args []string) error {
	if _, err := strconv.ParseBool(arg); err == nil {
		if i := slices.Index(args, arg); i > 0 && strings.HasPrefix(args[i-1], "-") {
			return fmt.Errorf("unexpected argument %q: write %s=%s, as %s takes no separate value", arg, args[i-1], arg, args[i-1])
		}
	}
	return fmt.Errorf("unexpected argument %q; see latch --help", arg)
}

// parseMinPasswordLength reads the min-password-length setting.
func parseMinPasswordLength(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 128 {
		return 0, errors.New("want a whole number from 1 to 128 (8 or more is recommended)")
	}
	return n, nil
}

// parseConfig reads the settings from args and getenv, reporting every bad
// value with the name of its flag and variable.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fset := flag.NewFlagSet("latch serve", flag.ContinueOnError)
	fset.SetOutput(out)
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		vals[s.flag] = s.define(fset, getenv)
	}
	fset.Usage = func() { usage(out) }
	if err := fset.Parse(args); err != nil {
		return config{}, err
	}
	if fset.NArg() > 0 {
		return config{}, unexpectedArgument(fset.Arg(0), args)
	}
	get := func(name string) string { return strings.TrimSpace(*vals[name]) }
	cfg := config{
		Addr:        get("addr"),
		DataDir:     get("data-dir"),
		DatabaseURL: get("database-url"),
		RedisURL:    get("redis-url"),
		SecretKey:   *vals["secret-key"],
		LogFormat:   get("log-format"),
		SMTPURL:     get("smtp-url"),
		MailFrom:    get("mail-from"),
		MetricsAddr: get("metrics-addr"),
	}
	var errs []error
	bad := func(name string, err error) {
		for _, s := range settings {
			if s.flag == name {
				errs = append(errs, fmt.Errorf("-%s / %s: %w", name, s.env, err))
			}
		}
	}
	var err error
	if cfg.SecureCookies, err = strconv.ParseBool(get("secure-cookies")); err != nil {
		bad("secure-cookies", errors.New("want true or false"))
	}
	if cfg.RequireVerifiedEmail, err = strconv.ParseBool(get("require-verified-email")); err != nil {
		bad("require-verified-email", errors.New("want true or false"))
	}
	cfg.BaseURL = strings.TrimSuffix(get("base-url"), "/")
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			bad("base-url", errors.New("want http:// or https:// and a host, such as https://example.com, without query or fragment"))
		} else if u.Scheme == "https" && !explicit(fset, getenv, "secure-cookies") {
			// A site served over HTTPS gets Secure cookies unless told
			// otherwise in so many words.
			cfg.SecureCookies = true
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(get("log-level"))); err != nil {
		bad("log-level", errors.New("want debug, info, warn or error"))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		bad("log-format", errors.New("want text or json"))
	}
	if cfg.MinPasswordLength, err = parseMinPasswordLength(get("min-password-length")); err != nil {
		bad("min-password-length", err)
	}
	if cfg.HashConcurrency, err = strconv.Atoi(get("hash-concurrency")); err != nil || cfg.HashConcurrency < 0 {
		bad("hash-concurrency", errors.New("want 0 or a positive whole number"))
	}
	if cfg.HashMemory, err = strconv.Atoi(get("hash-memory")); err != nil || cfg.HashMemory < 20 {
		bad("hash-memory", errors.New("want a whole number of MiB, at least 20 (one hash needs 19)"))
	}
	cfg.GOMAXPROCSSet = getenv("GOMAXPROCS") != ""
	if cfg.HashQueue, err = strconv.Atoi(get("hash-queue")); err != nil || cfg.HashQueue < 0 {
		bad("hash-queue", errors.New("want 0 or a positive whole number"))
	}
	if cfg.HashInProcess, err = strconv.ParseBool(get("hash-in-process")); err != nil {
		bad("hash-in-process", errors.New("want true or false"))
	}
	if cfg.ShutdownTimeout, err = time.ParseDuration(get("shutdown-timeout")); err != nil || cfg.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", errors.New("want a positive duration such as 30s"))
	}
	if cfg.TwoFactorResetDelay, err = time.ParseDuration(get("two-factor-reset-delay")); err != nil || cfg.TwoFactorResetDelay <= 0 {
		bad("two-factor-reset-delay", errors.New("want a positive duration such as 72h"))
	}
	if cfg.TrustedProxies, err = parsePrefixes(get("trusted-proxies")); err != nil {
		bad("trusted-proxies", err)
	}
	if err := checkDatabaseURL(cfg.DatabaseURL); err != nil {
		bad("database-url", err)
	}
	if cfg.SMTPURL != "" {
		if _, err := mailer.ParseSMTPURL(cfg.SMTPURL); err != nil {
			bad("smtp-url", errors.New(strings.TrimPrefix(err.Error(), "mailer: ")))
		}
	}
	if _, err := mailer.ParseFrom(cfg.MailFrom); err != nil {
		bad("mail-from", err)
	}
	if cfg.Addr == "" {
		bad("addr", errors.New("want host:port, such as localhost:8080"))
	}
	if cfg.DataDir == "" {
		bad("data-dir", errors.New("want a folder path"))
	}
	if cfg.SecretKey != "" {
		if err := checkSecretKey(cfg.SecretKey); err != nil {
			bad("secret-key", fmt.Errorf("the key %w", err))
		}
	}
	if len(errs) == 0 {
		cfg.HashConcurrency = cfg.hashConcurrency()
	}
	return cfg, errors.Join(errs...)
}

// explicit reports whether the setting name was given, by flag or by its
// environment variable, rather than left at its default.
func explicit(fset *flag.FlagSet, getenv func(string) string, name string) bool {
	set := false
	fset.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	for _, s := range settings {
		if s.flag == name && getenv(s.env) != "" {
			set = true
		}
	}
	return set
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR network", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// secretKey returns the configured key, or the one kept in the data folder,
// generating and saving it (mode 0600) on first start. It also says where
// the key came from, for the start-up log.
func secretKey(cfg config) (key []byte, origin string, err error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), "set (masked)", nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	b, err := readKeyFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if err := checkSecretKey(key); err != nil {
			return nil, "", fmt.Errorf("secret key in %s %v; or delete the file and latch generates a new one at the next start", path, err)
		}
		return []byte(key), "read from " + path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	hexKey := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return secretKey(cfg) // another process created it meanwhile
	}
	if err != nil {
		return nil, "", fmt.Errorf("create secret key: %w", err)
	}
	if _, err := f.WriteString(hexKey + "\n"); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, "", fmt.Errorf("write secret key: %w", err)
	}
	return []byte(hexKey), "generated in " + path, nil
}

// readKeyFile reads the secret key file at path, refusing one that other
// users of the machine may read or change: whoever reads the key can forge
// the cookies it signs.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	// Windows has no such mode bits; its folders' ACLs decide.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s has mode %04o, so other users can read it: run chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	return b, nil
}

// minKeyBytes is how many different bytes a secret key must hold. A random
// key of 32 characters has some twenty; a key with fewer than this was typed
// or made up, not drawn at random, and may be guessed.
const minKeyBytes = 8

// checkSecretKey refuses a key too short or too plainly not random to keep
// cookies from being forged. Its errors follow "the key" or a file name.
func checkSecretKey(key string) error {
	const advice = "use a random key of at least 32 characters, such as the output of `openssl rand -hex 32`"
	var seen [256]bool
	distinct := 0
	for i := 0; i < len(key); i++ {
		if !seen[key[i]] {
			seen[key[i]] = true
			distinct++
		}
	}
	switch {
	case len(key) < 32:
		return fmt.Errorf("is too short: %s", advice)
	case strings.TrimSpace(key) == "":
		return fmt.Errorf("is only spaces: %s", advice)
	case distinct == 1:
		return fmt.Errorf("is one character repeated: %s", advice)
	case distinct < minKeyBytes:
		return fmt.Errorf("has only %d different characters: %s", distinct, advice)
	}
	return nil
}

// hashConcurrency is how many password hashes may run at once: the
// configured number, or one per CPU within the memory budget. It is
// resolved when the configuration is read, before processorGovernor
// changes GOMAXPROCS.
func (c config) hashConcurrency() int {
	if c.HashConcurrency > 0 {
		return c.HashConcurrency
	}
	perHash := int(password.DefaultParams.Memory/1024) + 1 // MiB, with the hash's own overhead
	return max(1, min(runtime.GOMAXPROCS(0), c.HashMemory/perHash))
}

// logValues returns the configuration for the start-up log, secrets masked.
func (c config) logValues() []any {
	secret := c.keyOrigin
	if c.SecretKey != "" {
		secret = "set (masked)"
	}
	return []any{
		"addr", c.Addr, "data_dir", c.DataDir, "database", redact(c.DatabaseURL, "sqlite (data folder)"), "redis", redact(c.RedisURL, "none (throttling in the database)"),
		"secret_key", secret, "secure_cookies", c.SecureCookies, "log_level", c.LogLevel.String(),
		"min_password_length", c.MinPasswordLength, "trusted_proxies", len(c.TrustedProxies),
		"hash_concurrency", c.HashConcurrency, "hash_memory_mib", c.HashMemory, "hash_queue", c.HashQueue,
		"hash_in_process", c.HashInProcess, "base_url", c.BaseURL, "require_verified_email", c.RequireVerifiedEmail,
		"smtp", c.smtpForLog(), "mail_from", c.MailFrom,
		"two_factor_reset_delay", c.TwoFactorResetDelay,
	}
}

// smtpForLog describes where mail goes, the SMTP password masked.
func (c config) smtpForLog() string {
	if c.SMTPURL == "" {
		return "none (mail written to " + filepath.Join(c.DataDir, "outbox") + ")"
	}
	sc, err := mailer.ParseSMTPURL(c.SMTPURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return sc.Redacted()
}

func usage(w io.Writer) {
	fmt.Fprint(w, `latch: sign-up, log-in and sessions for the web, from one binary.

Usage:
  latch [serve] [flags]   start the web app (the default command)
  latch users ...         manage user accounts (latch users --help)
  latch --help            show this help

Settings of latch serve (flag, environment variable, default):
`)
	for _, s := range settings {
		s.describe(w)
	}
}
