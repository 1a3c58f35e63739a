package hashworker

import (
	"bytes"
	"testing"
)

// FuzzReadRequest feeds arbitrary bytes to the worker's request parser: it
// must not panic, and what it accepts must be within the bounds and
// survive a round trip.
func FuzzReadRequest(f *testing.F) {
	var valid bytes.Buffer
	(&request{password: []byte("pw"), salt: []byte("salt of 16 bytes"), time: 2, memory: 19 * 1024, threads: 1, keyLen: 32}).write(&valid)
	f.Add(valid.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 32, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		pw := make([]byte, maxPassword)
		req, err := readRequest(bytes.NewReader(in), pw)
		if err != nil {
			return
		}
		if req.time < 1 || req.time > maxTime || req.threads < 1 || req.threads > maxThreads ||
			req.memory < 8*uint32(req.threads) || req.memory > maxMemory ||
			req.keyLen < 1 || req.keyLen > maxKey || len(req.salt) > maxSalt || len(req.password) > maxPassword {
			t.Fatalf("accepted out-of-bounds request %+v", req)
		}
		var out bytes.Buffer
		if err := req.write(&out); err != nil {
			t.Fatal(err)
		}
		again, err := readRequest(&out, make([]byte, maxPassword))
		if err != nil || !bytes.Equal(again.password, req.password) || !bytes.Equal(again.salt, req.salt) ||
			again.time != req.time || again.memory != req.memory || again.threads != req.threads || again.keyLen != req.keyLen {
			t.Fatalf("round trip of %+v gave %+v, %v", req, again, err)
		}
	})
}
