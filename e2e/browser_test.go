package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stepTimeout bounds each browser step: a navigation, a click and the page
// it loads, a query. The pages are small and local, so anything slower is
// a hang, not a slow page.
const stepTimeout = 10 * time.Second

// startTimeout bounds the start of Chromium, which is slow only the first
// time the machine runs it.
const startTimeout = 30 * time.Second

// chromiumPath returns the browser binary to drive, or "" and what was
// looked for.
func chromiumPath() (path, looked string) {
	if p := os.Getenv("LATCH_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Sprintf("LATCH_TEST_CHROMIUM=%s does not exist", p)
		}
		return p, ""
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian, ""
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, ""
	}
	return "", "no " + debian + " and no chromium on PATH"
}

// requireChromium returns the browser binary, or skips t when there is
// none; with LATCH_TEST_REQUIRE_SERVICES=1 (CI) a missing browser fails t.
func requireChromium(t *testing.T) string {
	t.Helper()
	path, looked := chromiumPath()
	if path != "" {
		return path
	}
	msg := "Chromium is not installed (" + looked + "): install it with `apt-get install -y chromium`, " +
		"or set LATCH_TEST_CHROMIUM to a Chromium or Chrome binary"
	if os.Getenv("LATCH_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + "; LATCH_TEST_REQUIRE_SERVICES=1 requires it")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium process. Each [tab] it opens lives in a
// browser context of its own, with its own cookies: to the app, a separate
// person's browser.
type browser struct {
	ctx context.Context
}

// shared is the one browser of the test binary, started by the first test
// that needs it and stopped by TestMain. Starting Chromium takes a second or
// two; the browser contexts of [tab] keep the tests apart just as well.
var shared struct {
	once sync.Once
	b    *browser
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// newBrowser returns the browser, starting it if this is the first test
// to ask; without Chromium it skips t (see [requireChromium]).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := requireChromium(t)
	shared.once.Do(func() { shared.b, shared.stop, shared.err = startBrowser(path) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.b
}

// startBrowser starts Chromium with a fresh profile. stop ends it and
// removes the profile.
func startBrowser(path string) (b *browser, stop func(), err error) {
	profile, err := os.MkdirTemp("", "latch-e2e-chromium-")
	if err != nil {
		return nil, nil, fmt.Errorf("start Chromium: %w", err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless, // also hides scrollbars and mutes audio
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		// Keep passwords away from any keyring the machine may have.
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Same colours in every screenshot, whatever the machine's profile.
		chromedp.Flag("force-color-profile", "srgb"),
		// Windows the browser thinks are in the background must not be
		// slowed down: every tab here has a window of its own.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop = func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
	}

	// The first run starts the browser and ties its life to the context it
	// is given, so it gets ctx itself, without a deadline, and the wait is
	// bounded here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = errors.New("no answer after " + startTimeout.String())
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("start Chromium %s: %w", path, err)
	}
	return &browser{ctx: ctx}, stop, nil
}
