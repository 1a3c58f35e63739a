package throttle_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/throttle"
)

func TestDevices(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := &throttle.MemoryStore{}
	d := throttle.NewDevices([]byte(strings.Repeat("k", 32)), store)
	d.Now = func() time.Time { return now }
	ctx := context.Background()

	ann := d.Issue("1")
	dev, err := d.Verify(ctx, ann, "1")
	if dev == "" || err != nil {
		t.Fatalf("Verify(new token) = %q, %v; want a device ID", dev, err)
	}
	if other := d.Issue("1"); strings.Contains(other, dev) {
		t.Errorf("two tokens name the same device %q", dev)
	}
	other := throttle.NewDevices([]byte(strings.Repeat("x", 32)), store)
	i := strings.LastIndexByte(ann, '.')
	for name, tok := range map[string]string{
		"another user's":   d.Issue("2"),
		"another key's":    other.Issue("1"),
		"tampered":         strings.Replace(ann, ".", ".x", 2),
		"without its MAC":  ann[:i],
		"with a wrong MAC": ann[:i+1] + strings.Repeat("A", len(ann)-i-1),
		"empty":            "",
		"garbage":          "not a token at all",
	} {
		if dev, err := d.Verify(ctx, tok, "1"); dev != "" || err != nil {
			t.Errorf("Verify(%s token) = %q, %v; want \"\", nil", name, dev, err)
		}
	}

	// Revoking ends every token issued until then, of that user only.
	bob := d.Issue("2")
	now = now.Add(time.Second)
	if err := d.Revoke(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if dev, _ := d.Verify(ctx, ann, "1"); dev != "" {
		t.Errorf("Verify(token after Revoke) = %q; want \"\"", dev)
	}
	if dev, _ := d.Verify(ctx, bob, "2"); dev == "" {
		t.Error("Verify(another user's token after Revoke) = \"\"; want its device")
	}
	now = now.Add(time.Microsecond)
	fresh := d.Issue("1")
	if dev, _ := d.Verify(ctx, fresh, "1"); dev == "" {
		t.Error("Verify(token issued after Revoke) = \"\"; want its device")
	}

	// A token lasts MaxAge.
	now = now.Add(d.MaxAge - time.Second)
	if dev, _ := d.Verify(ctx, fresh, "1"); dev == "" {
		t.Error("Verify(token just before MaxAge) = \"\"; want its device")
	}
	now = now.Add(time.Second)
	if dev, _ := d.Verify(ctx, fresh, "1"); dev != "" {
		t.Errorf("Verify(token after MaxAge) = %q; want \"\"", dev)
	}
}
