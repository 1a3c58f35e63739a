package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client is one keep-alive HTTP/1.1 connection to the server under test: the
// connection of one virtual user. It speaks just enough HTTP for the pages
// latch-bench asks for. net/http's client spends about as much CPU on a
// request as a small server spends answering it, and the load generator has
// a single core: with it, the benchmark would mostly measure itself.
type client struct {
	addr string
	// deadline bounds every read and write, so that a scenario ends on
	// time even when the server stops answering. Zero means none.
	deadline time.Time

	conn net.Conn
	br   *bufio.Reader
}

// response is what latch-bench looks at in an HTTP response.
type response struct {
	status     int
	location   string
	cookies    []string // "name=value" of each Set-Cookie that sets a value
	retryAfter time.Duration
	body       []byte // only when asked for
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

func (c *client) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	if !c.deadline.IsZero() {
		conn.SetDeadline(c.deadline)
	}
	c.conn = conn
	c.br = bufio.NewReaderSize(conn, 16<<10)
	return nil
}

// do sends req, a complete raw HTTP/1.1 request, and reads the response,
// keeping its body when keepBody is set. It reconnects first when the
// previous exchange left no open connection; after any error the connection
// is closed.
func (c *client) do(req []byte, keepBody bool) (response, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return response{}, err
		}
	}
	resp, err := c.exchange(req, keepBody)
	if err != nil {
		c.close()
	}
	return resp, err
}

func (c *client) exchange(req []byte, keepBody bool) (response, error) {
	var r response
	if _, err := c.conn.Write(req); err != nil {
		return r, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return r, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return r, fmt.Errorf("malformed status line %q", line)
	}
	if r.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return r, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return r, err
		}
		if len(line) <= 2 { // the empty line ending the header
			break
		}
		if v, ok := header(line, "content-length"); ok {
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return r, fmt.Errorf("malformed Content-Length %q", v)
			}
		} else if v, ok := header(line, "set-cookie"); ok {
			pair, _, _ := bytes.Cut(v, []byte(";"))
			if name, val, ok := bytes.Cut(pair, []byte("=")); ok && len(name) > 0 && len(val) > 0 {
				r.cookies = append(r.cookies, string(pair))
			}
		} else if v, ok := header(line, "location"); ok {
			r.location = string(v)
		} else if v, ok := header(line, "retry-after"); ok {
			if secs, err := strconv.Atoi(string(v)); err == nil {
				r.retryAfter = time.Duration(secs) * time.Second
			}
		} else if v, ok := header(line, "transfer-encoding"); ok {
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		} else if v, ok := header(line, "connection"); ok {
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	var body io.Reader
	switch {
	case r.status == 204 || r.status == 304 || r.status < 200:
		length, chunked = 0, false
		body = io.LimitReader(c.br, 0)
	case chunked:
		body = httputil.NewChunkedReader(c.br)
	case length >= 0:
		body = io.LimitReader(c.br, int64(length))
	default: // the body runs to the end of the connection
		body, closing = c.br, true
	}
	if keepBody {
		r.body, err = io.ReadAll(body)
	} else if length >= 0 && !chunked {
		_, err = c.br.Discard(length)
	} else {
		_, err = io.Copy(io.Discard, body)
	}
	if err != nil {
		return r, err
	}
	if chunked {
		// The chunked reader stops at the last chunk; the trailer section
		// after it ends with an empty line.
		for {
			line, err := c.br.ReadSlice('\n')
			if err != nil {
				return r, err
			}
			if len(bytes.TrimSpace(line)) == 0 {
				break
			}
		}
	}
	if closing {
		c.close()
	}
	return r, nil
}

// header returns the value of a header line if it is the named header,
// compared case-insensitively.
func header(line []byte, lowerName string) ([]byte, bool) {
	n := len(lowerName)
	if len(line) <= n || line[n] != ':' || !bytes.EqualFold(line[:n], []byte(lowerName)) {
		return nil, false
	}
	return bytes.TrimSpace(line[n+1:]), true
}

// errStatus reports an unexpected response.
func errStatus(r response, want string) error {
	if r.location != "" {
		return fmt.Errorf("got %d to %s; want %s", r.status, r.location, want)
	}
	return fmt.Errorf("got %d; want %s", r.status, want)
}

var errNoCookie = errors.New("no session cookie in the response")

// requestHeader is sent with every request. It is what a browser sends,
// without the headers the server ignores.
const requestHeader = "User-Agent: latch-bench/1\r\nAccept: text/html\r\n"

// getRequest returns a raw GET request for path on host carrying cookies
// ("a=1; b=2", or empty).
func getRequest(host, path, cookies string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n%s", path, host, requestHeader)
	if cookies != "" {
		fmt.Fprintf(&b, "Cookie: %s\r\n", cookies)
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// postRequest returns a raw form POST for path on host, with the Origin
// header a browser sends from a page of the same site, sent as if from
// client through a proxy latch trusts (see startLatch).
func postRequest(host, path, client string, form url.Values) []byte {
	body := form.Encode()
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n%sOrigin: http://%s\r\n", path, host, requestHeader, host)
	fmt.Fprintf(&b, "X-Forwarded-For: %s\r\n", client)
	fmt.Fprintf(&b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}
