package userimport

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// bom is the byte order mark spreadsheet programs put at the start of
// UTF-8 files.
const bom = "\ufeff"

// maxLine bounds a JSON Lines line and a CSV record; a user record is a
// few hundred bytes.
const maxLine = 1 << 20

// source is an open source of records.
type source struct {
	path   string
	format Format
	db     *sql.DB  // Flask and Django
	file   *os.File // CSV and JSON Lines
	table  string   // the users table's name as the database spells it
	cols   map[string]bool
}

// open opens the file at path and finds its format, or checks that it has
// the one asked for.
func open(ctx context.Context, path string, format Format) (*source, error) {
	if format != "" && !slices.Contains(Formats, format) {
		return nil, fmt.Errorf("unknown format %q: want one of %s", string(format), formatList())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open source: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open source: %s is a folder: name the database or file to import", path)
	}
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	head = head[:n]
	isSQLite := bytes.HasPrefix(head, sqliteHeader)

	switch {
	case format == Flask || format == Django:
		f.Close()
		if !isSQLite {
			return nil, fmt.Errorf("%s is not a SQLite database, which the %s format is", path, format)
		}
		return openSQLite(ctx, path, format)
	case format != "":
		return textSource(path, format, f)
	case isSQLite:
		// The header decides whatever the file is called.
		f.Close()
		return openSQLite(ctx, path, "")
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return textSource(path, CSV, f)
	case ".jsonl", ".ndjson":
		return textSource(path, JSONLines, f)
	}
	if format = sniff(head); format == "" {
		f.Close()
		return nil, fmt.Errorf("cannot tell the format of %s: it is not a SQLite database, and its first line is neither a CSV header naming email and password_hash nor a JSON object; name the format with -format (%s)", path, formatList())
	}
	return textSource(path, format, f)
}

// textSource returns the CSV or JSON Lines source in f, whose CSV header
// row is checked first.
func textSource(path string, format Format, f *os.File) (*source, error) {
	s := &source{path: path, format: format, file: f}
	if format == CSV {
		if err := s.checkCSV(); err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return s, nil
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// sniff guesses the format of a text file from its start: JSON Lines when it
// starts with an object, CSV when its first line names the columns needed.
func sniff(head []byte) Format {
	head = bytes.TrimPrefix(head, []byte(bom))
	if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return JSONLines
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	header, err := csv.NewReader(bytes.NewReader(first)).Read()
	if err != nil {
		return ""
	}
	cols := columns(header)
	if _, ok := cols["email"]; !ok {
		return ""
	}
	if _, ok := cols["password_hash"]; !ok {
		return ""
	}
	return CSV
}

// columns maps the lower-case names in a CSV header to their positions,
// keeping the first of repeated names.
func columns(header []string) map[string]int {
	m := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, bom)))
		if _, ok := m[h]; !ok {
			m[h] = i
		}
	}
	return m
}

// openSQLite opens a SQLite file read-only and finds the users table of
// want, or of either format when want is empty.
func openSQLite(ctx context.Context, path string, want Format) (*source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// mode=ro makes SQLite itself refuse any write to the file; query_only
	// makes the connection refuse writing statements as well. The busy
	// timeout lets a read wait while the old application is writing.
	params := url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(5000)", "query_only(1)"}}
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params.Encode()}).String()
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	s := &source{path: path, db: db}
	if err := s.findTable(ctx, want); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// findTable looks for the Flask tutorial's user table and Django's
// auth_user table by their columns.
func (s *source) findTable(ctx context.Context, want Format) error {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("read the tables of %s: %w", s.path, err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("read the tables of %s: %w", s.path, err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read the tables of %s: %w", s.path, err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the tables of %s: %w", s.path, err)
	}

	type match struct {
		format Format
		table  string
		cols   map[string]bool
	}
	var found []match
	for _, t := range tables {
		var f Format
		var need []string
		switch strings.ToLower(t) {
		case "user":
			f, need = Flask, []string{"id", "email", "password", "name"}
		case "auth_user":
			f, need = Django, []string{"id", "email", "password", "username"}
		default:
			continue
		}
		if want != "" && f != want {
			continue
		}
		cols, err := s.tableColumns(ctx, t)
		if err != nil {
			return err
		}
		if !hasAll(cols, need) {
			if want != "" {
				return fmt.Errorf("%s: table %s lacks some of the columns %s that the %s format needs", s.path, t, strings.Join(need, ", "), f)
			}
			continue
		}
		found = append(found, match{f, t, cols})
	}
	switch {
	case len(found) == 1:
		s.format, s.table, s.cols = found[0].format, found[0].table, found[0].cols
		return nil
	case len(found) > 1:
		return fmt.Errorf("%s has both a Flask user table and a Django auth_user table: choose one with -format flask or -format django", s.path)
	case want == Flask:
		return fmt.Errorf("%s has no table user with the columns id, email, password and name, as the Flask-Login tutorial makes it (tables: %s)", s.path, tableList(tables))
	case want == Django:
		return fmt.Errorf("%s has no Django auth_user table with the columns id, email, password and username (tables: %s)", s.path, tableList(tables))
	}
	return fmt.Errorf("%s is a SQLite database with neither the Flask-Login tutorial's user table (id, email, password, name) nor Django's auth_user table (tables: %s); export the users to CSV with the columns email, name and password_hash instead", s.path, tableList(tables))
}

func tableList(tables []string) string {
	if len(tables) == 0 {
		return "none"
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = printable(t)
	}
	return strings.Join(quoted, ", ")
}

func hasAll(cols map[string]bool, need []string) bool {
	for _, c := range need {
		if !cols[c] {
			return false
		}
	}
	return true
}

// tableColumns returns the lower-case column names of table.
func (s *source) tableColumns(ctx context.Context, table string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s in %s: %w", table, s.path, err)
	}
	defer rows.Close()
	cols := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read the columns of %s in %s: %w", table, s.path, err)
		}
		cols[strings.ToLower(name)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the columns of %s in %s: %w", table, s.path, err)
	}
	return cols, nil
}

func (s *source) close() error {
	if s.db != nil {
		return s.db.Close()
	}
	return s.file.Close()
}

// records returns the source's records in order. A non-nil error ends the
// sequence: the source could not be read further.
func (s *source) records(ctx context.Context) iter.Seq2[record, error] {
	switch s.format {
	case Flask:
		return s.flaskRecords(ctx)
	case Django:
		return s.djangoRecords(ctx)
	case CSV:
		return s.csvRecords()
	default:
		return s.jsonRecords()
	}
}

// quote quotes an SQL identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func (s *source) flaskRecords(ctx context.Context) iter.Seq2[record, error] {
	query := `SELECT id, email, password, name FROM ` + quote(s.table) + ` ORDER BY id`
	return s.rows(ctx, query, func(rows *sql.Rows) (record, error) {
		var (
			id                    any
			email, password, name sql.NullString
		)
		if err := rows.Scan(&id, &email, &password, &name); err != nil {
			return record{}, err
		}
		return record{Ref: "id " + idString(id), Email: email.String, PasswordHash: password.String, Name: name.String}, nil
	})
}

func (s *source) djangoRecords(ctx context.Context) iter.Seq2[record, error] {
	// Custom user models derived from AbstractUser keep these columns;
	// for one that lacks them, a constant stands in.
	col := func(name, otherwise string) string {
		if s.cols[name] {
			return quote(name)
		}
		return otherwise
	}
	query := `SELECT id, email, password, ` +
		col("first_name", "''") + `, ` + col("last_name", "''") + `, username, ` +
		col("is_active", "1") + `, ` + col("date_joined", "NULL") +
		` FROM ` + quote(s.table) + ` ORDER BY id`
	return s.rows(ctx, query, func(rows *sql.Rows) (record, error) {
		var (
			id, active, joined                     any
			email, password, first, last, username sql.NullString
		)
		if err := rows.Scan(&id, &email, &password, &first, &last, &username, &active, &joined); err != nil {
			return record{}, err
		}
		rec := record{
			Ref:          "id " + idString(id),
			Email:        email.String,
			PasswordHash: password.String,
			Name:         strings.TrimSpace(strings.TrimSpace(first.String) + " " + strings.TrimSpace(last.String)),
			CreatedAt:    sqliteTime(joined),
		}
		if rec.Name == "" {
			rec.Name = username.String
		}
		if !truthy(active) {
			rec.Reason, rec.Detail = Inactive, "is_active is "+printable(fmt.Sprint(active))
		}
		return rec, nil
	})
}

// rows yields a record made by scan for each row of query, then the
// query's error if it failed; iteration stops at the first error.
func (s *source) rows(ctx context.Context, query string, scan func(*sql.Rows) (record, error)) iter.Seq2[record, error] {
	return func(yield func(record, error) bool) {
		rows, err := s.db.QueryContext(ctx, query)
		if err != nil {
			yield(record{}, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			rec, err := scan(rows)
			if err != nil {
				yield(record{}, err)
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(record{}, err)
		}
	}
}

// idString formats a row's id, whatever SQLite typed it as.
func idString(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return printable(string(v))
	case string:
		return printable(v)
	}
	return fmt.Sprint(v)
}

// truthy reports whether a Django boolean column holds true. Django stores
// booleans as 1 and 0; anything unexpected counts as false, so that doubt
// keeps an account out rather than letting it in.
func truthy(v any) bool {
	switch v := v.(type) {
	case int64:
		return v == 1
	case bool:
		return v
	case float64:
		return v == 1
	case string:
		b, err := strconv.ParseBool(v)
		return err == nil && b
	case []byte:
		b, err := strconv.ParseBool(string(v))
		return err == nil && b
	}
	return false
}

// sqliteTime reads a datetime column, which the driver returns as a time
// when it can parse it. Django stores UTC without a zone when USE_TZ is on,
// its default. Anything unreadable is zero: the store then uses the time of
// the import.
func sqliteTime(v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// rewind goes back to the start of a text source, so that its records can
// be read after sniffing.
func (s *source) rewind() error {
	_, err := s.file.Seek(0, io.SeekStart)
	return err
}

// csvHeader reads a CSV source's header row and finds its columns, or
// says what is wrong with it.
func csvHeader(r *csv.Reader) ([]string, map[string]int, error) {
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty: a CSV source starts with a header row naming the columns email, name and password_hash")
	}
	if errors.Is(err, errRecordTooLong) {
		return nil, nil, fmt.Errorf("the header row is longer than %d bytes; is this really CSV?", maxLine)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("header row: %w", err)
	}
	cols := columns(header)
	for _, need := range []string{"email", "password_hash"} {
		if _, ok := cols[need]; !ok {
			found := make([]string, len(header))
			for i, h := range header {
				found[i] = printable(h)
			}
			return nil, nil, fmt.Errorf("the header row has no %s column: it must name the columns email, name and password_hash, separated by commas (found: %s)", need, strings.Join(found, ", "))
		}
	}
	return header, cols, nil
}

// checkCSV reads a CSV source's header row, so that a file without the
// columns needed is refused before anything is created for the import.
func (s *source) checkCSV() error {
	if err := s.rewind(); err != nil {
		return err
	}
	_, _, err := csvHeader(csv.NewReader(&boundedReader{r: s.file}))
	return err
}

// errRecordTooLong is returned by a boundedReader past maxLine bytes of one
// record.
var errRecordTooLong = errors.New("record too long")

// boundedReader stops a CSV record at maxLine bytes, as JSON Lines lines
// are: encoding/csv would otherwise gather a record of any size, such as
// a quoted field that never ends, in memory. start is where the current
// record began; csv.Reader buffers 4 KiB ahead of it, which is allowed for.
type boundedReader struct {
	r           io.Reader
	read, start int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read-b.start > maxLine+4096 {
		return 0, errRecordTooLong
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

func (s *source) csvRecords() iter.Seq2[record, error] {
	return func(yield func(record, error) bool) {
		if err := s.rewind(); err != nil {
			yield(record{}, err)
			return
		}
		br := &boundedReader{r: s.file}
		r := csv.NewReader(br)
		r.FieldsPerRecord = -1 // a short row is reported as malformed, not fatal
		header, cols, err := csvHeader(r)
		if err != nil {
			yield(record{}, err)
			return
		}
		nameCol, hasName := cols["name"]
		width := max(cols["email"], cols["password_hash"]) + 1
		if hasName {
			width = max(width, nameCol+1)
		}
		lastLine, _ := r.FieldPos(0) // the header's
		for {
			br.start = r.InputOffset()
			fields, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if errors.Is(err, errRecordTooLong) {
				yield(record{}, fmt.Errorf("the record after line %d is longer than %d bytes; is this really CSV?", lastLine, maxLine))
				return
			}
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				lastLine = perr.Line
				rec := record{Ref: fmt.Sprintf("line %d", perr.StartLine), Reason: Malformed, Detail: perr.Err.Error()}
				if !yield(rec, nil) {
					return
				}
				continue
			}
			if err != nil {
				yield(record{}, err)
				return
			}
			line, _ := r.FieldPos(0)
			lastLine = line
			rec := record{Ref: fmt.Sprintf("line %d", line)}
			field := func(i int) string {
				if i < len(fields) {
					return fields[i]
				}
				return ""
			}
			rec.Email, rec.PasswordHash = field(cols["email"]), field(cols["password_hash"])
			if hasName {
				rec.Name = field(nameCol)
			}
			if len(fields) < width {
				rec.Reason, rec.Detail = Malformed, fmt.Sprintf("%d fields where the header has %d", len(fields), len(header))
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// jsonUser is a JSON Lines record.
type jsonUser struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash"`
}

func (s *source) jsonRecords() iter.Seq2[record, error] {
	return func(yield func(record, error) bool) {
		if err := s.rewind(); err != nil {
			yield(record{}, err)
			return
		}
		sc := bufio.NewScanner(s.file)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if line == 1 {
				b = bytes.TrimPrefix(b, []byte(bom))
			}
			if len(b) == 0 {
				continue
			}
			rec := record{Ref: fmt.Sprintf("line %d", line)}
			var u jsonUser
			if b[0] != '{' {
				rec.Reason, rec.Detail = Malformed, "not a JSON object"
			} else if err := json.Unmarshal(b, &u); err != nil {
				rec.Reason, rec.Detail = Malformed, err.Error()
			} else {
				rec.Email, rec.Name, rec.PasswordHash = u.Email, u.Name, u.PasswordHash
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
			yield(record{}, fmt.Errorf("line %d is longer than %d bytes; is this really JSON Lines?", line+1, maxLine))
		} else if err != nil {
			yield(record{}, err)
		}
	}
}
