// Package userimport copies user accounts from another application into a
// latch account store, password hashes included, so that people log in to
// latch with the passwords they already have.
//
// # Sources
//
// [Import] reads one of:
//
//   - the SQLite database of the Flask-Login tutorial ("Authentication and
//     Authorization With Flask-Login"): its user table, with the columns id,
//     email, password and name;
//   - a Django SQLite database: its auth_user table (email, password,
//     first_name, last_name, username, is_active, date_joined);
//   - a CSV file whose header row names the columns email, name and
//     password_hash (others are ignored);
//   - a JSON Lines file: one object per line with the keys email, name and
//     password_hash.
//
// The format is found from the file, not from what it is called: a SQLite
// file by its header and then by its tables and columns, a text file by its
// extension (.csv, .jsonl, .ndjson) or, failing that, by its first line.
// SQLite files are opened read-only; no source is ever modified.
//
// # Rules
//
// Every record passes these checks in order; the first that fails skips it,
// for the [Reason] named:
//
//  1. The reader could parse it ([Malformed]) and, for Django, the account
//     is active ([Inactive]): latch has no disabled accounts, and importing
//     one would let someone log in whom the old site refused.
//  2. Its email is an address [account.NormalizeEmail] accepts
//     ([InvalidEmail]): no control, invisible or direction-changing
//     characters, valid UTF-8, at a domain name rather than an IP address.
//     It is stored normalised: trimmed, NFKC, case-folded.
//  3. No earlier record had the same normalised email
//     ([DuplicateInSource]). The first record with an address is the one
//     considered, even when it is then skipped for another reason, so the
//     outcome never depends on which of two rows happens to be valid.
//  4. Its hash is not a Django unusable password, which starts with "!"
//     ([UnusablePassword]), and is a format [password.Identify] accepts
//     ([UnknownHash]).
//  5. Its name passes [account.NormalizeName] ([InvalidName]). A missing or
//     blank name is not a reason to lose an account: the local part of the
//     email is used instead ("ada" for ada@example.com), and a [Note] says
//     so. For Django the name is first_name and last_name joined, then the
//     username, then the local part of the email.
//  6. The store has no user with the email ([AlreadyPresent]). That user is
//     left exactly as it is, whatever the source says.
//
// Each user is created by one [Store.CreateUser] call, so a user is imported
// whole or not at all. An interrupted import can be run again as it is: the
// users it already created are then [AlreadyPresent]. Import is therefore
// idempotent; a second run over the same source imports nothing.
//
// # Security
//
// Hashes are stored as they are; Import never sees a password. A hash that
// [password.Identify] accepts has bounded verification cost, and the
// password package verifies every format in constant time, so an imported
// hash can neither make a login succeed without the password nor stall the
// server. A wrong password for an imported user is answered no sooner than
// one for the slowest hash format stored ([password.Hasher.WatchStoredHashes]),
// so timing does not tell which users were imported. [account.Service.Authenticate] replaces a legacy hash by an
// argon2id one at the user's first successful login.
package userimport

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
)

// Format is a kind of source.
type Format string

// The formats [Import] reads.
const (
	// Flask is the SQLite database of the Flask-Login tutorial.
	Flask Format = "flask"
	// Django is a Django SQLite database with the auth_user table.
	Django Format = "django"
	// CSV is comma-separated values with a header row.
	CSV Format = "csv"
	// JSONLines is one JSON object per line.
	JSONLines Format = "jsonl"
)

// Formats lists every format, for usage messages and flag checks.
var Formats = []Format{Flask, Django, CSV, JSONLines}

// Describe returns a phrase naming the format for messages, such as
// "Flask-Login tutorial database (table user)".
func (f Format) Describe() string {
	switch f {
	case Flask:
		return "Flask-Login tutorial database (table user)"
	case Django:
		return "Django database (table auth_user)"
	case CSV:
		return "CSV file"
	case JSONLines:
		return "JSON Lines file"
	}
	return fmt.Sprintf("unknown format %q", string(f))
}

// Store is what Import needs of an account store; every [account.Store] has
// it. A dry run only calls UserByEmail.
type Store interface {
	// UserByEmail returns the user with the normalised email, or an error
	// wrapping account.ErrUserNotFound.
	UserByEmail(ctx context.Context, email string) (account.User, error)
	// CreateUser creates u whole or not at all, returning
	// account.ErrEmailTaken when the email has a user.
	CreateUser(ctx context.Context, u account.User) (account.User, error)
}

// Options are the settings of one import. The zero value detects the format
// and writes.
type Options struct {
	// Format is the source's format; empty detects it.
	Format Format
	// DryRun checks every record, including against the store, and reports
	// what an import would do, without creating any user.
	DryRun bool
}

// Reason is why a record was skipped.
type Reason string

// The reasons a record is skipped, in the order they are checked; see the
// package documentation.
const (
	// Malformed is a CSV row or JSON line that does not parse.
	Malformed Reason = "unreadable record"
	// Inactive is a Django account whose is_active is false.
	Inactive Reason = "inactive account"
	// InvalidEmail is an email that account.NormalizeEmail refuses.
	InvalidEmail Reason = "invalid email"
	// DuplicateInSource is an email an earlier record already had.
	DuplicateInSource Reason = "duplicate in the source"
	// UnusablePassword is Django's mark, "!", for an account that
	// cannot log in with a password.
	UnusablePassword Reason = "unusable password"
	// UnknownHash is a hash that password.Identify refuses.
	UnknownHash Reason = "unknown hash format"
	// InvalidName is a name that account.NormalizeName refuses.
	InvalidName Reason = "invalid name"
	// AlreadyPresent is an email the store has a user for.
	AlreadyPresent Reason = "already present"
)

// reasons is every Reason in the order summaries list them.
var reasons = []Reason{Malformed, Inactive, InvalidEmail, DuplicateInSource, UnusablePassword, UnknownHash, InvalidName, AlreadyPresent}

// Hint says what an operator can do about records skipped for r.
func (r Reason) Hint() string {
	switch r {
	case Malformed:
		return "the record could not be parsed: fix it in the source and run the import again"
	case Inactive:
		return "the account is disabled in Django (is_active false) and latch has no disabled accounts; activate it in Django first if it should be imported"
	case InvalidEmail:
		return "latch needs a plain address at a domain name, like name@example.com, of visible characters: fix it in the source and run the import again"
	case DuplicateInSource:
		return "only the first record with an address is considered (emails are compared after NFKC normalisation and case folding, so ANN@example.com and ann@example.com are one address): merge the accounts in the source if another one should win"
	case UnusablePassword:
		return "Django marks accounts that cannot log in with a password with \"!\"; give them one with latch users create"
	case UnknownHash:
		return "latch reads argon2id, bcrypt, werkzeug (sha256$, pbkdf2:sha256, scrypt) and Django (pbkdf2_sha256, argon2, bcrypt_sha256) hashes; these users can sign up again, or be added with latch users create"
	case InvalidName:
		return fmt.Sprintf("names must be at most %d characters of text without control characters: fix them in the source and run the import again", account.MaxNameLength)
	case AlreadyPresent:
		return "latch already has a user with the email and left it unchanged; delete it with latch users delete first to import it again"
	}
	return ""
}

// record is one user as a source holds it, before any check.
type record struct {
	// Ref locates the record for messages: "line 4" in a text file,
	// "id 17" for a database row.
	Ref string
	// Email, Name and PasswordHash are as the source holds them.
	Email, Name, PasswordHash string
	// CreatedAt is when the source says the account was made, or zero.
	CreatedAt time.Time
	// Reason, when set, is why the reader already refuses the record:
	// [Malformed] or [Inactive].
	Reason Reason
	// Detail says more about Reason, such as the parse error.
	Detail string
}

// Imported is a user that was (or, in a dry run, would be) created.
type Imported struct {
	// Ref locates the record in the source.
	Ref string
	// Email is the normalised email.
	Email string
	// ID is the new user's ID; zero in a dry run.
	ID int64
	// HashFormat is the password hash's format, as [password.Identify]
	// names it.
	HashFormat string
}

// Skipped is a record that was not imported.
type Skipped struct {
	// Ref locates the record in the source.
	Ref string
	// Email is the normalised email when it is valid, else as in the source.
	Email string
	// Reason is why it was skipped.
	Reason Reason
	// Detail says more, such as which record had the address first; it
	// may be empty.
	Detail string
}

// String returns a line for the operator, such as
// `id 4 bob@example.com: unknown hash format: unrecognised prefix`.
func (s Skipped) String() string {
	line := fmt.Sprintf("%s %s: %s", s.Ref, printable(s.Email), s.Reason)
	if s.Detail != "" {
		line += ": " + s.Detail
	}
	return line
}

// Note is something done to a record that was imported, which the operator
// should know about, such as a name made from the email.
type Note struct {
	// Ref locates the record in the source.
	Ref string
	// Email is the normalised email.
	Email string
	// Text says what was done.
	Text string
}

// String returns a line for the operator.
func (n Note) String() string {
	return fmt.Sprintf("%s %s: %s", n.Ref, printable(n.Email), n.Text)
}

// Result is what an import did, or in a dry run would do, record by record.
type Result struct {
	// Format is the source's format.
	Format Format
	// DryRun reports that nothing was written.
	DryRun bool
	// Imported lists the users created (or, in a dry run, that would be),
	// in source order.
	Imported []Imported
	// Skipped lists the records not imported, in source order.
	Skipped []Skipped
	// Notes lists what was changed in records that were imported.
	Notes []Note
}

// Summary returns one line counting the outcomes, such as
// "imported 3, skipped 2 (1 already present, 1 unknown hash format)", or
// "would import 3, skip 2 (...)" for a dry run.
func (r *Result) Summary() string {
	var b strings.Builder
	if r.DryRun {
		fmt.Fprintf(&b, "would import %d, skip %d", len(r.Imported), len(r.Skipped))
	} else {
		fmt.Fprintf(&b, "imported %d, skipped %d", len(r.Imported), len(r.Skipped))
	}
	counts := r.SkippedBy()
	sep := " ("
	for _, reason := range reasons {
		if n := counts[reason]; n > 0 {
			fmt.Fprintf(&b, "%s%d %s", sep, n, reason)
			sep = ", "
		}
	}
	if sep == ", " {
		b.WriteString(")")
	}
	return b.String()
}

// SkippedBy counts the skipped records by reason.
func (r *Result) SkippedBy() map[Reason]int {
	m := make(map[Reason]int)
	for _, s := range r.Skipped {
		m[s.Reason]++
	}
	return m
}

// Reasons returns the reasons records were skipped for, each once, in the
// order summaries list them.
func (r *Result) Reasons() []Reason {
	counts := r.SkippedBy()
	var out []Reason
	for _, reason := range reasons {
		if counts[reason] > 0 {
			out = append(out, reason)
		}
	}
	return out
}

// Import reads the users in the file at path and creates those that pass the
// checks described in the package documentation in store, one CreateUser
// call each. Records that fail a check are skipped and reported; they are not
// an error.
//
// The error is non-nil when the source cannot be opened or read, when the
// store fails, or when ctx ends. Once the source is open the Result is
// returned even then, and tells what was done before it stopped; running the
// import again carries on from there.
func Import(ctx context.Context, store Store, path string, opts Options) (*Result, error) {
	src, err := Open(ctx, path, opts.Format)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return src.Import(ctx, store, opts.DryRun)
}

// Source is a source of users, open and checked, ready to import.
type Source struct {
	src *source
}

// Open opens the file at path and finds its format, or checks that it has
// format when that is not empty. It checks what can be checked before
// reading records: that the file exists and is readable, its format, a
// database's table and columns, a CSV file's header row. Call it before
// creating anything for the import, so that a wrong path leaves nothing
// behind.
func Open(ctx context.Context, path string, format Format) (*Source, error) {
	src, err := open(ctx, path, format)
	if err != nil {
		return nil, err
	}
	return &Source{src: src}, nil
}

// Format returns the source's format.
func (s *Source) Format() Format {
	return s.src.format
}

// Close closes the source.
func (s *Source) Close() error {
	return s.src.close()
}

// Import imports the source's users into store, as the function [Import]
// does, writing nothing when dryRun is set. A Source is read once.
func (s *Source) Import(ctx context.Context, store Store, dryRun bool) (*Result, error) {
	im := &importer{
		store: store,
		res:   &Result{Format: s.src.format, DryRun: dryRun},
		seen:  make(map[string]string),
	}
	for rec, err := range s.src.records(ctx) {
		if err != nil {
			return im.res, fmt.Errorf("read %s: %w", s.src.path, err)
		}
		if err := ctx.Err(); err != nil {
			return im.res, err
		}
		if err := im.add(ctx, rec); err != nil {
			return im.res, err
		}
	}
	return im.res, nil
}

type importer struct {
	store Store
	res   *Result
	seen  map[string]string // normalised email -> Ref of its first record
}

// add checks one record and creates its user. It returns an error only when
// the store fails.
func (im *importer) add(ctx context.Context, rec record) error {
	email := strings.TrimSpace(rec.Email)
	skip := func(reason Reason, detail string) {
		im.res.Skipped = append(im.res.Skipped, Skipped{Ref: rec.Ref, Email: email, Reason: reason, Detail: detail})
	}
	if rec.Reason != "" {
		skip(rec.Reason, rec.Detail)
		return nil
	}
	norm, err := account.NormalizeEmail(email)
	if err != nil {
		skip(InvalidEmail, emailProblem(email, err))
		return nil
	}
	email = norm
	if first, ok := im.seen[email]; ok {
		skip(DuplicateInSource, "same address as "+first)
		return nil
	}
	im.seen[email] = rec.Ref

	// Every supported format is printable ASCII without spaces, so
	// trimming cannot change a valid hash; it forgives a stray "\r" or
	// space from a hand-edited file.
	hash := strings.TrimSpace(rec.PasswordHash)
	if strings.HasPrefix(hash, "!") {
		skip(UnusablePassword, "the account has no password it can log in with")
		return nil
	}
	format, err := password.Identify(hash)
	if err != nil {
		// The reason already says the format is unknown; keep the why.
		skip(UnknownHash, strings.TrimSuffix(err.Error(), ": "+password.ErrUnknownFormat.Error()))
		return nil
	}

	var note string
	name := strings.TrimSpace(rec.Name)
	if name == "" {
		name = email[:strings.LastIndexByte(email, '@')]
		note = fmt.Sprintf("no name in the source; named %q after the email", name)
	}
	if name, err = account.NormalizeName(name); err != nil {
		skip(InvalidName, err.Error())
		return nil
	}

	if _, err := im.store.UserByEmail(ctx, email); err == nil {
		skip(AlreadyPresent, "")
		return nil
	} else if !errors.Is(err, account.ErrUserNotFound) {
		return fmt.Errorf("look up %s: %w", printable(email), err)
	}
	var id int64
	if !im.res.DryRun {
		u, err := im.store.CreateUser(ctx, account.User{Email: email, Name: name, PasswordHash: hash, CreatedAt: rec.CreatedAt})
		if errors.Is(err, account.ErrEmailTaken) {
			// Created meanwhile, by a sign-up or another import.
			skip(AlreadyPresent, "")
			return nil
		} else if err != nil {
			return fmt.Errorf("create user %s from %s: %w", printable(email), rec.Ref, err)
		}
		id = u.ID
	}
	im.res.Imported = append(im.res.Imported, Imported{Ref: rec.Ref, Email: email, ID: id, HashFormat: format})
	if note != "" {
		im.res.Notes = append(im.res.Notes, Note{Ref: rec.Ref, Email: email, Text: note})
	}
	return nil
}

// emailProblem says what is wrong with an email NormalizeEmail refused with
// err, in words for an operator rather than for a sign-up form.
func emailProblem(email string, err error) string {
	var ve *account.ValidationError
	switch {
	case email == "":
		return "the email is empty"
	case errors.Is(err, account.ErrEmailNotText):
		return "the email is not valid UTF-8 text"
	case errors.Is(err, account.ErrEmailHiddenCharacter) && errors.As(err, &ve):
		return "the email contains " + ve.Detail
	case errors.Is(err, account.ErrEmailIPAddress):
		return "the email is at an IP address rather than a domain name"
	case len(email) > account.MaxEmailLength:
		return fmt.Sprintf("longer than %d bytes", account.MaxEmailLength)
	}
	return "not a plain address like name@example.com"
}

// printable returns s as it is when it is valid, printable text without
// spaces or quotes, and quoted otherwise, so that data from a source can
// neither hide in a message nor play tricks on the operator's terminal.
func printable(s string) string {
	odd := func(r rune) bool { return r <= ' ' || r == '"' || !strconv.IsPrint(r) }
	if s != "" && utf8.ValidString(s) && !strings.ContainsFunc(s, odd) {
		return s
	}
	return strconv.Quote(s)
}
