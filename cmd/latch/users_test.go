package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/sqlitestore"
	"github.com/latchauth/latch/twofactor"
)

// usersEnv returns a getenv with LATCH_DATA_DIR set to dir.
func usersEnv(dir string) func(string) string {
	return func(k string) string {
		if k == "LATCH_DATA_DIR" {
			return dir
		}
		return ""
	}
}

// latchRun runs the latch command line and returns its exit code, stdout
// and stderr.
func latchRun(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

// usersStdin runs `latch users ARGS` with stdin as standard input. run reads
// the process's own standard input, so commands that read a password are
// driven through users, which run calls with os.Stdin.
func usersStdin(t *testing.T, getenv func(string) string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := users(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// openData opens the data folder's database beside the commands.
func openData(t *testing.T, dir string) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addSession records a login of the user, as the web app would.
func addSession(t *testing.T, db *sqlitestore.DB, userID string) {
	t.Helper()
	now := time.Now()
	err := db.CreateSession(context.Background(), latch.Session{
		ID: rand.Text(), UserID: userID, TokenHash: []byte(rand.Text()),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUsersManage(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	getenv := usersEnv(dir)

	// Listing does not make a database where there is none.
	if code, _, errs := latchRun(t, getenv, "users", "list"); code != 1 || !strings.Contains(errs, "no latch database") {
		t.Errorf("users list without a database = %d, stderr %q; want 1 and a hint about -data-dir", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("users list created the data folder (stat: %v)", err)
	}

	const pw = "a long and unusual passphrase"
	code, out, errs := usersStdin(t, getenv, pw+"\n", "create", "--email", " Ada@Example.com ", "--name", "Ada Lovelace")
	if code != 0 || !strings.Contains(out, "created user 1: ada@example.com") {
		t.Fatalf("users create = %d, stdout %q, stderr %q; want 0 and the new user", code, out, errs)
	}
	code, out, errs = latchRun(t, getenv, "users", "list")
	if code != 0 {
		t.Fatalf("users list = %d, stderr %q", code, errs)
	}
	for _, want := range []string{"ID", "EMAIL", "LAST LOGIN", "ada@example.com", "Ada Lovelace", "never"} {
		if !strings.Contains(out, want) {
			t.Errorf("users list output %q does not contain %q", out, want)
		}
	}

	for _, tt := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{pw + "\n", []string{"create", "-email", "ada@example.com", "-name", "Ada"}, "already has an account"},
		{"password\n", []string{"create", "-email", "bob@example.com", "-name", "Bob"}, "too common"},
		{"short\n", []string{"create", "-email", "bob@example.com", "-name", "Bob"}, "at least 8 characters"},
		{"", []string{"create", "-email", "bob@example.com", "-name", "Bob"}, "no password on standard input"},
		{"only9char\n", []string{"create", "-email", "bob@example.com", "-name", "Bob", "-min-password-length", "12"}, "at least 12 characters"},
		{"password\n", []string{"set-password", "-email", "ada@example.com"}, "too common"},
		{pw + "\n", []string{"set-password", "-email", "nobody@example.com"}, "no user has the email nobody@example.com"},
		{"", []string{"delete", "-email", "nobody@example.com"}, "no user has the email"},
	} {
		if code, _, errs := usersStdin(t, getenv, tt.stdin, tt.args...); code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("users %q = %d, stderr %q; want 1 and %q", tt.args, code, errs, tt.want)
		}
	}

	db := openData(t, dir)
	addSession(t, db, "1")
	addSession(t, db, "1")
	addSession(t, db, "2") // someone else's: stays

	const newPW = "another long passphrase, with commas"
	code, out, errs = usersStdin(t, getenv, newPW+"\r\n", "set-password", "--email", "ADA@example.com")
	if code != 0 || !strings.Contains(out, "ended 2 sessions") {
		t.Fatalf("users set-password = %d, stdout %q, stderr %q; want 0 and 2 sessions ended", code, out, errs)
	}
	u, err := db.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h := password.NewHasher(password.DefaultParams, 1, 0)
	if ok, rehash, err := h.Verify(ctx, u.PasswordHash, newPW); !ok || rehash || err != nil {
		t.Errorf("Verify(new hash, new password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, u.PasswordHash, pw); ok {
		t.Errorf("the old password still matches after set-password")
	}
	if ss, _ := db.UserSessions(ctx, "1"); len(ss) != 0 {
		t.Errorf("after set-password the user has %d sessions; want 0", len(ss))
	}

	addSession(t, db, "1")
	code, out, errs = latchRun(t, getenv, "users", "delete", "-email", "ada@example.com")
	if code != 0 || !strings.Contains(out, "deleted user 1: ada@example.com; ended 1 session") {
		t.Fatalf("users delete = %d, stdout %q, stderr %q; want 0 and 1 session ended", code, out, errs)
	}
	if _, err := db.UserByEmail(ctx, "ada@example.com"); err == nil {
		t.Errorf("user still there after delete")
	}
	if ss, _ := db.UserSessions(ctx, "2"); len(ss) != 1 {
		t.Errorf("another user's sessions: %d after delete; want 1", len(ss))
	}
	if code, out, _ := latchRun(t, getenv, "users", "list"); code != 0 || !strings.Contains(out, "no users yet") {
		t.Errorf("users list after delete = %d, %q; want 0 and no users", code, out)
	}
}

// csvSource writes a CSV export with two good users and a bad hash.
func csvSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../password/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct{ Format, Hash string }
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	var bcrypt string
	for _, v := range file.Vectors {
		if v.Format == "bcrypt" {
			bcrypt = v.Hash
			break
		}
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	content := "email,name,password_hash\n" +
		"ann@example.com,Ann," + bcrypt + "\n" +
		"ben@example.com,Ben," + bcrypt + "\n" +
		"cat@example.com,Cat,md5$x$y\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsersImport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	getenv := usersEnv(dir)
	src := csvSource(t)

	// A dry run without a database writes nothing at all, not even the
	// data folder; flags may follow the source.
	code, out, errs := latchRun(t, getenv, "users", "import", src, "--dry-run", "-v")
	if code != 0 {
		t.Fatalf("users import --dry-run = %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"users.csv: CSV file",
		"would import line 2 ann@example.com (bcrypt)",
		"skipped line 4 cat@example.com: unknown hash format",
		"dry run: would import 2, skip 1 (1 unknown hash format); nothing was written",
		"unknown hash format: latch reads",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("users import --dry-run output %q does not contain %q", out, want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("dry run created the data folder (stat: %v)", err)
	}

	code, out, errs = latchRun(t, getenv, "users", "import", src)
	if code != 0 || !strings.Contains(out, "imported 2, skipped 1 (1 unknown hash format)\n") {
		t.Fatalf("users import = %d, stdout %q, stderr %q; want 0 and 2 imported", code, out, errs)
	}
	code, out, errs = latchRun(t, getenv, "users", "import", src)
	if code != 0 || !strings.Contains(out, "imported 0, skipped 3 (1 unknown hash format, 2 already present)\n") {
		t.Errorf("second users import = %d, stdout %q, stderr %q; want 0 and all already present", code, out, errs)
	}
	code, out, _ = latchRun(t, getenv, "users", "list")
	if code != 0 || !strings.Contains(out, "ann@example.com") || !strings.Contains(out, "ben@example.com") {
		t.Errorf("users list after import = %d, %q; want ann and ben", code, out)
	}

	// A dry run against the database finds the users already there.
	code, out, _ = latchRun(t, getenv, "users", "import", "-dry-run", src)
	if code != 0 || !strings.Contains(out, "would import 0, skip 3 (1 unknown hash format, 2 already present)") {
		t.Errorf("dry run after import = %d, %q; want everything already present", code, out)
	}

	if code, _, errs := latchRun(t, getenv, "users", "import", filepath.Join(t.TempDir(), "missing.db")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("users import of a missing file = %d, stderr %q; want 1", code, errs)
	}
	// A source that cannot be imported is refused before the data folder
	// and the database are created.
	fresh := filepath.Join(t.TempDir(), "data")
	noHeader := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(noHeader, []byte("ann@example.com,Ann,x\n"), 0o600)
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.csv"), noHeader} {
		if code, _, errs := latchRun(t, usersEnv(fresh), "users", "import", bad); code != 1 {
			t.Errorf("users import %s = %d, stderr %q; want 1", bad, code, errs)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("users import %s created the data folder (stat: %v)", filepath.Base(bad), err)
		}
	}
	notes := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notes, []byte("hello\n"), 0o600)
	if code, _, errs := latchRun(t, getenv, "users", "import", notes); code != 1 || !strings.Contains(errs, "cannot tell the format") {
		t.Errorf("users import of a text file = %d, stderr %q; want 1", code, errs)
	}
}

func TestUsersUsageErrors(t *testing.T) {
	getenv := usersEnv(t.TempDir())
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"users"}, "latch users list"},
		{[]string{"users", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"users", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"users", "list", "-bogus"}, "-bogus"},
		{[]string{"users", "list", "-data-dir", " "}, "-data-dir / LATCH_DATA_DIR"},
		{[]string{"users", "create", "-email", "ada@example.com"}, "-name is required"},
		{[]string{"users", "create", "-name", "Ada"}, "-email is required"},
		{[]string{"users", "create", "-email", "ada", "-name", "Ada"}, "-email ada: Please enter a valid email address"},
		{[]string{"users", "create", "-email", "ada@example.com", "-name", "Ada", "-min-password-length", "0"}, "-min-password-length"},
		{[]string{"users", "set-password"}, "-email is required"},
		{[]string{"users", "delete"}, "-email is required"},
		{[]string{"users", "delete", "-email"}, "flag needs an argument"},
		{[]string{"users", "import"}, "name the SOURCE"},
		{[]string{"users", "import", "a.csv", "b.csv"}, `unexpected argument "b.csv"`},
		{[]string{"users", "import", "-format", "xml", "a.csv"}, "-format xml: want flask, django, csv or jsonl"},
	}
	for _, tt := range tests {
		code, _, errs := latchRun(t, getenv, tt.args...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("latch %q = %d, stderr %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestUsersHelp(t *testing.T) {
	getenv := usersEnv(t.TempDir())
	code, out, errs := latchRun(t, getenv, "users", "--help")
	if code != 0 {
		t.Fatalf("latch users --help = %d, stderr %q", code, errs)
	}
	for _, want := range []string{"users list", "users create", "users set-password", "users delete", "users import", "-dry-run", "-format", "$LATCH_DATA_DIR", "$LATCH_DATABASE_URL", "Exit status"} {
		if !strings.Contains(out, want) {
			t.Errorf("latch users --help does not mention %q", want)
		}
	}
	for cmd, want := range map[string]string{"list": "-data-dir", "create": "-min-password-length", "set-password": "-email", "delete": "-email", "import": "-dry-run"} {
		code, out, errs := latchRun(t, getenv, "users", cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage: latch users "+cmd) || !strings.Contains(out, want) {
			t.Errorf("latch users %s --help = %d, stdout %q, stderr %q; want 0 and usage with %s", cmd, code, out, errs, want)
		}
	}
	if code, out, _ := latchRun(t, getenv, "--help"); code != 0 || !strings.Contains(out, "latch users") {
		t.Errorf("latch --help = %d and does not mention latch users", code)
	}
}

func TestReadNewPassword(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"secret\n", "secret"},
		{"secret\r\n", "secret"},
		{"secret", "secret"},
		{" spaces stay \n", " spaces stay "},
		{"first\nsecond\n", "first"},
		{"\n", ""},
	}
	for _, tt := range tests {
		got, err := readNewPassword(usersIO{stdin: strings.NewReader(tt.in)})
		if err != nil || got != tt.want {
			t.Errorf("readNewPassword(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
	if _, err := readNewPassword(usersIO{stdin: strings.NewReader("")}); err == nil {
		t.Errorf("readNewPassword(empty input) succeeded; want an error")
	}
}

func TestUsersSetRole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	getenv := usersEnv(dir)
	const pw = "a long and unusual passphrase"
	if code, _, errs := usersStdin(t, getenv, pw+"\n", "create", "--email", "ada@example.com", "--name", "Ada"); code != 0 {
		t.Fatalf("users create = %d, stderr %q", code, errs)
	}
	code, out, errs := latchRun(t, getenv, "users", "set-role", "--email", "ADA@example.com", "--role", "admin")
	if code != 0 || !strings.Contains(out, "gave the role admin to user 1: ada@example.com") {
		t.Fatalf("users set-role = %d, stdout %q, stderr %q; want 0", code, out, errs)
	}
	db := openData(t, dir)
	u, err := db.UserByEmail(context.Background(), "ada@example.com")
	if err != nil || !u.Roles.Has("admin") {
		t.Errorf("after set-role: roles = %q, %v; want admin", u.Roles, err)
	}
	events, _ := db.AuditEvents(context.Background(), "1", 0, 10)
	if len(events) == 0 || events[0].Kind != latch.AuditRoleGranted || events[0].Reason != "admin" {
		t.Errorf("audit events = %+v; want the role granted first", events)
	}
	if code, _, errs := latchRun(t, getenv, "users", "set-role", "--email", "ada@example.com", "--role", "admin", "--remove"); code != 0 {
		t.Fatalf("users set-role --remove = %d, stderr %q", code, errs)
	}
	if u, _ := db.UserByEmail(context.Background(), "ada@example.com"); u.Roles.Has("admin") {
		t.Errorf("after set-role --remove: roles = %q; want none", u.Roles)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--email", "ada@example.com", "--role", "Admin!"}, 2, "lower-case"},
		{[]string{"--email", "ada@example.com"}, 2, "role"},
		{[]string{"--email", "nobody@example.com", "--role", "admin"}, 1, "no user has the email"},
	} {
		code, _, errs := latchRun(t, getenv, append([]string{"users", "set-role"}, tt.args...)...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("users set-role %q = %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
}

// TestUsersOutputEscaped checks that values from a source file, the
// database or the command line reach the terminal escaped: no escape
// sequence, C1 control or bidi override from them is printed as it is.
func TestUsersOutputEscaped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	getenv := usersEnv(dir)
	b, err := os.ReadFile(csvSource(t))
	if err != nil {
		t.Fatal(err)
	}
	bcrypt := strings.Split(strings.Split(string(b), "\n")[1], ",")[2]
	src := filepath.Join(t.TempDir(), "users.csv")
	content := "email,name,password_hash\n" +
		"\"\u202egnp.exe\"@example.com,Rev," + bcrypt + "\n" +
		"\u009b31m@example.com,Csi," + bcrypt + "\n" +
		"\"\x1b[2J\"@example.com,Esc," + bcrypt + "\n" +
		"ok@example.com,\"Name\x1b[31m\"," + bcrypt + "\n"
	if err := os.WriteFile(src, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(what, out string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\u009b", "\u202e"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s printed %q as it is: %q", what, bad, out)
			}
		}
	}
	code, out, errs := latchRun(t, getenv, "users", "import", "-v", src)
	if code != 0 {
		t.Fatalf("users import -v = %d, stderr %q", code, errs)
	}
	check("users import -v", out+errs)
	_, out, errs = latchRun(t, getenv, "users", "list")
	check("users list", out+errs)
	missing := filepath.Join(t.TempDir(), "x\x1b[31m\u202e.csv")
	code, out, errs = latchRun(t, getenv, "users", "import", missing)
	if code != 1 || !strings.Contains(errs, `\x1b[31m\u202e.csv`) {
		t.Errorf("users import of a missing file = %d, stderr %q; want 1 and the name escaped", code, errs)
	}
	check("users import of a missing file", out+errs)
}

// TestUsersPasswordRules checks that create and set-password refuse the
// account's own email, its part before the @, its name and one character
// repeated, as the sign-up page does.
func TestUsersPasswordRules(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	getenv := usersEnv(dir)
	if code, _, errs := usersStdin(t, getenv, "correct horse battery\n", "create", "-email", "grace.hopper@example.com", "-name", "Grace Hopper"); code != 0 {
		t.Fatalf("users create = %d, stderr %q", code, errs)
	}
	for _, tt := range []struct {
		args []string
		pw   string
		want string
	}{
		{[]string{"create", "-email", "ada.lovelace@example.com", "-name", "Ada"}, "Ada.Lovelace", "email address"},
		{[]string{"create", "-email", "ada@example.com", "-name", "Ada Lovelace"}, "ada lovelace", "your name"},
		{[]string{"set-password", "-email", "grace.hopper@example.com"}, "GRACE.HOPPER@example.com", "email address"},
		{[]string{"set-password", "-email", "grace.hopper@example.com"}, "Grace Hopper", "your name"},
		{[]string{"set-password", "-email", "grace.hopper@example.com"}, "kkkkkkkkkkkk", "one character repeated"},
	} {
		code, _, errs := usersStdin(t, getenv, tt.pw+"\n", tt.args...)
		if code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("users %q with password %q = %d, stderr %q; want 1 and %q", tt.args, tt.pw, code, errs, tt.want)
		}
	}
}

func TestUsersResetTwoFactor(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	getenv := usersEnv(dir)
	if code, out, errs := usersStdin(t, getenv, "a long and unusual passphrase\n", "create", "-email", "ada@example.com", "-name", "Ada"); code != 0 {
		t.Fatalf("users create = %d, %q, %q", code, out, errs)
	}
	db := openData(t, dir)
	now := time.Now()
	if err := db.PutTOTP(ctx, twofactor.TOTP{UserID: 1, Sealed: []byte("sealed secret"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRecoveryCodes(ctx, 1, [][]byte{[]byte("h1"), []byte("h2")}, now); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := latchRun(t, getenv, "users", "reset-2fa", "-email", "nobody@example.com"); code != 1 || !strings.Contains(errs, "no user has the email") {
		t.Errorf("users reset-2fa of an unknown email = %d, stderr %q; want 1", code, errs)
	}
	if code, _, errs := latchRun(t, getenv, "users", "reset-2fa"); code != 2 || !strings.Contains(errs, "email") {
		t.Errorf("users reset-2fa without -email = %d, stderr %q; want 2", code, errs)
	}
	code, out, errs := latchRun(t, getenv, "users", "reset-2fa", "-email", "Ada@Example.com")
	if code != 0 || !strings.Contains(out, "removed two-step sign-in of user 1") {
		t.Fatalf("users reset-2fa = %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := db.TOTP(ctx, 1); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("TOTP after reset-2fa: %v; want ErrNotFound", err)
	}
	if n, _ := db.RecoveryCodesLeft(ctx, 1); n != 0 {
		t.Errorf("recovery codes after reset-2fa = %d; want 0", n)
	}
	if events, _ := db.AuditEvents(ctx, "1", 0, 10); len(events) == 0 || events[0].Kind != latch.AuditFactorRemoved || events[0].ActorID == "" {
		t.Errorf("audit events after reset-2fa = %+v; want the factors' removal first, by the command line", events)
	}

	// Deleting the user removes its factors too.
	if err := db.PutTOTP(ctx, twofactor.TOTP{UserID: 1, Sealed: []byte("sealed secret"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := latchRun(t, getenv, "users", "delete", "-email", "ada@example.com"); code != 0 {
		t.Fatalf("users delete = %d, stderr %q", code, errs)
	}
	if _, err := db.TOTP(ctx, 1); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("TOTP after users delete: %v; want ErrNotFound", err)
	}
}
