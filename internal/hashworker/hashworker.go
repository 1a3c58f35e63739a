// Package hashworker computes argon2id keys in worker processes at a lower
// CPU priority than the server.
//
// An argon2id hash computes for tens of milliseconds and allocates its
// memory, 19 MiB at latch's parameters, afresh each time. Inside the server,
// a flood of logins makes every page load wait: hashing goroutines hold the
// Go runtime's processors between preemptions, and their allocations drive
// the garbage collector, whose stop-the-world pauses wait for them too.
// Measured on one core, logged-in users' page loads had a p99 five times
// their usual during 500 concurrent logins. In processes of their own, at a
// nice value of 10, hashes take only the CPU that serving leaves, the
// operating system gives it back at a fine grain, and the server's heap
// stays small.
//
// A [Pool] starts the workers, each a process running [Serve] on its
// standard input and output (latch runs itself as `latch hash-worker`),
// hands each key computation to an idle one, and replaces a worker that
// dies. If a worker cannot be started, the computation is done in the
// server process instead, so logins keep working.
package hashworker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/latchauth/latch/password"
	"golang.org/x/crypto/argon2"
)

// Bounds on a request, those the password package enforces on what it
// hashes and verifies; a request outside them is a protocol error, and the
// worker stops.
const (
	maxPassword = password.MaxLength
	maxSalt     = 64
	maxKey      = 128
	maxMemory   = 256 * 1024 // KiB
	maxTime     = 10
	maxThreads  = 16
)

// request is one key computation.
type request struct {
	password, salt []byte
	time, memory   uint32
	threads        uint8
	keyLen         uint32
}

// The wire format, all integers big-endian:
//
//	request:  time u32, memory u32, threads u8, keyLen u32,
//	          len(salt) u16, salt, len(password) u16, password
//	response: the key, keyLen bytes
//
// One request at a time per worker; the response comes before the next
// request is read.

func (r *request) write(w io.Writer) error {
	buf := make([]byte, 0, 17+len(r.salt)+2+len(r.password))
	buf = binary.BigEndian.AppendUint32(buf, r.time)
	buf = binary.BigEndian.AppendUint32(buf, r.memory)
	buf = append(buf, r.threads)
	buf = binary.BigEndian.AppendUint32(buf, r.keyLen)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(r.salt)))
	buf = append(buf, r.salt...)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(r.password)))
	buf = append(buf, r.password...)
	_, err := w.Write(buf)
	clear(buf) // the password
	return err
}

func readRequest(r io.Reader, pw []byte) (request, error) {
	var hdr [15]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return request{}, err
	}
	req := request{
		time:    binary.BigEndian.Uint32(hdr[0:]),
		memory:  binary.BigEndian.Uint32(hdr[4:]),
		threads: hdr[8],
		keyLen:  binary.BigEndian.Uint32(hdr[9:]),
	}
	saltLen := binary.BigEndian.Uint16(hdr[13:])
	switch {
	case req.time < 1 || req.time > maxTime,
		req.threads < 1 || req.threads > maxThreads,
		req.memory < 8*uint32(req.threads) || req.memory > maxMemory,
		req.keyLen < 1 || req.keyLen > maxKey,
		saltLen > maxSalt:
		return request{}, errors.New("request out of bounds")
	}
	req.salt = make([]byte, saltLen)
	if _, err := io.ReadFull(r, req.salt); err != nil {
		return request{}, err
	}
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return request{}, err
	}
	pwLen := int(binary.BigEndian.Uint16(n[:]))
	if pwLen > maxPassword {
		return request{}, errors.New("request out of bounds")
	}
	req.password = pw[:pwLen]
	if _, err := io.ReadFull(r, req.password); err != nil {
		return request{}, err
	}
	return req, nil
}

// Serve computes the keys asked for on in and writes them to out, one after
// the other, until in ends, which is how a Pool stops a worker. A malformed
// request ends it with an error.
func Serve(in io.Reader, out io.Writer) error {
	// Unbuffered, so that the password is in pw only, which is cleared
	// after each hash. A request is a few reads: nothing beside the hash.
	pw := make([]byte, maxPassword)
	// Each hash leaves its 19 MiB to the garbage collector, and the Go
	// runtime gives freed memory back to the system only slowly: an idle
	// worker held about 45 MB after a few logins, two of them more than
	// the server itself. Once no request has come for idleRelease, the
	// worker returns what it can; during a flood of logins it never
	// waits that long, and pays nothing.
	release := time.AfterFunc(time.Hour, debug.FreeOSMemory)
	release.Stop()
	defer release.Stop()
	for {
		req, err := readRequest(in, pw)
		release.Stop()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("hashworker: read request: %w", err)
		}
		key := argon2.IDKey(req.password, req.salt, req.time, req.memory, req.threads, req.keyLen)
		clear(req.password)
		if _, err := out.Write(key); err != nil {
			return fmt.Errorf("hashworker: write key: %w", err)
		}
		release.Reset(idleRelease)
	}
}

// idleRelease is how long a worker waits for its next request before it
// returns its free memory to the system.
const idleRelease = 500 * time.Millisecond
