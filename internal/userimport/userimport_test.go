package userimport_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/internal/userimport"
	"github.com/latchauth/latch/sqlitestore"
	_ "modernc.org/sqlite" // the "sqlite" driver, to build source databases
)

// vector is a hash made by the library that writes it, with its password.
type vector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Note     string `json:"note"`
}

// vectorFor returns the first vector of format whose hash starts with
// prefix and whose password is not empty.
func vectorFor(t *testing.T, format, prefix string) vector {
	t.Helper()
	b, err := os.ReadFile("../../password/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	for _, v := range file.Vectors {
		if v.Format == format && strings.HasPrefix(v.Hash, prefix) && v.Password != "" {
			return v
		}
	}
	t.Fatalf("no %s vector with prefix %q in vectors.json", format, prefix)
	return vector{}
}

func newStore(t *testing.T) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// flaskSchema is the table Flask-SQLAlchemy's db.create_all() makes for the
// tutorial's model:
//
//	class User(UserMixin, db.Model):
//	    id = db.Column(db.Integer, primary_key=True)
//	    email = db.Column(db.String(100), unique=True)
//	    password = db.Column(db.String(100))
//	    name = db.Column(db.String(1000))
const flaskSchema = `CREATE TABLE user (
	id INTEGER NOT NULL, 
	email VARCHAR(100), 
	password VARCHAR(100), 
	name VARCHAR(1000), 
	PRIMARY KEY (id), 
	UNIQUE (email)
)`

// djangoSchema is auth_user as Django 3.2's migrations leave it in SQLite.
const djangoSchema = `CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)`

// sqliteFile creates a SQLite database named name in a temporary folder,
// runs the statements in it and returns its path.
func sqliteFile(t *testing.T, name string, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

// insert returns an INSERT statement with the values quoted as SQL strings,
// except those that are SQL already (NULL, numbers).
func insert(table string, values ...string) string {
	q := make([]string, len(values))
	for i, v := range values {
		if v == "NULL" || v != "" && strings.Trim(v, "-0123456789") == "" {
			q[i] = v
		} else {
			q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
	}
	return "INSERT INTO " + table + " VALUES (" + strings.Join(q, ", ") + ")"
}

// flaskUsers are the rows of the Flask source used by several tests.
type flaskUsers struct {
	path                 string
	sha256, pbkdf2, scry vector
}

func flaskSource(t *testing.T) flaskUsers {
	t.Helper()
	f := flaskUsers{
		sha256: vectorFor(t, "werkzeug-sha256", "sha256$"),
		pbkdf2: vectorFor(t, "werkzeug-pbkdf2", "pbkdf2:sha256:1000$"),
		scry:   vectorFor(t, "werkzeug-scrypt", "scrypt:1024:"),
	}
	f.path = sqliteFile(t, "db.sqlite", flaskSchema,
		insert("user", "1", "ada@example.com", f.sha256.Hash, "Ada Lovelace"),
		insert("user", "2", " Bob@Example.COM ", f.pbkdf2.Hash, "  Bob  "),
		insert("user", "3", "carol@example.com", f.scry.Hash, "Carol"),
		insert("user", "4", "not-an-email", f.sha256.Hash, "Nobody"),
		insert("user", "5", "dave@example.com", "md5$x$y", "Dave"),
		insert("user", "6", "ADA@example.com", f.pbkdf2.Hash, "Ada Again"),
		insert("user", "7", "erin@example.com", f.sha256.Hash, ""),
		insert("user", "8", "NULL", f.sha256.Hash, "No Email"),
		insert("user", "9", "frank@example.com", f.sha256.Hash, "Frank\x07"),
	)
	return f
}

// skips returns the skipped records as "ref email: reason" lines.
func skips(r *userimport.Result) []string {
	var out []string
	for _, s := range r.Skipped {
		out = append(out, s.Ref+" "+s.Email+": "+string(s.Reason))
	}
	return out
}

func refs(r *userimport.Result) []string {
	var out []string
	for _, im := range r.Imported {
		out = append(out, im.Ref+" "+im.Email+" "+im.HashFormat)
	}
	return out
}

func fileDigest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestImportFlask(t *testing.T) {
	ctx := context.Background()
	src := flaskSource(t)
	digest, files := fileDigest(t, src.path), dirNames(t, filepath.Dir(src.path))
	store := newStore(t)

	res, err := userimport.Import(ctx, store, src.path, userimport.Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Format != userimport.Flask {
		t.Errorf("Format = %q; want %q", res.Format, userimport.Flask)
	}
	wantImported := []string{
		"id 1 ada@example.com werkzeug-sha256",
		"id 2 bob@example.com werkzeug-pbkdf2",
		"id 3 carol@example.com werkzeug-scrypt",
		"id 7 erin@example.com werkzeug-sha256",
	}
	if got := refs(res); !slices.Equal(got, wantImported) {
		t.Errorf("imported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantImported, "\n"))
	}
	wantSkipped := []string{
		"id 4 not-an-email: invalid email",
		"id 5 dave@example.com: unknown hash format",
		"id 6 ada@example.com: duplicate in the source",
		"id 8 : invalid email",
		"id 9 frank@example.com: invalid name",
	}
	if got := skips(res); !slices.Equal(got, wantSkipped) {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantSkipped, "\n"))
	}
	const wantSummary = "imported 4, skipped 5 (2 invalid email, 1 duplicate in the source, 1 unknown hash format, 1 invalid name)"
	if got := res.Summary(); got != wantSummary {
		t.Errorf("Summary() = %q; want %q", got, wantSummary)
	}
	for _, s := range res.Skipped {
		switch s.Ref {
		case "id 5":
			if !strings.Contains(s.Detail, "unrecognised prefix") {
				t.Errorf("unknown hash detail = %q; want it to say why", s.Detail)
			}
		case "id 6":
			if s.Detail != "same address as id 1" {
				t.Errorf("duplicate detail = %q; want %q", s.Detail, "same address as id 1")
			}
		}
		if !strings.HasPrefix(s.String(), s.Ref+" ") {
			t.Errorf("Skipped.String() = %q; want it to start with the ref", s.String())
		}
	}
	if got, want := res.Notes, []userimport.Note{{Ref: "id 7", Email: "erin@example.com", Text: `no name in the source; named "erin" after the email`}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Notes = %+v; want %+v", got, want)
	}

	for _, want := range []account.User{
		{Email: "ada@example.com", Name: "Ada Lovelace", PasswordHash: src.sha256.Hash},
		{Email: "bob@example.com", Name: "Bob", PasswordHash: src.pbkdf2.Hash},
		{Email: "carol@example.com", Name: "Carol", PasswordHash: src.scry.Hash},
		{Email: "erin@example.com", Name: "erin", PasswordHash: src.sha256.Hash},
	} {
		u, err := store.UserByEmail(ctx, want.Email)
		if err != nil {
			t.Errorf("UserByEmail(%q): %v", want.Email, err)
			continue
		}
		if u.Name != want.Name || u.PasswordHash != want.PasswordHash {
			t.Errorf("user %s = name %q, hash %q; want %q, %q", want.Email, u.Name, u.PasswordHash, want.Name, want.PasswordHash)
		}
	}

	// A second run finds every user it imported, and skips the rest for
	// the same reasons as before.
	again, err := userimport.Import(ctx, store, src.path, userimport.Options{})
	if err != nil {
		t.Fatalf("second Import: %v", err)
	}
	const wantAgain = "imported 0, skipped 9 (2 invalid email, 1 duplicate in the source, 1 unknown hash format, 1 invalid name, 4 already present)"
	if got := again.Summary(); got != wantAgain {
		t.Errorf("second Summary() = %q; want %q", got, wantAgain)
	}
	users, err := store.ListUsers(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 4 {
		t.Errorf("after two imports the store has %d users; want 4", len(users))
	}

	if fileDigest(t, src.path) != digest {
		t.Errorf("the source database changed")
	}
	if got := dirNames(t, filepath.Dir(src.path)); !slices.Equal(got, files) {
		t.Errorf("source folder holds %q after import; want %q", got, files)
	}
}

func TestImportDryRun(t *testing.T) {
	ctx := context.Background()
	src := flaskSource(t)
	store := newStore(t)
	// One user is in latch already, with another name and hash.
	if _, err := store.CreateUser(ctx, account.User{Email: "carol@example.com", Name: "Carol Latch", PasswordHash: "$2y$04$Yn1SQwvgA2Ws/zN3vj/nQ./yL2PEfnN6l5X28m/IRJUvFyaPPRX6G"}); err != nil {
		t.Fatal(err)
	}

	dry, err := userimport.Import(ctx, store, src.path, userimport.Options{DryRun: true})
	if err != nil {
		t.Fatalf("Import(DryRun): %v", err)
	}
	const want = "would import 3, skip 6 (2 invalid email, 1 duplicate in the source, 1 unknown hash format, 1 invalid name, 1 already present)"
	if got := dry.Summary(); got != want {
		t.Errorf("dry run Summary() = %q; want %q", got, want)
	}
	for _, im := range dry.Imported {
		if im.ID != 0 {
			t.Errorf("dry run imported %s with ID %d; want 0", im.Email, im.ID)
		}
	}
	users, err := store.ListUsers(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Errorf("after a dry run the store has %d users; want 1", len(users))
	}

	// The real import does what the dry run said, and leaves the user
	// that was there alone.
	res, err := userimport.Import(ctx, store, src.path, userimport.Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if got, want := res.Summary(), strings.Replace(strings.Replace(want, "would import", "imported", 1), "skip 6", "skipped 6", 1); got != want {
		t.Errorf("Summary() after dry run = %q; want %q", got, want)
	}
	if got, want := skips(res), skips(dry); !slices.Equal(got, want) {
		t.Errorf("import skipped %q; dry run said %q", got, want)
	}
	u, err := store.UserByEmail(ctx, "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Carol Latch" || !strings.HasPrefix(u.PasswordHash, "$2y$") {
		t.Errorf("present user became %q, %q; want it unchanged", u.Name, u.PasswordHash)
	}
}

func TestImportDjango(t *testing.T) {
	ctx := context.Background()
	pbkdf2 := vectorFor(t, "django-pbkdf2_sha256", "pbkdf2_sha256$1000$")
	argon2 := vectorFor(t, "django-argon2", "argon2$argon2id$v=19$m=64,")
	bcrypt := vectorFor(t, "django-bcrypt_sha256", "bcrypt_sha256$$2b$04$")
	const joined = "2021-03-04 05:06:07.123456"
	row := func(id, pw, username, last, email, active, first string) string {
		return insert("auth_user", id, pw, "NULL", "0", username, last, email, "0", active, joined, first)
	}
	path := sqliteFile(t, "legacy.db", djangoSchema,
		row("1", pbkdf2.Hash, "grace", "Hopper", "grace@example.com", "1", "Grace"),
		row("2", argon2.Hash, "kay", "", "kay@example.com", "1", ""),
		row("3", bcrypt.Hash, "linus", "", "linus@example.com", "1", "Linus"),
		// django-guardian's anonymous user: no email, no usable password.
		row("-1", "!1jKytWdhqNTTVepLjrW84GgU7DFoy5DeIJFUYfEk", "AnonymousUser", "", "", "1", ""),
		row("5", "!Sp0Z0xUvC5xG3cTqiXwZ2aJk3OJmdy1zKjMbTQ4C", "nopass", "", "nopass@example.com", "1", ""),
		row("6", pbkdf2.Hash, "gone", "", "gone@example.com", "0", "Gone"),
	)
	store := newStore(t)
	res, err := userimport.Import(ctx, store, path, userimport.Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Format != userimport.Django {
		t.Errorf("Format = %q; want %q", res.Format, userimport.Django)
	}
	wantImported := []string{
		"id 1 grace@example.com django-pbkdf2_sha256",
		"id 2 kay@example.com django-argon2",
		"id 3 linus@example.com django-bcrypt_sha256",
	}
	if got := refs(res); !slices.Equal(got, wantImported) {
		t.Errorf("imported %q; want %q", got, wantImported)
	}
	wantSkipped := []string{
		"id -1 : invalid email",
		"id 5 nopass@example.com: unusable password",
		"id 6 gone@example.com: inactive account",
	}
	if got := skips(res); !slices.Equal(got, wantSkipped) {
		t.Errorf("skipped %q; want %q", got, wantSkipped)
	}
	const wantSummary = "imported 3, skipped 3 (1 inactive account, 1 invalid email, 1 unusable password)"
	if got := res.Summary(); got != wantSummary {
		t.Errorf("Summary() = %q; want %q", got, wantSummary)
	}
	wantJoined := time.Date(2021, 3, 4, 5, 6, 7, 123456000, time.UTC)
	for email, name := range map[string]string{"grace@example.com": "Grace Hopper", "kay@example.com": "kay", "linus@example.com": "Linus"} {
		u, err := store.UserByEmail(ctx, email)
		if err != nil {
			t.Errorf("UserByEmail(%q): %v", email, err)
			continue
		}
		if u.Name != name {
			t.Errorf("user %s: Name = %q; want %q", email, u.Name, name)
		}
		if !u.CreatedAt.Equal(wantJoined) {
			t.Errorf("user %s: CreatedAt = %v; want date_joined %v", email, u.CreatedAt, wantJoined)
		}
	}
	if again, err := userimport.Import(ctx, store, path, userimport.Options{}); err != nil {
		t.Errorf("second Import: %v", err)
	} else if got, want := again.Summary(), "imported 0, skipped 6 (1 inactive account, 1 invalid email, 1 unusable password, 3 already present)"; got != want {
		t.Errorf("second Summary() = %q; want %q", got, want)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportCSV(t *testing.T) {
	ctx := context.Background()
	bcrypt := vectorFor(t, "bcrypt", "$2b$04$")
	argon := vectorFor(t, "argon2id", "$argon2id$v=19$m=16,")
	// As a spreadsheet saves it: byte order mark, CRLF, quoted fields,
	// an extra column, columns in another order.
	content := "\ufeffName,Email,id,password_hash\r\n" +
		`"Hopper, Grace",grace@example.com,1,` + bcrypt.Hash + "\r\n" +
		`Alan,alan@example.com,2,"` + argon.Hash + "\"\r\n" +
		"Short,short@example.com\r\n" +
		`Bad "quote",bad@example.com,4,` + bcrypt.Hash + "\r\n" +
		"Plain,plain@example.com,5,plaintext-password\r\n" +
		"\r\n" +
		"Alan Again,Alan@Example.com,6," + bcrypt.Hash + "\r\n"
	path := writeFile(t, "export.csv", content)
	store := newStore(t)
	res, err := userimport.Import(ctx, store, path, userimport.Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Format != userimport.CSV {
		t.Errorf("Format = %q; want %q", res.Format, userimport.CSV)
	}
	wantImported := []string{"line 2 grace@example.com bcrypt", "line 3 alan@example.com argon2id"}
	if got := refs(res); !slices.Equal(got, wantImported) {
		t.Errorf("imported %q; want %q", got, wantImported)
	}
	wantSkipped := []string{
		"line 4 short@example.com: unreadable record",
		"line 5 : unreadable record",
		"line 6 plain@example.com: unknown hash format",
		"line 8 alan@example.com: duplicate in the source",
	}
	if got := skips(res); !slices.Equal(got, wantSkipped) {
		t.Errorf("skipped %q; want %q", got, wantSkipped)
	}
	if u, err := store.UserByEmail(ctx, "grace@example.com"); err != nil || u.Name != "Hopper, Grace" || u.PasswordHash != bcrypt.Hash {
		t.Errorf("grace = %+v, %v; want name %q and the bcrypt hash", u, err, "Hopper, Grace")
	}
}

func TestImportJSONLines(t *testing.T) {
	ctx := context.Background()
	bcrypt := vectorFor(t, "bcrypt", "$2a$04$")
	argon := vectorFor(t, "argon2id", "$argon2id$v=19$m=16,")
	line := func(email, name, hash string) string {
		b, err := json.Marshal(map[string]string{"email": email, "name": name, "password_hash": hash})
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	content := line("mei@example.com", "李美", bcrypt.Hash) +
		"\n" +
		line("ola@example.com", "Ola", argon.Hash) +
		"{not json\n" +
		`["an", "array"]` + "\n" +
		`{"email": 42, "name": "Number", "password_hash": "x"}` + "\n" +
		`{"email": "nohash@example.com", "name": "No Hash"}` + "\n"
	path := writeFile(t, "users.ndjson", content)
	store := newStore(t)
	res, err := userimport.Import(ctx, store, path, userimport.Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Format != userimport.JSONLines {
		t.Errorf("Format = %q; want %q", res.Format, userimport.JSONLines)
	}
	wantImported := []string{"line 1 mei@example.com bcrypt", "line 3 ola@example.com argon2id"}
	if got := refs(res); !slices.Equal(got, wantImported) {
		t.Errorf("imported %q; want %q", got, wantImported)
	}
	wantSkipped := []string{
		"line 4 : unreadable record",
		"line 5 : unreadable record",
		"line 6 : unreadable record",
		"line 7 nohash@example.com: unknown hash format",
	}
	if got := skips(res); !slices.Equal(got, wantSkipped) {
		t.Errorf("skipped %q; want %q", got, wantSkipped)
	}
	if u, err := store.UserByEmail(ctx, "mei@example.com"); err != nil || u.Name != "李美" {
		t.Errorf("mei = %+v, %v; want name 李美", u, err)
	}
}

func TestDetect(t *testing.T) {
	bcrypt := vectorFor(t, "bcrypt", "$2b$04$").Hash
	csvText := "email,name,password_hash\nann@example.com,Ann," + bcrypt + "\n"
	jsonText := `{"email":"ann@example.com","name":"Ann","password_hash":"` + bcrypt + `"}` + "\n"
	tests := []struct {
		desc string
		path func(t *testing.T) string
		opt  userimport.Format
		want userimport.Format
	}{
		{"csv by extension", func(t *testing.T) string { return writeFile(t, "u.CSV", csvText) }, "", userimport.CSV},
		{"csv by content", func(t *testing.T) string { return writeFile(t, "u.txt", csvText) }, "", userimport.CSV},
		{"jsonl by extension", func(t *testing.T) string { return writeFile(t, "u.jsonl", jsonText) }, "", userimport.JSONLines},
		{"jsonl by content", func(t *testing.T) string { return writeFile(t, "u.json", jsonText) }, "", userimport.JSONLines},
		{"flask named like csv", func(t *testing.T) string {
			return sqliteFile(t, "users.csv", flaskSchema, insert("user", "1", "ann@example.com", bcrypt, "Ann"))
		}, "", userimport.Flask},
		{"format given", func(t *testing.T) string { return writeFile(t, "u.dat", jsonText) }, userimport.JSONLines, userimport.JSONLines},
	}
	for _, tt := range tests {
		res, err := userimport.Import(context.Background(), newStore(t), tt.path(t), userimport.Options{Format: tt.opt, DryRun: true})
		if err != nil {
			t.Errorf("%s: Import: %v", tt.desc, err)
			continue
		}
		if res.Format != tt.want || len(res.Imported) != 1 {
			t.Errorf("%s: Format = %q, imported %d; want %q, 1", tt.desc, res.Format, len(res.Imported), tt.want)
		}
	}
}

func TestSourceErrors(t *testing.T) {
	tests := []struct {
		desc string
		path func(t *testing.T) string
		opt  userimport.Format
		want string // in the error
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.db") }, "", "no such file"},
		{"folder", func(t *testing.T) string { return t.TempDir() }, "", "is a folder"},
		{"other database", func(t *testing.T) string {
			return sqliteFile(t, "app.db", "CREATE TABLE accounts (id INTEGER, login TEXT)")
		}, "", "tables: accounts"},
		{"flask table without a name column", func(t *testing.T) string {
			return sqliteFile(t, "app.db", "CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT, password TEXT)")
		}, "", "neither"},
		{"unknown text", func(t *testing.T) string { return writeFile(t, "notes.txt", "hello\nworld\n") }, "", "cannot tell the format"},
		{"csv without password_hash", func(t *testing.T) string { return writeFile(t, "u.csv", "email,name,password\na@example.com,A,x\n") }, "", "no password_hash column"},
		{"empty csv", func(t *testing.T) string { return writeFile(t, "u.csv", "") }, "", "file is empty"},
		{"flask format on a csv", func(t *testing.T) string { return writeFile(t, "u.csv", "email,name,password_hash\n") }, userimport.Flask, "not a SQLite database"},
		{"django format on a flask database", func(t *testing.T) string { return sqliteFile(t, "f.db", flaskSchema) }, userimport.Django, "no Django auth_user table"},
		{"unknown format", func(t *testing.T) string { return writeFile(t, "u.csv", "") }, "xml", "unknown format"},
		{"csv record too long", func(t *testing.T) string {
			return writeFile(t, "u.csv", "email,name,password_hash\na@example.com,A,x\nb@example.com,"+strings.Repeat("B", 2<<20)+",x\n")
		}, "", "the record after line 2 is longer than 1048576 bytes"},
		{"csv quote never closed", func(t *testing.T) string {
			return writeFile(t, "u.csv", "email,name,password_hash\nb@example.com,\""+strings.Repeat("B\n", 1<<20)+",x\n")
		}, "", "the record after line 1 is longer than"},
		{"csv header too long", func(t *testing.T) string {
			return writeFile(t, "u.csv", "email,name,password_hash"+strings.Repeat(",x", 1<<20)+"\n")
		}, "", "header row is longer than"},
	}
	for _, tt := range tests {
		store := newStore(t)
		_, err := userimport.Import(context.Background(), store, tt.path(t), userimport.Options{Format: tt.opt})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Import error = %v; want one containing %q", tt.desc, err, tt.want)
		}
	}
}

// failingStore fails to create the third user, as a full disk would.
type failingStore struct {
	*sqlitestore.DB
	created int
}

var errDiskFull = errors.New("disk full")

func (s *failingStore) CreateUser(ctx context.Context, u account.User) (account.User, error) {
	if s.created == 2 {
		return account.User{}, errDiskFull
	}
	s.created++
	return s.DB.CreateUser(ctx, u)
}

func TestImportStoreFailure(t *testing.T) {
	ctx := context.Background()
	src := flaskSource(t)
	store := &failingStore{DB: newStore(t)}
	res, err := userimport.Import(ctx, store, src.path, userimport.Options{})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Import error = %v; want %v", err, errDiskFull)
	}
	if res == nil || len(res.Imported) != 2 {
		t.Fatalf("Import result = %+v; want the 2 users imported before the failure", res)
	}
	// Running it again, once the store works, finishes the job.
	res, err = userimport.Import(ctx, store.DB, src.path, userimport.Options{})
	if err != nil {
		t.Fatalf("Import after failure: %v", err)
	}
	if got := len(res.Imported); got != 2 {
		t.Errorf("Import after failure imported %d; want the remaining 2", got)
	}
	if got := res.SkippedBy()[userimport.AlreadyPresent]; got != 2 {
		t.Errorf("Import after failure found %d already present; want 2", got)
	}
}

func TestImportCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := flaskSource(t)
	store := newStore(t)
	if _, err := userimport.Import(ctx, store, src.path, userimport.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Import with a canceled context: error = %v; want context.Canceled", err)
	}
	if users, _ := store.ListUsers(context.Background(), 0, 10); len(users) != 0 {
		t.Errorf("Import with a canceled context created %d users", len(users))
	}
}

// TestImportEmailRules checks that the import applies the sign-up's email
// rules: invisible and direction-changing characters and addresses at an IP
// address are refused, saying why, and spellings of one address are
// duplicates.
func TestImportEmailRules(t *testing.T) {
	bcrypt := vectorFor(t, "bcrypt", "$2b$04$").Hash
	content := "email,name,password_hash\n" +
		"\u202eann@example.com,Ann," + bcrypt + "\n" +
		"an\u200bn@example.com,Ann," + bcrypt + "\n" +
		"ann@[192.0.2.1],Ann," + bcrypt + "\n" +
		"ＢＥＮ@example.com,Ben," + bcrypt + "\n" +
		"ben@example.com,Ben," + bcrypt + "\n"
	res, err := userimport.Import(context.Background(), newStore(t), writeFile(t, "u.csv", content), userimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := refs(res), []string{"line 5 ben@example.com bcrypt"}; !slices.Equal(got, want) {
		t.Errorf("imported %q; want %q", got, want)
	}
	want := []string{
		"line 2 \u202eann@example.com: invalid email: the email contains a character that changes the direction of text (U+202E)",
		"line 3 an\u200bn@example.com: invalid email: the email contains an invisible character (U+200B)",
		"line 4 ann@[192.0.2.1]: invalid email: the email is at an IP address rather than a domain name",
		"line 6 ben@example.com: duplicate in the source: same address as line 5",
	}
	var got []string
	for _, s := range res.Skipped {
		got = append(got, s.Ref+" "+s.Email+": "+string(s.Reason)+": "+s.Detail)
	}
	if !slices.Equal(got, want) {
		t.Errorf("skipped\n%q\nwant\n%q", got, want)
	}
}
