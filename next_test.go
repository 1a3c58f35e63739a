package latch_test

import (
	"testing"

	"github.com/latchauth/latch"
)

func TestSafeNext(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"/profile", true},
		{"/profile?tab=1&x=%2F", true},
		{"/a/b#frag", true},
		{"/", true},
		{"", false},
		{"profile", false},
		{"//evil.example", false},
		{"//evil.example/path", false},
		{"/\\evil.example", false},
		{"\\/evil.example", false},
		{"\\\\evil.example", false},
		{"/path\\..\\x", false},
		{"https:evil.example", false},
		{"https://evil.example/", false},
		{"http://localhost:8080/profile", false},
		{"javascript:alert(1)", false},
		{"data:text/html,hi", false},
		{"/\tevil", false},
		{"/\nSet-Cookie:x", false},
		{"/\r\nLocation: //evil", false},
		{"/\x00", false},
		{"/\x7f", false},
		{"/%2F%2Fevil.example", false}, // decodes to //evil.example
		{"/%zz", false},
		{" /profile", false},
		{"///evil.example", false},
		{"/" + string(make([]byte, 3000)), false},
	}
	for _, tt := range tests {
		got, ok := latch.SafeNext(tt.in)
		if ok != tt.want {
			t.Errorf("SafeNext(%q) ok = %v; want %v", tt.in, ok, tt.want)
		}
		if ok && got != tt.in {
			t.Errorf("SafeNext(%q) = %q; want it unchanged", tt.in, got)
		}
		if !ok && got != "" {
			t.Errorf("SafeNext(%q) = %q; want empty when refused", tt.in, got)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/profile", "//x", "/\\x", "https:x", "/a?b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := latch.SafeNext(s)
		if !ok {
			return
		}
		if len(got) == 0 || got[0] != '/' || (len(got) > 1 && (got[1] == '/' || got[1] == '\\')) {
			t.Fatalf("SafeNext(%q) accepted %q", s, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] == 0x7f || got[i] == '\\' {
				t.Fatalf("SafeNext(%q) accepted a control character or backslash", s)
			}
		}
	})
}
