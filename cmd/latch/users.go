package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/app"
	"github.com/latchauth/latch/internal/userimport"
	"github.com/latchauth/latch/password"
	"golang.org/x/term"
)

// usersIO is what a users command reads and writes. Tests pass buffers.
type usersIO struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// users runs `latch users COMMAND`. Like run, it returns the exit code: 0
// for success, 1 when the work could not be done, 2 for a usage error.
func users(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	uio := usersIO{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usersUsage(stderr)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		usersUsage(stdout)
		return 0
	case "list":
		return usersList(ctx, uio, args)
	case "create":
		return usersCreate(ctx, uio, args)
	case "delete":
		return usersDelete(ctx, uio, args)
	case "set-password":
		return usersSetPassword(ctx, uio, args)
	case "set-role":
		return usersSetRole(ctx, uio, args)
	case "import":
		return usersImport(ctx, uio, args)
	case "reset-2fa":
		return usersResetTwoFactor(ctx, uio, args)
	}
	fmt.Fprintf(stderr, "latch users: unknown command %q; see latch users --help\n", cmd)
	return 2
}

func usersUsage(w io.Writer) {
	io.WriteString(w, `latch users: manage user accounts from the command line.

Usage:
  latch users list                       list every account: id, email, name, created, last login
  latch users create -email E -name N    create an account; asks for its password
  latch users set-password -email E      change an account's password; ends its sessions
  latch users delete -email E            delete an account and end its sessions
  latch users set-role -email E -role R [-remove]
                                         give an account a role, such as admin (the
                                         administration console at /admin/users), or
                                         with -remove take it away
  latch users reset-2fa -email E         remove an account's two-step sign-in (authenticator,
                                         recovery codes, remembered browsers), for a user
                                         who lost them; the password alone then logs in
  latch users import [-dry-run] [-format F] [-v] SOURCE
                                         import accounts, with their password hashes, from
                                         another application
  latch users COMMAND --help             the flags of one command

Passwords: when standard input is a terminal, create and set-password ask
for the password twice without showing it. Otherwise they read it from the
first line of standard input, so that scripts can pipe it:

  printf '%s\n' "$PASSWORD" | latch users create -email ada@example.com -name Ada

The same rules as the sign-up page apply: at least -min-password-length
characters ($LATCH_MIN_PASSWORD_LENGTH, default 8), not one character
repeated, not the account's email, its part before the @ or its name, not a
common password.

Import: SOURCE is one of
  - the SQLite database of the Flask-Login tutorial (table user: id, email,
    password, name), with its werkzeug hashes;
  - a Django SQLite database (table auth_user), with its pbkdf2_sha256,
    argon2 or bcrypt_sha256 hashes; inactive users and users without a
    usable password are skipped;
  - a CSV file with a header row naming the columns email, name and
    password_hash, or a JSON Lines file with those keys, holding argon2id,
    bcrypt, werkzeug or Django hashes.
The format is detected from the file's content (SQLite header and tables)
and extension (.csv, .jsonl, .ndjson); -format flask|django|csv|jsonl
overrides it. SQLite sources are opened read-only. Every user is created
whole or not at all; users latch already has are skipped and left as they
are, so an import can be run again. A missing name becomes the part of the
email before the @. Users log in with their old passwords; latch replaces
each old hash with argon2id at the first login. -dry-run checks and
reports without writing. The report lists every skipped record with its
line or id and the reason, then a summary.

Exit status: 0 on success (also when an import skipped records), 1 when
the work could not be done, 2 for a usage error.

Every command reads the database latch serve uses:
`)
	for _, s := range settings {
		if s.flag == "data-dir" || s.flag == "database-url" {
			s.describe(w)
		}
	}
}

// usersFlags is the flag set of one users command, with the shared settings
// it needs taken from the settings table, environment fallbacks included.
type usersFlags struct {
	*flag.FlagSet
	name, synopsis string
	uio            usersIO
	vals           map[string]*string
}

func newUsersFlags(uio usersIO, name, synopsis string, shared ...string) *usersFlags {
	f := &usersFlags{
		FlagSet:  flag.NewFlagSet("latch users "+name, flag.ContinueOnError),
		name:     name,
		synopsis: synopsis,
		uio:      uio,
		vals:     make(map[string]*string),
	}
	// The flag package would print errors and usage on one writer; parse
	// prints help on stdout and errors on stderr instead.
	f.SetOutput(io.Discard)
	f.Usage = func() {}
	shared = append([]string{"data-dir", "database-url"}, shared...)
	for _, s := range settings {
		if slices.Contains(shared, s.flag) {
			f.vals[s.flag] = s.define(f.FlagSet, uio.getenv)
		}
	}
	return f
}

// errUsage marks errors that are the caller's mistake: exit status 2.
var errUsage = errors.New("usage")

// parse parses args, taking flags before and after the arguments, and
// returns the arguments. It returns flag.ErrHelp after printing the help,
// and errors wrapping errUsage for bad flags.
func (f *usersFlags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(f.uio.stdout, "Usage: latch users %s\n\nFlags:\n", f.synopsis)
			f.SetOutput(f.uio.stdout)
			f.PrintDefaults()
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := f.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// fail reports err for the command and returns its exit status.
func (f *usersFlags) fail(err error) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(f.uio.stderr, "latch users %s: %s; see latch users %s --help\n", f.name, escapeText(msg), f.name)
		return 2
	}
	fmt.Fprintf(f.uio.stderr, "latch users %s: %s\n", f.name, escapeText(err.Error()))
	return 1
}

// escapeText returns s, a line of prose that may quote values from a
// database, a source file or the command line, with every character that
// is not printable written as a Go escape (\x1b, \u202e), so that no value
// can move the cursor, recolour the terminal, reverse the text around it or
// hide in a message.
func escapeText(s string) string {
	odd := func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }
	if utf8.ValidString(s) && !strings.ContainsFunc(s, odd) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case odd(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// usageErr returns a usage error with a message.
func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// config returns the shared settings as parsed, checked as latch serve
// checks them.
func (f *usersFlags) config() (config, error) {
	cfg := config{
		DataDir:           strings.TrimSpace(*f.vals["data-dir"]),
		DatabaseURL:       strings.TrimSpace(*f.vals["database-url"]),
		MinPasswordLength: 8,
	}
	if cfg.DataDir == "" {
		return cfg, usageErr("-data-dir / LATCH_DATA_DIR: want a folder path")
	}
	if err := checkDatabaseURL(cfg.DatabaseURL); err != nil {
		return cfg, usageErr("-database-url / LATCH_DATABASE_URL: %v", err)
	}
	if v, ok := f.vals["min-password-length"]; ok {
		n, err := parseMinPasswordLength(strings.TrimSpace(*v))
		if err != nil {
			return cfg, usageErr("-min-password-length / LATCH_MIN_PASSWORD_LENGTH: %v", err)
		}
		cfg.MinPasswordLength = n
	}
	return cfg, nil
}

// storeExists reports whether the configured database exists. Only a
// SQLite file can be missing; any other database counts as existing.
func storeExists(cfg config) (bool, error) {
	path := sqlitePath(cfg)
	if path == "" {
		return true, nil
	}
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// openUsersStore opens the configured database. Commands that add users
// create it, and the data folder, as latch serve would; the others refuse
// to, since an empty new database would only hide a wrong -data-dir.
func openUsersStore(ctx context.Context, cfg config, create bool) (storeCloser, error) {
	if create {
		if cfg.DatabaseURL == "" {
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("create data folder: %w", err)
			}
		}
	} else if ok, err := storeExists(cfg); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	} else if !ok {
		return nil, fmt.Errorf("no latch database at %s: point -data-dir (LATCH_DATA_DIR) or -database-url (LATCH_DATABASE_URL) at the one latch serve uses", sqlitePath(cfg))
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// newHasher returns the hasher for passwords set from the command line:
// the web app's parameters, one hash at a time.
func newHasher() *password.Hasher {
	return password.NewHasher(password.DefaultParams, 1, 0)
}

func usersList(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "list", "list [flags]")
	cfg, err := f.parseConfig(args)
	if err != nil {
		return f.fail(err)
	}
	store, err := openUsersStore(ctx, cfg, false)
	if err != nil {
		return f.fail(err)
	}
	defer store.Close()

	tw := tabwriter.NewWriter(uio.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tCREATED\tLAST LOGIN")
	var after int64
	n := 0
	for {
		page, err := store.ListUsers(ctx, after, 500)
		if err != nil {
			return f.fail(fmt.Errorf("list users: %w", err))
		}
		for _, u := range page {
			last := "never"
			if !u.LastLoginAt.IsZero() {
				last = listTime(u.LastLoginAt)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, clean(u.Email), clean(u.Name), listTime(u.CreatedAt), last)
			after = u.ID
			n++
		}
		if len(page) < 500 {
			break
		}
	}
	if n == 0 {
		fmt.Fprintln(uio.stdout, "no users yet: add one with latch users create, or import them with latch users import")
		return 0
	}
	if err := tw.Flush(); err != nil {
		return f.fail(err)
	}
	return 0
}

func listTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// clean returns s for a table cell: as it is when it is printable text,
// quoted otherwise, so that no stored value can garble the terminal.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) {
		return s
	}
	return strconv.Quote(s)
}

// emailFlag returns the normalised -email, or a usage error.
func emailFlag(email string) (string, error) {
	if strings.TrimSpace(email) == "" {
		return "", usageErr("-email is required")
	}
	e, err := account.NormalizeEmail(email)
	if err != nil {
		return "", usageErr("-email %s: %s", clean(email), strings.TrimSuffix(app.ValidationMessage(err), "."))
	}
	return e, nil
}

func usersCreate(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "create", "create -email E -name N [flags]", "min-password-length")
	email := f.String("email", "", "email address of the new account (required)")
	name := f.String("name", "", "display name of the new account (required)")
	cfg, err := f.parseConfig(args)
	if err != nil {
		return f.fail(err)
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return f.fail(err)
	}
	if strings.TrimSpace(*name) == "" {
		return f.fail(usageErr("-name is required"))
	}
	if _, err := account.NormalizeName(*name); err != nil {
		return f.fail(usageErr("-name: %s", strings.TrimSuffix(app.ValidationMessage(err), ".")))
	}
	store, err := openUsersStore(ctx, cfg, true)
	if err != nil {
		return f.fail(err)
	}
	defer store.Close()
	// Checked before asking for the password, to save typing it twice
	// in vain; SignUp checks again.
	if _, err := store.UserByEmail(ctx, addr); err == nil {
		return f.fail(fmt.Errorf("%s already has an account; change its password with latch users set-password", clean(addr)))
	} else if !errors.Is(err, account.ErrUserNotFound) {
		return f.fail(fmt.Errorf("look up email: %w", err))
	}
	pw, err := readNewPassword(uio)
	if err != nil {
		return f.fail(err)
	}
	svc := account.NewService(store, newHasher(), nil)
	svc.MinPasswordLength = cfg.MinPasswordLength
	u, err := svc.SignUp(ctx, addr, *name, pw)
	var fe account.FieldErrors
	switch {
	case errors.As(err, &fe):
		for _, e := range fe {
			fmt.Fprintf(uio.stderr, "latch users create: %s: %s\n", e.Field, escapeText(app.ValidationMessage(e)))
		}
		return 1
	case errors.Is(err, account.ErrEmailTaken):
		return f.fail(fmt.Errorf("%s already has an account; change its password with latch users set-password", clean(addr)))
	case err != nil:
		return f.fail(err)
	}
	fmt.Fprintf(uio.stdout, "created user %d: %s %s\n", u.ID, clean(u.Email), strconv.Quote(u.Name))
	return 0
}

// findUser returns the user with the -email, or an error saying how to find
// the right one.
func findUser(ctx context.Context, store storeCloser, email string) (account.User, error) {
	u, err := store.UserByEmail(ctx, email)
	if errors.Is(err, account.ErrUserNotFound) {
		return u, fmt.Errorf("no user has the email %s; latch users list shows them all", clean(email))
	} else if err != nil {
		return u, fmt.Errorf("look up email: %w", err)
	}
	return u, nil
}

func sessions(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}

// parseConfig parses args, which must hold flags only, and returns the
// settings they give.
func (f *usersFlags) parseConfig(args []string) (config, error) {
	if pos, err := f.parse(args); err != nil {
		return config{}, err
	} else if len(pos) > 0 {
		return config{}, usageErr("unexpected argument %q", pos[0])
	}
	return f.config()
}

// existingUser parses args, which hold no positional argument, opens the
// configured database, which must exist, and finds the user with email.
// The email flag is read after parsing, hence the pointer.
func (f *usersFlags) existingUser(ctx context.Context, args []string, email *string) (config, storeCloser, account.User, error) {
	fail := func(err error) (config, storeCloser, account.User, error) { return config{}, nil, account.User{}, err }
	cfg, err := f.parseConfig(args)
	if err != nil {
		return fail(err)
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return fail(err)
	}
	store, err := openUsersStore(ctx, cfg, false)
	if err != nil {
		return fail(err)
	}
	u, err := findUser(ctx, store, addr)
	if err != nil {
		store.Close()
		return fail(err)
	}
	return cfg, store, u, nil
}

func usersDelete(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "delete", "delete -email E [flags]")
	email := f.String("email", "", "email address of the account to delete (required)")
	_, store, u, err := f.existingUser(ctx, args, email)
	if err != nil {
		return f.fail(err)
	}
	defer store.Close()
	// The user goes first: once it is gone, a session that outlives it
	// is ended at its next request anyway, because the app cannot load
	// its user. Deleting the sessions then removes the records.
	if err := store.DeleteUser(ctx, u.ID); err != nil {
		return f.fail(fmt.Errorf("delete user: %w", err))
	}
	n, err := store.DeleteUserSessions(ctx, strconv.FormatInt(u.ID, 10), "")
	if err != nil {
		return f.fail(fmt.Errorf("deleted user %d (%s), but not its sessions: %w; they can no longer be used, and latch removes them when they expire", u.ID, clean(u.Email), err))
	}
	// Its second factors go too: nothing of a deleted user is kept.
	if err := store.DeleteFactors(ctx, u.ID); err != nil {
		return f.fail(fmt.Errorf("deleted user %d (%s), but not its second factors: %w; they can no longer be used", u.ID, clean(u.Email), err))
	}
	fmt.Fprintf(uio.stdout, "deleted user %d: %s; ended %s\n", u.ID, clean(u.Email), sessions(n))
	return 0
}

func usersResetTwoFactor(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "reset-2fa", "reset-2fa -email E [flags]")
	email := f.String("email", "", "email address of the account (required)")
	_, store, u, err := f.existingUser(ctx, args, email)
	if err != nil {
		return f.fail(err)
	}
	defer store.Close()
	if err := store.DeleteFactors(ctx, u.ID); err != nil {
		return f.fail(fmt.Errorf("remove two-step sign-in: %w", err))
	}
	// The user's activity tells of the removal, as of one they made on
	// the two-step page ("two_step": every factor), by the command line.
	audit := &latch.AuditLog{Store: store}
	audit.Record(ctx, latch.AuditEvent{UserID: strconv.FormatInt(u.ID, 10), Kind: latch.AuditFactorRemoved, Reason: "two_step", ActorID: "command line"})
	fmt.Fprintf(uio.stdout, "removed two-step sign-in of user %d: %s; the password alone now logs in\n", u.ID, clean(u.Email))
	return 0
}

func usersSetPassword(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "set-password", "set-password -email E [flags]", "min-password-length")
	email := f.String("email", "", "email address of the account (required)")
	cfg, store, u, err := f.existingUser(ctx, args, email)
	if err != nil {
		return f.fail(err)
	}
	defer store.Close()
	pw, err := readNewPassword(uio)
	if err != nil {
		return f.fail(err)
	}
	hasher := newHasher()
	svc := account.NewService(store, hasher, nil)
	svc.MinPasswordLength = cfg.MinPasswordLength
	if err := svc.CheckNewPassword(pw, u.Email, u.Name); err != nil {
		return f.fail(fmt.Errorf("password: %s", app.ValidationMessage(err)))
	}
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return f.fail(fmt.Errorf("hash password: %w", err))
	}
	if err := store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return f.fail(fmt.Errorf("set password: %w", err))
	}
	// Whoever knew the old password may be logged in: a new password
	// ends every session, remembered ones included.
	n, err := store.DeleteUserSessions(ctx, strconv.FormatInt(u.ID, 10), "")
	if err != nil {
		return f.fail(fmt.Errorf("changed the password of %s, but could not end its sessions: %w; run the command again to retry", clean(u.Email), err))
	}
	fmt.Fprintf(uio.stdout, "changed the password of user %d: %s; ended %s\n", u.ID, clean(u.Email), sessions(n))
	return 0
}

func usersSetRole(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "set-role", "set-role -email E -role R [-remove] [flags]")
	email := f.String("email", "", "email address of the account (required)")
	role := f.String("role", "", "the role, such as admin (required)")
	remove := f.Bool("remove", false, "take the role away instead of giving it")
	_, store, u, err := f.existingUser(ctx, args, email)
	if err != nil {
		return f.fail(err)
	}
	defer store.Close()
	if err := account.CheckRole(*role); err != nil {
		return f.fail(usageErr("-role %q: a role is 1 to 32 lower-case letters, digits, '-' or '_', such as %s", *role, account.RoleAdmin))
	}
	if err := store.SetRole(ctx, u.ID, *role, !*remove); err != nil {
		return f.fail(fmt.Errorf("set role: %w", err))
	}
	kind, verb := latch.AuditRoleGranted, "gave"
	if *remove {
		kind, verb = latch.AuditRoleRevoked, "took away"
	}
	// The change is part of the user's security history, made by whoever
	// runs the command line.
	audit := &latch.AuditLog{Store: store}
	audit.Record(ctx, latch.AuditEvent{UserID: strconv.FormatInt(u.ID, 10), Kind: kind, Reason: *role, ActorID: "command line"})
	fmt.Fprintf(uio.stdout, "%s the role %s %s user %d: %s\n", verb, *role, map[bool]string{true: "from", false: "to"}[*remove], u.ID, u.Email)
	return 0
}

// readNewPassword reads a new password: from the terminal, asked for twice
// without echo, when standard input is one; otherwise the first line of
// standard input, without its line ending.
func readNewPassword(uio usersIO) (string, error) {
	if f, ok := uio.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) ([]byte, error) {
			fmt.Fprint(uio.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(uio.stderr)
			if err != nil {
				return nil, fmt.Errorf("read password: %w", err)
			}
			return b, nil
		}
		first, err := ask("New password: ")
		if err != nil {
			return "", err
		}
		again, err := ask("Repeat the password: ")
		if err != nil {
			return "", err
		}
		if !bytes.Equal(first, again) {
			return "", errors.New("the two passwords differ; nothing was changed: run the command again")
		}
		return string(first), nil
	}
	// A longer line is a password over the limit, which CheckPassword
	// refuses; there is no need to read further.
	r := bufio.NewReader(io.LimitReader(uio.stdin, password.MaxLength+3))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New(`no password on standard input: type it at a terminal, or pipe it as one line (printf '%s\n' "$PASSWORD" | latch users COMMAND)`)
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	return line, nil
}

func usersImport(ctx context.Context, uio usersIO, args []string) int {
	f := newUsersFlags(uio, "import", "import [-dry-run] [-format F] [-v] [flags] SOURCE")
	dryRun := f.Bool("dry-run", false, "check and report what would be imported, writing nothing")
	format := f.String("format", "", "format of SOURCE: flask, django, csv or jsonl; empty: detect it")
	verbose := f.Bool("v", false, "also list every user imported")
	pos, err := f.parse(args)
	if err != nil {
		return f.fail(err)
	}
	switch {
	case len(pos) == 0:
		return f.fail(usageErr("name the SOURCE to import: a Flask or Django SQLite database, a CSV or a JSON Lines file"))
	case len(pos) > 1:
		return f.fail(usageErr("unexpected argument %q: import one SOURCE at a time", pos[1]))
	}
	source := pos[0]
	fmtName := userimport.Format(strings.ToLower(strings.TrimSpace(*format)))
	if fmtName != "" && !slices.Contains(userimport.Formats, fmtName) {
		return f.fail(usageErr("-format %s: want flask, django, csv or jsonl, or leave it out to detect the format", clean(*format)))
	}
	cfg, err := f.config()
	if err != nil {
		return f.fail(err)
	}
	// The source first: a wrong path must not leave a new, empty database
	// behind.
	src, err := userimport.Open(ctx, source, fmtName)
	if err != nil {
		return f.fail(err)
	}
	defer src.Close()

	var store userimport.Store
	exists, err := storeExists(cfg)
	if err != nil {
		return f.fail(fmt.Errorf("open database: %w", err))
	}
	if *dryRun && !exists {
		// Nothing is written in a dry run, not even a new database.
		store = noUsers{}
	} else {
		s, err := openUsersStore(ctx, cfg, true)
		if err != nil {
			return f.fail(err)
		}
		defer s.Close()
		store = s
	}

	res, err := src.Import(ctx, store, *dryRun)
	if res == nil {
		return f.fail(err)
	}
	printImport(uio.stdout, source, res, *verbose)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		if !*dryRun {
			err = fmt.Errorf("%w; the users listed as imported are in latch: run the same command again to carry on", err)
		}
		return f.fail(err)
	}
	return 0
}

// printImport writes the report of an import: each skipped record with its
// reason, notes, the summary and what to do about each kind of skip.
func printImport(w io.Writer, source string, res *userimport.Result, verbose bool) {
	fmt.Fprintf(w, "%s: %s\n", clean(source), res.Format.Describe())
	if verbose {
		for _, im := range res.Imported {
			if res.DryRun {
				fmt.Fprintf(w, "would import %s %s (%s)\n", clean(im.Ref), clean(im.Email), im.HashFormat)
			} else {
				fmt.Fprintf(w, "imported %s %s as user %d (%s)\n", clean(im.Ref), clean(im.Email), im.ID, im.HashFormat)
			}
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "skipped %s\n", escapeText(s.String()))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", escapeText(n.String()))
	}
	if res.DryRun {
		fmt.Fprintf(w, "dry run: %s; nothing was written\n", res.Summary())
	} else {
		fmt.Fprintln(w, res.Summary())
	}
	for _, r := range res.Reasons() {
		fmt.Fprintf(w, "  %s: %s\n", r, r.Hint())
	}
}

// noUsers is the store a dry run checks against when latch has no database
// yet: it has no users.
type noUsers struct{}

func (noUsers) UserByEmail(context.Context, string) (account.User, error) {
	return account.User{}, account.ErrUserNotFound
}

func (noUsers) CreateUser(context.Context, account.User) (account.User, error) {
	return account.User{}, errors.New("noUsers: a dry run creates no users")
}
